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
  InvalidRequestError,
  parseRunName,
  RESULTS_SCHEMA,
  RUN_NAME_EXPRESSION,
  runName,
} from "../src/contract/index.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

describe("the App ↔ runner contract", () => {
  it("pins the dispatch inputs, the run name, the artifact name and the results schema version", () => {
    expect(DISPATCH_INPUT_NAMES).toEqual(["pr", "sha", "request-id", "rounds", "target", "strategy"]);
    expect(RUN_NAME_EXPRESSION).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression
      "perfloop #${{ inputs.pr }} @ ${{ inputs.sha }} [${{ inputs.request-id }}]",
    );
    expect(runName({ pr: 7, headSha: SHA, requestId: "req-1" })).toBe(`perfloop #7 @ ${SHA} [req-1]`);
    expect(parseRunName(`perfloop #7 @ ${SHA} [req-1]`)).toEqual({ pr: 7, headSha: SHA, requestId: "req-1" });
    expect(artifactName("req-1")).toBe("perfloop-req-1");
    expect(RESULTS_SCHEMA).toBe("perfloop.results/v1");
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
});
