/**
 * Publishing a scheduled scan: read the previous scans' numbers from the tracking issue, open the
 * follow-up PR of a verified improvement (within the open-PR limit), and rewrite the tracking issue
 * with the bottleneck report, the trend and the follow-up line.
 */
import type { Results } from "../../core/evidence/results-schema.ts";
import { clipText, codeSpan, escapeInline } from "../../core/report/escape.ts";
import { renderReport } from "../../core/report/report.ts";
import type { GitHubClient, RepoRef, RunLinks } from "../../publish/index.ts";
import { openScanFollowUp, type ScanFollowUp, type ScanFollowUpRequest } from "./follow-up.ts";
import { findTrackingIssue, writeTrackingIssue } from "./tracking-issue.ts";
import {
  decodeHistory,
  encodeHistory,
  HISTORY_LENGTH,
  type ScanEntry,
  scanEntry,
  trendMarkdown,
} from "./trend.ts";

/** What publishing a scan did. */
export interface ScanOutcome {
  issue: { number: number; url: string; created: boolean };
  followUp: ScanFollowUp | null;
  /** The history now stored, newest first. */
  history: ScanEntry[];
}

/** Everything a scan's publication needs; `followUp` is null when there is no verified patch. */
export interface ScanPublication {
  results: Results;
  sha: string;
  defaultBranch: string;
  serverUrl: string;
  repository: string;
  links: RunLinks;
  followUp: Omit<ScanFollowUpRequest, "results" | "links" | "sha" | "defaultBranch"> | null;
}

/** A markdown link for an https URL, else null (never a javascript: or file: link). */
function link(label: string, url: string | undefined): string | null {
  return url && /^https:\/\/[^\s<>()[\]"'`]+$/.test(url) ? `[${label}](${url})` : null;
}

/**
 * Publishes the scan.
 * @throws RequestError when GitHub refuses the issue (e.g. 403 without `issues: write`) or listing PRs.
 */
export async function publishScan(
  client: GitHubClient,
  repo: RepoRef,
  pub: ScanPublication,
): Promise<ScanOutcome> {
  const existing = await findTrackingIssue(client, repo);
  const stored = decodeHistory(existing?.body);
  const followUp = pub.followUp
    ? await openScanFollowUp(client, repo, {
        ...pub.followUp,
        results: pub.results,
        links: pub.links,
        sha: pub.sha,
        defaultBranch: pub.defaultBranch,
      })
    : null;
  const history = [scanEntry(pub.results, pub.sha), ...stored.history].slice(0, HISTORY_LENGTH);
  const issue = await writeTrackingIssue(
    client,
    repo,
    existing,
    encodeHistory(history),
    issueMarkdown(pub, history, stored.note, followUp),
  );
  return { issue, followUp, history };
}

/** The follow-up line of the issue. */
function followUpLine(results: Results, followUp: ScanFollowUp | null): string {
  if (followUp?.status === "created")
    return `**Follow-up PR:** #${followUp.number} (branch ${codeSpan(followUp.branch)}).`;
  if (followUp?.status === "skipped")
    return `**Follow-up PR:** not opened: ${escapeInline(clipText(followUp.reason, 600))}${followUp.pr ? ` (#${followUp.pr})` : ""}.`;
  return results.status === "improved"
    ? ""
    : "**Follow-up PR:** none (no verified improvement in this scan).";
}

/** The issue body below the hidden parts. */
function issueMarkdown(
  pub: ScanPublication,
  history: readonly ScanEntry[],
  note: string | null,
  followUp: ScanFollowUp | null,
): string {
  const commitUrl = (sha: string) => `${pub.serverUrl}/${pub.repository}/commit/${sha}`;
  const links = [link("workflow run", pub.links.runUrl), link("evidence artifact", pub.links.artifactUrl)];
  const when = pub.results.finishedAt.slice(0, 16).replace("T", " ");
  const intro = `perfloop scans ${codeSpan(pub.defaultBranch)} on a schedule and keeps this issue current: the bottleneck report of the latest scan, the trend of its benchmark, and follow-up PRs for verified improvements. Close the issue to reset the trend; the next scan opens a new one.`;
  const latest = `**Latest scan:** ${codeSpan(pub.sha.slice(0, 12))}, ${when} UTC: **${pub.results.status}**. ${escapeInline(clipText(pub.results.message, 600))}${links.some((l) => l) ? ` (${links.filter((l) => l !== null).join(" · ")})` : ""}`;
  const trend = `### Trend\n\nBaseline medians of successive scans. They come from separate runs, not an interleaved A/B: a change within the baseline's coefficient of variation is noise, and scans on different hardware are not compared.\n\n${trendMarkdown(history, commitUrl)}${note ? `\n\n${escapeInline(note)}` : ""}`;
  const report = renderReport(pub.results, {
    maxChars: 45_000,
    ...(pub.links.artifactUrl ? { fullReportUrl: pub.links.artifactUrl } : {}),
  });
  const line = followUpLine(pub.results, followUp);
  return [
    `## perfloop scan`,
    intro,
    latest,
    ...(line ? [line] : []),
    trend,
    `### Report of the latest scan`,
    report.trimEnd(),
  ].join("\n\n");
}
