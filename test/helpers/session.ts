/**
 * Shared set-up of the session tests (test/agent-session.test.ts, test/agent-budgets.test.ts): a tiny
 * Python project as a session's workspace (`start/` and its copy `tree/`), patches for it, a
 * recording Workbench (the boundary to the sandbox; the real one runs in test/loop-agent.test.ts),
 * and the session's options against the nock-scripted endpoint.
 */
import { cp, lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import nock from "nock";
import { afterAll, afterEach, beforeAll } from "vitest";
import {
  type AgentOptions,
  type AgentOutcome,
  createModelClient,
} from "../../src/core/optimize/llm/agent.ts";
import type { SessionWorkspace } from "../../src/core/optimize/llm/edits.ts";
import type { ToolReport, Workbench } from "../../src/core/optimize/llm/session-tools.ts";
import { MODEL_URL, type ReceivedBody } from "./example.ts";

export const APP = `def total(values):
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

export const TESTS = `import unittest

from src.app import count_words, squares, total


class AppTest(unittest.TestCase):
    def test_total(self):
        self.assertEqual(total([1, 2, 3]), 6)

    def test_squares(self):
        self.assertEqual(squares(4), [0, 1, 4, 9])

    def test_count_words(self):
        self.assertEqual(count_words("a b a"), {"a": 2, "b": 1})
`;

const TOTAL_HUNK = `@@ def total(values):
-    result = 0
-    for v in values:
-        result += v
-    return result
+    return sum(values)`;

const SQUARES_HUNK = `@@ def squares(n):
-    out = []
-    for i in range(n):
-        out.append(i * i)
-    return out
+    return [i * i for i in range(n)]`;

/** An apply_patch patch of src/app.py with `hunks`. */
function patchOf(hunks: string): string {
  return `*** Begin Patch\n*** Update File: src/app.py\n${hunks}\n*** End Patch`;
}

/** 5 changed lines (4 removed, 1 added). */
export const EDIT_TOTAL = patchOf(TOTAL_HUNK);

/** 5 changed lines, on another function of the same file. */
export const EDIT_SQUARES = patchOf(SQUARES_HUNK);

/** Both edits in one patch: 10 changed lines. */
export const EDIT_BOTH = patchOf(`${TOTAL_HUNK}\n${SQUARES_HUNK}`);

/** 4 removed + 8 added = 12 changed lines: under the cap of 20 alone, over it after EDIT_BOTH. */
export const EDIT_WORDS_BIG = `*** Begin Patch
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

export const TOTAL_DONE = APP.replace(
  "    result = 0\n    for v in values:\n        result += v\n    return result\n",
  "    return sum(values)\n",
);
export const BOTH_DONE = TOTAL_DONE.replace(
  "    out = []\n    for i in range(n):\n        out.append(i * i)\n    return out\n",
  "    return [i * i for i in range(n)]\n",
);

export const EDIT_TESTS = `*** Begin Patch
*** Update File: tests/test_app.py
@@
-        self.assertEqual(total([1, 2, 3]), 6)
+        self.assertEqual(total([1, 2, 3]), total([3, 2, 1]))
*** End Patch`;

export const addFile = (p: string) => `*** Begin Patch
*** Add File: ${p}
+print("written by the model")
*** End Patch`;

const roots: string[] = [];

/** Removes every workspace made so far (call it in afterAll). */
export async function removeWorkspaces(): Promise<void> {
  await Promise.all(roots.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** A temp dir with `start/` (a tiny Python project) and `tree/`, a copy of it, as a session's workspace. */
export async function makeWorkspace(): Promise<{ root: string; ws: SessionWorkspace }> {
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
    },
  };
}

export type Call =
  | { method: "runTests"; tree: string; filter: string | null }
  | { method: "runBenchmark"; start: string; tree: string; runs: number }
  | { method: "profile"; tree: string };

/** A Workbench that records its calls and answers at once (or after `waitMs`). */
export function recordingWorkbench(waitMs = 0): { workbench: Workbench; calls: Call[] } {
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

export function options(ws: SessionWorkspace, overrides: Partial<AgentOptions> = {}): AgentOptions {
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
export const toolOutputs = (outcome: AgentOutcome): string[] =>
  outcome.transcript.filter((m) => m.role === "tool").map((m) => String(m.content));

export const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

export const toolNames = (body: ReceivedBody | undefined): string[] =>
  ((body as unknown as { tools?: Array<{ function: { name: string } }> } | undefined)?.tools ?? []).map(
    (t) => t.function.name,
  );

/** The session tests' hooks: no network, mocks cleared after each test, workspaces removed at the end. */
export function sessionHooks(): void {
  beforeAll(() => nock.disableNetConnect());
  afterEach(() => nock.cleanAll());
  afterAll(async () => {
    nock.enableNetConnect();
    await removeWorkspaces();
  });
}
