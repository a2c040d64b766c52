/**
 * One rewrite session (src/core/optimize/llm/agent.ts `runAgent`) driven by the real OpenAI client
 * against a nock-scripted endpoint: edits accumulating in the session's workspace, the patch policy
 * at each edit, paths that leave the workspace, `submit` and its legacy form, the budgets (turns,
 * tokens, wall clock, execution-tool time, context), the Workbench boundary (a recording fake: the
 * real sandboxed one is exercised in test/loop-agent.test.ts), an endpoint answer that is not a chat
 * completion, a patch pasted into the reply, and the session log.
 */
import { cp, lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentOptions,
  type AgentOutcome,
  createModelClient,
  runAgent,
  type SessionLogEntry,
} from "../src/core/optimize/llm/agent.ts";
import type { SessionWorkspace } from "../src/core/optimize/llm/edits.ts";
import type { ToolReport, Workbench } from "../src/core/optimize/llm/session-tools.ts";
import { MODEL_URL, type ReceivedBody, type ScriptedReply, scriptModel } from "./helpers/example.ts";

const APP = `def total(values):
    result = 0
    for v in values:
        result += v
    return result


def squares(n):
    out = []
    for i in range(n):
        out.append(i * i)
    return out


def count_words(text):
    counts = {}
    for word in text.split():
        counts[word] = counts.get(word, 0) + 1
    return counts
`;

const TESTS = `import unittest

from src.app import count_words, squares, total


class AppTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(total([1, 2, 3]), 6)

    def test_squares(self):
        self.assertEqual(squares(4), [0, 1, 4, 9])

    def test_count_words(self):
        self.assertEqual(count_words("a b a"), {"a": 2, "b": 1})
`;

/** 5 changed lines (4 removed, 1 added). */
const EDIT_TOTAL = `*** Begin Patch
*** Update File: src/app.py
@@ def total(values):
-    result = 0
-    for v in values:
-        result += v
-    return result
+    return sum(values)
*** End Patch`;

/** 5 changed lines, on another function of the same file. */
const EDIT_SQUARES = `*** Begin Patch
*** Update File: src/app.py
@@ def squares(n):
-    out = []
-    for i in range(n):
-        out.append(i * i)
-    return out
+    return [i * i for i in range(n)]
*** End Patch`;

/** Both edits in one patch: 10 changed lines. */
const EDIT_BOTH = `*** Begin Patch
*** Update File: src/app.py
@@ def total(values):
-    result = 0
-    for v in values:
-        result += v
-    return result
+    return sum(values)
@@ def squares(n):
-    out = []
-    for i in range(n):
-        out.append(i * i)
-    return out
+    return [i * i for i in range(n)]
*** End Patch`;

/** 4 removed + 8 added = 12 changed lines: under the cap of 20 alone, over it after EDIT_BOTH. */
const EDIT_WORDS_BIG = `*** Begin Patch
*** Update File: src/app.py
@@ def count_words(text):
-    counts = {}
-    for word in text.split():
-        counts[word] = counts.get(word, 0) + 1
-    return counts
+    result = {}
+    get = result.get
+    words = text.split()
+    for w in words:
+        result[w] = get(w, 0) + 1
+    # one lookup of the bound method
+    # instead of one per word
+    return result
*** End Patch`;

const TOTAL_DONE = APP.replace(
  "    result = 0\n    for v in values:\n        result += v\n    return result\n",
  "    return sum(values)\n",
);
const BOTH_DONE = TOTAL_DONE.replace(
  "    out = []\n    for i in range(n):\n        out.append(i * i)\n    return out\n",
  "    return [i * i for i in range(n)]\n",
);

const EDIT_TESTS = `*** Begin Patch
*** Update File: tests/test_app.py
@@
-        self.assertEqual(total([1, 2, 3]), 6)
+        self.assertEqual(total([1, 2, 3]), total([3, 2, 1]))
*** End Patch`;

const addFile = (p: string) => `*** Begin Patch
*** Add File: ${p}
+print("written by the model")
*** End Patch`;

const roots: string[] = [];
beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  await Promise.all(roots.map((d) => rm(d, { recursive: true, force: true })));
});

/** A temp dir with `start/` (a tiny Python project) and `tree/`, a copy of it, as a session's workspace. */
async function makeWorkspace(): Promise<{ root: string; ws: SessionWorkspace }> {
  const root = await mkdtemp(path.join(tmpdir(), "perfloop-session-"));
  roots.push(root);
  const start = path.join(root, "start");
  const tree = path.join(root, "tree");
  await mkdir(path.join(start, "src"), { recursive: true });
  await mkdir(path.join(start, "tests"), { recursive: true });
  await writeFile(path.join(start, "src/app.py"), APP);
  await writeFile(path.join(start, "tests/test_app.py"), TESTS);
  await cp(start, tree, { recursive: true });
  return {
    root,
    ws: {
      start,
      tree,
      policy: { paths: ["src/**"], protect: [], maxFiles: 3, maxChangedLines: 20, maxFileBytes: 100_000 },
      touched: new Set(),
      edits: 0,
    },
  };
}

type Call =
  | { method: "runTests"; tree: string; filter: string | null }
  | { method: "runBenchmark"; start: string; tree: string; runs: number }
  | { method: "profile"; tree: string };

/** A Workbench that records its calls and answers at once (or after `waitMs`). */
function recordingWorkbench(waitMs = 0): { workbench: Workbench; calls: Call[] } {
  const calls: Call[] = [];
  const report = async (text: string): Promise<ToolReport> => {
    if (waitMs > 0) await sleep(waitMs);
    return { text, summary: text.split("\n")[0] ?? "" };
  };
  return {
    calls,
    workbench: {
      runTests: (tree, filter) => {
        calls.push({ method: "runTests", tree, filter });
        return report(`3 tests passed (filter: ${filter ?? "none"})`);
      },
      runBenchmark: (start, tree, runs) => {
        calls.push({ method: "runBenchmark", start, tree, runs });
        return report(`screen: ${runs} runs a side, B/A 0.80`);
      },
      profile: (tree) => {
        calls.push({ method: "profile", tree });
        return report("hot spots:\n  total  60%");
      },
    },
  };
}

function options(ws: SessionWorkspace, overrides: Partial<AgentOptions> = {}): AgentOptions {
  return {
    client: createModelClient({ apiKey: "sk-test", baseURL: `${MODEL_URL}/v1` }),
    model: "test-model",
    system: "You make programs faster.",
    user: "Make src/app.py faster.",
    workspace: ws,
    workbench: recordingWorkbench().workbench,
    screenRuns: 3,
    maxTurns: 10,
    maxTokens: 1_000_000,
    timeoutMs: 60_000,
    toolTimeMs: 60_000,
    contextTokens: 1_000_000,
    ...overrides,
  };
}

/** The tool outputs of the session, in order. */
const toolOutputs = (outcome: AgentOutcome): string[] =>
  outcome.transcript.filter((m) => m.role === "tool").map((m) => String(m.content));

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

const toolNames = (body: ReceivedBody | undefined): string[] =>
  ((body as unknown as { tools?: Array<{ function: { name: string } }> } | undefined)?.tools ?? []).map(
    (t) => t.function.name,
  );

describe("a rewrite session's workspace", () => {
  it("accumulates edits: diff shows both, submit hands over the final text and a git diff; start/ is untouched", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "apply_patch", args: { patch: EDIT_TOTAL } },
      { tool: "apply_patch", args: { patch: EDIT_SQUARES } },
      { tool: "diff", args: {} },
      { tool: "submit", args: { rationale: "builtins instead of Python loops" } },
    ]);
    const outcome = await runAgent(options(ws));

    expect(outcome.status).toBe("submitted");
    expect(outcome.reason).toBe("submitted");
    expect(outcome.rationale).toBe("builtins instead of Python loops");
    expect(received).toHaveLength(4);
    const [first, second, diff, submitted] = toolOutputs(outcome);
    expect(first).toMatch(/^applied: update src\/app\.py\. The workspace now changes 1 file/);
    expect(second).toMatch(/^applied: update src\/app\.py/);
    // The diff tool shows the whole change so far: both edits.
    expect(diff).toContain("-    result = 0");
    expect(diff).toContain("+    return sum(values)");
    expect(diff).toContain("-    out = []");
    expect(diff).toContain("+    return [i * i for i in range(n)]");
    expect(submitted).toBe("submitted");

    expect(outcome.changes).toEqual([{ path: "src/app.py", kind: "update", before: APP, after: BOTH_DONE }]);
    expect(outcome.patchText).toMatch(/^diff --git a\/src\/app\.py b\/src\/app\.py\n/);
    expect(outcome.patchText).toContain("+    return sum(values)");
    expect(outcome.patchText).toContain("+    return [i * i for i in range(n)]");
    expect(outcome.patchText).toBe(diff);
    expect(ws.edits).toBe(2);
    expect([...ws.touched]).toEqual(["src/app.py"]);

    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(BOTH_DONE);
    expect(await readFile(path.join(ws.start, "src/app.py"), "utf8")).toBe(APP);
    expect(await readFile(path.join(ws.start, "tests/test_app.py"), "utf8")).toBe(TESTS);
  });

  it("checks the patch policy at each edit: a test file is refused, and so is an edit that pushes the whole change past the line cap", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "apply_patch", args: { patch: EDIT_TESTS } },
      { tool: "apply_patch", args: { patch: EDIT_BOTH } },
      { tool: "apply_patch", args: { patch: EDIT_WORDS_BIG } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const outcome = await runAgent(options(ws));

    const [tests, both, big] = toolOutputs(outcome);
    expect(tests).toMatch(/^error: the patch was refused by the patch policy and nothing was written/);
    expect(tests).toContain("tests/test_app.py is a test file");
    expect(await readFile(path.join(ws.tree, "tests/test_app.py"), "utf8")).toBe(TESTS);

    expect(both).toMatch(/^applied: /);
    // 10 + 12 changed lines: each edit alone is under 20, the whole change is not.
    expect(big).toMatch(/^error: the patch was refused by the patch policy/);
    expect(big).toContain("changes 22 lines (added + removed); at most 20 are allowed");

    // The earlier edit stays, and is what is submitted.
    expect(outcome.status).toBe("submitted");
    expect(ws.edits).toBe(1);
    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(BOTH_DONE);
    expect(outcome.changes).toEqual([{ path: "src/app.py", kind: "update", before: APP, after: BOTH_DONE }]);
  });

  it("accepts the big edit on its own (the refusal above is the whole change's size, not the edit's)", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "apply_patch", args: { patch: EDIT_WORDS_BIG } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const outcome = await runAgent(options(ws));
    expect(toolOutputs(outcome)[0]).toMatch(/^applied: /);
    expect(outcome.status).toBe("submitted");
  });

  it("refuses to read or write outside the workspace: .., absolute paths, a symlink out of tree/", async () => {
    const { root, ws } = await makeWorkspace();
    const secret = path.join(root, "secret.txt");
    await writeFile(secret, "TOKEN=do-not-leak\n");
    await symlink(secret, path.join(ws.tree, "src/leak.py"));
    const absTarget = path.join(root, "abs-x.py");
    scriptModel([
      { tool: "read_file", args: { path: "../start/src/app.py" } },
      { tool: "read_file", args: { path: path.join(ws.start, "src/app.py") } },
      { tool: "read_file", args: { path: "src/leak.py" } },
      { tool: "search", args: { pattern: "TOKEN" } },
      { tool: "apply_patch", args: { patch: addFile("../x.py") } },
      { tool: "apply_patch", args: { patch: addFile(absTarget) } },
      { tool: "apply_patch", args: { patch: addFile("/tmp/x.py") } },
      {
        tool: "apply_patch",
        args: {
          patch: `*** Begin Patch\n*** Update File: src/leak.py\n@@\n-TOKEN=do-not-leak\n+TOKEN=overwritten\n*** End Patch`,
        },
      },
    ]);
    const tmpX = await exists("/tmp/x.py");
    const outcome = await runAgent(options(ws, { maxTurns: 8 }));

    const [dotdot, absolute, link, search, addUp, addAbs, addTmp, updateLink] = toolOutputs(outcome);
    expect(dotdot).toMatch(/^error: path "\.\.\/start\/src\/app\.py" must be relative/);
    expect(absolute).toMatch(/^error: path ".*" must be relative/);
    expect(link).toMatch(/^error: path "src\/leak\.py" leads outside the repository/);
    expect(search).toBe("no matches");
    expect(addUp).toMatch(/^error: the patch was refused by the patch policy/);
    expect(addUp).toContain("'..' segment");
    expect(addAbs).toMatch(/^error: the patch was refused by the patch policy/);
    expect(addAbs).toContain("is absolute");
    expect(addTmp).toMatch(/^error: the patch was refused by the patch policy/);
    expect(updateLink).toMatch(/^error: the patch does not apply: .*symbolic link to outside/);
    for (const text of toolOutputs(outcome)) expect(text).not.toContain("do-not-leak");

    expect(outcome.status).toBe("no-patch");
    expect(ws.edits).toBe(0);
    expect(await exists(path.join(root, "x.py"))).toBe(false);
    expect(await exists(absTarget)).toBe(false);
    expect(await exists("/tmp/x.py")).toBe(tmpX);
    expect(await readFile(secret, "utf8")).toBe("TOKEN=do-not-leak\n");
  });

  // A link that exists in tree/ only (tree/ is writable during run_tests, so repository code can
  // leave one there): perfloop's own write, outside the sandbox, must never follow it — outside the
  // workspace, or into a protected place. applyEdit refuses any path through a link in the tree.
  it("refuses an added file under a directory link that exists in tree/ only", async () => {
    const { root, ws } = await makeWorkspace();
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await symlink(outside, path.join(ws.tree, "src/out"));
    scriptModel([{ tool: "apply_patch", args: { patch: addFile("src/out/evil.py") } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: .*goes through the symbolic link/);
    expect(await exists(path.join(outside, "evil.py"))).toBe(false);
  });

  it("refuses an added file at a dangling link that exists in tree/ only", async () => {
    const { root, ws } = await makeWorkspace();
    const target = path.join(root, "dangling-target.py");
    await symlink(target, path.join(ws.tree, "src/new.py"));
    scriptModel([{ tool: "apply_patch", args: { patch: addFile("src/new.py") } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: .*goes through the symbolic link/);
    expect(await exists(target)).toBe(false);
  });

  it("refuses an added file under a link in tree/ only that points into the tests", async () => {
    const { ws } = await makeWorkspace();
    await symlink("../tests", path.join(ws.tree, "src/t"));
    scriptModel([{ tool: "apply_patch", args: { patch: addFile("src/t/extra.py") } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: .*goes through the symbolic link/);
    expect(await exists(path.join(ws.tree, "tests/extra.py"))).toBe(false);
  });
});

describe("submitting and the session's end", () => {
  it("answers a submit with no change with an error and goes on, until the turn budget ends the session", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "submit", args: { rationale: "nothing to do" } },
      { tool: "read_file", args: { path: "src/app.py", start_line: 1, end_line: 1 } },
    ]);
    const outcome = await runAgent(options(ws, { maxTurns: 2 }));

    expect(received).toHaveLength(2);
    const [submit, read] = toolOutputs(outcome);
    expect(submit).toMatch(/^error: your workspace changes nothing yet/);
    expect(read).toBe("    1  def total(values):");
    expect(outcome.status).toBe("no-patch");
    expect(outcome.reason).toBe("no submission within 2 turns");
    expect(outcome.patchText).toBeNull();
    expect(outcome.changes).toEqual([]);
    expect(outcome.usage).toEqual({ calls: 2, promptTokens: 2000, completionTokens: 400 });
  });

  it("ends with no-patch, without throwing, when the endpoint answers 200 with something that is not a chat completion", async () => {
    const { ws } = await makeWorkspace();
    nock(MODEL_URL).post("/v1/chat/completions").reply(200, { hello: "world" });
    const outcome = await runAgent(options(ws));
    expect(outcome.status).toBe("no-patch");
    expect(outcome.reason).toContain("not a chat completion");
    expect(outcome.reason).toContain('{"hello":"world"}');
    expect(outcome.usage.calls).toBe(1);
    expect(outcome.patchText).toBeNull();
  });

  it("applies and submits in one call with the legacy submit_patch {patch, rationale}", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "submit_patch", args: { patch: EDIT_TOTAL, rationale: "sum() is C" } },
    ]);
    const outcome = await runAgent(options(ws));
    expect(received).toHaveLength(1);
    expect(outcome.status).toBe("submitted");
    expect(outcome.rationale).toBe("sum() is C");
    expect(outcome.changes).toEqual([{ path: "src/app.py", kind: "update", before: APP, after: TOTAL_DONE }]);
    expect(outcome.patchText).toContain("+    return sum(values)");
  });

  it("does not submit when the legacy submit_patch's patch is refused", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([{ tool: "submit_patch", args: { patch: EDIT_TESTS, rationale: "r" } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: the patch was refused by the patch policy/);
    expect(outcome.status).toBe("no-patch");
  });

  it("applies a patch pasted into the reply text (no tool call) as an edit", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { text: `Here is my change:\n\n${EDIT_TOTAL}\n\nThat should help.` },
      { tool: "submit", args: { rationale: "pasted" } },
    ]);
    const outcome = await runAgent(options(ws));

    expect(ws.edits).toBe(1);
    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(TOTAL_DONE);
    // The model is told the edit was applied, and how to use the tools.
    const told = received[1]?.messages.at(-1);
    expect(told?.role).toBe("user");
    expect(told?.content).toMatch(/^applied: update src\/app\.py/);
    expect(told?.content).toContain("Use the tools: apply_patch to edit");
    expect(outcome.status).toBe("submitted");
    expect(outcome.changes.map((c) => c.after)).toEqual([TOTAL_DONE]);
  });

  it("reports a malformed tool call to the model and keeps going", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "apply_patch", args: null, rawArgs: "{not json" },
      { tool: "read_file", args: null, rawArgs: "[1]" },
      { tool: "apply_patch", args: { patch: EDIT_TOTAL } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const outcome = await runAgent(options(ws));
    const [bad, array] = toolOutputs(outcome);
    expect(bad).toMatch(/^error: apply_patch needs a JSON object/);
    expect(array).toMatch(/^error: the arguments of read_file are not a JSON object/);
    expect(outcome.status).toBe("submitted");
  });

  it("sends every model call, tool call and the end to the log, in order", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "read_file", args: { path: "src/app.py", start_line: 1, end_line: 1 } },
      { tool: "apply_patch", args: { patch: EDIT_TOTAL } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const entries: SessionLogEntry[] = [];
    const outcome = await runAgent(
      options(ws, {
        log: async (entry) => {
          await sleep(1); // an async log is awaited: the order holds
          entries.push(entry);
        },
      }),
    );
    expect(outcome.status).toBe("submitted");
    expect(entries.map((e) => e.type)).toEqual(["model", "tool", "model", "tool", "model", "tool", "end"]);
    expect(entries.map((e) => ("turn" in e ? e.turn : 0))).toEqual([1, 1, 2, 2, 3, 3, 0]);
    expect(entries[0]).toMatchObject({
      type: "model",
      promptTokens: 1000,
      completionTokens: 200,
      text: null,
    });
    expect(entries[1]).toMatchObject({
      type: "tool",
      name: "read_file",
      args: JSON.stringify({ path: "src/app.py", start_line: 1, end_line: 1 }),
      result: "    1  def total(values):",
    });
    expect(entries[3]).toMatchObject({ type: "tool", name: "apply_patch" });
    expect((entries[3] as { result: string }).result).toMatch(/^applied: /);
    expect(entries[5]).toMatchObject({ type: "tool", name: "submit", result: "submitted" });
    expect(entries[6]).toEqual({ type: "end", status: "submitted", reason: "submitted" });
  });
});

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
