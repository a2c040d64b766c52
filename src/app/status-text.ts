/**
 * The words of the `/optimize status` reply: the phase of the pull request's latest run (queued,
 * running, finished and how, cancelled, timed out), its workflow run link, request id, when it
 * started and who asked. Logins and URLs come from GitHub; nothing untrusted is shown unescaped,
 * and no line starts with the command, so the reply never triggers.
 */
import { codeSpan } from "../core/report/escape.ts";
import type { CheckRunInfo, RequestInfo } from "../publish/index.ts";

/** What the status reply shows of a request. */
export interface StatusView {
  requestId: string;
  /** Its check runs, oldest first (the first is the request's own; others are aliases). */
  runs: readonly CheckRunInfo[];
  /** The commit it optimizes, and the pull request's head now. */
  headSha: string;
  currentHeadSha: string;
  /** True when the App concluded it `timed_out` just now (stale). */
  stale: boolean;
  /** Who asked and how (rendered by the publish messages' rules); fields absent when unknown. */
  info: RequestInfo;
  /** Now, ms since the epoch. */
  now: number;
}

/** The reply when the pull request has no run the App can see. */
export function noRunStatusReply(headSha: string): string {
  return `perfloop has no run on this pull request's head commit \`${headSha.slice(0, 7)}\` yet. Start one with \`/optimize\` (see \`/optimize help\`).`;
}

/** The status reply for a request. */
export function statusReply(v: StatusView): string {
  const first = v.runs[0];
  const runUrl = v.runs.map((r) => r.detailsUrl).find((u) => u && /\/actions\/runs\/\d+/.test(u)) ?? null;
  const commit =
    v.headSha === v.currentHeadSha
      ? `\`${v.headSha.slice(0, 7)}\` (the head commit)`
      : `\`${v.headSha.slice(0, 7)}\`, an earlier head commit (the head is now \`${v.currentHeadSha.slice(0, 7)}\`)`;
  const lines = [
    `- workflow run: ${safeUrl(runUrl) ?? "not started yet (its link appears once GitHub starts it)"}`,
    `- check run: ${safeUrl(first?.htmlUrl) ?? "not known"}`,
    `- request: ${codeSpan(v.requestId)}`,
    `- started: ${started(first?.startedAt ?? null, v.now)}`,
    `- requested by: ${who(v.info)}`,
  ];
  return `**perfloop status** · ${phase(v)} · ${commit}\n\n${lines.join("\n")}`;
}

/** The phase in words, from the request's check runs. */
function phase(v: StatusView): string {
  if (v.stale) return "⌛ timed out (no result arrived within `app.stale_after_hours`)";
  const active = v.runs.filter((r) => r.status !== "completed");
  if (active.some((r) => r.status === "in_progress")) return "🏃 running";
  if (active.length > 0) return "⏳ queued";
  const conclusion = v.runs[0]?.conclusion ?? null;
  return FINISHED[conclusion ?? ""] ?? `finished (${conclusion ?? "no conclusion"})`;
}

/** Check-run conclusions in words. */
const FINISHED: Record<string, string> = {
  success: "✅ finished: verified improvement",
  neutral: "➖ finished: no significant improvement, or inconclusive",
  failure: "❌ finished: failed",
  cancelled: "🚫 cancelled",
  timed_out: "⌛ timed out",
  skipped: "finished: skipped",
};

/** "2026-05-01 12:00 UTC (5 minutes ago)". */
function started(iso: string | null, now: number): string {
  const at = iso === null ? Number.NaN : Date.parse(iso);
  if (Number.isNaN(at)) return "not known";
  const when = new Date(at).toISOString().slice(0, 16).replace("T", " ");
  return `${when} UTC (${ago(now - at)})`;
}

/** A duration in the past, in words. */
function ago(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  if (minutes < 1) return "just now";
  if (minutes < 90) return `${minutes} minute${minutes === 1 ? "" : "s"} ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hours ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** "@x via `/optimize` (rounds 3, target 20%)", or why it is not known. */
function who(info: RequestInfo): string {
  if (!info.requestedBy)
    return "not known to the App (it keeps who asked in memory, and was restarted since or runs as another replica)";
  const by = `@${info.requestedBy.replace(/[^A-Za-z0-9[\]_-]/g, "")}`;
  const via = info.via ? ` via ${codeSpan(info.via)}` : "";
  const args = Object.entries(info.args ?? {}).map(([k, v]) => `${k} ${String(v).replace(/[^\w.%-]/g, "")}`);
  return `${by}${via}${args.length > 0 ? ` (${args.join(", ")})` : ""}`;
}

/** A plain https URL, or null (never a javascript: link). */
function safeUrl(url: string | null | undefined): string | null {
  return url && /^https:\/\/[^\s<>()[\]"'`]+$/.test(url) ? url : null;
}
