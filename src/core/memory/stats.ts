/**
 * `perfloop stats`: what the memory store says about perfloop's record on each repository — success
 * rate, improvement slope over runs, memory reuse rate, rollbacks — and the bandit's numbers.
 */
import {
  type ArmOutcome,
  listRollbacks,
  listRuns,
  type RollbackRow,
  type RunRow,
  retrievalCounts,
} from "./history.ts";
import type { Database } from "./sqlite.ts";

/** The record of one repository. Rates are fractions 0..1 (null when there is nothing to divide). */
export interface RepositoryStats {
  repository: string;
  runs: number;
  firstRun: string | null;
  lastRun: string | null;
  /** Finished runs with status "improved", of finished runs. */
  improvedRuns: number;
  finishedRuns: number;
  successRate: number | null;
  /** Accepted candidates, of candidates evaluated. */
  acceptedCandidates: number;
  candidates: number;
  acceptanceRate: number | null;
  /**
   * Least-squares slope of each finished run's verified improvement (%, 0 when none) over the run's
   * index: percentage points per run; null with fewer than two finished runs.
   */
  improvementSlope: number | null;
  latestImprovementPct: number | null;
  /** Retrieved entries (prompt lines, warm-start winners) used by an accepted candidate, of retrieved. */
  retrieved: number;
  reused: number;
  reuseRate: number | null;
  /** Knob values not retried because memory remembered them failing. */
  skipped: number;
  rollbacks: RollbackRow[];
  /** The last {@link RECENT_RUNS} runs, oldest first. */
  recent: Array<
    Pick<RunRow, "id" | "startedAt" | "status" | "improvementPct" | "candidates" | "accepted" | "skipped">
  >;
  /** Per category, per arm version: successes of counted candidates. */
  arms: Array<{ category: string; version: string; successes: number; candidates: number }>;
}

/** Runs listed one by one in the stats. */
export const RECENT_RUNS = 10;

/** The stats of every repository in the store, by name. SQLite errors propagate. */
export function computeStats(db: Database): RepositoryStats[] {
  const runs = listRuns(db);
  const retrievals = retrievalCounts(db);
  const rollbacks = listRollbacks(db);
  const outcomes = db.prepare("SELECT run_id, category, version, success FROM arm_outcomes").all() as Array<{
    run_id: string;
    category: string;
    version: ArmOutcome["version"];
    success: number;
  }>;
  const names = [...new Set(runs.map((r) => r.repository))].sort();
  return names.map((repository) => {
    const mine = runs.filter((r) => r.repository === repository);
    const ids = new Set(mine.map((r) => r.id));
    const finished = mine.filter((r) => r.status !== null);
    const improved = finished.filter((r) => r.status === "improved").length;
    const candidates = sum(mine, (r) => r.candidates);
    const accepted = sum(mine, (r) => r.accepted);
    const retrieved = sum(mine, (r) => retrievals.get(r.id)?.retrieved ?? 0);
    const reused = sum(mine, (r) => retrievals.get(r.id)?.used ?? 0);
    const arms = new Map<
      string,
      { category: string; version: string; successes: number; candidates: number }
    >();
    for (const o of outcomes.filter((x) => ids.has(x.run_id))) {
      const key = `${o.category}|${o.version}`;
      const arm = arms.get(key) ?? { category: o.category, version: o.version, successes: 0, candidates: 0 };
      arm.candidates += 1;
      arm.successes += o.success;
      arms.set(key, arm);
    }
    const gains = finished.map((r) => r.improvementPct ?? 0);
    return {
      repository,
      runs: mine.length,
      firstRun: mine[0]?.startedAt ?? null,
      lastRun: mine[mine.length - 1]?.startedAt ?? null,
      improvedRuns: improved,
      finishedRuns: finished.length,
      successRate: ratio(improved, finished.length),
      acceptedCandidates: accepted,
      candidates,
      acceptanceRate: ratio(accepted, candidates),
      improvementSlope: slope(gains),
      latestImprovementPct: gains.length > 0 ? (gains[gains.length - 1] as number) : null,
      retrieved,
      reused,
      reuseRate: ratio(reused, retrieved),
      skipped: sum(mine, (r) => r.skipped),
      rollbacks: rollbacks.filter((r) => ids.has(r.runId)),
      recent: mine.slice(-RECENT_RUNS).map((r) => ({
        id: r.id,
        startedAt: r.startedAt,
        status: r.status,
        improvementPct: r.improvementPct,
        candidates: r.candidates,
        accepted: r.accepted,
        skipped: r.skipped,
      })),
      arms: [...arms.values()].sort(
        (a, b) => a.category.localeCompare(b.category) || a.version.localeCompare(b.version),
      ),
    };
  });
}

/** Ordinary least-squares slope of ys over x = 0, 1, 2, …; null for fewer than two points. */
export function slope(ys: readonly number[]): number | null {
  const n = ys.length;
  if (n < 2) return null;
  const meanX = (n - 1) / 2;
  const meanY = ys.reduce((s, y) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - meanX) * (y - meanY);
    den += (x - meanX) ** 2;
  });
  return num / den;
}

/** The stats as text, one block per repository. */
export function formatStats(file: string, stats: RepositoryStats[]): string {
  if (stats.length === 0) return `perfloop memory ${file}: no runs recorded yet\n`;
  const pct = (r: number | null) => (r === null ? "n/a" : `${(r * 100).toFixed(0)}%`);
  const blocks = stats.map((s) => {
    const lines = [
      `${s.repository}: ${s.runs} run(s), ${s.firstRun?.slice(0, 10) ?? "?"} … ${s.lastRun?.slice(0, 10) ?? "?"}`,
      `  success rate: ${s.improvedRuns}/${s.finishedRuns} runs improved (${pct(s.successRate)}); ${s.acceptedCandidates}/${s.candidates} candidates accepted (${pct(s.acceptanceRate)})`,
      `  improvement slope: ${s.improvementSlope === null ? "n/a (fewer than two finished runs)" : `${s.improvementSlope >= 0 ? "+" : ""}${s.improvementSlope.toFixed(2)} points per run`}${s.latestImprovementPct === null ? "" : `; latest run ${s.latestImprovementPct.toFixed(1)}%`}`,
      `  memory reuse: ${s.reused}/${s.retrieved} retrieved entries used by an accepted candidate (${pct(s.reuseRate)}); ${s.skipped} knob value(s) skipped as remembered failures`,
      `  rollbacks: ${s.rollbacks.length === 0 ? "none" : s.rollbacks.length}`,
      ...s.rollbacks.map(
        (r) =>
          `    ${r.createdAt.slice(0, 10)} ${r.category}: ${r.fromVersion} → ${r.toVersion} (${r.reason})`,
      ),
      `  runs (last ${RECENT_RUNS}):`,
      ...s.recent.map(
        (r) =>
          `    ${r.startedAt.slice(0, 19)} ${r.status ?? "unfinished"}${r.improvementPct ? ` ${r.improvementPct.toFixed(1)}%` : ""}: ${r.candidates} candidate evaluation(s), ${r.accepted} accepted, ${r.skipped} skipped from memory`,
      ),
      `  strategy arms (accepted/candidates):${s.arms.length === 0 ? " none yet" : ""}`,
      ...s.arms.map((a) => `    ${a.category} ${a.version}: ${a.successes}/${a.candidates}`),
    ];
    return lines.join("\n");
  });
  return `perfloop memory ${file}\n\n${blocks.join("\n\n")}\n`;
}

function sum<T>(xs: readonly T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}

function ratio(a: number, b: number): number | null {
  return b === 0 ? null : a / b;
}
