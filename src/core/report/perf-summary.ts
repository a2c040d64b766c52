/**
 * perf_summary.md of the evidence bundle (docs/design.md, "Evidence bundle"): the measurement protocol
 * in words, the baseline's statistics (n, median, IQR, CV, range) for wall time, CPU time, peak RSS
 * and the program's metric, every round's A/B comparison, and the final comparisons with the reason
 * of each verdict. Numbers are `Results` fields, formatted; untrusted text is clipped and escaped.
 */
import { markdownTable } from "markdown-table";
import type { Results, RoundRecord } from "../evidence/results-schema.ts";
import type { Comparison, SampleStats } from "../types.ts";
import { ciLabel, comparisonCells, comparisonTable, metricName } from "./comparison.ts";
import { CONTENTION_MEANING, sideText } from "./contention.ts";
import { clipText, escapeInline, escapeTableCell } from "./escape.ts";
import { formatPercent, formatValue } from "./format.ts";

/** Clip limits for untrusted text here, characters (before escaping). */
const NAME_MAX = 200;
const REASON_MAX = 1000;

/** The protocol of docs/design.md, "Measurement protocol", in words; `confidence` is the CI coverage (fraction). */
function protocol(confidence: number): string {
  const ci = ciLabel(confidence);
  return [
    "## Protocol",
    "",
    "- Each measurement starts with warm-up runs that are not counted.",
    "- Baseline (A) and candidate (B) runs are **interleaved** in ABBA order (A B, B A, A B, …), never all A",
    "  then all B, so drift of the machine (heat, caches, other load) affects both sides alike.",
    "- Per run: wall time, user + system CPU time of the process tree, peak RSS, exit status, and the",
    "  program's own metric when one is declared. A failing run invalidates the measurement.",
    "- Statistics: the median of each side; the ratio of medians median(B) / median(A) with a",
    `  ${ci.replace(" CI", "")} percentile **bootstrap** confidence interval; the two-sided **Mann–Whitney U** p-value.`,
    "  n, median, IQR and coefficient of variation (CV) describe each side.",
    '- "faster" only when p < α **and** the whole CI clears the minimum improvement; "slower" when p < α,',
    '  the whole CI lies on the worse side of 1 and the ratio is worse by at least the minimum; "no',
    '  significant change" only when the whole CI lies within ± the minimum. Otherwise "inconclusive", with',
    "  the runs a side that would settle it. Either side's CV above its limit, GPU slowdown flags, or A and B",
    '  having seen clearly different CPU contention (run-queue delay or steal) also make it "inconclusive".',
    "  Each comparison's reason states the thresholds it used.",
    "- Contention: time the process tree was runnable but waiting for a CPU (run-queue delay) is measured per",
    "  run and reported per side; it is contention, never counted as the program waiting.",
    "- change % = (ratio − 1) · 100 in the metric's own sign; the CI is shown the same way.",
  ].join("\n");
}

/** One baseline row: label, n, median, IQR (q1 … q3), CV, min … max, all in `unit`. */
function statsRow(label: string, s: SampleStats, unit: string): string[] {
  const v = (x: number) => escapeTableCell(formatValue(x, unit));
  return [
    label,
    String(s.n),
    v(s.median),
    `${v(s.iqr)} (${v(s.q1)} … ${v(s.q3)})`,
    formatPercent(s.cvPct),
    `${v(s.min)} … ${v(s.max)}`,
  ];
}

/** "## Baseline": the baseline's statistics, or why there are none. */
function baselineSection(r: Results): string {
  const b = r.baseline;
  if (!b) return `## Baseline\n\nNo baseline measurement: ${escapeInline(clipText(r.message, REASON_MAX))}`;
  const rows = [
    statsRow("wall time", b.wallMs, "ms"),
    statsRow("CPU time", b.cpuMs, "ms"),
    statsRow("peak RSS", b.maxRssBytes, "bytes"),
  ];
  if (b.metric) {
    const unit = clipText(r.benchmark.unit, NAME_MAX);
    rows.push(statsRow(escapeTableCell(clipText(r.benchmark.metric, NAME_MAX)), b.metric, unit));
  }
  const table = markdownTable([["measure", "n", "median", "IQR (q1 … q3)", "CV", "min … max"], ...rows], {
    align: ["l", "r", "r", "r", "r", "r"],
  });
  const contention = r.contention?.baseline
    ? `\n\nContention (${CONTENTION_MEANING}): ${sideText(r.contention.baseline)}.`
    : "";
  return `## Baseline\n\n${table}${contention}`;
}

/** One round's row: round, strategy, outcome, gate, then the comparison's cells or dashes. */
function roundRow(round: RoundRecord): string[] {
  const head = [String(round.n), round.strategy, round.outcome, round.gate ?? "—"];
  const c = round.comparison;
  if (!c) return [...head, "—", "—", "—", "—", "—", "—", "—", "—"];
  return [...head, metricName(c), ...comparisonCells(c)];
}

/** "## Rounds": every round's comparison against the best tree so far, and each round's reason. */
function roundsSection(r: Results, confidence: number): string {
  if (r.rounds.length === 0) return "## Rounds\n\nNo optimization rounds ran.";
  const headers = ["round", "strategy", "outcome", "gate", "metric", "A median", "B median", "change %"];
  const table = markdownTable(
    [[...headers, ciLabel(confidence), "p", "n", "verdict"], ...r.rounds.map(roundRow)],
    {
      align: ["r", "l", "l", "l", "l", "r", "r", "r", "c", "r", "c", "l"],
    },
  );
  const reasons = r.rounds.map((x) => `- Round ${x.n}: ${escapeInline(clipText(x.reason, REASON_MAX))}`);
  return `## Rounds\n\nA = best tree before the round, B = the round's candidate.\n\n${table}\n\n${reasons.join("\n")}`;
}

/** "## Final": the final tree against the baseline, with each comparison's reason. */
function finalSection(r: Results): string {
  if (!r.final) return "## Final\n\nNo final comparison (nothing was measured against the baseline).";
  const reasons = r.final.comparisons.map(
    (c) => `- ${metricName(c)}: ${escapeInline(clipText(c.reason, REASON_MAX))}`,
  );
  const c = r.contention?.final;
  const contention =
    c && (c.a || c.b)
      ? `\n\nContention (${CONTENTION_MEANING}): A ${sideText(c.a)}; B ${sideText(c.b)}.`
      : "";
  return `## Final\n\nA = baseline, B = final tree.\n\n${comparisonTable(r.final.comparisons)}\n\n${reasons.join("\n")}${contention}`;
}

/** The CI coverage used by the comparisons (the first one found), default 0.95. */
function coverage(r: Results): number {
  const first: Comparison | undefined =
    r.final?.primary ?? r.rounds.find((x) => x.comparison)?.comparison ?? undefined;
  return first?.confidence ?? 0.95;
}

/**
 * Renders perf_summary.md (markdown) from validated results: title with status and stop reason,
 * the protocol, the baseline's statistics, every round's comparison, and the final comparisons.
 * Never throws for a valid `Results`.
 */
export function renderPerfSummary(results: Results): string {
  const r = results;
  const confidence = coverage(r);
  const header = [
    "# perfloop — performance summary",
    "",
    `Status: **${r.status}**; stopped: ${escapeInline(clipText(r.stopReason, NAME_MAX))}.  `,
    `Benchmark metric: ${escapeInline(clipText(r.benchmark.metric, NAME_MAX))} (${r.benchmark.direction} is better). Raw runs: perf_raw.json.`,
  ].join("\n");
  return `${[header, protocol(confidence), baselineSection(r), roundsSection(r, confidence), finalSection(r)].join("\n\n")}\n`;
}
