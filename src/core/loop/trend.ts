/**
 * The run's place in the performance history (docs/gate.md, "History"): its own history line
 * (`history-record.json`, which the Action appends to the repository's store), and, when the
 * history already holds earlier commits of the same benchmark on the same machine — the default
 * branch's runs and this pull request's own gates — the trend:
 * `figures/trend.svg` and a markdown section for report.md. Never fails the run.
 */
import type { Results } from "../evidence/results-schema.ts";
import type { EvidenceWriter } from "../evidence/writer.ts";
import { type HistoryRecord, historyRecordOf } from "../history/record.ts";
import { trendMermaid, trendOf } from "../history/trend.ts";
import { trendSvg } from "../history/trend-svg.ts";
import { clipText, escapeInline } from "../report/escape.ts";

/** What the caller knows of the history: its records (oldest first) and the commit this run measured. */
export interface RunHistory {
  records: HistoryRecord[];
  /** The measured commit, 40 hex digits (the gate's head; the checked-out commit of a run). */
  commit: string;
}

/**
 * Writes the run's history line and, with at least two commits in the series, the trend figure.
 * @returns the report section ("" when there is no trend to show).
 */
export async function writeTrend(
  evidence: EvidenceWriter,
  results: Results,
  history: RunHistory,
): Promise<string> {
  try {
    const record = historyRecordOf(results, history.commit);
    if (!record) return "";
    await evidence.json("history-record.json", record);
    // One line of history: the default branch's runs, and the gates of this pull request (or, with
    // no pull request, the local gates of `--history FILE`) — never another pull request's heads,
    // whose steps would read as changes of this one.
    const line = history.records.filter((r) => r.kind === "run" || r.pr === record.pr);
    const trend = trendOf([...line, record], record);
    if (!trend || trend.points.length < 2) return "";
    await evidence.text("figures/trend.svg", trendSvg(trend));
    return `### Trend\n\n${trendMermaid(trend)}\n\nMachine: ${escapeInline(clipText(trend.machineName, 300))} (results from other machines are not compared). Figure: [figures/trend.svg](figures/trend.svg).`;
  } catch (error) {
    await evidence.audit("trend not drawn", (error as Error).message);
    return "";
  }
}
