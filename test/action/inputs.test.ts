/**
 * The Action's inputs (validated in one place), the core's overrides it shares with the CLI, and the
 * consistency of action.yml, the example workflow and the App's workflow template.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { ActionContext } from "../../src/action/context.ts";
import { INPUT_NAMES, InputError, readInputs } from "../../src/action/inputs.ts";
import { dispatchInputs, parseRunName } from "../../src/app/request.ts";
import { workflowTemplate } from "../../src/app/workflow-template.ts";
import { parseConfigText } from "../../src/core/config/load.ts";
import { applyOverrides } from "../../src/core/config/overrides.ts";
import { CONFIG_YAML, ROOT } from "./helpers.ts";

const SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const ctx: ActionContext = {
  owner: "o",
  repo: "r",
  repository: "o/r",
  serverUrl: "https://github.com",
  apiUrl: "https://api.github.com",
  runId: "99",
  runAttempt: "2",
  runUrl: "https://github.com/o/r/actions/runs/99",
  workflowSha: SHA,
  actor: "octocat",
  eventName: "workflow_dispatch",
  eventPull: null,
  runnerTemp: "/runner/_temp",
};

/** Reads inputs given as a map (missing = ""), with action.yml's defaults for the rest. */
function inputs(given: Record<string, string>, context: ActionContext = ctx) {
  const defaults: Record<string, string> = {
    config: ".github/perfloop.yml",
    "working-directory": ".",
    "max-open-prs": "2",
    draft: "true",
    mode: "pr",
  };
  return readInputs((name) => given[name] ?? defaults[name] ?? "", context);
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof InputError) return error.problems;
    throw error;
  }
  return [];
}

describe("inputs", () => {
  it("fills defaults: request id from the run, evidence under RUNNER_TEMP, publish app in mode pr", () => {
    const v = inputs({ pr: "12", sha: SHA.toUpperCase(), target: "20%", rounds: "3" });
    expect(v).toMatchObject({
      mode: "pr",
      pr: 12,
      sha: SHA,
      requestId: "run-99-2",
      publish: "app",
      maxOpenPrs: 2,
      draft: true,
      out: "/runner/_temp/perfloop/run-99-2/evidence",
      overrides: { rounds: 3, target: 20 },
    });
  });

  it("takes the PR and head SHA of a pull_request event", () => {
    const v = inputs({}, { ...ctx, eventName: "pull_request", eventPull: { number: 5, headSha: SHA } });
    expect([v.pr, v.sha]).toEqual([5, SHA]);
  });

  it("defaults publish to action in mode scan and refuses the App there", () => {
    expect(inputs({ mode: "scan", "github-token": "t" })).toMatchObject({
      publish: "action",
      pr: null,
      requestId: "scan-99-2",
    });
    expect(problems(() => inputs({ mode: "scan", publish: "app" }))).toEqual([
      expect.stringMatching(/^input `publish`: found "app", expected action or none in mode scan/),
    ]);
    expect(problems(() => inputs({ mode: "scan", pr: "3", publish: "none" }))).toEqual([
      'input `pr`: found "3", expected nothing in mode scan (a scan covers the default branch)',
    ]);
  });

  it("names a missing PR and SHA, a missing token, and unsafe paths", () => {
    expect(problems(() => inputs({}))).toEqual([
      expect.stringMatching(/^input `pr`: found nothing, expected the pull request number/),
      expect.stringMatching(/^input `sha`: found nothing, expected the PR head commit/),
    ]);
    expect(problems(() => inputs({ mode: "scan" }))).toEqual([
      expect.stringMatching(
        /^input `github-token`: found nothing, expected a token because `publish: action` \(the default in mode scan\) posts the tracking issue/,
      ),
    ]);
    expect(
      problems(() => inputs({ pr: "1", sha: SHA, config: "../../etc/passwd", "working-directory": "/abs" })),
    ).toEqual([
      'input `config`: found "../../etc/passwd", expected a relative path inside the repository (no leading /, no ..)',
      'input `working-directory`: found "/abs", expected a relative path inside the repository (no leading /, no ..)',
    ]);
    expect(
      problems(() =>
        inputs({ pr: "1", sha: SHA, "max-open-prs": "-1", draft: "maybe", "base-url": "ftp://x" }),
      ),
    ).toEqual([
      'input `base-url`: found "ftp://x", expected a URL like http://host:port/v1',
      'input `max-open-prs`: found "-1", expected an integer from 0 to 20',
      'input `draft`: found "maybe", expected true or false',
    ]);
  });

  it("lists exactly action.yml's inputs, and every output the Action sets is declared", async () => {
    const action = parseYaml(await readFile(path.join(ROOT, "action.yml"), "utf8")) as {
      inputs: Record<string, { description: string; default?: string }>;
      outputs: Record<string, unknown>;
      runs: { using: string; main: string };
    };
    expect(Object.keys(action.inputs).sort()).toEqual([...INPUT_NAMES].sort());
    for (const [name, spec] of Object.entries(action.inputs)) expect(spec.description, name).toMatch(/\w/);
    expect(Object.keys(action.outputs).sort()).toEqual(
      ["follow-up-pr", "patch", "report", "results", "speedup", "tracking-issue", "verdict"].sort(),
    );
    expect(action.runs).toEqual({ using: "node24", main: "dist/index.js" });
  });
});

describe("overrides (core, shared with the CLI)", () => {
  const config = parseConfigText(CONFIG_YAML);
  it("applies rounds, target, strategy and model settings", () => {
    const next = applyOverrides(config, {
      rounds: "2",
      target: "12.5%",
      strategy: "tune",
      model: "m",
      baseUrl: "http://localhost:11434/v1",
    });
    expect([next.rounds, next.target, next.strategy, next.model?.name, next.model?.base_url]).toEqual([
      2,
      12.5,
      "tune",
      "m",
      "http://localhost:11434/v1",
    ]);
    expect(config.rounds).toBe(3);
  });
  it("names each bad override as the front end calls it", () => {
    expect(() => applyOverrides(config, { rounds: 0, strategy: "fast" }, (k) => `input \`${k}\``)).toThrow(
      /input `rounds`: found 0, expected an integer from 1 to 50\n.*input `strategy`: found "fast", expected auto, llm or tune/,
    );
  });
});

describe("workflows", () => {
  async function workflow(file: string) {
    return parseYaml(await readFile(path.join(ROOT, ".github/workflows", file), "utf8")) as {
      "run-name": string;
      on: { workflow_dispatch: { inputs: Record<string, unknown> }; schedule?: unknown[] };
      concurrency: { group: string };
      permissions: unknown;
      jobs: Record<
        string,
        {
          "runs-on": string[];
          permissions: Record<string, string>;
          steps: Array<{ uses?: string; with?: Record<string, unknown> }>;
        }
      >;
    };
  }
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
  const APP_RUN_NAME = "perfloop #${{ inputs.pr }} @ ${{ inputs.sha }} [${{ inputs.request-id }}]";

  it("the example workflow: the App's inputs and run-name, a schedule, least permissions, only real Action inputs", async () => {
    const wf = await workflow("perfloop.yml");
    const template = parseYaml(workflowTemplate()) as Awaited<ReturnType<typeof workflow>>;
    // A gate's dispatch sends every input (an /optimize one leaves `mode` and `base` out).
    const sent = dispatchInputs({ pr: 1, headSha: SHA, requestId: "id-1" }, {}, { base: SHA });
    const actionInputs = new Set<string>(INPUT_NAMES);
    for (const w of [wf, template]) {
      expect(w["run-name"]).toBe(APP_RUN_NAME);
      expect(Object.keys(w.on.workflow_dispatch.inputs).sort()).toEqual(Object.keys(sent).sort());
      for (const job of Object.values(w.jobs)) {
        expect(job["runs-on"]).toEqual(["self-hosted", "gpu"]);
        for (const step of job.steps.filter((s) => s.uses?.startsWith("perfloop/action@")))
          for (const key of Object.keys(step.with ?? {})) expect(actionInputs.has(key), key).toBe(true);
      }
    }
    const rendered = APP_RUN_NAME.replace(
      /\$\{\{ inputs\.([a-z-]+) \}\}/g,
      (_m, k: string) => (sent as Record<string, string>)[k] ?? "",
    );
    expect(parseRunName(rendered)).toEqual({ pr: 1, headSha: SHA, requestId: "id-1" });
    expect(wf.on.schedule).toHaveLength(1);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
    expect(wf.concurrency.group).toBe("perfloop-${{ inputs.pr || 'scan' }}");
    expect(wf.permissions).toEqual({});
    expect(wf.jobs.optimize?.permissions).toEqual({
      contents: "read",
      "pull-requests": "read",
      checks: "write",
    });
    expect(wf.jobs.scan?.permissions).toEqual({
      contents: "write",
      "pull-requests": "write",
      issues: "write",
    });
  });

  it("the dist check rebuilds and diffs dist/", async () => {
    const text = await readFile(path.join(ROOT, ".github/workflows/dist.yml"), "utf8");
    expect(text).toContain("node scripts/build-action.ts");
    expect(text).toContain("git diff --exit-code --stat -- dist/");
  });
});
