/**
 * Contention across sides and runs (README, "How perfloop measures"): how contended each side of a
 * measurement was, whether an A/B's two sides saw clearly different contention (then the comparison
 * is compromised: "inconclusive"), and whether a baseline verdict was made under heavy contention
 * (then memory does not learn its category). Thresholds and their sources are in `thresholds.ts`;
 * the per-run numbers come from `measure/contention.ts`. Pure arithmetic on recorded runs.
 */
import { type RunContention, runContention } from "../measure/contention.ts";
import { mannWhitneyU, median } from "../measure/stats.ts";
import type { ProcSample, Verdict } from "../types.ts";
import * as T from "./thresholds.ts";

/** A run as the measurement records it (a `RunRecord`; `contention` absent in older records). */
export interface ContendedRun {
  wallMs: number;
  cpuMs: number;
  procSamples: ProcSample[];
  contention?: RunContention | null;
}

/** How contended one side of a measurement was (results.json `contention`, the report's line). */
export interface SideContention {
  /** Counted runs with a run-queue reading. */
  runs: number;
  /** Share of the wall time lost to run-queue delay (median over runs), %. */
  sharePct: number;
  /** Run-queue delay of the tree per run (median), ms. */
  runQueueMs: number;
  /** Average runnable threads of the tree, (CPU + delay) / wall (median), cores. */
  demandCores: number;
  /** Steal time as a share of the machine's CPU time, stealMs / (wallMs × cores) (median), %;
   *  null when steal or the core count was not read. */
  stealPct: number | null;
  /** Mean machine-wide procs_running; null when not read. */
  procsRunning: number | null;
  /** Mean 1-minute load average; null when not read. */
  loadavg1: number | null;
}

/** The runs with a run-queue reading, each with its `RunContention` (recorded, else computed). */
function measured(runs: readonly ContendedRun[]): Array<{ run: ContendedRun; c: RunContention }> {
  return runs
    .map((run) => ({ run, c: run.contention ?? runContention(run.procSamples, run.wallMs, run.cpuMs) }))
    .filter((x) => x.c.runQueueMs !== null && x.c.contentionShare !== null);
}

/** The finite numbers of `xs`. */
function nums(xs: Array<number | null>): number[] {
  return xs.filter((x): x is number => x !== null && Number.isFinite(x));
}

/** Per run, steal time / (wall × cores), 0..1, where both were read. */
function stealShares(per: Array<{ run: ContendedRun; c: RunContention }>): number[] {
  return nums(
    per.map(({ run, c }) => {
      const cores = coresOf(run);
      return c.stealMs !== null && cores !== null && run.wallMs > 0 ? c.stealMs / (run.wallMs * cores) : null;
    }),
  );
}

/** Logical cores of the machine as `/proc/stat` listed them in the run's samples; null without samples. */
function coresOf(run: ContendedRun): number | null {
  let cores = 0;
  for (const s of run.procSamples) cores = Math.max(cores, s.coreBusyPct.length);
  return cores > 0 ? cores : null;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The contention of one side: per run its `RunContention` (recorded, or computed from the samples
 * when the record predates the field), then medians over the runs with a run-queue reading and means
 * for the machine's state. null when no run has a reading. Numbers rounded for display (0.1 % / ms,
 * 0.01 cores).
 */
export function sideContention(runs: readonly ContendedRun[]): SideContention | null {
  const per = measured(runs);
  if (per.length === 0) return null;
  const steal = stealShares(per);
  const mean = (xs: number[]): number | null =>
    xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  const procs = mean(nums(per.map((x) => x.c.procsRunningMean)));
  const load = mean(nums(per.map((x) => x.c.loadavg1)));
  return {
    runs: per.length,
    sharePct: round(100 * median(per.map((x) => x.c.contentionShare as number)), 1),
    runQueueMs: round(median(per.map((x) => x.c.runQueueMs as number)), 1),
    demandCores: round(
      median(
        per.map(({ run, c }) => (run.wallMs > 0 ? (run.cpuMs + (c.runQueueMs as number)) / run.wallMs : 0)),
      ),
      2,
    ),
    stealPct: steal.length > 0 ? round(100 * median(steal), 1) : null,
    procsRunning: procs === null ? null : round(procs, 2),
    loadavg1: load === null ? null : round(load, 2),
  };
}

/** How much longer the side losing `hiPct` % of its wall would be than one losing `loPct` %, fraction. */
function stretch(loPct: number, hiPct: number): number {
  const hi = Math.min(hiPct, 99.9) / 100;
  return (1 - loPct / 100) / (1 - hi) - 1;
}

/** Two-sided Mann–Whitney p of two samples; 1 when either is empty. */
function pDiffer(a: readonly number[], b: readonly number[]): number {
  return a.length > 0 && b.length > 0 ? mannWhitneyU(a, b).p : 1;
}

/** "p < 0.001" or "p = 0.0043". */
function pText(p: number): string {
  return p < 0.001 ? "p < 0.001" : `p = ${Number(p.toPrecision(2))}`;
}

/**
 * Why an A/B measurement is compromised by contention, in words, or null. Compromised when the
 * share of wall time lost to run-queue delay — or the steal share of the machine's CPU time —
 * differs clearly between the sides: both
 * - big enough: the medians alone would make one side's wall time more than
 *   CONTENTION_MISMATCH_EFFECT longer, (1 − low share) / (1 − high share) − 1 (thresholds.ts gives
 *   the source), and
 * - systematic: a two-sided Mann–Whitney test of the per-run shares gives p < `alpha` (the
 *   measurement's own α, default 0.01 as in docs/design.md, "Verdict rules": a difference in contention is
 *   called clear on the same evidence a change in the metric needs; chance differences between
 *   interleaved runs are already in the metric's own spread and confidence interval).
 * Not judged (null) when either side has no reading, or when the more delayed side kept more threads
 * runnable than the machine has cores (demandCores > cores): its own threads then queue behind each
 * other — a candidate that adds threads must not be called compromised for that.
 */
export function contentionMismatch(
  a: readonly ContendedRun[],
  b: readonly ContendedRun[],
  alpha = 0.01,
): string | null {
  const found = contentionBias(a, b, alpha);
  return found.length > 0 ? found.map((f) => f.text).join("; ") : null;
}

/** One clear contention difference between the sides, and the side it made look worse. */
export interface ContentionBias {
  text: string;
  /** The side that lost more time to the run queue (or to steal): contention made it look slower. */
  disfavoured: "A" | "B";
}

/**
 * The clear contention differences of `contentionMismatch`, each with the side it disfavoured (the
 * more delayed one: its wall time is stretched by (1 − low share) / (1 − high share)). A caller can
 * keep a claim the bias worked against — "B is faster" although B lost more time to the run queue —
 * since contention only made that claim harder to reach.
 */
export function contentionBias(
  a: readonly ContendedRun[],
  b: readonly ContendedRun[],
  alpha = 0.01,
): ContentionBias[] {
  const ma = measured(a);
  const mb = measured(b);
  const sa = sideContention(a);
  const sb = sideContention(b);
  if (!sa || !sb) return [];
  const limit = `limits ${Math.round(100 * T.CONTENTION_MISMATCH_EFFECT)}% and p < ${alpha}`;
  const why: ContentionBias[] = [];
  const [lo, hi, hiName] = sa.sharePct <= sb.sharePct ? [sa, sb, "B" as const] : [sb, sa, "A" as const];
  const cores = [...a, ...b].map(coresOf).find((c) => c !== null) ?? null;
  const selfInflicted = cores !== null && hi.demandCores > cores;
  const effect = stretch(lo.sharePct, hi.sharePct);
  const shares = (m: typeof ma) => m.map((x) => x.c.contentionShare as number);
  const p = pDiffer(shares(ma), shares(mb));
  if (!selfInflicted && effect > T.CONTENTION_MISMATCH_EFFECT && p < alpha) {
    why.push({
      text:
        `A and B saw clearly different CPU contention: run-queue delay took ${sa.sharePct}% of A's wall time and ` +
        `${sb.sharePct}% of B's (medians; time runnable but waiting for a CPU, /proc/<pid>/task/<tid>/schedstat; ` +
        `${pText(p)}), enough alone to make ${hiName} ${round(100 * effect, 1)}% slower (${limit})`,
      disfavoured: hiName,
    });
  }
  if (sa.stealPct !== null && sb.stealPct !== null) {
    const steal = stretch(Math.min(sa.stealPct, sb.stealPct), Math.max(sa.stealPct, sb.stealPct));
    const ps = pDiffer(stealShares(ma), stealShares(mb));
    if (steal > T.CONTENTION_MISMATCH_EFFECT && ps < alpha) {
      why.push({
        text:
          `A and B saw clearly different steal time: ${sa.stealPct}% and ${sb.stealPct}% of the machine's CPU time ` +
          `(medians; /proc/stat; ${pText(ps)}), enough alone to change the wall time by ${round(100 * steal, 1)}% (${limit})`,
        disfavoured: sa.stealPct > sb.stealPct ? "A" : "B",
      });
    }
  }
  return why;
}

/**
 * Whether a baseline verdict was made under heavy contention: the share of wall time lost to
 * run-queue delay that `classify` put on the verdicts (`numbers.contentionPct`) is at least
 * HEAVY_CONTENTION_SHARE. Returns the share in %, or null when below or not measured.
 */
export function heavyContention(verdicts: readonly Verdict[]): number | null {
  const pct = verdicts[0]?.numbers.contentionPct;
  return pct !== undefined && Number.isFinite(pct) && pct >= 100 * T.HEAVY_CONTENTION_SHARE ? pct : null;
}

/** The `contention` field of results.json: the baseline's, and the final A/B's sides. */
export interface ContentionReport {
  baseline: SideContention | null;
  final: { a: SideContention | null; b: SideContention | null } | null;
}

/**
 * The results.json `contention` field from the baseline's counted runs and the final measurement's
 * counted runs of each side (null when there was no final A/B).
 */
export function contentionReport(
  baseline: readonly ContendedRun[],
  final: { a: readonly ContendedRun[]; b: readonly ContendedRun[] } | null,
): ContentionReport {
  return {
    baseline: sideContention(baseline),
    final: final ? { a: sideContention(final.a), b: sideContention(final.b) } : null,
  };
}
