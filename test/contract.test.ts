/**
 * The App ↔ runner contract (src/contract/) pinned: a change of a dispatch input, the run name, the
 * artifact name or the results schema version is a change of protocol between an App and runners
 * of another version, so it must break this test on purpose. Also: action.yml declares every
 * dispatch input, and the inputs' schema refuses what the runner would refuse.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import {
  artifactName,
  DISPATCH_INPUT_NAMES,
  dispatchInputs,
  dispatchInputsSchema,
  GATE_CHECK_NAME,
  GATE_DISPATCH_INPUTS,
  InvalidRequestError,
  PROGRESS_CHECK_NAME,
  parseProgressExternalId,
  parseRunName,
  progressExternalId,
  REQUIRED_DISPATCH_INPUTS,
  RESULTS_SCHEMA,
  RUN_NAME_EXPRESSION,
  runName,
} from "../src/contract/index.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("the App ↔ runner contract", () => {
  it("pins the dispatch inputs, the run name, the artifact name and the results schema version", () => {
    expect(DISPATCH_INPUT_NAMES).toEqual([
      "pr",
      "sha",
      "request-id",
      "rounds",
      "target",
      "strategy",
      "mode",
      "base",
    ]);
    expect(REQUIRED_DISPATCH_INPUTS).toEqual(["pr", "sha", "request-id"]);
    expect(GATE_DISPATCH_INPUTS).toEqual(["mode", "base"]);
    expect(RUN_NAME_EXPRESSION).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
      "perfloop #${{ inputs.pr }} @ ${{ inputs.sha }} [${{ inputs.request-id }}]",
    );
    expect(runName({ pr: 7, headSha: SHA, requestId: "req-1" })).toBe(`perfloop #7 @ ${SHA} [req-1]`);
    expect(parseRunName(`perfloop #7 @ ${SHA} [req-1]`)).toEqual({ pr: 7, headSha: SHA, requestId: "req-1" });
    expect(artifactName("req-1")).toBe("perfloop-req-1");
    expect(RESULTS_SCHEMA).toBe("perfloop.results/v1");
    expect(PROGRESS_CHECK_NAME).toBe("perfloop progress");
    expect(GATE_CHECK_NAME).toBe("perfloop gate");
    expect(progressExternalId({ pr: 7, requestId: "req-1" })).toBe("7/req-1");
    expect(parseProgressExternalId("7/req-1")).toEqual({ pr: 7, requestId: "req-1" });
    for (const bad of ["req-1", "7/", "/req-1", "7/a b", "x/req-1", `7/${"a".repeat(65)}`])
      expect(parseProgressExternalId(bad), bad).toBeNull();
  });

  it("builds inputs the runner accepts and refuses malformed requests", () => {
    expect(
      dispatchInputs({ pr: 7, headSha: SHA, requestId: "req-1" }, { rounds: 3, strategy: "llm" }),
    ).toEqual({
      pr: "7",
      sha: SHA,
      "request-id": "req-1",
      rounds: "3",
      target: "",
      strategy: "llm",
    });
    // A gate adds `mode` and `base`; an /optimize request never sends them (a workflow written
    // before the gate does not declare them, and GitHub refuses undeclared inputs with 422).
    expect(dispatchInputs({ pr: 7, headSha: SHA, requestId: "gate-1" }, {}, { base: SHA })).toEqual({
      pr: "7",
      sha: SHA,
      "request-id": "gate-1",
      rounds: "",
      target: "",
      strategy: "",
      mode: "gate",
      base: SHA,
    });
    expect(() => dispatchInputs({ pr: 7, headSha: SHA, requestId: "g" }, {}, { base: "main" })).toThrow(
      /base SHA/,
    );
    expect(() => dispatchInputs({ pr: 7, headSha: "HEAD", requestId: "req-1" }, {})).toThrow(
      InvalidRequestError,
    );
    expect(() => dispatchInputs({ pr: 0, headSha: SHA, requestId: "req-1" }, {})).toThrow(
      /pull request number/,
    );
    expect(() => dispatchInputs({ pr: 7, headSha: SHA, requestId: "a b" }, {})).toThrow(/request id/);
    expect(() => dispatchInputs({ pr: 7, headSha: SHA, requestId: "r" }, { rounds: 51 })).toThrow(/rounds/);
    expect(
      dispatchInputsSchema.safeParse({
        pr: "7",
        sha: SHA,
        "request-id": "r",
        rounds: "",
        target: "",
        strategy: "",
        extra: "x",
      }).success,
    ).toBe(false);
  });

  it("is declared by action.yml: every dispatch input is an input of the Action", async () => {
    const action = parseYaml(await readFile(path.resolve(import.meta.dirname, "../action.yml"), "utf8")) as {
      inputs: Record<string, unknown>;
    };
    for (const name of DISPATCH_INPUT_NAMES) expect(Object.keys(action.inputs), name).toContain(name);
  });

  it("gives the runner's job in both workflows the one write it uses for live progress: checks", async () => {
    const { workflowTemplate } = await import("../src/app/workflow-template.ts");
    const example = parseYaml(
      await readFile(path.resolve(import.meta.dirname, "../.github/workflows/perfloop.yml"), "utf8"),
    ) as { jobs: { optimize: { permissions: Record<string, string> } } };
    const template = parseYaml(workflowTemplate()) as { permissions: Record<string, string> };
    for (const permissions of [example.jobs.optimize.permissions, template.permissions])
      expect(permissions).toEqual({ contents: "read", "pull-requests": "read", checks: "write" });
  });
});
