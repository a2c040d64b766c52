/**
 * The trend of one benchmark on one machine, and its change points (docs/gate.md, "History").
 * Only records of the same benchmark, metric and machine fingerprint form a series: results from
 * different machines are never compared. A step between two consecutive points is called a change
 * only when their medians' 95% intervals (the notches of record.ts) do not overlap — non-overlapping
 * notches are "strong evidence that the medians differ" (McGill, Tukey & Larsen 1978) — never
 * because one median moved by more than the noise.
 */
import { formatPct } from "../report/format.ts";
import type { HistoryRecord } from "./record.ts";

/** A point of a series: the commit's latest record. */
export interface TrendPoint {
  commit: string;
  date: string;
  median: number;
  ci: [number, number];
  n: number;
}

/** A change point: the step from `from` to `to`, with the change of the median, %. */
export interface ChangePoint {
  from: string;
  to: string;
  changePct: number;
  /** "worse" or "better" in the metric's direction. */
  direction: "worse" | "better";
}

/** One series: a benchmark's metric on one machine, oldest first, with its change points. */
export interface Trend {
  benchmark: string;
  metric: string;
  unit: string;
  direction: "lower" | "higher";
  machine: string;
  machineName: string;
  points: TrendPoint[];
  changes: ChangePoint[];
}

/** Points shown at most (the newest). */
export const TREND_MAX_POINTS = 50;

/**
 * The series of `records` matching `key` (benchmark, metric, machine), one point per commit (its
 * newest record), oldest first, at most {@link TREND_MAX_POINTS}, with the change points.
 */
export function trendOf(
  records: readonly HistoryRecord[],
  key: Pick<HistoryRecord, "benchmark" | "metric" | "machine">,
): Trend | null {
  const same = records.filter(
    (r) => r.benchmark === key.benchmark && r.metric === key.metric && r.machine === key.machine,
  );
  const first = same[0];
  if (!first) return null;
  const byCommit = new Map<string, HistoryRecord>();
  for (const r of [...same].sort((a, b) => a.date.localeCompare(b.date))) {
    byCommit.delete(r.commit); // re-inserted: a commit measured again moves to its newest date
    byCommit.set(r.commit, r);
  }
  const points = [...byCommit.values()]
    .slice(-TREND_MAX_POINTS)
    .map((r) => ({ commit: r.commit, date: r.date, median: r.median, ci: r.ci, n: r.n }));
  return {
    benchmark: first.benchmark,
    metric: first.metric,
    unit: first.unit,
    direction: first.direction,
    machine: first.machine,
    machineName: first.machineName,
    points,
    changes: changePoints(points, first.direction),
  };
}

/** Every series of `records` (benchmark × metric × machine), each oldest first. */
export function trendsOf(records: readonly HistoryRecord[]): Trend[] {
  const keys = new Map<string, HistoryRecord>();
  for (const r of records) keys.set(`${r.benchmark}\0${r.metric}\0${r.machine}`, r);
  return [...keys.values()].flatMap((k) => trendOf(records, k) ?? []);
}

/** Whether two 95% intervals of medians lie apart (McGill, Tukey & Larsen's notch rule). */
export function intervalsApart(a: readonly [number, number], b: readonly [number, number]): boolean {
  return b[0] > a[1] || b[1] < a[0];
}

/** Steps between consecutive points whose intervals do not overlap. */
export function changePoints(points: readonly TrendPoint[], direction: "lower" | "higher"): ChangePoint[] {
  const changes: ChangePoint[] = [];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as TrendPoint;
    const b = points[i] as TrendPoint;
    if (!intervalsApart(a.ci, b.ci) || a.median === 0) continue;
    const changePct = (b.median / a.median - 1) * 100;
    const worse = direction === "lower" ? changePct > 0 : changePct < 0;
    changes.push({ from: a.commit, to: b.commit, changePct, direction: worse ? "worse" : "better" });
  }
  return changes;
}

/** A number with 3 significant digits for an axis or a label. */
export function short(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/**
 * The trend as a mermaid `xychart-beta` block (GitHub renders it), x = short commit hashes, y = the
 * median, followed by one line per change point. Only hex digits, digits and the metric's name
 * (quotes removed) reach the chart text.
 */
export function trendMermaid(t: Trend): string {
  const name = `${t.metric}${t.unit ? ` (${t.unit})` : ""}`.replace(/["`\n\r]/g, "");
  const values = t.points.map((p) => p.median);
  const lo = Math.min(...t.points.map((p) => p.ci[0]));
  const hi = Math.max(...t.points.map((p) => p.ci[1]));
  const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
  const chart = [
    "```mermaid",
    "xychart-beta",
    `    title "${name}, median per commit (${t.direction} is better)"`,
    `    x-axis [${t.points.map((p) => `"${p.commit.slice(0, 7)}"`).join(", ")}]`,
    `    y-axis "${name}" ${short(Math.max(0, lo - pad))} --> ${short(hi + pad)}`,
    `    line [${values.map(short).join(", ")}]`,
    "```",
  ];
  const marks = t.changes.map(
    (c) =>
      `- ${c.direction === "worse" ? "▲ worse" : "▼ better"} at \`${c.to.slice(0, 7)}\` (after \`${c.from.slice(0, 7)}\`): ${formatPct(c.changePct)}, the two medians' 95% intervals do not overlap`,
  );
  return [
    ...chart,
    "",
    marks.length > 0
      ? marks.join("\n")
      : "No change point: every step lies within the noise of its neighbours.",
  ].join("\n");
}
