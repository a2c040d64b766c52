/**
 * The agent that experiments: three sessions a round against a scripted endpoint, each in its own
 * workspace, running the real tests, the real screen and the real profiler in the sandbox; behaviour
 * capture rejecting a candidate whose output is identical but whose hot function returns something
 * else; the session logs in the bundle.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CandidateRecord } from "../src/core/evidence/results-schema.ts";
import { runPerfloop } from "../src/core/loop/run.ts";
import { createModelClient } from "../src/core/optimize/llm/agent.ts";
import {
  BEHAVIOUR_CHANGING_PATCH,
  copyExample,
  GOOD_PATCH,
  MODEL_URL,
  PROTECTED_PATCH,
  scriptSessions,
  TEST_BREAKING_PATCH,
  testConfig,
} from "./helpers/example.ts";

/** A 200 whose body is not a chat completion (a proxy's error page, say). */
const NOT_A_COMPLETION = { status: 200 } as const;

/** Same output, half a second slower at import: passes every check, fails the A/B (clearly, even on a busy machine). */
const SLOWER_PATCH = `*** Begin Patch
*** Update File: textstats/__main__.py
@@
 import re
 import sys
+import time
 
 from .stem import stem
+
+time.sleep(0.5)
*** End Patch`;

const dirs: string[] = [];
beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const toolText = (bodies: Array<{ messages: Array<{ role: string; content: string | null }> }>, i: number) =>
  bodies[i]?.messages.filter((m) => m.role === "tool").at(-1)?.content ?? "";

describe("agent sessions", () => {
  it("runs three sessions with real tool results; behaviour capture and the tests reject two, the third is measured and accepted", async () => {
    const repo = await copyExample();
    dirs.push(repo);
    const out = path.join(repo, "out");
    const received = scriptSessions([
      [
        { tool: "run_tests", args: {} },
        { tool: "apply_patch", args: { patch: GOOD_PATCH } },
        { tool: "run_tests", args: { filter: "tests/test_textstats.py" } },
        { tool: "run_benchmark", args: { runs: 2 } },
        { tool: "submit", args: { rationale: "test the suffix before computing the measure" } },
        NOT_A_COMPLETION, // round 2
      ],
      [
        { tool: "profile", args: {} },
        { tool: "apply_patch", args: { patch: BEHAVIOUR_CHANGING_PATCH } },
        { tool: "diff", args: {} },
        { tool: "submit", args: { rationale: "cap the measure: no rule needs more than 1" } },
        NOT_A_COMPLETION,
      ],
      [
        { tool: "apply_patch", args: { patch: PROTECTED_PATCH } },
        { tool: "apply_patch", args: { patch: TEST_BREAKING_PATCH } },
        { tool: "read_file", args: { path: "../../etc/passwd" } },
        { tool: "run_tests", args: {} },
        { tool: "submit", args: { rationale: "shorter rule" } },
        NOT_A_COMPLETION,
      ],
    ]);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: out,
      mode: "optimize",
      config: testConfig({
        rounds: 2,
        model: {
          name: "test-model",
          base_url: `${MODEL_URL}/v1`,
          max_turns: 6,
          candidates: 3,
          screen_runs: 2,
        },
      }),
      model: createModelClient({ apiKey: "sk-test", baseURL: `${MODEL_URL}/v1` }),
    });

    // Session 1: real tests (all, then a filter), a real screen with medians, then accepted.
    expect(toolText(received[0] ?? [], 1)).toMatch(/tests passed \(exit code 0/);
    expect(toolText(received[0] ?? [], 3)).toMatch(/-m unittest -q 'tests\.test_textstats'\ntests passed/);
    expect(toolText(received[0] ?? [], 4)).toMatch(
      /screen \(2 runs a side, interleaved; not the verdict\): wall time median A [\d.]+ ms, B [\d.]+ ms, B\/A [\d.]+ .*output matches the baseline's/,
    );
    // Session 2: a real profile of its workspace, and its diff.
    expect(toolText(received[1] ?? [], 1)).toMatch(
      /Hot spots of your workspace[\s\S]*textstats\/stem\.py:\d+ `measure`: self [\d.]+%/,
    );
    expect(toolText(received[1] ?? [], 3)).toMatch(
      /^diff --git a\/textstats\/stem\.py[\s\S]*\+ {4}return min\(pattern\.count\("vc"\), 2\)/m,
    );
    // Session 3: the protected edit is refused when made, a path out of the workspace is refused,
    // and the test-breaking edit fails the real tests.
    expect(toolText(received[2] ?? [], 1)).toMatch(/refused by the patch policy/);
    expect(toolText(received[2] ?? [], 3)).toMatch(/^error: path "\.\.\/\.\.\/etc\/passwd" must be relative/);
    expect(toolText(received[2] ?? [], 4)).toMatch(/TESTS FAILED \(exit code 1/);

    expect(results.status, results.message).toBe("improved");
    expect(results.rounds, results.stopReason).toHaveLength(2);
    const round = results.rounds[0];
    expect(round?.outcome).toBe("accepted");
    const byK = new Map((round?.candidates ?? []).map((c) => [c.k, c] as [number, CandidateRecord]));
    expect(byK.get(1)).toMatchObject({ outcome: "accepted", gate: null, measured: true });
    expect(byK.get(1)?.screen?.runs).toBe(2); // model.screen_runs
    expect(byK.get(1)?.behaviour?.callsCompared).toBeGreaterThan(0);
    expect(byK.get(2)).toMatchObject({
      outcome: "rejected",
      gate: "behaviour",
      measured: false,
      screen: null,
    });
    expect(byK.get(2)?.behaviour?.difference?.function).toMatch(/textstats\/stem\.py::measure/);
    expect(byK.get(2)?.reason).toMatch(/measure\(.*\) gave 2 instead of [3-9]/);
    expect(byK.get(3)).toMatchObject({ outcome: "rejected", gate: "tests", measured: false });
    expect(results.usage.modelCalls).toBe(14 + 3);

    // Round 2: an endpoint answering 200 with another body ends each session, not the run.
    expect(
      results.rounds[1]?.candidates?.map((c) => [c.gate, /not a chat completion/.test(c.reason)]),
    ).toEqual([
      ["parse", true],
      ["parse", true],
      ["parse", true],
    ]);
    // Fresh facts: round 2's prompt has the hot spots profiled after round 1's accepted change (far
    // fewer `measure` calls), and the failed candidates with their diffs and rationales.
    const prompt = (n: number) => readFile(path.join(out, `rounds/${n}/candidates/1/prompt.md`), "utf8");
    const measureCalls = (text: string) =>
      Number(/`measure`: self [\d.]+%, cumulative [\d.]+%, (\d+) calls/.exec(text)?.[1]);
    expect(measureCalls(await prompt(2))).toBeLessThan(measureCalls(await prompt(1)) / 2);
    expect(await prompt(2)).toMatch(
      /rationale was: cap the measure[\s\S]*its diff:[\s\S]*return min\(pattern\.count\("vc"\), 2\)/,
    );
    expect(results.behaviour?.functions.length).toBeGreaterThan(0);

    for (const k of [1, 2, 3]) {
      const log = await readFile(path.join(out, `rounds/1/candidates/${k}/session.jsonl`), "utf8");
      const entries = log
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { type: string; name?: string });
      expect(entries.filter((e) => e.type === "model").length).toBeGreaterThan(2);
      expect(entries.at(-1)).toMatchObject({ type: "end", status: "submitted" });
    }
    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(report).toMatch(/\| +2 \| rejected +\| behaviour +\| — +\| no +\|/);
    expect(report).toMatch(
      /Behaviour capture, candidate 2:\*\* `measure\(.*\)` returned `2` instead of `[3-9]`/,
    );
    const audit = await readFile(path.join(out, "audit.log"), "utf8");
    expect(audit).toMatch(/agent run_tests finished .*round 1, candidate 1: tests passed/);
  });

  it("sends a candidate that passed its own screen to the full A/B, which rejects it as slower", async () => {
    const repo = await copyExample();
    dirs.push(repo);
    const out = path.join(repo, "out");
    const received = scriptSessions([
      [
        { tool: "apply_patch", args: { patch: SLOWER_PATCH } },
        { tool: "run_benchmark", args: { runs: 2 } },
        { tool: "submit", args: { rationale: "warm the cache first" } },
      ],
      [{ text: "I see nothing to change." }, { text: "Still nothing." }, { text: "Nothing." }],
    ]);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: out,
      mode: "optimize",
      config: testConfig({
        rounds: 1,
        model: {
          name: "test-model",
          base_url: `${MODEL_URL}/v1`,
          max_turns: 3,
          candidates: 2,
          screen_runs: 2,
        },
      }),
      model: createModelClient({ apiKey: "sk-test", baseURL: `${MODEL_URL}/v1` }),
    });
    // Its own screen: the output matched (it passed), and it was slower.
    expect(toolText(received[0] ?? [], 2)).toMatch(/% worse[\s\S]*output matches the baseline's/);
    const candidates = results.rounds[0]?.candidates ?? [];
    expect(candidates.map((c) => [c.k, c.outcome, c.gate, c.measured])).toEqual([
      [1, "rejected", "performance", true],
      [2, "rejected", "parse", false],
    ]);
    expect(candidates[0]?.screen?.changePct).toBeLessThan(0);
    expect(candidates[1]?.reason).toMatch(/no submission within 3 turns/);
    expect(results.rounds[0]?.comparison?.verdict).toBe("slower");
    expect(results.status).toBe("no-improvement");
  });

  it("ranks screened candidates: the faster one is measured and accepted, the other is not measured in full", async () => {
    const repo = await copyExample();
    dirs.push(repo);
    scriptSessions([
      [
        { tool: "apply_patch", args: { patch: SLOWER_PATCH } },
        { tool: "submit", args: { rationale: "warm the cache first" } },
      ],
      [
        { tool: "apply_patch", args: { patch: GOOD_PATCH } },
        { tool: "submit", args: { rationale: "test the suffix first" } },
      ],
    ]);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: path.join(repo, "out"),
      mode: "optimize",
      config: testConfig({
        rounds: 1,
        model: {
          name: "test-model",
          base_url: `${MODEL_URL}/v1`,
          max_turns: 2,
          candidates: 2,
          screen_runs: 2,
        },
      }),
      model: createModelClient({ apiKey: "sk-test", baseURL: `${MODEL_URL}/v1` }),
    });
    const candidates = results.rounds[0]?.candidates ?? [];
    expect(candidates.map((c) => [c.k, c.outcome, c.gate, c.measured])).toEqual([
      [1, "rejected", "screen", false],
      [2, "accepted", null, true],
    ]);
    expect(candidates[0]?.reason).toMatch(
      /^not measured in full: candidate 2 was accepted first \(its screen: [\d.]+% worse\)/,
    );
    expect(candidates[1]?.screen?.changePct).toBeGreaterThan(candidates[0]?.screen?.changePct ?? 0);
    expect(results.rounds[0]?.description).toMatch(/candidate 2/);
    expect(results.status).toBe("improved");
  });
});
