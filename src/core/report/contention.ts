/**
 * The contention lines of report.md and perf_summary.md: how contended the baseline and the final
 * A/B's sides were (results.json `contention`, optional: absent in older results, then nothing is
 * shown). Every number is a field of results.json, formatted, never recomputed.
 */
import type { Results } from "../evidence/results-schema.ts";
import { formatMs, formatNumber, formatPercent } from "./format.ts";

type Side = NonNullable<NonNullable<Results["contention"]>["baseline"]>;

/** What the contention share means, with its source, for the reader. */
export const CONTENTION_MEANING =
  "share of wall time the measured process tree was runnable but waiting for a CPU (run-queue delay, " +
  "`/proc/<pid>/task/<tid>/schedstat` field 2; median of runs)";

/**
 * One side in words: "45.0% (run-queue delay 1.20 s per run; load 2.10, 3.05 runnable, steal 0.2%)",
 * or "not measured" for null. Machine numbers that were not read are left out.
 */
export function sideText(side: Side | null | undefined): string {
  if (!side) return "not measured";
  const machine = [
    side.loadavg1 === null ? "" : `load ${side.loadavg1.toFixed(2)}`,
    side.procsRunning === null ? "" : `${side.procsRunning.toFixed(2)} runnable`,
    side.stealPct === null ? "" : `steal ${formatPercent(side.stealPct)}`,
  ].filter(Boolean);
  return (
    `${formatPercent(side.sharePct)} (run-queue delay ${formatMs(side.runQueueMs)} per run, ` +
    `${formatNumber(side.runs)} run(s)${machine.length ? `; ${machine.join(", ")}` : ""})`
  );
}

/**
 * "**Contention** (meaning): baseline 45.0% (…) · A 3.1% (…) · B 2.9% (…)." — the baseline when
 * there is one, A and B of the final comparison when there is one; "" when results.json has no
 * `contention` field or neither part was measured.
 */
export function contentionLine(r: Results): string {
  const c = r.contention;
  if (!c) return "";
  const parts: string[] = [];
  if (c.baseline) parts.push(`baseline ${sideText(c.baseline)}`);
  if (c.final && (c.final.a || c.final.b))
    parts.push(`final A (baseline) ${sideText(c.final.a)}`, `final B (best) ${sideText(c.final.b)}`);
  if (parts.length === 0) return "";
  return `**Contention** (${CONTENTION_MEANING}): ${parts.join(" · ")}.`;
}
