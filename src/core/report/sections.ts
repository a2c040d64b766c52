/**
 * The sections of report.md, each a self-contained markdown block (a heading with its paragraphs,
 * table, fence or <details>), so the report can drop whole sections when it must be shortened and
 * never cut a fence or a table. Untrusted text (from the program, the model or the repository) is
 * clipped, then escaped; numbers are formatted from `Results` fields as they are.
 */
import { markdownTable } from "markdown-table";
import type { Results, RoundRecord } from "../evidence/results-schema.ts";
import type { Verdict } from "../types.ts";
import { behaviourLines, candidateTable, formatUsd, usageLine } from "./candidates.ts";
import { comparisonLabel, comparisonTable, comparisonWords, headline } from "./comparison.ts";
import {
  clipText,
  codeBlock,
  codeSpan,
  escapeHtmlText,
  escapeInline,
  escapeMarkdown,
  escapeTableCell,
} from "./escape.ts";
import { formatBytes, formatFactor, formatMs, formatNumber, formatPct, formatPercent } from "./format.ts";
import { gateSummaryLine, gateTitle } from "./gate-section.ts";

/** Clip limits for untrusted text, characters (before escaping): keep every section bounded. */
export const LIMITS = {
  message: 500,
  short: 200,
  reason: 1000,
  rationale: 4000,
  list: 40,
  hotSpots: 10,
} as const;

const STATUS_WORDS: Record<Results["status"], string> = {
  improved: "improved",
  "no-improvement": "no improvement",
  "baseline-failed": "baseline failed",
  inconclusive: "inconclusive",
  error: "error",
  cancelled: "cancelled",
  timeout: "timed out",
  passed: "gate passed",
  regressed: "regressed",
  "head-failed": "head failed",
};

/** A message from results, clipped and escaped to one line. */
function message(text: string): string {
  return escapeInline(clipText(text, LIMITS.message));
}

/** True when the title states the outcome in words (improved / no improvement with a final comparison), not the message. */
function titleIsOutcome(r: Results): boolean {
  return r.final !== null && (r.status === "improved" || r.status === "no-improvement");
}

/**
 * The title line: "## perfloop · improved: **1.84× faster** (wall time −45.6%, 95% CI …, p < 0.001,
 * n = 10+10)". For the other statuses (inconclusive, baseline failed, error) the message follows the
 * status, then the primary comparison's numbers when there is one.
 */
export function titleSection(r: Results): string {
  const gate = gateTitle(r);
  if (gate) return gate;
  const status = STATUS_WORDS[r.status];
  const primary = r.final?.primary;
  if (primary && titleIsOutcome(r)) {
    return `## perfloop · ${status}: ${headline(primary)} (${comparisonWords(primary)})`;
  }
  const words = message(r.message) || "no message";
  return `## perfloop · ${status}: ${words}${primary ? ` (${comparisonWords(primary)})` : ""}`;
}

/** Which list of `items` to show: at most `max`, with "(+N more)" when some were left out. */
function listed(items: readonly string[], max: number, render: (s: string) => string): string {
  const shown = items.slice(0, max).map(render).join(", ");
  return items.length > max ? `${shown} (+${items.length - max} more)` : shown;
}

/** Message, benchmark, stop reason, changed files, round count; the baseline when there is no final. */
export function summarySection(r: Results): string {
  const lines: string[] = [];
  if (titleIsOutcome(r)) lines.push(message(r.message)); // otherwise the title carries it
  const b = r.benchmark;
  const better = b.direction === "lower" ? "lower is better" : "higher is better";
  lines.push(
    `Benchmark ${codeSpan(clipText(b.command, LIMITS.short))}, metric ${escapeInline(clipText(b.metric, LIMITS.short))} (${better}); tests ${codeSpan(clipText(b.test, LIMITS.short))}.`,
  );
  if (b.why) lines.push(`Why this metric: ${escapeInline(clipText(b.why, LIMITS.reason))}.`);
  const accepted = r.rounds.filter((x) => x.outcome === "accepted").length;
  const gate = gateSummaryLine(r);
  if (gate) lines.push(gate);
  else
    lines.push(
      `${r.rounds.length} round(s), ${accepted} accepted; stopped: ${escapeInline(clipText(r.stopReason, LIMITS.short))}.`,
    );
  const usage = usageLine(r);
  if (usage) lines.push(usage);
  if (r.final && r.final.changedFiles.length > 0) {
    const files = listed(r.final.changedFiles, LIMITS.list, (f) => codeSpan(clipText(f, LIMITS.short)));
    const patch = r.final.patchFile ? ` (patch: ${codeSpan(clipText(r.final.patchFile, LIMITS.short))})` : "";
    lines.push(`Changed files: ${files}${patch}.`);
  }
  if (!r.final && r.baseline) {
    const w = r.baseline.wallMs;
    lines.push(
      `Baseline wall time: median ${formatMs(w.median)} (n = ${w.n}, IQR ${formatMs(w.iqr)}, CV ${formatPercent(w.cvPct)}).`,
    );
  }
  return lines.filter((l) => l !== "").join("  \n");
}

/** "### Before / after" with the comparison table of `final.comparisons`, or "" without a final. */
export function tableSection(r: Results): string {
  if (!r.final || r.final.comparisons.length === 0) return "";
  return `### Before / after\n\n${comparisonTable(r.final.comparisons)}`;
}

/** The numbers of a verdict: "cpuPerWall = 0.98 · busyCores = 1" (names escaped, order kept). */
function verdictNumbers(v: Verdict): string {
  return Object.entries(v.numbers)
    .map(([k, x]) => `${escapeInline(clipText(k, LIMITS.short))} = ${formatNumber(x)}`)
    .join(" · ");
}

/** "### Bottleneck": the top verdict in full (rule, numbers, share, Amdahl bound, confidence, remedies), others briefly. */
export function verdictSection(r: Results): string {
  const [top, ...others] = r.verdicts;
  if (!top) return "";
  const lines = [
    `### Bottleneck: ${top.category}`,
    "",
    `**${top.category}** explains ${formatPercent(top.sharePct)} of run time (Amdahl bound ${formatFactor(top.amdahlBound)}), confidence ${top.confidence.toFixed(2)}.  `,
    `Rule: ${escapeInline(clipText(top.rule, LIMITS.reason))}  `,
    `Numbers: ${verdictNumbers(top)}`,
  ];
  if (top.remedies.length > 0) {
    lines[lines.length - 1] += "  ";
    lines.push(`Remedies: ${listed(top.remedies, 8, (s) => escapeInline(clipText(s, LIMITS.short)))}`);
  }
  if (others.length > 0) {
    lines.push("", "Other verdicts:");
    for (const v of others.slice(0, LIMITS.list)) {
      lines.push(
        `- ${v.category}: ${formatPercent(v.sharePct)} of run time, Amdahl bound ${formatFactor(v.amdahlBound)}, confidence ${v.confidence.toFixed(2)}`,
      );
    }
  }
  return lines.join("\n");
}

/** "### Hot spots": the first LIMITS.hotSpots hot spots as a table (function, location, self %, cumulative %, calls). */
export function hotSpotSection(r: Results): string {
  if (r.hotSpots.length === 0) return "";
  const rows = r.hotSpots
    .slice(0, LIMITS.hotSpots)
    .map((h) => [
      escapeTableCell(clipText(h.function, LIMITS.short)),
      escapeTableCell(`${clipText(h.file, LIMITS.short)}:${h.line}`),
      formatPercent(h.selfPct),
      formatPercent(h.cumulativePct),
      h.calls === null ? "—" : formatNumber(h.calls),
    ]);
  const table = markdownTable([["function", "location", "self %", "cumulative %", "calls"], ...rows], {
    align: ["l", "l", "r", "r", "r"],
  });
  const more =
    r.hotSpots.length > LIMITS.hotSpots
      ? `\n\n${r.hotSpots.length - LIMITS.hotSpots} more in results.json.`
      : "";
  return `### Hot spots\n\n${table}${more}`;
}

/** "### Recommended settings": knob values with their measured effect, plus a copyable env block. */
export function recommendationSection(r: Results): string {
  const recs = r.final?.recommendations ?? [];
  if (recs.length === 0) return "";
  const rows = recs.map((k) => [
    escapeTableCell(clipText(k.knob, LIMITS.short)),
    escapeTableCell(`${clipText(k.env, LIMITS.short)}=${clipText(k.value, LIMITS.short)}`),
    formatPct(k.improvementPct),
  ]);
  const table = markdownTable([["knob", "setting", "measured improvement"], ...rows], {
    align: ["l", "l", "r"],
  });
  const env = codeBlock(recs.map((k) => `export ${k.env}=${k.value}`).join("\n"), "sh");
  return `### Recommended settings\n\n${table}\n\nImprovement is in the primary metric, positive = better.\n\n${env}`;
}

/** One round as a folded <details>: strategy, description, rationale, files, env, gate/reason, comparison. */
export function roundDetails(round: RoundRecord): string {
  const gate = round.gate ? ` at ${round.gate}` : "";
  const summary = `Round ${round.n} · ${round.strategy} · ${round.outcome}${gate} · est. vs baseline ${formatPct(round.bestImprovementPct)} — ${escapeHtmlText(clipText(round.description, 120))}`;
  const body = [
    `**Change:** ${escapeInline(clipText(round.description, LIMITS.short * 2))}`,
    `**Rationale:**\n${escapeMarkdown(clipText(round.rationale, LIMITS.rationale))}`,
  ];
  if (round.files.length > 0) {
    body.push(`**Files:** ${listed(round.files, LIMITS.list, (f) => codeSpan(clipText(f, LIMITS.short)))}`);
  }
  const env = Object.entries(round.env);
  if (env.length > 0) {
    body.push(`**Env:** ${env.map(([k, v]) => codeSpan(clipText(`${k}=${v}`, LIMITS.short))).join(", ")}`);
  }
  const candidates = candidateTable(round);
  if (candidates) body.push(`**Candidates:**\n\n${candidates}`);
  const behaviour = behaviourLines(round);
  if (behaviour) body.push(behaviour);
  const verdict = round.gate ? `stopped at the ${round.gate} gate` : "passed every gate";
  body.push(`**Gates:** ${verdict}: ${escapeInline(clipText(round.reason, LIMITS.reason))}`);
  if (round.comparison) {
    const c = round.comparison;
    body.push(`**Comparison with the best so far:** ${comparisonWords(c)} — ${comparisonLabel(c)}`);
  }
  const cost = round.costUsd === undefined ? "" : `, estimated ${formatUsd(round.costUsd)}`;
  body.push(`**Took:** ${formatMs(round.durationMs)}, ${formatNumber(round.tokens)} tokens${cost}`);
  return `<details>\n<summary>${summary}</summary>\n\n${body.join("\n\n")}\n\n</details>`;
}

/** "### Rounds" with one <details> per round, or "" without rounds. */
export function roundsSection(r: Results): string {
  if (r.rounds.length === 0) return "";
  return `### Rounds\n\n${r.rounds.map(roundDetails).join("\n\n")}`;
}

/** Folded "How to reproduce": the commands in a code block, the environment and the isolation. */
export function reproduceSection(r: Results): string {
  const e = r.environment;
  const gpus =
    e.gpus.length > 0 ? listed(e.gpus, 16, (g) => escapeInline(clipText(g, LIMITS.short))) : "none";
  const commands = r.reproduce.length > 0 ? codeBlock(r.reproduce.join("\n"), "sh") : "No commands recorded.";
  return [
    "<details>",
    "<summary>How to reproduce</summary>",
    "",
    commands,
    "",
    `Environment: ${escapeInline(clipText(e.cpu, LIMITS.short))}, ${formatNumber(e.cores)} cores, ${formatBytes(e.memoryBytes)} memory, ${escapeInline(clipText(e.os, LIMITS.short))}; GPUs: ${gpus}.  `,
    `Isolation: ${escapeInline(clipText(r.isolation, LIMITS.reason))}`,
    "",
    "</details>",
  ].join("\n");
}

/** Small print: version, duration, model usage, and where every number comes from. */
export function footerSection(r: Results): string {
  const u = r.usage;
  const tokens = `${formatNumber(u.promptTokens)} prompt + ${formatNumber(u.completionTokens)} completion tokens`;
  return `<sub>perfloop ${escapeHtmlText(clipText(r.perfloopVersion, 40))} · ${escapeHtmlText(r.mode)} · took ${formatMs(r.durationMs)} · ${formatNumber(u.modelCalls)} model calls, ${tokens} · every number is from results.json (raw runs: perf_raw.json in the evidence artifact)</sub>`;
}

/** Secrets replaced in the evidence (`sandbox.redactions` of results.json): how many, in which files. */
export interface RedactionNote {
  count: number;
  files: readonly string[];
}

/**
 * The line under the title when secrets were redacted from the evidence (issue 10, item 5; the
 * redaction is src/core/evidence/redact.ts): "> **At least 2 secrets redacted** from the evidence
 * (`setup.log`, …) …". "At least": files written after the count was taken may add more. "" when
 * the count is 0.
 */
export function redactionSection(note: RedactionNote | undefined): string {
  if (!note || note.count <= 0) return "";
  const files = listed(note.files, 5, (f) => codeSpan(clipText(f, LIMITS.short)));
  const what = note.count === 1 ? "1 secret" : `${formatNumber(note.count)} secrets`;
  return `> **At least ${what} redacted** from the evidence${files ? ` (${files})` : ""}: a secret's value (plain, base64 or hex) or a token-shaped string that a command printed was replaced by \`[REDACTED:…]\`.`;
}

/**
 * The report's first line when the user's commands ran without a sandbox (`sandbox.isolation:
 * none`, README "Safety"): the PR comment and the job summary start with it too. Empty otherwise.
 */
export function sandboxWarningSection(r: Results): string {
  const warning = r.sandbox?.warning;
  return warning ? `> [!WARNING]\n> ${escapeInline(clipText(warning, LIMITS.reason))}` : "";
}
