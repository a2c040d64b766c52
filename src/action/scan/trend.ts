/**
 * The scan history kept in the tracking issue: the key numbers of the last scans, stored in the
 * issue body as a hidden HTML comment `<!-- perfloop:scan-data {json} -->`. Anyone with write access
 * can edit an issue, so the stored text is untrusted: it is size-capped, parsed with a strict zod
 * schema (bounded strings, finite numbers), and ignored with a note when it does not validate.
 * The trend compares baseline medians of separate scans, only between scans of the same metric on
 * the same hardware, and calls a step a change only when the two medians' 95% intervals (the
 * notches of src/core/history/record.ts) do not overlap — never because a median moved by more than
 * the CV, which called two scans of one commit "+30.8% (worse)" on a busy runner.
 */

import { z } from "zod";
import type { Results } from "../../core/evidence/results-schema.ts";
import { RESULTS_STATUSES } from "../../core/evidence/results-schema.ts";
import { baselineStatsOf, medianInterval } from "../../core/history/record.ts";
import { intervalsApart } from "../../core/history/trend.ts";
import { codeSpan, escapeTableCell } from "../../core/report/escape.ts";
import { formatPct, formatValue } from "../../core/report/format.ts";

/** How many scans the issue remembers. */
export const HISTORY_LENGTH = 12;
/** The stored JSON is refused above this many characters. */
const MAX_DATA_CHARS = 20_000;
const DATA_OPEN = "<!-- perfloop:scan-data ";
const DATA_CLOSE = " -->";

const finite = z.number().refine(Number.isFinite, "a finite number");
const entrySchema = z.strictObject({
  /** When the scan finished (ISO 8601). */
  at: z.iso.datetime(),
  sha: z.string().regex(/^[0-9a-f]{40}$/),
  status: z.enum(RESULTS_STATUSES),
  metric: z.string().max(100),
  unit: z.string().max(30),
  direction: z.enum(["lower", "higher"]),
  /** The baseline's median of the primary metric, in `unit`; null when not measured. */
  baseline: finite.nullable(),
  /** The baseline's coefficient of variation, %. */
  cvPct: finite.nullable(),
  /** 95% interval of the baseline's median (notch), in `unit`; absent in entries of older scans. */
  ci: z.tuple([finite, finite]).optional(),
  /** The verified improvement of this scan's best state, %; null unless improved. */
  improvementPct: finite.nullable(),
  /** The top bottleneck category. */
  bottleneck: z.string().max(40).nullable(),
  /** CPU and GPUs, to tell comparable scans apart. */
  hardware: z.string().max(400),
});

/** One scan's key numbers. */
export type ScanEntry = z.infer<typeof entrySchema>;

const dataSchema = z.strictObject({ v: z.literal(1), history: z.array(entrySchema).max(HISTORY_LENGTH) });

/** The history read back from an issue body: entries newest first, and a note when it was unusable. */
export interface StoredHistory {
  history: ScanEntry[];
  note: string | null;
}

/** The key numbers of `results` for commit `sha`. */
export function scanEntry(results: Results, sha: string): ScanEntry {
  // The primary metric's own samples (CPU time for `measure: cpu`), as the history records them.
  const stats = baselineStatsOf(results);
  const env = results.environment;
  return {
    at: results.finishedAt,
    sha,
    status: results.status,
    metric: results.benchmark.metric.slice(0, 100),
    unit: results.benchmark.unit.slice(0, 30),
    direction: results.benchmark.direction,
    baseline: stats && Number.isFinite(stats.median) ? stats.median : null,
    cvPct: stats && Number.isFinite(stats.cvPct) ? stats.cvPct : null,
    ...(stats && Number.isFinite(stats.median) && Number.isFinite(stats.iqr)
      ? { ci: medianInterval(stats) }
      : {}),
    improvementPct:
      results.status === "improved" && results.final ? results.final.primary.improvementPct : null,
    bottleneck: results.verdicts[0]?.category ?? null,
    hardware: `${env.cpu} ×${env.cores}${env.gpus.length ? `; ${env.gpus.join(", ")}` : ""}`.slice(0, 400),
  };
}

/** The hidden comment holding `history` (JSON with `<`, `>` escaped, so it cannot close the comment). */
export function encodeHistory(history: readonly ScanEntry[]): string {
  const json = JSON.stringify({ v: 1, history: history.slice(0, HISTORY_LENGTH) })
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e");
  return `${DATA_OPEN}${json}${DATA_CLOSE}`;
}

/** Reads the history from an issue body; never throws (bad data gives an empty history and a note). */
export function decodeHistory(body: string | null | undefined): StoredHistory {
  const start = (body ?? "").indexOf(DATA_OPEN);
  if (start < 0) return { history: [], note: null };
  const from = start + DATA_OPEN.length;
  const end = (body ?? "").indexOf(DATA_CLOSE, from);
  const json = end < 0 ? "" : (body ?? "").slice(from, end);
  const unusable = (why: string): StoredHistory => ({
    history: [],
    note: `The stored numbers of earlier scans were ignored (${why}); the trend starts again here.`,
  });
  if (json.length === 0 || json.length > MAX_DATA_CHARS) return unusable("missing or oversized");
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return unusable("not valid JSON");
  }
  const parsed = dataSchema.safeParse(raw);
  return parsed.success
    ? { history: parsed.data.history, note: null }
    : unusable("not in the expected shape");
}

/** Whether two scans measured the same thing on the same hardware. */
function comparable(a: ScanEntry, b: ScanEntry): boolean {
  return (
    a.metric === b.metric && a.unit === b.unit && a.direction === b.direction && a.hardware === b.hardware
  );
}

/**
 * The change of `current`'s baseline against `previous`'s, in words: "+12.3% (worse: the intervals
 * do not overlap)", "+1.0%, within the intervals (no change shown)", or why there is no comparison.
 */
export function trendWords(current: ScanEntry, previous: ScanEntry | undefined): string {
  if (!previous) return "first scan";
  if (!comparable(current, previous)) return "not comparable (metric or hardware changed)";
  if (current.baseline === null || previous.baseline === null || previous.baseline === 0)
    return "not measured";
  const change = ((current.baseline - previous.baseline) / previous.baseline) * 100;
  if (!current.ci || !previous.ci)
    return `${formatPct(change)} (not judged: an earlier scan stored no interval)`;
  if (!intervalsApart(previous.ci, current.ci))
    return `${formatPct(change)}, within the intervals (no change shown)`;
  const better = current.direction === "lower" ? change < 0 : change > 0;
  return `${formatPct(change)} (${better ? "better" : "worse"}: the intervals do not overlap)`;
}

/**
 * The trend table, newest first: date, commit, baseline median, change against the nearest earlier
 * scan with a baseline, outcome, top bottleneck. Every stored string is escaped (it may have been edited by anyone).
 * @param commitUrl makes a commit link from a SHA.
 */
export function trendMarkdown(history: readonly ScanEntry[], commitUrl: (sha: string) => string): string {
  const rows = history.map((entry, k) => {
    const value = entry.baseline === null ? "n/a" : formatValue(entry.baseline, entry.unit);
    const outcome =
      entry.improvementPct === null ? entry.status : `${entry.status} (${formatPct(entry.improvementPct)})`;
    // Against the nearest earlier scan that measured a baseline (a failed scan in between is skipped).
    const previous = history.slice(k + 1).find((h) => h.baseline !== null);
    const trend = entry.baseline === null ? "not measured" : trendWords(entry, previous);
    return `| ${entry.at.slice(0, 10)} | [${codeSpan(entry.sha.slice(0, 7), { inTable: true })}](${commitUrl(entry.sha)}) | ${escapeTableCell(value)} | ${escapeTableCell(trend)} | ${escapeTableCell(outcome)} | ${escapeTableCell(entry.bottleneck ?? "none")} |`;
  });
  return [
    "| scan | commit | baseline median | vs. the scan before | outcome | bottleneck |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}
