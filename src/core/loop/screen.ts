/**
 * The quick screen: a few interleaved runs of a start tree (A) and a candidate tree (B), in the
 * sandbox, with the round's settings. It orders candidates and tells an agent whether an idea is
 * worth submitting; it is never the verdict — only the full A/B (evaluate.ts), with its bootstrap
 * interval and Mann–Whitney U test, accepts a candidate. Its noise note compares the change with the
 * runs' own spread (the larger coefficient of variation of the two sides): a change inside it is one
 * a screen cannot tell from noise; with fewer than 3 runs a side it says the spread is unknown.
 */
import { CancelledError } from "../exec/cancel.ts";
import { countedRuns, MeasurementError } from "../measure/protocol.ts";
import { summarize } from "../measure/stats.ts";
import { type BenchOutput, outputDifference, outputOf, primaryMetric, primaryValue } from "./compare.ts";
import { type LoopContext, measureSides, side, TreeChangedError } from "./context.ts";

/** Runs a side below which a screen gives no spread (a CV of one or two runs says nothing). */
export const MIN_RUNS_FOR_SPREAD = 3;

/** A screen's result. Medians in the primary metric's unit (ms for times); `changePct` > 0 = B better. */
export interface ScreenResult {
  /** "failed": B crashed, timed out, or a tree changed; `error` says how. */
  status: "measured" | "failed";
  metric: string;
  unit: string;
  runs: number;
  a: { median: number; cvPct: number } | null;
  b: { median: number; cvPct: number } | null;
  /** Median B / median A (null when not measured). */
  ratio: number | null;
  /** Improvement of B over A, % in the metric's direction (null when not measured). */
  changePct: number | null;
  /**
   * True when |changePct| is within the larger CV of the two sides; false when it is outside, or
   * when there were fewer than {@link MIN_RUNS_FOR_SPREAD} runs a side (`spreadKnown` false).
   */
  withinNoise: boolean;
  /** Whether each side had enough runs for a spread (CV) to mean anything. */
  spreadKnown: boolean;
  /** Wall time of the screen itself, ms (inside the lock: waiting for it does not count). */
  ms: number;
  /** The output gate's finding on B's first counted run against the baseline's output; null = same. */
  outputDifference: string | null;
  error: string | null;
}

/**
 * Screens `tree` (B, with `env`) against `start` (A, with `startEnv`): one warm-up and `runs`
 * counted runs a side, interleaved, trees read-only, through `ctx.exclusive` (one command at a time).
 * @param reference the baseline's benchmark output (the output gate's reference).
 * @returns the screen; a failing candidate is a `failed` screen, not an exception.
 * @throws CancelledError when the run is stopped; MeasurementError when side A (the start tree,
 *   which passed before) fails — that is the machine's problem, not the candidate's.
 */
export function screen(
  ctx: LoopContext,
  sides: { start: string; startEnv: Record<string, string>; tree: string; env: Record<string, string> },
  runs: number,
  label: string,
  reference: BenchOutput,
): Promise<ScreenResult> {
  const named = primaryMetric(ctx.config);
  const empty = {
    metric: named.metric,
    unit: named.unit,
    runs,
    a: null,
    b: null,
    ratio: null,
    changePct: null,
    withinNoise: false,
    spreadKnown: false,
    ms: 0,
  };
  return ctx.exclusive(async () => {
    const started = performance.now();
    let measurement: Awaited<ReturnType<typeof measureSides>>;
    try {
      measurement = await measureSides(
        ctx,
        [side(ctx, "A", sides.start, sides.startEnv), side(ctx, "B", sides.tree, sides.env)],
        label,
        { warmup: 1, runs },
      );
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      if (error instanceof MeasurementError && error.side !== "B") throw error;
      if (!(error instanceof MeasurementError) && !(error instanceof TreeChangedError)) throw error;
      const tail =
        error instanceof MeasurementError
          ? `; ${error.result.stderr.trim().split("\n").slice(-4).join(" ⏎ ").slice(0, 600)}`
          : "";
      return {
        ...empty,
        status: "failed",
        outputDifference: null,
        error: `${error.message}${tail}`,
        ms: performance.now() - started,
      };
    }
    const a = countedRuns(measurement, "A");
    const b = countedRuns(measurement, "B");
    const output = outputDifference(
      reference,
      outputOf(measurement.stdout.B ?? "", b[0]),
      ctx.config,
      ctx.config.sandbox.output_limit,
    );
    const value = primaryValue(ctx.config);
    const av = a.map(value).filter((v): v is number => v !== null);
    const bv = b.map(value).filter((v): v is number => v !== null);
    if (av.length === 0 || bv.length === 0)
      return {
        ...empty,
        status: "failed",
        outputDifference: output,
        error: `no ${named.metric} in the screen's runs`,
        ms: performance.now() - started,
      };
    const sa = summarize(av);
    const sb = summarize(bv);
    const ratio = sb.median / sa.median;
    const changePct = named.direction === "lower" ? (1 - ratio) * 100 : (ratio - 1) * 100;
    return {
      ...empty,
      status: "measured",
      a: { median: sa.median, cvPct: sa.cvPct },
      b: { median: sb.median, cvPct: sb.cvPct },
      ratio,
      changePct,
      spreadKnown: Math.min(av.length, bv.length) >= MIN_RUNS_FOR_SPREAD,
      withinNoise:
        Math.min(av.length, bv.length) >= MIN_RUNS_FOR_SPREAD &&
        Math.abs(changePct) <= Math.max(sa.cvPct, sb.cvPct),
      outputDifference: output,
      error: null,
      ms: performance.now() - started,
    };
  });
}

/** The screen as text for the model and the report. */
export function describeScreen(s: ScreenResult): string {
  if (s.status === "failed") return `screen failed: ${s.error}`;
  const a = s.a as { median: number; cvPct: number };
  const b = s.b as { median: number; cvPct: number };
  const fmt = (x: number) =>
    s.unit === "ms" ? `${x.toFixed(1)} ms` : `${Number(x.toPrecision(4))} ${s.unit}`;
  const change = s.changePct as number;
  const noise = !s.spreadKnown
    ? `spread unknown (fewer than ${MIN_RUNS_FOR_SPREAD} runs a side): a screen this short cannot say whether the change is more than noise`
    : s.withinNoise
      ? `within the runs' spread (CV A ${a.cvPct.toFixed(1)}%, B ${b.cvPct.toFixed(1)}%): a screen cannot tell them apart`
      : `outside the runs' spread (CV A ${a.cvPct.toFixed(1)}%, B ${b.cvPct.toFixed(1)}%)`;
  const output = s.outputDifference
    ? `; OUTPUT DIFFERS: ${s.outputDifference}`
    : "; output matches the baseline's";
  return `screen (${s.runs} runs a side, interleaved; not the verdict): ${s.metric} median A ${fmt(a.median)}, B ${fmt(b.median)}, B/A ${(s.ratio as number).toFixed(3)} (${change >= 0 ? `${change.toFixed(1)}% better` : `${(-change).toFixed(1)}% worse`}), ${noise}${output}`;
}
