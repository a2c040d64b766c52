/**
 * The agent's part of the report: each round's candidates as a table (their gates, quick screen,
 * whether they got the full A/B, cost, and why they were or were not chosen), the behaviour
 * capture's first differing call, and the model usage line.
 */
import { markdownTable } from "markdown-table";
import type { CandidateRecord, Results, RoundRecord } from "../evidence/results-schema.ts";
import { clipText, codeSpan, escapeInline, escapeTableCell } from "./escape.ts";
import { formatNumber, formatPct } from "./format.ts";

/** Characters of a candidate's reason in its table cell (the whole reason is in results.json). */
const REASON_CELL = 300;

/** A cost in USD: "$0.0123"; "—" when unknown. */
export function formatUsd(usd: number | null | undefined): string {
  return usd === null || usd === undefined ? "—" : `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}

/** The screen cell: "B/A 0.712 (+28.8%)", with "~" when within the runs' spread; "—" without a screen. */
function screenCell(c: CandidateRecord): string {
  if (!c.screen) return "—";
  return `B/A ${c.screen.ratio.toFixed(3)} (${formatPct(c.screen.changePct)})${c.screen.withinNoise ? ", within noise" : ""}`;
}

/**
 * A round's candidates as a markdown table, or "" for a round without candidate records (knob
 * rounds). Columns: candidate, outcome, gate, screen, full A/B, tokens, cost, tool calls, why.
 */
export function candidateTable(round: RoundRecord): string {
  const candidates = round.candidates ?? [];
  if (candidates.length === 0) return "";
  const rows = candidates.map((c) => [
    String(c.k),
    c.outcome,
    c.gate ?? "—",
    screenCell(c),
    c.measured ? "yes" : "no",
    formatNumber(c.tokens),
    formatUsd(c.costUsd),
    String(c.toolCalls),
    escapeTableCell(clipText(c.reason, REASON_CELL)),
  ]);
  return markdownTable(
    [["candidate", "outcome", "gate", "screen", "full A/B", "tokens", "cost", "tool calls", "why"], ...rows],
    { align: ["r", "l", "l", "l", "l", "r", "r", "r", "l"] },
  );
}

/**
 * What behaviour capture found in a round, one paragraph per candidate: the first differing call,
 * or that nothing could be compared (the candidate no longer calls the recorded functions); ""
 * when there is nothing to say.
 */
export function behaviourLines(round: RoundRecord): string {
  return (round.candidates ?? [])
    .map((c) => {
      const b = c.behaviour;
      const d = b?.difference;
      if (d)
        return `**Behaviour capture, candidate ${c.k}:** ${codeSpan(clipText(d.call, 200))} returned ${codeSpan(clipText(d.candidate, 200))} instead of ${codeSpan(clipText(d.baseline, 200))} (${escapeInline(clipText(d.function, 200))}); its output was the same.`;
      if (b && b.callsCompared === 0 && b.missing.length > 0)
        return `**Behaviour capture, candidate ${c.k}:** nothing compared — it no longer calls ${b.missing
          .slice(0, 5)
          .map((f) => codeSpan(clipText(f, 200)))
          .join(", ")} (renamed or inlined); only the tests and the output checked it.`;
      return "";
    })
    .filter(Boolean)
    .join("\n\n");
}

/** "Model: 14 calls, 16,800 tokens, est. $0.0432; behaviour capture: …" for the summary; "" without a model. */
export function usageLine(r: Results): string {
  const u = r.usage;
  const parts: string[] = [];
  if (u.modelCalls > 0)
    parts.push(
      `Model: ${formatNumber(u.modelCalls)} call(s), ${formatNumber(u.promptTokens + u.completionTokens)} tokens${u.costUsd === undefined ? "" : `, estimated cost ${formatUsd(u.costUsd)}`}.`,
    );
  if (r.behaviour)
    parts.push(
      `Behaviour capture: ${formatNumber(r.behaviour.calls)} distinct call(s) of ${r.behaviour.functions.length} hot function(s) recorded on the baseline; every candidate is compared with them.`,
    );
  if (r.focus) parts.push(`Pull request: ${escapeInline(clipText(r.focus.text, 400))}`);
  return parts.join("  \n");
}
