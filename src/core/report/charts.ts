/**
 * Mermaid `xychart-beta` charts for report.md (GitHub renders ```mermaid blocks). Charts hold only
 * numbers and labels written by perfloop — never untrusted text — and at most {@link MAX_POINTS}
 * points, so they stay small in a PR comment.
 */
import type { RoundRecord } from "../evidence/results-schema.ts";

/** Most points a chart line gets (report size; the brief of the report module). */
export const MAX_POINTS = 60;

/** Hardware utilization over a measurement, parallel arrays: time since start (ms) and busy shares (%). */
export interface Utilization {
  tMs: number[];
  /** CPU busy share of the machine (or of the measured tree), %. */
  cpuPct: number[];
  /** GPU busy share ("a kernel was running"), %; absent without a GPU. */
  gpuPct?: number[];
}

/**
 * Indices of `length` items to keep so that at most `max` remain: all of them when they fit, else
 * `max` indices spread evenly from the first to the last (both kept). `max` ≥ 2.
 */
export function sampleIndices(length: number, max: number = MAX_POINTS): number[] {
  if (length <= max) return Array.from({ length }, (_, i) => i);
  return Array.from({ length: max }, (_, i) => Math.round((i * (length - 1)) / (max - 1)));
}

/** A number for mermaid's data arrays: plain JS syntax (ASCII minus), one decimal, 0 for non-finite. */
function num(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toFixed(1))) : "0";
}

/** The y-axis range [lo, hi], whole numbers, including 0 and every value; hi > lo. */
function yRange(values: readonly number[], atLeast: number): [number, number] {
  const finite = values.filter(Number.isFinite);
  const lo = Math.floor(Math.min(0, ...finite));
  const hi = Math.max(Math.ceil(Math.max(atLeast, ...finite)), lo + 1);
  return [lo, hi];
}

/** A fenced mermaid block from its body lines (first line `xychart-beta`). */
function mermaid(lines: string[]): string {
  return ["```mermaid", ...lines, "```"].join("\n");
}

/**
 * Round-by-round trajectory: best improvement over the baseline (%, primary metric) after each round,
 * straight from `rounds[].bestImprovementPct`, as an `xychart-beta` line (x = round number).
 * Downsampled to ≤ MAX_POINTS rounds (first and last kept). Returns null when there are no rounds.
 */
export function trajectoryChart(rounds: readonly RoundRecord[]): string | null {
  if (rounds.length === 0) return null;
  const kept = sampleIndices(rounds.length).map((i) => rounds[i] as RoundRecord);
  const values = kept.map((r) => r.bestImprovementPct);
  const [lo, hi] = yRange(values, 1);
  return mermaid([
    "xychart-beta",
    '    title "Estimated improvement over baseline after each round (product of round ratios)"',
    `    x-axis "round" [${kept.map((r) => `"${r.n}"`).join(", ")}]`,
    `    y-axis "improvement (%)" ${lo} --> ${hi}`,
    `    line [${values.map(num).join(", ")}]`,
  ]);
}

/** Mean of the finite values of xs[from, to), or 0 when there is none. */
function bucketMean(xs: readonly number[], from: number, to: number): number {
  let sum = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    const x = xs[i];
    if (x !== undefined && Number.isFinite(x)) {
      sum += x;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * Utilization over time as an `xychart-beta` line chart: CPU busy % (blue) and, when given, GPU busy %
 * (orange), y from 0 to 100 (or the peak if higher). Longer series are cut into ≤ MAX_POINTS equal
 * buckets, each shown as its mean and labelled with its start time in seconds. Series are truncated
 * to the shortest array. Returns null when there are no samples.
 */
export function utilizationChart(util: Utilization): string | null {
  const gpu = util.gpuPct && util.gpuPct.length > 0 ? util.gpuPct : undefined;
  const length = Math.min(util.tMs.length, util.cpuPct.length, gpu ? gpu.length : Number.POSITIVE_INFINITY);
  if (length === 0) return null;
  const buckets = Math.min(length, MAX_POINTS);
  const labels: string[] = [];
  const cpu: number[] = [];
  const gpuMeans: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * length) / buckets);
    const to = Math.floor(((b + 1) * length) / buckets);
    labels.push(`"${((util.tMs[from] ?? 0) / 1000).toFixed(1)}"`);
    cpu.push(bucketMean(util.cpuPct, from, to));
    if (gpu) gpuMeans.push(bucketMean(gpu, from, to));
  }
  const [, hi] = yRange([...cpu, ...gpuMeans], 100);
  const lines = [
    '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#1f77b4, #ff7f0e"}}}}%%',
    "xychart-beta",
    `    title "${gpu ? "CPU (blue) and GPU (orange) busy %" : "CPU busy %"}"`,
    `    x-axis "time (s)" [${labels.join(", ")}]`,
    `    y-axis "busy (%)" 0 --> ${hi}`,
    `    line [${cpu.map(num).join(", ")}]`,
  ];
  if (gpu) lines.push(`    line [${gpuMeans.map(num).join(", ")}]`);
  return mermaid(lines);
}
