/**
 * Building blocks shared by the classifier's rules (`classify.ts`, `gpu-rules.ts`): the Amdahl
 * bound, the confidence scale, rounding, and the constructor that turns a fired rule into a
 * `Verdict`.
 */
import type { BottleneckCategory, SignalSummary, Verdict } from "../types.ts";
import { remediesFor } from "./remedies.ts";
import * as T from "./thresholds.ts";

/**
 * Best possible speedup if a share `share` (0..1) of the run time vanished — Amdahl's law with the
 * remaining part unchanged: 1 / (1 − share), ×. Capped at `AMDAHL_CAP` (100×): a share of 1 would
 * give an infinite bound, and at shares above 99% the bound is dominated by measurement noise
 * (a 1% share is within the run-to-run spread of most programs), so any share ≥ 1 − 1/cap reports
 * the cap. Throws RangeError when `share` is not in [0, 1].
 */
export function amdahlBound(share: number): number {
  if (!(share >= 0 && share <= 1)) throw new RangeError(`amdahlBound: share must be in [0, 1], got ${share}`);
  if (share >= 1 - 1 / T.AMDAHL_CAP) return T.AMDAHL_CAP;
  return 1 / (1 - share);
}

/** `x` rounded to `d` decimals (the numbers shown in verdicts). */
export function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

/** `x` clamped to [0, 1]. */
export function clamp01(x: number): number {
  return Math.min(1, Math.max(0, x));
}

/**
 * Confidence from how far `x` is past `threshold` toward `full` (either direction: `full` below
 * `threshold` for "less than" rules): 0.5 at the threshold, 1 at `full` or beyond. perfloop's own
 * scale: a rule that barely fires is a coin flip between it and its neighbour category; one well
 * past its threshold is not.
 */
export function margin(x: number, threshold: number, full: number): number {
  return 0.5 + 0.5 * clamp01((x - threshold) / (full - threshold));
}

/**
 * Sample-count factor of confidence: min(1, n / FULL_CONFIDENCE_SAMPLES), floored at
 * MIN_SAMPLE_FACTOR (thresholds.ts says why).
 */
export function sampleFactor(n: number): number {
  return Math.max(T.MIN_SAMPLE_FACTOR, Math.min(1, n / T.FULL_CONFIDENCE_SAMPLES));
}

/** What every rule reads: the summary and the quantities derived from it once. */
export interface RuleContext {
  s: SignalSummary;
  /**
   * CPU time / uncontended wall time: the average number of cores the tree kept busy while it was
   * not waiting in a run queue — CPU / (wall × (1 − contention)); = measuredCpw when contention was
   * not measured. Every rule reads this one, so run-queue delay never counts as waiting.
   */
  cpw: number;
  /** CPU time / wall time as measured (GNU time's %CPU / 100). */
  measuredCpw: number;
  /** Share of the wall time lost to run-queue delay, 0..1 (`ContentionSignals.share`); 0 when not
   *  measured. */
  contention: number;
  /** How the rules name `cpw` in words ("CPU time / wall time", or the uncontended form). */
  cpwName: string;
  /** Storage I/O rate: (read + written bytes) per second of wall time. */
  ioRate: number;
  /** Sample factor of host-side rules: `sampleFactor(wall / sampler period)`. */
  hostF: number;
}

/**
 * A `Verdict` for a fired rule: confidence clamped to [0, 1] and rounded to 2 decimals, share
 * (0..1, clamped) as sharePct rounded to 0.1, the Amdahl bound computed from that rounded share
 * (so the two shown numbers agree) and rounded to 2 decimals, remedies from `remediesFor`.
 */
export function makeVerdict(
  ctx: RuleContext,
  category: BottleneckCategory,
  rule: string,
  numbers: Record<string, number>,
  confidence: number,
  share: number,
  extraRemedies: string[] = [],
): Verdict {
  const sharePct = round(100 * clamp01(share), 1);
  return {
    category,
    rule,
    numbers,
    confidence: round(clamp01(confidence), 2),
    sharePct,
    amdahlBound: round(amdahlBound(sharePct / 100), 2),
    remedies: remediesFor(category, ctx.s.hotSpots, extraRemedies),
  };
}
