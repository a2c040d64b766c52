/**
 * The one perfloop comment per pull request (docs/design.md, "GitHub behaviour"): found by a hidden
 * marker, edited in place on every phase, created only when it does not exist yet.
 */
import { COMMENT_MAX_CHARS, SAFETY_MARGIN_CHARS, truncateMarkdown } from "./limits.ts";
import type { GitHubClient, RepoRef } from "./types.ts";

/** The hidden marker that opens the sticky comment's body (an HTML comment: GitHub does not render it). */
export const STICKY_MARKER = "<!-- perfloop:sticky -->";

/** What {@link upsertStickyComment} did: the comment's id and URL, and whether it was created. */
export interface StickyResult {
  id: number;
  htmlUrl: string;
  created: boolean;
}

/** The shape of a listed issue comment that the lookup reads. */
interface ListedComment {
  id: number;
  html_url: string;
  body?: string | undefined;
  user: { type?: string } | null;
}

/**
 * Finds the sticky comment of pull request `issueNumber`: the oldest comment whose body starts
 * with {@link STICKY_MARKER} and whose author is a bot account (a person quoting the marker is
 * never edited). Reads every page of comments (100 per request).
 * @returns the comment, or null when there is none.
 */
export async function findStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
): Promise<ListedComment | null> {
  const comments = (await client.paginate(client.rest.issues.listComments, {
    ...repo,
    issue_number: issueNumber,
    per_page: 100,
  })) as ListedComment[];
  return comments.find((c) => c.user?.type === "Bot" && (c.body ?? "").startsWith(STICKY_MARKER)) ?? null;
}

/**
 * Writes `markdown` into the sticky comment of pull request `issueNumber`: edits the existing one,
 * or creates it. The marker is prepended; a body longer than GitHub's comment limit (65,536) is
 * truncated at a line end with `truncatedNotice` (e.g. "Full report: <artifact link>").
 * `markdown` must already be safe: escape every untrusted part (see core/report/escape.ts).
 * @throws RequestError from Octokit when GitHub refuses (e.g. 403 without `pull_requests: write`).
 */
export async function upsertStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  markdown: string,
  truncatedNotice = "(truncated)",
): Promise<StickyResult> {
  const body = stickyBody(markdown, truncatedNotice);
  const existing = await findStickyComment(client, repo, issueNumber);
  if (existing) {
    const { data } = await client.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
    return { id: data.id, htmlUrl: data.html_url, created: false };
  }
  const { data } = await client.rest.issues.createComment({ ...repo, issue_number: issueNumber, body });
  return { id: data.id, htmlUrl: data.html_url, created: true };
}

/**
 * Rewrites the sticky comment `commentId` (found earlier by upsertStickyComment) with `markdown`,
 * without listing the pull request's comments again: for updates that follow one another (a live
 * checklist). `markdown` must already be safe, as for upsertStickyComment.
 * @throws RequestError from Octokit when GitHub refuses (404 when the comment was deleted).
 */
export async function updateStickyComment(
  client: GitHubClient,
  repo: RepoRef,
  commentId: number,
  markdown: string,
): Promise<StickyResult> {
  const { data } = await client.rest.issues.updateComment({
    ...repo,
    comment_id: commentId,
    body: stickyBody(markdown),
  });
  return { id: data.id, htmlUrl: data.html_url, created: false };
}

/** The full comment body: marker, then `markdown` truncated to fit GitHub's comment limit. */
export function stickyBody(markdown: string, truncatedNotice = "(truncated)"): string {
  const room = COMMENT_MAX_CHARS - SAFETY_MARGIN_CHARS - STICKY_MARKER.length - 1;
  return `${STICKY_MARKER}\n${truncateMarkdown(markdown, room, truncatedNotice)}`;
}
