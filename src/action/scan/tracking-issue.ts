/**
 * The one tracking issue of scheduled scans, titled "perfloop scan" and marked by a hidden comment
 * at the start of its body. It is found among the repository's open issues (most recently updated
 * first, so a busy repository finds it on the first page), created when there is none (a closed one
 * is left closed: closing it resets the trend), and rewritten in place after every scan.
 */

import type { GitHubClient, RepoRef } from "../../publish/index.ts";
import { truncateMarkdown } from "../../publish/index.ts";

/** The tracking issue's title. */
export const TRACKING_TITLE = "perfloop scan";
/** The hidden marker that opens the body (an HTML comment: GitHub does not render it). */
export const TRACKING_MARKER = "<!-- perfloop:scan -->";
/** GitHub's issue body limit is 65,536 characters; leave room. */
const BODY_MAX_CHARS = 65_000;

/** An issue as listed. */
interface ListedIssue {
  number: number;
  title: string;
  body?: string | null;
  html_url: string;
  pull_request?: unknown;
  user: { type?: string } | null;
  author_association?: string;
}

/** The tracking issue found: number, link, and its body (holding the previous scan's numbers). */
export interface TrackingIssue {
  number: number;
  url: string;
  body: string;
}

/**
 * Whether `issue` is the tracking issue: the title, the marker, and an author that could have made
 * it — a bot (the workflow's token), or someone with write access (a personal token). An issue a
 * passer-by opened with the same title and marker is never taken over.
 */
function isTracking(issue: ListedIssue): boolean {
  const trustedAuthor =
    issue.user?.type === "Bot" ||
    ["OWNER", "MEMBER", "COLLABORATOR"].includes(issue.author_association ?? "");
  return (
    issue.pull_request === undefined &&
    issue.title === TRACKING_TITLE &&
    (issue.body ?? "").startsWith(TRACKING_MARKER) &&
    trustedAuthor
  );
}

/**
 * Finds the open tracking issue (pages of 100, stopping at the first match).
 * @returns the issue, or null when there is none.
 */
export async function findTrackingIssue(client: GitHubClient, repo: RepoRef): Promise<TrackingIssue | null> {
  const pages = client.paginate.iterator(client.rest.issues.listForRepo, {
    ...repo,
    state: "open",
    sort: "updated",
    direction: "desc",
    per_page: 100,
  });
  for await (const page of pages) {
    const found = (page.data as ListedIssue[]).find(isTracking);
    if (found) return { number: found.number, url: found.html_url, body: found.body ?? "" };
  }
  return null;
}

/**
 * Writes `markdown` (already safe) into the tracking issue: updates `existing`, or creates the issue.
 * The marker and `hidden` (the stored numbers) come first, so truncation never cuts them.
 * @returns the issue's number and link, and whether it was created.
 * @throws RequestError when GitHub refuses (e.g. 403 without `issues: write`).
 */
export async function writeTrackingIssue(
  client: GitHubClient,
  repo: RepoRef,
  existing: TrackingIssue | null,
  hidden: string,
  markdown: string,
): Promise<{ number: number; url: string; created: boolean }> {
  const head = `${TRACKING_MARKER}\n${hidden}\n`;
  const body = `${head}${truncateMarkdown(markdown, BODY_MAX_CHARS - head.length, "(truncated; the full report is in the scan's evidence artifact)")}`;
  if (existing) {
    const { data } = await client.rest.issues.update({ ...repo, issue_number: existing.number, body });
    return { number: data.number, url: data.html_url, created: false };
  }
  const { data } = await client.rest.issues.create({ ...repo, title: TRACKING_TITLE, body });
  return { number: data.number, url: data.html_url, created: true };
}
