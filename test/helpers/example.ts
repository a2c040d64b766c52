/**
 * Test helpers: a scratch copy of the bundled example with a small corpus and fast settings, and a
 * fake OpenAI-compatible endpoint (nock) that answers chat completions from a script.
 */
import { cp, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import nock from "nock";
import { parseConfig } from "../../src/core/config/load.ts";
import type { Config } from "../../src/core/config/schema.ts";

export const EXAMPLE_DIR = path.resolve(import.meta.dirname, "../../examples/textstats");
export const MODEL_URL = "http://model.test";

/**
 * A scratch copy of examples/textstats, without the corpus and without `.perfloop/` (a memory store or
 * bundles left by a local `perfloop optimize examples/textstats` would leak state into the tests).
 */
export async function copyExample(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "perfloop-test-"));
  await cp(EXAMPLE_DIR, dir, {
    recursive: true,
    filter: (src) => !src.endsWith("corpus.txt") && path.basename(src) !== ".perfloop",
  });
  return dir;
}

/**
 * The example's config made quick for tests: a smaller corpus (runs of ~0.15 s), 6 runs a side, a
 * cheaper bootstrap. The CV limit is raised to 100% (off) because these tests check the loop's decisions,
 * not the machine's quietness (a shared VM varies 20-35% run to run); the CV rule has its own unit
 * tests in test/stats.test.ts.
 */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return parseConfig({
    setup: "python3 gen_corpus.py corpus.txt 12000",
    test: "python3 -m unittest discover -s tests -q",
    benchmark: { command: "python3 -m textstats corpus.txt", output: "exact" },
    paths: ["textstats/**"],
    rounds: 3,
    min_improvement: 5,
    repetitions: { warmup: 1, runs: 6 },
    statistics: { bootstrap: 2000, max_cv: 100 },
    // One session a round (the scripted replies come in order); test/loop-agent.test.ts runs three.
    model: { name: "test-model", base_url: `${MODEL_URL}/v1`, max_turns: 4, candidates: 1 },
    ...overrides,
  });
}

/** One scripted model reply: a tool call, plain text, or an HTTP error status. */
export type ScriptedReply =
  | { tool: string; args: unknown; rawArgs?: string }
  | { text: string }
  | { status: number; headers?: Record<string, string> };

/** A request body the fake endpoint received. */
export type ReceivedBody = { messages: Array<{ role: string; content: string | null }> };

/**
 * Scripts the fake endpoint: each POST /v1/chat/completions gets the next reply in order.
 * @returns the request bodies received, for assertions on what the model was sent.
 */
export function scriptModel(replies: ScriptedReply[]): ReceivedBody[] {
  const received: ReceivedBody[] = [];
  // The request body is captured by nock's body matcher: with nock 15 on Node 24's fetch, a reply
  // *function* never completes the response, while static replies work.
  const capture = (body: unknown) => {
    received.push(body as ReceivedBody);
    return true;
  };
  replies.forEach((reply, i) => {
    answer(nock(MODEL_URL).post("/v1/chat/completions", capture), reply, `${i}`);
  });
  return received;
}

/**
 * Scripts concurrent sessions: the session whose user prompt says "You are candidate <k> of" gets
 * `scripts[k - 1]`, in order, whatever order the sessions' requests arrive in. nock tries
 * interceptors in the order they were defined and takes the first whose body matcher says yes, so a
 * body is recorded exactly once, under its session.
 * @returns the bodies each session sent, by session (index k - 1).
 */
export function scriptSessions(scripts: ScriptedReply[][]): ReceivedBody[][] {
  const received: ReceivedBody[][] = scripts.map(() => []);
  scripts.forEach((replies, s) => {
    const marker = `You are candidate ${s + 1} of`;
    const mine = (body: unknown) => {
      const user = (body as ReceivedBody).messages?.find((m) => m.role === "user")?.content ?? "";
      if (!user.includes(marker)) return false;
      received[s]?.push(body as ReceivedBody);
      return true;
    };
    replies.forEach((reply, i) => {
      answer(nock(MODEL_URL).post("/v1/chat/completions", mine), reply, `${s}-${i}`);
    });
  });
  return received;
}

function answer(scope: nock.Interceptor, reply: ScriptedReply, id: string): void {
  if ("status" in reply) {
    scope.reply(
      reply.status,
      { error: { message: "rate limited", type: "rate_limit" } },
      reply.headers ?? {},
    );
    return;
  }
  const message =
    "text" in reply
      ? { role: "assistant", content: reply.text }
      : {
          role: "assistant",
          content: null,
          tool_calls: [
            {
              id: `call_${id}`,
              type: "function",
              function: { name: reply.tool, arguments: reply.rawArgs ?? JSON.stringify(reply.args) },
            },
          ],
        };
  scope.reply(200, {
    id: `chatcmpl-${id}`,
    object: "chat.completion",
    created: 1_700_000_000,
    model: "test-model",
    choices: [{ index: 0, message, finish_reason: "text" in reply ? "stop" : "tool_calls" }],
    usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
  });
}

/** A patch that makes the stemmer check the suffix before computing the measure (same output). */
export const GOOD_PATCH = `*** Begin Patch
*** Update File: textstats/stem.py
@@ def stem_uncached(word):
     """Strips the first matching suffix whose remaining stem is long enough."""
     for suffix, replacement, min_measure in RULES:
-        candidate = word[: len(word) - len(suffix)]
-        m = measure(candidate)
-        if word.endswith(suffix) and m >= min_measure:
-            return candidate + replacement
+        if not word.endswith(suffix):
+            continue
+        candidate = word[: len(word) - len(suffix)]
+        if measure(candidate) >= min_measure:
+            return candidate + replacement
     return word
*** End Patch`;

/** A patch that changes a rule: faster to write, wrong to run (the tests catch it). */
export const TEST_BREAKING_PATCH = `*** Begin Patch
*** Update File: textstats/stem.py
@@
-    ("sses", "ss", 0), ("ies", "i", 0), ("ing", "", 1), ("ed", "", 1), ("ly", "", 1),
+    ("sses", "ss", 0), ("ies", "y", 0), ("ing", "", 1), ("ed", "", 1), ("ly", "", 1),
*** End Patch`;

/** A patch that edits the tests (forbidden by the patch policy). */
export const PROTECTED_PATCH = `*** Begin Patch
*** Update File: tests/test_textstats.py
@@
-        self.assertEqual(stem_uncached("ponies"), "poni")
+        self.assertEqual(stem_uncached("ponies"), "pony")
*** End Patch`;

/**
 * A patch that caps the stemmer's `measure` at 2: the tests (which check measures up to 2) pass and
 * the benchmark's output stays the same (no rule needs a measure above 1), but `measure` returns
 * another value for long stems — what behaviour capture exists to catch.
 */
export const BEHAVIOUR_CHANGING_PATCH = `*** Begin Patch
*** Update File: textstats/stem.py
@@ def measure(stem):
         if not pattern or pattern[-1] != kind:
             pattern += kind
-    return pattern.count("vc")
+    return min(pattern.count("vc"), 2)
*** End Patch`;
