/**
 * The words perfloop publishes: sticky-comment phases, check-run outputs, the follow-up PR's title
 * and body. Untrusted text (results fields, error messages, reasons) goes through core's escaping;
 * logins and URLs come from GitHub payloads and API responses.
 */
import type { Results } from "../core/evidence/results-schema.ts";
import { headline } from "../core/report/comparison.ts";
import { clipText, codeSpan, escapeInline, escapeMarkdown } from "../core/report/escape.ts";
import { renderReport } from "../core/report/report.ts";
import type { CheckOutput } from "./check-run.ts";
import type { FollowUpResult } from "./follow-up-pr.ts";
import { plainHeadline, plainText } from "./plain-text.ts";
import type { RunLinks } from "./types.ts";

/** Who asked and how: shown in the phase messages. All fields optional (the Action has fewer). */
export interface RequestInfo {
  requestId: string;
  /** Login of the person (or allowed bot) who asked. */
  requestedBy?: string;
  /** How: "/optimize" comment, label, workflow. */
  via?: string;
  /** Arguments, e.g. `{ rounds: 3, target: "20%" }`, shown as given. */
  args?: Record<string, string | number>;
}

/** Room under the 65,536-character comment limit for the report inside a sticky comment or PR body. */
export const REPORT_MAX_CHARS = 60_000;

/** A URL as a markdown link when it is a plain https URL, else nothing (never a javascript: link). */
function link(label: string, url: string | undefined): string | null {
  return url && /^https:\/\/[^\s<>()[\]"'`]+$/.test(url) ? `[${label}](${url})` : null;
}

/** "run · evidence · request `id`" footer line. */
function footer(info: RequestInfo, links: RunLinks): string {
  const parts = [
    link("workflow run", links.runUrl),
    link("evidence artifact", links.artifactUrl),
    `request ${codeSpan(info.requestId)}`,
  ];
  return `<sub>${parts.filter((p) => p !== null).join(" · ")}</sub>`;
}

/** "requested by @x via /optimize (rounds 3, target 20%)". */
function who(info: RequestInfo): string {
  const by = info.requestedBy ? ` by @${info.requestedBy.replace(/[^A-Za-z0-9[\]_-]/g, "")}` : "";
  const via = info.via ? ` via ${codeSpan(info.via)}` : "";
  const args = Object.entries(info.args ?? {}).map(
    ([k, v]) => `${escapeInline(k)} ${escapeInline(String(v))}`,
  );
  return `requested${by}${via}${args.length ? ` (${args.join(", ")})` : ""}`;
}

/** Sticky comment while the run waits for the GPU runner. */
export function queuedMarkdown(info: RequestInfo, links: RunLinks): string {
  const run = link("the workflow run", links.runUrl);
  return `### perfloop · ⏳ queued on the GPU runner\n\nOptimization ${who(info)}. ${run ? `Follow ${run}.` : "The link to the run appears here once it starts."}\n\n${footer(info, links)}`;
}

/**
 * Sticky comment while the runner works; with the runner's live `checklist` (markdown it escaped,
 * src/core/report/checklist.ts) when the App mirrors one (src/app/progress-mirror.ts).
 */
export function runningMarkdown(info: RequestInfo, links: RunLinks, checklist?: string): string {
  const run = link("workflow run", links.runUrl) ?? "workflow run";
  const list = checklist ? `\n\n${checklist}` : "";
  return `### perfloop · 🏃 running\n\nOptimization ${who(info)} is running: ${run}. Results, the before/after table and a follow-up PR appear here when it ends.${list}\n\n${footer(info, links)}`;
}

/** Sticky comment for a failed run (no trustworthy results): the reason, escaped. */
export function failureMarkdown(info: RequestInfo, reason: string, links: RunLinks): string {
  return `### perfloop · ❌ failed\n\n${escapeMarkdown(clipText(reason, 4_000))}\n\n${footer(info, links)}`;
}

/** Sticky comment for a cancelled run. */
export function cancelledMarkdown(
  info: RequestInfo,
  cancelledBy: string | undefined,
  links: RunLinks,
): string {
  const by = cancelledBy ? ` by @${cancelledBy.replace(/[^A-Za-z0-9[\]_-]/g, "")}` : "";
  return `### perfloop · 🚫 cancelled\n\nThe run was cancelled${by}.\n\n${footer(info, links)}`;
}

/** The follow-up PR line: a link, or why there is none. */
function followUpLine(result: FollowUpResult | null): string {
  if (result === null) return "";
  if (result.status === "skipped")
    return `**Follow-up PR:** not opened: ${escapeInline(clipText(result.reason, 600))}.`;
  return `**Follow-up PR:** #${result.number} (${result.status === "created" ? "opened" : "updated"}, branch ${codeSpan(result.branch)}).`;
}

/** Sticky comment with results: the rendered report, the follow-up PR line and the links. */
export function resultsMarkdown(
  results: Results,
  info: RequestInfo,
  links: RunLinks,
  followUp: FollowUpResult | null,
): string {
  const report = renderReport(results, {
    maxChars: REPORT_MAX_CHARS,
    fullReportUrl: links.artifactUrl ?? links.runUrl,
  });
  const line = followUpLine(followUp);
  return `${report.trimEnd()}\n\n${line ? `${line}\n\n` : ""}${footer(info, links)}`;
}

/** Plain-text words for a results status, used in titles. */
const STATUS_TITLE: Record<Results["status"], string> = {
  improved: "Improved",
  "no-improvement": "No significant improvement",
  inconclusive: "Inconclusive",
  "baseline-failed": "Baseline failed",
  error: "perfloop error",
  cancelled: "Cancelled",
  timeout: "Timed out",
  passed: "Gate passed",
  regressed: "Performance regression",
  "head-failed": "Head failed",
};

/** The check-run output for results: title from the status and headline, summary, full report as text. */
export function resultsCheckOutput(
  results: Results,
  info: RequestInfo,
  links: RunLinks,
  followUp: FollowUpResult | null,
): CheckOutput {
  const primary = results.final?.primary;
  const head = primary ? headline(primary) : "";
  const title = `${STATUS_TITLE[results.status]}${primary ? `: ${plainHeadline(primary)}` : ""}`;
  const summary = [
    head ? `**${STATUS_TITLE[results.status]}:** ${head}` : `**${STATUS_TITLE[results.status]}**`,
    escapeInline(clipText(results.message, 1_000)),
    followUpLine(followUp),
    footer(info, links),
  ];
  return {
    title,
    summary: summary.filter((s) => s !== "").join("\n\n"),
    text: renderReport(results, {
      maxChars: REPORT_MAX_CHARS,
      fullReportUrl: links.artifactUrl ?? links.runUrl,
    }),
  };
}

/**
 * Check-run output for a phase ("Queued on the GPU runner", "Running", …) with the run link, and
 * the runner's live `checklist` when there is one.
 */
export function phaseCheckOutput(
  title: string,
  info: RequestInfo,
  links: RunLinks,
  checklist?: string,
): CheckOutput {
  const run = link("Workflow run", links.runUrl);
  const list = checklist ? `\n\n${checklist}` : "";
  return {
    title,
    summary: `${title}: optimization ${who(info)}.${run ? ` ${run}.` : ""}${list}\n\n${footer(info, links)}`,
  };
}

/** Check-run output for a failure, with the escaped reason. */
export function failureCheckOutput(reason: string, info: RequestInfo, links: RunLinks): CheckOutput {
  return {
    title: "The perfloop run failed",
    summary: `${escapeMarkdown(clipText(reason, 4_000))}\n\n${footer(info, links)}`,
  };
}

/**
 * The follow-up PR title: plain text (GitHub does not render titles as markdown, so nothing is
 * escaped: see plain-text.ts), one line, at most 120 characters.
 */
export function followUpTitle(results: Results, prNumber: number): string {
  const primary = results.final?.primary;
  const what = primary ? ` (${plainHeadline(primary)})` : "";
  return clipText(plainText(`perf: perfloop optimization for #${prNumber}${what}`), 120);
}

/** The follow-up PR body: what it is, the report (with table and reproduce commands), the links. */
export function followUpBody(
  results: Results,
  info: RequestInfo,
  links: RunLinks,
  pr: { number: number; headRef: string; headSha: string },
): string {
  const intro = `This pull request carries the verified optimization perfloop found for #${pr.number}. It is based on ${codeSpan(pr.headRef)} at ${codeSpan(pr.headSha.slice(0, 12))}; merging it applies \`final.patch\` to that branch. Review it like any other change.`;
  const report = renderReport(results, {
    maxChars: REPORT_MAX_CHARS - 2_000,
    fullReportUrl: links.artifactUrl ?? links.runUrl,
  });
  return `${intro}\n\n${report.trimEnd()}\n\n${footer(info, links)}`;
}

/** What a refusal says about the bundle, then the problems as a list (escaped: they quote the patch). */
function refusalBody(problems: readonly string[]): string {
  const shown = problems.slice(0, 20).map((p) => `- ${escapeInline(clipText(p, 600))}`);
  const more = problems.length > 20 ? [`- … and ${problems.length - 20} more`] : [];
  return [
    "perfloop checks every results bundle again before it writes anything to the repository: the patch policy (no tests, benchmarks, `.github/`, perfloop config, lock files, protected or out-of-bounds paths; size caps), that `final.patch` changes exactly the files `results.json` lists, and that it applies exactly to the pull request's head. This bundle failed, so **nothing was published: no branch, no commit, no pull request**, and its numbers are not reported.",
    [...shown, ...more].join("\n"),
    "A runner should never produce such a bundle: inspect the workflow run and its evidence artifact.",
  ].join("\n\n");
}

/** Sticky comment for a refused results bundle: why, the problems, the links. */
export function refusedMarkdown(problems: readonly string[], info: RequestInfo, links: RunLinks): string {
  return `### perfloop · ⛔ results refused\n\n${refusalBody(problems)}\n\n${footer(info, links)}`;
}

/** Check-run output for a refused results bundle (concluded `failure`). */
export function refusedCheckOutput(
  problems: readonly string[],
  info: RequestInfo,
  links: RunLinks,
): CheckOutput {
  const first = problems[0] ? `: ${plainText(problems[0])}` : "";
  return {
    title: `Results refused${first}`,
    summary: `${refusalBody(problems)}\n\n${footer(info, links)}`,
  };
}
