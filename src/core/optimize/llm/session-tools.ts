/**
 * The tools of a session beyond reading (tools.ts): `apply_patch` and `diff` on the session's
 * workspace (edits.ts), the execution tools `run_tests`, `run_benchmark` and `profile`, which the
 * loop provides as a {@link Workbench} (src/core/loop/workbench.ts: the loop's own sandbox, env
 * allow-list, network rule, timeouts and output caps), and `submit`, which ends the session.
 */
import type OpenAI from "openai";
import { fn } from "./tools.ts";

/**
 * What an execution tool gives back: the text for the model, a one-line summary for the log, and
 * the wall time of the command itself, ms (without waiting for the lock; absent = the whole call).
 */
export interface ToolReport {
  text: string;
  summary: string;
  ms?: number;
}

/**
 * Runs commands for a session. Every method runs in the sandbox, one command at a time across all
 * sessions of the round (measurements never overlap), and returns text for the model; user-code
 * failures are reports, not exceptions.
 * @throws CancelledError when the run is stopped (SIGINT, SIGTERM, `timeouts.total`).
 */
export interface Workbench {
  /** The tests in `tree`: all of them, or the subset `filter` names (a pytest node id, a file…). */
  runTests(tree: string, filter: string | null): Promise<ToolReport>;
  /** A quick screen: `runs` interleaved runs a side of `start` (A) and `tree` (B). */
  runBenchmark(start: string, tree: string, runs: number): Promise<ToolReport>;
  /** The hot spots of the benchmark in `tree`, in the round prompt's format. */
  profile(tree: string): Promise<ToolReport>;
}

/** Tool names that run commands (and spend `model.tool_time`). */
export const EXECUTION_TOOLS = new Set(["run_tests", "run_benchmark", "profile"]);

/** Schemas of the editing, execution and submit tools (OpenAI function-calling format). */
export const SESSION_TOOL_DEFINITIONS: OpenAI.Chat.Completions.ChatCompletionFunctionTool[] = [
  fn(
    "apply_patch",
    "Edit your workspace (a private copy of the repository) with a patch in the apply_patch format. Edits accumulate; each is checked against the patch policy and applied all or nothing.",
    { patch: { type: "string", description: "From '*** Begin Patch' to '*** End Patch'." } },
    ["patch"],
  ),
  fn("diff", "Show your workspace's whole change so far as a unified diff.", {}, []),
  fn(
    "run_tests",
    "Run the repository's tests in your workspace (sandboxed). Without a filter: all tests. A filter narrows them: a pytest node id (tests/test_x.py::test_y), a test file, a unittest name (tests.test_x.TestX.test_y), or a vitest/jest name filter.",
    { filter: { type: "string" } },
    [],
  ),
  fn(
    "run_benchmark",
    "Quick screen: a few interleaved runs of the benchmark on the session's starting tree (A) and your workspace (B). Returns medians, the ratio B/A, a noise note, and whether B's output matches. A screen only: the verdict comes later from perfloop's full A/B measurement.",
    { runs: { type: "integer", minimum: 1, description: "Runs a side (default from the config)." } },
    [],
  ),
  fn(
    "profile",
    "Profile the benchmark on your workspace and list its hot spots (self and cumulative % of the profiled time).",
    {},
    [],
  ),
  fn(
    "submit",
    "End the session: your workspace's change (see diff) becomes the candidate. Call it once you have checked the change.",
    {
      rationale: {
        type: "string",
        description:
          "Why this change makes the program faster, tied to the measured bottleneck and your screen.",
      },
    },
    ["rationale"],
  ),
];

/**
 * The test command for `filter`, derived from the config's `test` command: pytest gets the node id
 * appended; `python -m unittest` runs the named module/test (a file path becomes its module name);
 * vitest and jest get the filter as their name pattern; `npm test` passes it after `--`.
 * @returns the command, or an error text for the model when the runner is not one of these or the
 *   filter holds characters a test id never has (quotes, `$`, backticks, newlines…).
 */
export function subsetCommand(test: string, filter: string): { command: string } | { error: string } {
  // A test id, not an option (-p loads a pytest plugin) or pytest's @argument-file: it starts with a
  // letter, digit, _ . or /.
  if (!/^[\w./][\w./:[\]=,@+ -]*$/.test(filter) || filter.length > 300)
    return {
      error: `error: the filter "${filter.slice(0, 80)}" has characters a test id does not need; use letters, digits, and . / : [ ] = , @ + - _ and spaces, starting with a letter, digit, _ . or /`,
    };
  const quoted = `'${filter}'`;
  if (/\bpytest\b/.test(test)) return { command: `${test} ${quoted}` };
  const unittest = /(\S+)\s+-m\s+unittest\b.*$/.exec(test);
  if (unittest) {
    // Keep what comes before the interpreter (`cd dir &&`, `PYTHONPATH=. `), replace the rest.
    const module = filter.endsWith(".py") ? filter.slice(0, -3).replaceAll("/", ".") : filter;
    return { command: `${test.slice(0, unittest.index)}${unittest[1]} -m unittest -q '${module}'` };
  }
  if (/\bvitest\b/.test(test)) return { command: `${test} -t ${quoted}` };
  if (/\bjest\b/.test(test)) return { command: `${test} -t ${quoted}` };
  if (/^npm (run )?test\b/.test(test)) return { command: `${test} -- ${quoted}` };
  return {
    error: `error: run_tests cannot pick a subset for \`${test}\` (known: pytest, python -m unittest, vitest, jest, npm test); call run_tests without a filter`,
  };
}
