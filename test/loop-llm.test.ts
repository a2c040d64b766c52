/**
 * The full loop on the bundled example with the model endpoint mocked by nock: every gate, for real
 * (real tests, real benchmark runs, real statistics).
 */
import { execFileSync } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runPerfloop } from "../src/core/loop/run.ts";
import { createModelClient } from "../src/core/optimize/llm/agent.ts";
import {
  copyExample,
  GOOD_PATCH,
  MODEL_URL,
  PROTECTED_PATCH,
  scriptModel,
  TEST_BREAKING_PATCH,
  testConfig,
} from "./helpers/example.ts";

const dirs: string[] = [];
const model = () => createModelClient({ apiKey: "sk-test", baseURL: `${MODEL_URL}/v1` });

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(): Promise<{ repo: string; out: string }> {
  const repo = await copyExample();
  dirs.push(repo);
  return { repo, out: path.join(repo, "out") };
}

describe("LLM rewrite loop", () => {
  it("refuses a protected-file edit inside the session, rejects a test-breaking candidate, then accepts a good patch with a measured speedup", async () => {
    const { repo, out } = await scratch();
    const stemBefore = await readFile(path.join(repo, "textstats/stem.py"), "utf8");
    const received = scriptModel([
      // Round 1: the edit of a test file is refused when made (the session goes on), then a patch
      // that breaks a rule is submitted and fails the tests.
      { tool: "submit_patch", args: { patch: PROTECTED_PATCH, rationale: "make the test agree" } },
      { tool: "submit_patch", args: { patch: TEST_BREAKING_PATCH, rationale: "shorter suffix" } },
      // Round 2: read, then the good patch.
      { tool: "read_file", args: { path: "textstats/stem.py", start_line: 38, end_line: 46 } },
      {
        tool: "submit_patch",
        args: { patch: GOOD_PATCH, rationale: "check the suffix before computing the measure" },
      },
    ]);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: out,
      mode: "optimize",
      config: testConfig({ rounds: 2, target: 95 }),
      model: model(),
    });

    expect(results.status, results.message).toBe("improved");
    expect(results.rounds.map((r) => [r.outcome, r.gate])).toEqual([
      ["rejected", "tests"],
      ["accepted", null],
    ]);
    expect(results.final?.primary.verdict).toBe("faster");
    expect(results.final?.primary.improvementPct).toBeGreaterThan(20);
    expect(results.usage.modelCalls).toBe(4);

    // The refused edit went back to the model as tool output, naming the rule; nothing was written.
    const refusal = received[1]?.messages.find((m) => m.role === "tool")?.content ?? "";
    expect(refusal).toMatch(/refused by the patch policy and nothing was written: tests\/test_textstats\.py/);
    // The second round's prompt carried the verdict, the hot code and the failed candidate with its diff.
    const lastPrompt = received[2]?.messages.find((m) => m.role === "user")?.content ?? "";
    // The verdict with its numbers (which category fires depends on how busy this machine is).
    const top = results.verdicts[0];
    expect(lastPrompt).toMatch(
      top
        ? new RegExp(`\\*\\*${top.category}\\*\\*.*Numbers: \\w+ = `)
        : /No clear bottleneck category fired/,
    );
    expect(lastPrompt).toMatch(/def measure\(stem\)/);
    expect(lastPrompt).toMatch(/tests: tests failed/);
    expect(lastPrompt).toMatch(/its diff:\n.*\n?.*\("ies", "y", 0\)/s);
    expect(lastPrompt).toMatch(/Keep the output of `python3 -m textstats corpus.txt` byte-identical/); // AGENTS.md
    // The read_file result went back to the model as tool output, with line numbers.
    const toolReply = received[3]?.messages.find((m) => m.role === "tool")?.content ?? "";
    expect(toolReply).toMatch(/ 38 {2}def stem_uncached\(word\):/);

    // The user's tree is untouched; final.patch applies to it and reproduces the change.
    expect(await readFile(path.join(repo, "textstats/stem.py"), "utf8")).toBe(stemBefore);
    const patch = await readFile(path.join(out, "final.patch"), "utf8");
    expect(patch).toMatch(/^diff --git a\/textstats\/stem\.py b\/textstats\/stem\.py/);
    execFileSync(
      "git",
      ["apply", "--check", "--unsafe-paths", `--directory=`, path.join(out, "final.patch")],
      { cwd: repo },
    );
    for (const file of [
      "results.json",
      "report.md",
      "perf_raw.json",
      "perf_summary.md",
      "feedback_report.md",
      "optimization_rounds.json",
      "env_snapshot.json",
      "audit.log",
      "rounds/2/candidates/1/prompt.md",
      "rounds/2/candidates/1/response.json",
      "rounds/2/candidates/1/session.jsonl",
      "rounds/2/diff.patch",
      "rounds/2/test.log",
      "rounds/2/check.log",
      "rounds/2/bench.log",
      "rounds/1/test.log",
    ]) {
      await expect(readFile(path.join(out, file), "utf8"), file).resolves.not.toBe("");
    }
    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(report).toMatch(/\| metric +\| baseline median/);
    expect(report.length).toBeLessThan(60_000);
  });

  it("feeds a malformed tool call back to the model and survives a 429", async () => {
    const { repo, out } = await scratch();
    const received = scriptModel([
      { status: 429, headers: { "retry-after-ms": "10" } },
      {
        tool: "submit_patch",
        args: null,
        rawArgs: '{"patch": "*** Begin Patch\n*** Update File: textstats/stem.py',
      },
      { tool: "submit_patch", args: { patch: GOOD_PATCH, rationale: "suffix first" } },
    ]);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: out,
      mode: "optimize",
      config: testConfig({ rounds: 1 }),
      model: model(),
    });

    expect(received).toHaveLength(3); // the 429 was retried by the client, then two turns
    const feedback = received[2]?.messages.find((m) => m.role === "tool")?.content ?? "";
    expect(feedback).toMatch(/^error: submit_patch needs a JSON object/);
    expect(results.rounds[0]?.outcome, results.rounds[0]?.reason).toBe("accepted");
    expect(results.status).toBe("improved");
    const transcript = JSON.parse(
      await readFile(path.join(out, "rounds/1/candidates/1/response.json"), "utf8"),
    ) as {
      usage: { calls: number };
    };
    expect(transcript.usage.calls).toBe(2);
  });
});
