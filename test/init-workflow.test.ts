// `perfloop init --workflows`: the workflow parses, keeps the App's contract (run-name and inputs
// from src/contract/), reuses the App's dispatch job (src/app/workflow-template.ts) and the scan
// job of the repository's own .github/workflows/perfloop.yml unchanged, and grants nothing at the
// top level: every job lists its own permissions.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { DEFAULT_LABEL } from "../src/app/config.ts";
import { workflowTemplate } from "../src/app/workflow-template.ts";
import { runInit } from "../src/cli/init.ts";
import { PUBLISH_VARIABLE, WORKFLOW_PATH } from "../src/cli/init-workflow.ts";
import { DISPATCH_INPUT_NAMES, RUN_NAME_EXPRESSION } from "../src/contract/index.ts";
import { loadConfig } from "../src/core/config/load.ts";
import { sink } from "./helpers/cli.ts";

type Job = {
  if?: string;
  permissions?: Record<string, string>;
  steps: Array<{ uses?: string; with?: Record<string, unknown> }>;
};
type Workflow = {
  "run-name": string;
  on: { workflow_dispatch: { inputs: Record<string, unknown> }; pull_request: unknown; schedule: unknown };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
};

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

async function initWithWorkflows(): Promise<{ dir: string; text: string; written: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), "perfloop-init-workflow-"));
  temps.push(dir);
  await writeFile(join(dir, "go.mod"), "module example.com/x\n");
  const out = sink();
  const outcome = await runInit({ dir, force: false, workflows: true }, { out, err: sink() });
  expect(out.text).toContain(WORKFLOW_PATH);
  return { dir, text: await readFile(join(dir, WORKFLOW_PATH), "utf8"), written: outcome.written };
}

const repoWorkflow = async () =>
  parseYaml(
    await readFile(resolve(import.meta.dirname, "../.github/workflows/perfloop.yml"), "utf8"),
  ) as Workflow;

describe("perfloop init --workflows", () => {
  it("writes a workflow that parses and keeps the App's run-name and dispatch inputs", async () => {
    const { dir, text, written } = await initWithWorkflows();
    expect(written).toEqual([".github/perfloop.yml", WORKFLOW_PATH]);
    await loadConfig(dir);
    const workflow = parseYaml(text) as Workflow;
    expect(workflow["run-name"]).toBe(RUN_NAME_EXPRESSION);
    expect(Object.keys(workflow.on.workflow_dispatch.inputs)).toEqual(DISPATCH_INPUT_NAMES);
    // The same inputs as the repository's combined workflow (an empty `pr` is a scan there too).
    expect(workflow.on.workflow_dispatch.inputs).toEqual((await repoWorkflow()).on.workflow_dispatch.inputs);
    expect(workflow.on.pull_request).toEqual({ types: ["labeled"] });
    expect(workflow.on.schedule).toEqual((await repoWorkflow()).on.schedule);
  });

  it("reuses the App's dispatch job and the repository's scan job", async () => {
    const workflow = parseYaml((await initWithWorkflows()).text) as Workflow;
    const template = parseYaml(workflowTemplate()) as Workflow & { permissions: Record<string, string> };
    const { if: condition, permissions, ...optimize } = workflow.jobs.optimize ?? ({} as Job);
    expect(optimize).toEqual(template.jobs.optimize);
    expect(permissions).toEqual(template.permissions);
    expect(condition).toBe("github.event_name == 'workflow_dispatch' && inputs.pr != ''");
    expect(workflow.jobs.scan).toEqual((await repoWorkflow()).jobs.scan);
  });

  it("grants nothing at the top level and the least each job needs", async () => {
    const workflow = parseYaml((await initWithWorkflows()).text) as Workflow;
    expect(workflow.permissions).toEqual({});
    expect(Object.keys(workflow.jobs).sort()).toEqual(["optimize", "pr", "scan"]);
    for (const job of Object.values(workflow.jobs)) expect(job.permissions).toBeDefined();
    expect(workflow.jobs.optimize?.permissions).toEqual({
      contents: "read",
      "pull-requests": "read",
      checks: "write",
    });
    // docs/action.md, "Permissions, and why": a standalone PR workflow (publish: action).
    expect(workflow.jobs.pr?.permissions).toEqual({
      contents: "write",
      "pull-requests": "write",
      checks: "write",
    });
  });

  it("runs the standalone pull-request job only when opted in, on the App's label, never for forks", async () => {
    const workflow = parseYaml((await initWithWorkflows()).text) as Workflow;
    const pr = workflow.jobs.pr;
    expect(pr?.steps.at(-1)?.with?.publish).toBe("action");
    expect(pr?.if).toContain(`vars.${PUBLISH_VARIABLE} == 'action'`);
    expect(pr?.if).toContain(`github.event.label.name == '${DEFAULT_LABEL}'`);
    expect(pr?.if).toContain("github.event.pull_request.head.repo.full_name == github.repository");
  });
});
