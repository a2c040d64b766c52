/**
 * The performance gate's rule (docs/gate.md): from one interleaved A/B comparison of the base (A)
 * against the head (B), decide whether the head regressed by more than `threshold`.
 *
 * - **regressed** when p < α and the whole confidence interval lies past the threshold on the worse
 *   side (lower-is-better: ratio CI lower bound ≥ 1 + t): the data rule out a slowdown smaller
 *   than the threshold.
 * - **passed** when the interval's worse bound lies inside the threshold (< 1 + t): a slowdown of
 *   the threshold or more is ruled out. This is the usual A/A outcome, and a faster head passes.
 * - **inconclusive** otherwise — the interval straddles the threshold — or when the comparison
 *   itself is inconclusive for noise (CV above `statistics.max_cv`), contention that differed
 *   between the sides, or GPU throttling: then nothing is claimed either way.
 *
 * A fixed-percentage rule on separate runs (CodSpeed's default is a 10 % threshold) calls a noisy
 * A/A a regression; requiring the whole CI past the threshold keeps the false-alarm rate at or below
 * α/2 when head and base are equal (the CI misses the truth on that side at most that often).
 */
import picomatch from "picomatch";
import { formatP } from "../measure/stats.ts";
import { formatCi, formatPct } from "../report/format.ts";
import type { Comparison } from "../types.ts";

/** What the gate concludes. */
export type GateVerdict = "passed" | "regressed" | "inconclusive";

/** The gate's conclusion with the numbers behind it, in words. */
export interface GateDecision {
  verdict: GateVerdict;
  /** One sentence: the change, its interval, the threshold and why this verdict. */
  reason: string;
  /** The change of the metric from base to head, % (the sign of the raw metric: + = larger). */
  changePct: number;
  /** The confidence interval of that change, % (low, high). */
  ciPct: [number, number];
  /** The threshold, % (a regression must be at least this large to fail the gate). */
  thresholdPct: number;
}

/**
 * Applies the gate's rule to `c`, the base (A) against head (B) comparison of the primary metric.
 * @param thresholdPct the largest slowdown that passes, % (> 0).
 * @throws RangeError when thresholdPct is not a positive finite number.
 */
export function gateDecision(c: Comparison, thresholdPct: number): GateDecision {
  if (!(thresholdPct > 0 && Number.isFinite(thresholdPct)))
    throw new RangeError(`gate threshold ${thresholdPct}% is not a positive percentage`);
  const lower = c.direction === "lower";
  const changePct = (c.ratio - 1) * 100;
  const ciPct: [number, number] = [(c.ci[0] - 1) * 100, (c.ci[1] - 1) * 100];
  // The interval of the slowdown in the metric's worse direction, %: positive = worse.
  const worse: [number, number] = lower ? ciPct : [-ciPct[1], -ciPct[0]];
  const alpha = c.alpha ?? 0.01;
  const interval = `${Math.round(c.confidence * 100)}% CI ${formatCi(c.ci)}`;
  const what = `${c.metric} ${formatPct(changePct)} (${interval}, p = ${formatP(c.pValue, alpha)}, n = ${c.a.n}+${c.b.n})`;
  const base = { changePct, ciPct, thresholdPct };
  const limit = `${lower ? "+" : "−"}${thresholdPct}%`;
  // Only the measurement's own doubts void the gate's rule; a merely wide interval is judged below.
  if (c.untrusted)
    return {
      ...base,
      verdict: "inconclusive",
      reason: `${what}: no claim either way — ${c.untrusted}`,
    };
  if (c.pValue < alpha && worse[0] >= thresholdPct)
    return {
      ...base,
      verdict: "regressed",
      reason: `${what}: the head is slower, and the whole interval lies past the ${limit} threshold`,
    };
  if (worse[1] < thresholdPct)
    return {
      ...base,
      verdict: "passed",
      reason: `${what}: a slowdown of ${thresholdPct}% or more is ruled out (the interval ends inside the ${limit} threshold)`,
    };
  return {
    ...base,
    verdict: "inconclusive",
    reason: `${what}: the interval reaches past the ${limit} threshold without lying wholly beyond it, so neither a pass nor a regression is shown; more runs (repetitions.runs) or a quieter runner narrow it`,
  };
}

/**
 * Why the gate need not measure: no file under the config's `paths` differs between base and head
 * (docs, CI files, tests only), so the code a benchmark runs is the same. Null when something under
 * `paths` changed.
 * @param changedFiles paths relative to the project, POSIX separators.
 * @param paths the config's `paths` globs (picomatch, as the patch policy reads them).
 */
export function gateSkipReason(changedFiles: readonly string[], paths: readonly string[]): string | null {
  const inPaths = picomatch([...paths], { dot: true });
  if (changedFiles.some((f) => inPaths(f))) return null;
  const shown = changedFiles.slice(0, 5).join(", ");
  const more = changedFiles.length > 5 ? ` and ${changedFiles.length - 5} more` : "";
  return changedFiles.length === 0
    ? "skipped: base and head have the same files, so there is nothing to measure"
    : `skipped: no file under \`paths\` (${paths.join(", ")}) changed between base and head (changed: ${shown}${more}), so the code the benchmark runs is the same`;
}
