/**
 * A rewrite session's budgets (turns are in test/agent-session.test.ts; here tokens, wall clock,
 * execution-tool time and context compaction) and its Workbench boundary, with a recording fake
 * Workbench (the real sandboxed one runs in test/loop-agent.test.ts).
 */
import nock from "nock";
import { describe, expect, it } from "vitest";
import { runAgent } from "../src/core/optimize/llm/agent.ts";
import { type ScriptedReply, scriptModel } from "./helpers/example.ts";
import {
  makeWorkspace,
  options,
  recordingWorkbench,
  sessionHooks,
  toolNames,
  toolOutputs,
} from "./helpers/session.ts";

sessionHooks();

describe("budgets", () => {
  it("stops the execution tools once their wall-time budget is spent, without calling the workbench", async () => {
    const { ws } = await makeWorkspace();
    const { workbench, calls } = recordingWorkbench(20);
    scriptModel([
      { tool: "run_tests", args: {} },
      { tool: "run_tests", args: {} },
      { tool: "profile", args: {} },
    ]);
    const outcome = await runAgent(options(ws, { workbench, toolTimeMs: 1, maxTurns: 3 }));

    const [first, second, third] = toolOutputs(outcome);
    expect(first).toMatch(
      /^3 tests passed \(filter: none\)\n\(run_tests took \d+\.\d s; 0 s of tool time left\)$/,
    );
    expect(second).toBe(
      "error: the execution-tool budget of 0.001 s for this session is spent; submit your change or keep reading",
    );
    expect(third).toMatch(/^error: the execution-tool budget .* is spent/);
    expect(calls).toHaveLength(1);
    expect(outcome.tools.calls).toBe(1);
    expect(outcome.tools.byName).toEqual({ run_tests: 1 });
    expect(outcome.tools.ms).toBeGreaterThan(1);
  });

  it("ends with model-error, keeping the usage so far, when a request fails for good", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "read_file", args: { path: "src/app.py" } },
      { status: 401 }, // not retried by the client: a bad key
    ]);
    const outcome = await runAgent(options(ws));
    expect(outcome.status).toBe("model-error");
    expect(outcome.reason).toMatch(/^model request failed: 401/);
    expect(outcome.usage).toEqual({ calls: 1, promptTokens: 1000, completionTokens: 200 });
  });

  it("stops after the call that spends the token budget", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "list_files", args: {} },
      { tool: "list_files", args: {} },
      { tool: "list_files", args: {} },
    ]);
    const outcome = await runAgent(options(ws, { maxTokens: 1500 }));
    expect(outcome.usage.calls).toBe(2);
    expect(outcome.status).toBe("no-patch");
    expect(outcome.reason).toBe("token budget of 1500 spent");
    expect(nock.pendingMocks()).toHaveLength(1); // the third reply was never asked for
  });

  it("stops at the next turn once the wall-clock budget is spent", async () => {
    const { ws } = await makeWorkspace();
    const { workbench } = recordingWorkbench(30);
    scriptModel([
      { tool: "run_tests", args: {} },
      { tool: "run_tests", args: {} },
    ]);
    const outcome = await runAgent(options(ws, { workbench, timeoutMs: 10 }));
    expect(outcome.usage.calls).toBe(1);
    expect(outcome.reason).toBe("wall-clock budget of 0.01 s spent");
  });

  it("compacts old, large tool outputs in what it sends once the context budget is passed", async () => {
    const { ws } = await makeWorkspace();
    const reads: ScriptedReply[] = Array.from({ length: 6 }, () => ({
      tool: "read_file",
      args: { path: "src/app.py" },
    }));
    const received = scriptModel([...reads, { tool: "list_files", args: {} }]);
    const outcome = await runAgent(options(ws, { contextTokens: 500, maxTurns: 7 }));

    expect(received).toHaveLength(7);
    const sent = received[6]?.messages.filter((m) => m.role === "tool").map((m) => m.content ?? "");
    expect(sent).toHaveLength(6);
    expect(sent?.slice(0, 2).every((c) => c.startsWith("[compacted by perfloop to save context:"))).toBe(
      true,
    );
    expect(sent?.slice(2).every((c) => c.startsWith("    1  def total(values):"))).toBe(true);
    // The system and user prompts are sent as they were.
    expect(received[6]?.messages.slice(0, 2)).toEqual([
      { role: "system", content: "You make programs faster." },
      { role: "user", content: "Make src/app.py faster." },
    ]);
    expect(outcome.status).toBe("no-patch");
  });
});

describe("the execution tools (Workbench boundary)", () => {
  it("run_benchmark passes the clamped runs and the workspace's start/tree; run_tests passes the trimmed filter or null; profile the tree", async () => {
    const { ws } = await makeWorkspace();
    const { workbench, calls } = recordingWorkbench();
    scriptModel([
      { tool: "run_benchmark", args: { runs: 50 } },
      { tool: "run_benchmark", args: { runs: 0 } },
      { tool: "run_benchmark", args: { runs: -4 } },
      { tool: "run_benchmark", args: {} },
      { tool: "run_benchmark", args: { runs: 2.5 } },
      { tool: "run_benchmark", args: { runs: 7 } },
      { tool: "run_tests", args: { filter: "  tests/test_app.py::AppTest::test_total \n" } },
      { tool: "run_tests", args: { filter: "   " } },
      { tool: "run_tests", args: {} },
      { tool: "run_tests", args: { filter: 42 } },
      { tool: "profile", args: {} },
    ]);
    const outcome = await runAgent(options(ws, { workbench, maxTurns: 11, screenRuns: 3 }));

    const { start, tree } = ws;
    expect(calls).toEqual([
      { method: "runBenchmark", start, tree, runs: 20 },
      { method: "runBenchmark", start, tree, runs: 1 },
      { method: "runBenchmark", start, tree, runs: 1 },
      { method: "runBenchmark", start, tree, runs: 3 },
      { method: "runBenchmark", start, tree, runs: 3 },
      { method: "runBenchmark", start, tree, runs: 7 },
      { method: "runTests", tree, filter: "tests/test_app.py::AppTest::test_total" },
      { method: "runTests", tree, filter: null },
      { method: "runTests", tree, filter: null },
      { method: "runTests", tree, filter: null },
      { method: "profile", tree },
    ]);
    expect(toolOutputs(outcome)[0]).toMatch(/^screen: 20 runs a side, B\/A 0\.80\n\(run_benchmark took /);
    expect(outcome.tools.calls).toBe(11);
    expect(outcome.tools.byName).toEqual({ run_benchmark: 6, run_tests: 4, profile: 1 });
  });

  it("without a workbench: run_tests is not available and the execution tools are not offered", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "run_tests", args: {} },
      { tool: "run_benchmark", args: {} },
    ]);
    const outcome = await runAgent(options(ws, { workbench: null, maxTurns: 2 }));

    const [tests, bench] = toolOutputs(outcome);
    expect(tests).toBe("error: run_tests is not available in this session");
    expect(bench).toBe("error: run_benchmark is not available in this session");
    expect(outcome.tools.calls).toBe(0);
    const offered = toolNames(received[0]);
    expect(offered).toEqual(["read_file", "search", "list_files", "apply_patch", "diff", "submit"]);
  });

  it("with a workbench: all tools are offered", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([{ tool: "list_files", args: {} }]);
    await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolNames(received[0])).toEqual([
      "read_file",
      "search",
      "list_files",
      "apply_patch",
      "diff",
      "run_tests",
      "run_benchmark",
      "profile",
      "submit",
    ]);
  });
});
