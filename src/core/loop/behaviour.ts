/**
 * Behaviour capture in the loop (docs/agent.md, "Behaviour capture"): the baseline's tests and one
 * benchmark run record the arguments and results of the hot Python functions
 * (src/core/behaviour/capture.ts), and every candidate's tests and benchmark run are recorded the
 * same way and compared (src/core/behaviour/compare.ts) before any timing. It catches changed
 * results of the hot functions on the inputs that ran — not every bug. Node programs are not
 * captured (a note says so); their candidates still face the tests and the output gate.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type Capture, type CaptureTarget, captureEnv, readCapture, sameJson } from "../behaviour/capture.ts";
import { type BehaviourComparison, compareBehaviour } from "../behaviour/compare.ts";
import { CancelledError } from "../exec/cancel.ts";
import type { CommandResult } from "../exec/run-command.ts";
import { SITECUSTOMIZE_DIR } from "../profile/python.ts";
import type { HotSpot } from "../types.ts";
import { commandLog, type LoopContext, runInTree } from "./context.ts";

/** Hot functions whose behaviour is captured (the first of the baseline's Python hot spots). */
export const CAPTURED_FUNCTIONS = 8;

/** The baseline's recorded behaviour: what candidates are compared with. */
export interface BehaviourReference {
  targets: CaptureTarget[];
  capture: Capture;
  /** Calls recorded on the baseline, over all targets. */
  calls: number;
}

/** A command run with capture: its result and what it recorded. */
export interface CapturedRun {
  result: CommandResult;
  capture: Capture;
}

/** The capture targets for `hotSpots`: Python functions only, module-level names, at most CAPTURED_FUNCTIONS. */
export function captureTargets(hotSpots: HotSpot[]): CaptureTarget[] {
  const seen = new Set<string>();
  const out: CaptureTarget[] = [];
  for (const h of hotSpots) {
    if (!h.file.endsWith(".py") || h.function.startsWith("<")) continue;
    const key = `${h.file}::${h.function}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ file: h.file, function: h.function });
    if (out.length >= CAPTURED_FUNCTIONS) break;
  }
  return out;
}

/**
 * Runs `command` in `tree` with the capture hook: `access` "rw" for tests (they may write), "ro" for
 * the benchmark (as in the timed runs). Writes `logName` into the evidence.
 * @throws CancelledError when the run is stopped; CaptureReadError for a capture file that is not
 *   in the hook's format.
 */
export async function runWithCapture(
  ctx: LoopContext,
  run: { command: string; tree: string; env: Record<string, string>; access: "rw" | "ro"; timeoutS: number },
  targets: CaptureTarget[],
  logName: string,
): Promise<CapturedRun> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "perfloop-capture-"));
  try {
    const result = await ctx.exclusive(() =>
      runInTree(ctx, run.command, run.tree, {
        env: captureEnv({ ...ctx.baseEnv, ...run.env }, dir, run.tree, targets),
        access: run.access,
        timeoutMs: run.timeoutS * 1000 * 3, // wrapped functions run slower
        extra: { writable: [dir], readOnly: [SITECUSTOMIZE_DIR] },
      }),
    );
    await ctx.evidence.text(logName, commandLog(result));
    return { result, capture: await readCapture(dir) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Records the baseline's behaviour: its tests and one benchmark run, with capture. Returns null
 * (and says why in the audit log and a note) when no Python hot function is there to capture or the
 * capture failed; the loop then goes on without this gate.
 * @throws CancelledError when the run is stopped.
 */
export async function captureBaseline(
  ctx: LoopContext,
  hotSpots: HotSpot[],
): Promise<BehaviourReference | null> {
  const targets = captureTargets(hotSpots);
  if (targets.length === 0) {
    const node = hotSpots.some((h) => !h.file.endsWith(".py"));
    const why = node
      ? "behaviour capture: not captured — the hot functions are not Python (Node is not captured); candidates still face the tests and the output gate"
      : "behaviour capture: no Python hot function to capture";
    ctx.emit({ type: "note", message: why });
    await ctx.evidence.audit("behaviour", why);
    return null;
  }
  ctx.emit({
    type: "phase",
    phase: "behaviour capture",
    detail: `arguments and results of ${targets.map((t) => t.function).join(", ")} on the tests and the benchmark`,
  });
  try {
    const [test, bench] = await captureRuns(ctx, ctx.workspace.baseline, {}, targets, {
      test: "behaviour-test.log",
      bench: "behaviour-bench.log",
    });
    const runs = bench ? [test, bench] : [test];
    if (!bench || runs.some((r) => r.result.exitCode !== 0)) {
      await ctx.evidence.audit(
        "behaviour",
        "a capture run of the baseline failed: gate off (see behaviour-*.log)",
      );
      return null;
    }
    const capture = mergeCaptures(runs.map((r) => r.capture));
    const calls = Object.values(capture.functions).reduce((t, f) => t + f.kept.length, 0);
    await ctx.evidence.json("behaviour.json", { targets, capture });
    await ctx.evidence.audit(
      "behaviour",
      `${calls} distinct calls of ${Object.keys(capture.functions).length} function(s) recorded on the baseline`,
    );
    return { targets, capture, calls };
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    await ctx.evidence.audit("behaviour", `capture failed, gate off: ${(error as Error).message}`);
    ctx.emit({ type: "note", message: `behaviour capture failed: ${(error as Error).message}` });
    return null;
  }
}

/**
 * The tests (read-write) and, when they pass, one benchmark run (read-only) of `tree` with capture;
 * their logs go to `logs.test` and `logs.bench` in the evidence.
 */
export async function captureRuns(
  ctx: LoopContext,
  tree: string,
  env: Record<string, string>,
  targets: CaptureTarget[],
  logs: { test: string; bench: string },
): Promise<[CapturedRun, CapturedRun | null]> {
  const test = await runWithCapture(
    ctx,
    { command: ctx.config.test, tree, env, access: "rw", timeoutS: ctx.config.timeouts.test },
    targets,
    logs.test,
  );
  if (test.result.exitCode !== 0) return [test, null];
  const bench = await runWithCapture(
    ctx,
    {
      command: ctx.config.benchmark.command,
      tree,
      env,
      access: "ro",
      timeoutS: ctx.config.timeouts.benchmark,
    },
    targets,
    logs.bench,
  );
  return [test, bench];
}

/**
 * Merges captures of several runs (the tests and the benchmark): a function's first recorded call
 * per argument key is kept, and marked `unstable` when another run gave another outcome for it.
 * The inputs are not modified.
 */
export function mergeCaptures(captures: Capture[]): Capture {
  const merged: Capture = { functions: {} };
  for (const capture of captures) {
    for (const [name, f] of Object.entries(capture.functions)) {
      const into = merged.functions[name];
      if (!into) {
        merged.functions[name] = { ...f, kept: f.kept.map((c) => ({ ...c })) };
        continue;
      }
      const byKey = new Map(into.kept.map((c) => [c.key, c]));
      into.calls += f.calls;
      into.truncated ||= f.truncated;
      for (const call of f.kept) {
        const first = byKey.get(call.key);
        if (!first) {
          into.kept.push({ ...call });
          continue;
        }
        // Another outcome for the same arguments in another run: not one answer to compare.
        if (call.unstable || !sameJson(first.result, call.result) || !sameJson(first.raised, call.raised))
          first.unstable = true;
      }
    }
  }
  return merged;
}

/** Compares a candidate's captured runs with the baseline's. */
export function checkBehaviour(reference: BehaviourReference, runs: CapturedRun[]): BehaviourComparison {
  return compareBehaviour(reference.capture, mergeCaptures(runs.map((r) => r.capture)));
}
