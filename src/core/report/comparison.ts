/**
 * How an A/B `Comparison` reads in a report: the headline ("1.84× faster"), the one-line summary
 * ("wall time −45.6%, 95% CI −47.0% … −44.1%, p < 0.001, n = 10+10") and table cells. Every number
 * comes from the comparison's own fields (ratio, improvementPct, ci, pValue, a/b stats): formatted,
 * never recomputed from raw runs, so it matches results.json and perf_raw.json.
 */
import { markdownTable } from "markdown-table";
import { RUNS_NEEDED_CAP } from "../measure/stats.ts";
import type { Comparison, ComparisonVerdict } from "../types.ts";
import { clipText, escapeInline, escapeTableCell } from "./escape.ts";
import { formatCi, formatFactor, formatPct, formatPValue, formatValue } from "./format.ts";

/** The default significance level of docs/design.md, "Verdict rules"; p is printed with enough digits to keep its side of it. */
export const DEFAULT_ALPHA = 0.01;

/** Longest metric name / unit shown, characters (they come from the repository's config). */
const NAME_MAX = 80;

/**
 * Change of the metric from A to B, % ((ratio − 1)·100, the sign of the raw metric): taken from
 * `improvementPct` (positive = better), negated for a lower-is-better metric.
 */
export function changePct(c: Comparison): number {
  return c.direction === "lower" ? -c.improvementPct : c.improvementPct;
}

/** "95% CI": the CI label with the comparison's own coverage (`confidence`, a fraction). */
export function ciLabel(confidence: number): string {
  return `${Number((confidence * 100).toFixed(2))}% CI`;
}

/** "10+10": counted runs of A and B. */
export function sampleSizes(c: Comparison): string {
  return `${c.a.n}+${c.b.n}`;
}

/** The verdict with a marker for scanning tables: "✅ faster", "❌ slower", "➖ …", "❔ inconclusive". */
export function verdictLabel(v: ComparisonVerdict): string {
  const mark = { faster: "✅", slower: "❌", "no significant change": "➖", inconclusive: "❔" }[v];
  return `${mark} ${v}`;
}

/**
 * "about 19 runs a side would settle it" for an inconclusive comparison with `runsNeeded`
 * (`RUNS_NEEDED_CAP` or more: "1000+ runs a side would be needed"), else null.
 */
export function runsNeededWords(c: Comparison): string | null {
  if (c.verdict !== "inconclusive" || c.runsNeeded === undefined) return null;
  return c.runsNeeded >= RUNS_NEEDED_CAP
    ? `${RUNS_NEEDED_CAP}+ runs a side would be needed`
    : `about ${c.runsNeeded} runs a side would settle it`;
}

/**
 * The cross-check flag of a "faster" wall time, short: the first clause of `crossCheck` ("CPU time
 * did not fall with wall time (+0.3%, no significant change)"), clipped and escaped; null without one.
 * The whole sentence is in the comparison's reason.
 */
export function crossCheckWords(c: Comparison): string | null {
  if (!c.crossCheck) return null;
  return `⚠ ${escapeInline(clipText(c.crossCheck.split(": ")[0] ?? c.crossCheck, NAME_MAX * 2))}`;
}

/**
 * The verdict cell of a table: `verdictLabel` plus the comparison's flags, table-safe —
 * "❔ inconclusive · ≈19 runs a side", "✅ faster · ⚠ CPU cross-check".
 */
export function verdictCell(c: Comparison): string {
  return [comparisonLabel(c), ...verdictFlags(c)].join(" · ");
}

/**
 * `verdictLabel`, except for a "no significant change" whose p is below α: the difference is real
 * but smaller than the minimum, and the label says so ("➖ real, below the 5% minimum") instead of
 * contradicting the p-value next to it.
 */
export function comparisonLabel(c: Comparison): string {
  if (c.verdict === "no significant change" && c.alpha !== undefined && c.pValue < c.alpha)
    return `➖ real, below the ${c.minImprovementPct ?? 5}% minimum`;
  return verdictLabel(c.verdict);
}

function verdictFlags(c: Comparison): string[] {
  const flags: string[] = [];
  if (c.verdict === "inconclusive" && c.runsNeeded !== undefined)
    flags.push(
      c.runsNeeded >= RUNS_NEEDED_CAP ? `${RUNS_NEEDED_CAP}+ runs a side` : `≈${c.runsNeeded} runs a side`,
    );
  if (c.crossCheck) flags.push("⚠ CPU cross-check");
  return flags;
}

/** The metric name of a comparison, escaped for markdown and clipped. */
export function metricName(c: Comparison): string {
  return escapeInline(clipText(c.metric, NAME_MAX));
}

/** True for a duration measured lower-is-better ("faster" / "slower" make sense). */
function isTime(c: Comparison): boolean {
  return c.direction === "lower" && (c.unit === "ms" || c.unit === "s");
}

/**
 * The outcome in words, bold when it is a claim: "**1.84× faster**" (time, lower is better: the
 * factor is 1 / ratio), "**1.12× slower**", "**throughput +12.3%**" for other metrics, or the plain
 * verdict ("no significant change", "inconclusive", "inconclusive (about 19 runs a side would settle
 * it)" when `runsNeeded` is known). Kept short: it also titles check runs and pull requests, so the
 * cross-check flag is in `comparisonWords`, not here.
 */
export function headline(c: Comparison): string {
  if (c.verdict === "faster" || c.verdict === "slower") {
    if (isTime(c)) return `**${formatFactor(c.verdict === "faster" ? 1 / c.ratio : c.ratio)} ${c.verdict}**`;
    const word = c.verdict === "faster" ? "better" : "worse";
    return `**${metricName(c)} ${formatPct(changePct(c))} (${word})**`;
  }
  const runs = runsNeededWords(c);
  return runs ? `${c.verdict} (${runs})` : c.verdict;
}

/**
 * "wall time −45.6%, 95% CI −47.0% … −44.1%, p < 0.001, n = 10+10" (markdown-safe), then the flags:
 * "; about 19 runs a side would settle it" (`runsNeededWords`) and "; ⚠ CPU time did not fall with
 * wall time (+0.3%, no significant change)" (`crossCheckWords`).
 */
export function comparisonWords(c: Comparison): string {
  const p = formatPValue(c.pValue, DEFAULT_ALPHA);
  const pText = p.startsWith("<") ? `p ${p}` : `p = ${p}`;
  const flags = [runsNeededWords(c), crossCheckWords(c)].filter((f) => f !== null);
  return `${metricName(c)} ${formatPct(changePct(c))}, ${ciLabel(c.confidence)} ${formatCi(c.ci)}, ${pText}, n = ${sampleSizes(c)}${flags.map((f) => `; ${f}`).join("")}`;
}

/**
 * Cells of one comparison, in the order of {@link COMPARISON_HEADERS} after "metric": A median, B
 * median (in the metric's unit), change %, CI as % change, p, n, verdict with its flags
 * (`verdictCell`). All table-safe.
 */
export function comparisonCells(c: Comparison): string[] {
  const unit = clipText(c.unit, NAME_MAX);
  return [
    escapeTableCell(formatValue(c.a.median, unit)),
    escapeTableCell(formatValue(c.b.median, unit)),
    formatPct(changePct(c)),
    formatCi(c.ci),
    formatPValue(c.pValue, DEFAULT_ALPHA),
    sampleSizes(c),
    verdictCell(c),
  ];
}

/** Column headers of the before/after table ("95% CI" uses the first comparison's coverage). */
export function comparisonHeaders(confidence = 0.95): string[] {
  return ["metric", "baseline median", "final median", "change %", ciLabel(confidence), "p", "n", "verdict"];
}

/**
 * The before/after table (GFM, via markdown-table): one row per comparison with the columns of
 * `comparisonHeaders`. Returns "" for no comparisons.
 */
export function comparisonTable(comparisons: readonly Comparison[]): string {
  const first = comparisons[0];
  if (!first) return "";
  const rows = comparisons.map((c) => [metricName(c), ...comparisonCells(c)]);
  return markdownTable([comparisonHeaders(first.confidence), ...rows], {
    align: ["l", "r", "r", "r", "c", "r", "c", "l"],
  });
}
