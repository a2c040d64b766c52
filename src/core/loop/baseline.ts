/**
 * Steps 1–4 of the loop (docs/design.md, "The loop"): set-up, the correctness baseline, the baseline measurement
 * with hardware sampling, a separate profiling run, and the bottleneck verdict.
 */
import os from "node:os";
import { classify } from "../analyze/classify.ts";
import { renderFeedbackReport } from "../analyze/feedback-report.ts";
import { summarizeSignals } from "../analyze/signals.ts";
import { describeOutcome, succeeded } from "../exec/run-command.ts";
import { countedRuns, type Measurement, MeasurementError } from "../measure/protocol.ts";
import type { RunRecord } from "../measure/run-once.ts";
import type { HotSpot, SignalSummary, Verdict } from "../types.ts";
import type { BehaviourReference } from "./behaviour.ts";
import { commandLog, type LoopContext, measureSides, runStep, side } from "./context.ts";
import type { BaselineFocus } from "./focus.ts";
import { profileTreeAndTorch } from "./profile-run.ts";

/** The baseline, ready for optimization. */
export interface Baseline {
  ok: true;
  measurement: Measurement;
  /** Stdout of the baseline benchmark (the output gate's reference). */
  stdout: string;
  signals: SignalSummary;
  verdicts: Verdict[];
  /** Hot spots in files a candidate may edit; the PR's functions first when there is a focus. */
  hotSpots: HotSpot[];
  /** The baseline's recorded behaviour (behaviour.ts); null until captured, or when nothing was. */
  behaviour: BehaviourReference | null;
  /** The pull request's place in the profile (focus.ts); null without a pull request. */
  focus: BaselineFocus | null;
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
  const { hotSpots, torch } = await profileTreeAndTorch(ctx, tree, {
    log: "profile.log",
    json: "hot_spots.json",
  });
  const runs = countedRuns(measurement, "A");
  const signals = summarizeSignals({
    runs,
    gpu: [measurement.gpu],
    cores: os.availableParallelism(),
    memTotalBytes: os.totalmem(),
    hotSpots,
    torch,
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
  return {
    ok: true,
    measurement,
    stdout: measurement.stdout.A ?? "",
    signals,
    verdicts,
    hotSpots,
    behaviour: null,
    focus: null,
  };
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
