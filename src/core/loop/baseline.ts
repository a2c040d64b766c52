/**
 * Steps 1–4 of the loop (DESIGN.md): set-up, the correctness baseline, the baseline measurement
 * with hardware sampling, a separate profiling run, and the bottleneck verdict.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { classify } from "../analyze/classify.ts";
import { renderFeedbackReport } from "../analyze/feedback-report.ts";
import { summarizeSignals } from "../analyze/signals.ts";
import { CancelledError } from "../exec/cancel.ts";
import { describeOutcome, runCommand, succeeded } from "../exec/run-command.ts";
import { countedRuns, type Measurement, MeasurementError } from "../measure/protocol.ts";
import type { RunRecord } from "../measure/run-once.ts";
import { profileEnv, readHotSpots } from "../profile/hotspots.ts";
import { SITECUSTOMIZE_DIR as PROFILER_DIR } from "../profile/python.ts";
import type { HotSpot, SignalSummary, Verdict } from "../types.ts";
import { commandLog, type LoopContext, measureSides, mountsFor, runStep, side } from "./context.ts";

/** The baseline, ready for optimization. */
export interface Baseline {
  ok: true;
  measurement: Measurement;
  /** Stdout of the baseline benchmark (the output gate's reference). */
  stdout: string;
  signals: SignalSummary;
  verdicts: Verdict[];
  hotSpots: HotSpot[];
}

/** A baseline that cannot be optimized: nothing is optimized on a red baseline. */
export interface BaselineFailure {
  ok: false;
  step: "setup" | "test" | "benchmark";
  message: string;
}

/**
 * Runs set-up, tests, the baseline measurement, profiling and the verdict in the baseline tree.
 * @returns a failure (with the log already in the evidence) instead of throwing for user-code errors.
 */
export async function prepareBaseline(ctx: LoopContext): Promise<Baseline | BaselineFailure> {
  const tree = ctx.workspace.baseline;
  if (ctx.config.setup) {
    ctx.emit({ type: "phase", phase: "setup", detail: ctx.config.setup });
    const setup = await runStep(ctx, "setup", tree, ctx.baseEnv, "setup.log");
    if (!succeeded(setup))
      return {
        ok: false,
        step: "setup",
        message: `setup \`${ctx.config.setup}\` failed: ${describeOutcome(setup)} (see setup.log)`,
      };
  }
  ctx.emit({ type: "phase", phase: "tests on the baseline", detail: ctx.config.test });
  const test = await runStep(ctx, "test", tree, ctx.baseEnv, "baseline-test.log");
  if (!succeeded(test)) {
    return {
      ok: false,
      step: "test",
      message: `the tests fail on the unmodified code (${describeOutcome(test)}); nothing is optimized on a red baseline (see baseline-test.log)`,
    };
  }

  ctx.emit({ type: "phase", phase: "baseline measurement", detail: ctx.config.benchmark.command });
  let measurement: Measurement;
  try {
    measurement = await measureSides(ctx, [side(ctx, "A", tree, {})], "baseline");
  } catch (error) {
    if (!(error instanceof MeasurementError)) throw error;
    await ctx.evidence.text("baseline-bench.log", commandLog(error.result));
    return {
      ok: false,
      step: "benchmark",
      message: `the benchmark fails on the unmodified code: ${error.message} (see baseline-bench.log)`,
    };
  }

  const unusable = checkBaselineRuns(ctx, countedRuns(measurement, "A"));
  if (unusable) return { ok: false, step: "benchmark", message: unusable };

  ctx.emit({
    type: "phase",
    phase: "profiling",
    detail: "a separate run, so profiler overhead never reaches the timings",
  });
  const hotSpots = await profile(ctx, tree);
  const runs = countedRuns(measurement, "A");
  const signals = summarizeSignals({
    runs,
    gpu: [measurement.gpu],
    cores: os.availableParallelism(),
    memTotalBytes: os.totalmem(),
    hotSpots,
  });
  const verdicts = classify(signals);
  await ctx.evidence.text("feedback_report.md", renderFeedbackReport(signals, verdicts));
  await ctx.evidence.audit(
    "verdict",
    verdicts.map((v) => `${v.category} (${v.sharePct.toFixed(0)}%)`).join(", ") || "no clear bottleneck",
  );
  ctx.emit({
    type: "phase",
    phase: "verdict",
    detail: verdicts[0] ? `${verdicts[0].category}: ${verdicts[0].rule}` : "no clear bottleneck category",
  });
  return { ok: true, measurement, stdout: measurement.stdout.A ?? "", signals, verdicts, hotSpots };
}

async function profile(ctx: LoopContext, tree: string): Promise<HotSpot[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "perfloop-profile-"));
  try {
    const result = await runCommand(ctx.config.benchmark.command, {
      cwd: tree,
      env: profileEnv(ctx.baseEnv, dir),
      timeoutMs: ctx.config.timeouts.benchmark * 1000 * 3, // profilers slow programs down
      outputLimit: ctx.config.sandbox.output_limit,
      isolation: ctx.isolation,
      // The tree read-only as in the timed runs; the profiles are written to a folder of their own.
      mounts: mountsFor(ctx, tree, "ro", { writable: [dir], readOnly: [PROFILER_DIR] }),
      signal: ctx.signal,
    });
    await ctx.evidence.text("profile.log", commandLog(result));
    const hotSpots = await readHotSpots(dir, tree);
    await ctx.evidence.json("hot_spots.json", hotSpots);
    if (hotSpots.length === 0)
      ctx.emit({
        type: "note",
        message: "profiling found no hot spot in the repository's own Python or Node code",
      });
    return hotSpots;
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    // A profiler failure costs the hot spots, not the run.
    ctx.emit({ type: "note", message: `profiling failed: ${(error as Error).message}` });
    await ctx.evidence.audit("profiling failed", (error as Error).message);
    return [];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Baseline runs the gates could not use: a declared metric missing from a run, or (with
 * `output: exact` and no metric) stdout that changes from run to run — the output gate would then
 * reject every candidate for a difference the candidate did not cause.
 */
function checkBaselineRuns(ctx: LoopContext, runs: RunRecord[]): string | null {
  const metric = ctx.config.benchmark.metric;
  if (metric) {
    const missing = runs.filter((r) => r.metric === null).length;
    if (missing > 0)
      return `the benchmark did not print its metric in ${missing} of ${runs.length} baseline runs: /${metric.pattern}/ must match a stdout line with a number in its first capture group`;
    return null;
  }
  const outputs = new Set(runs.map((r) => r.stdoutSha256));
  if (ctx.config.benchmark.output === "exact" && outputs.size > 1) {
    return `the benchmark's output changes from run to run (${outputs.size} different outputs in ${runs.length} baseline runs), so it cannot be compared exactly: print timings to stderr, or set benchmark.output to numeric or ignore`;
  }
  return null;
}
