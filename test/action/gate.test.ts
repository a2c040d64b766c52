/**
 * The Action in mode gate (docs/gate.md): the PR's base and head are fetched into the Action's own
 * checkout, exported side by side, and measured against each other with the real loop; the head only
 * adds a comment, so the gate never says "regressed". The config comes from the workflow's commit
 * (the PR's own config, whose tests `exit 3`, is never read). Inputs that make no gate are refused
 * with the input named.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readInputs } from "../../src/action/inputs.ts";
import { main } from "../../src/action/main.ts";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { runPerfloop } from "../../src/core/loop/run.ts";
import { type Fixture, makeFixture, readOutputs, recordingCore, setEnv, stepEnv } from "./helpers.ts";

let fx: Fixture;
let restore: () => void = () => {};
beforeAll(async () => {
  fx = await makeFixture();
});
afterEach(() => restore());
afterAll(() => rm(fx.root, { recursive: true, force: true }));

describe("mode gate", () => {
  it("measures base against head in the Action's checkout and never calls an equal head a regression", async () => {
    restore = setEnv(
      await stepEnv(fx, {
        mode: "gate",
        pr: "7",
        sha: fx.headSha,
        base: fx.baseSha,
        "request-id": "gate-1",
        publish: "none",
      }),
    );
    const core = recordingCore();
    await main({
      core,
      upload: async () => ({ id: 1, size: 1 }),
      github: () => {
        throw new Error("publish: none makes no client");
      },
      env: process.env,
      runLoop: runPerfloop,
    });
    const out = path.join(fx.runnerTemp, "perfloop", "gate-1", "evidence");
    if (core.failures.length > 0) throw new Error(core.failures.join("\n"));
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(results.mode).toBe("gate");
    expect(["passed", "inconclusive"], results.message).toContain(results.status);
    expect(results.gate?.base.sha).toBe(fx.baseSha);
    expect(results.gate?.head.sha).toBe(fx.headSha);
    expect(results.request.baseSha).toBe(fx.baseSha);
    // The workflow's config (tests pass), not the pull request's (`exit 3`).
    expect(results.benchmark.test).toBe("python3 -m unittest discover -s tests -q");
    expect((await readOutputs(fx.outputFile)).verdict).toBe(results.status);
    expect(core.failures).toEqual([]);
    expect(core.groups).toEqual(
      expect.arrayContaining([expect.stringMatching(/^perfloop ▸ gate measurement/)]),
    );
  });

  it("refuses a gate without a base, naming the input; takes publish: app (the App's gate)", () => {
    const ctx = { runnerTemp: "/tmp", eventPull: null, runId: "1", runAttempt: "1" } as never;
    const inputs = (over: Record<string, string>) => (name: string) =>
      ({ mode: "gate", pr: "7", sha: "a".repeat(40), ...over })[name] ?? "";
    expect(() => readInputs(inputs({}), ctx)).toThrow(
      /input `base`: found nothing, expected the commit to compare/,
    );
    expect(readInputs(inputs({ base: "b".repeat(40), publish: "app" }), ctx)).toMatchObject({
      mode: "gate",
      base: "b".repeat(40),
      publish: "app",
    });
    expect(() => readInputs(inputs({ mode: "pr", base: "b".repeat(40) }), ctx)).toThrow(
      /input `base`: .* expected nothing outside mode gate/,
    );
  });
});
