/**
 * The follow-up pull request that carries `final.patch` (issue 3): branch
 * `perfloop/pr-<N>-<short sha>` with one commit on top of the optimized head SHA, made through the
 * git data API (blobs → tree → commit → ref), opened as a draft against the PR's head branch.
 * A branch of that name is only moved when its tip is a perfloop commit on the same head; any
 * other branch is left alone (never force-push a branch the bot did not create).
 */

import { readTreeEntries, type TreeEntry } from "./git-tree.ts";
import type { GitHubClient, PullTarget, RepoRef } from "./types.ts";
import { applyFileDiff, type FileDiff, PatchApplyError, parseUnifiedDiff } from "./unified-diff.ts";

/** The trailer every perfloop commit carries; it marks branches perfloop may move. */
export const COMMIT_TRAILER = "Perfloop-Request:";

/** What to open. `title`/`body` are markdown the caller made safe (escaped). */
export interface FollowUpRequest {
  pull: PullTarget;
  /** final.patch text (git-style unified diff). */
  patch: string;
  requestId: string;
  title: string;
  body: string;
  /** Open as a draft (default true); retried as a normal PR where the plan has no drafts. */
  draft?: boolean;
}

/** The outcome: a PR created or updated, or skipped with the reason (shown to the maintainer). */
export type FollowUpResult =
  | { status: "created" | "updated"; number: number; url: string; branch: string; commitSha: string }
  | { status: "skipped"; reason: string; branch: string };

/** The branch name for pull request `prNumber` at `headSha`: `perfloop/pr-<N>-<first 7 of sha>`. */
export function followUpBranch(prNumber: number, headSha: string): string {
  return `perfloop/pr-${prNumber}-${headSha.slice(0, 7)}`;
}

/**
 * Commits `req.patch` on top of `req.pull.headSha` and opens (or updates) the follow-up PR.
 * Skips, with a reason, for fork PRs (their head branch is not in this repository), an empty
 * patch, a patch that does not apply, or a branch of that name perfloop did not create.
 * @throws RequestError from Octokit for other API failures (permissions, network).
 */
export async function openFollowUpPr(
  client: GitHubClient,
  repo: RepoRef,
  req: FollowUpRequest,
): Promise<FollowUpResult> {
  const branch = followUpBranch(req.pull.number, req.pull.headSha);
  if (req.pull.isFork)
    return {
      status: "skipped",
      branch,
      reason:
        "the pull request comes from a fork, so its head branch cannot be the base of a follow-up PR here; apply final.patch from the evidence artifact",
    };
  let files: FileDiff[];
  try {
    files = parseUnifiedDiff(req.patch);
  } catch (error) {
    return { status: "skipped", branch, reason: `final.patch cannot be read: ${(error as Error).message}` };
  }
  if (files.length === 0) return { status: "skipped", branch, reason: "final.patch changes no file" };

  const { treeSha, entries } = await readTreeEntries(
    client,
    repo,
    req.pull.headSha,
    files.flatMap((f) => [f.oldPath, f.newPath]).filter((p) => p !== null),
  );
  let tree: TreeItem[];
  try {
    tree = await changedTree(client, repo, files, entries);
  } catch (error) {
    if (error instanceof PatchApplyError)
      return {
        status: "skipped",
        branch,
        reason: `final.patch does not apply to ${req.pull.headSha.slice(0, 7)}: ${error.message}`,
      };
    throw error;
  }
  const { data: newTree } = await client.rest.git.createTree({ ...repo, base_tree: treeSha, tree });
  const message = `perf: perfloop's verified optimization for #${req.pull.number}\n\n${COMMIT_TRAILER} ${req.requestId}\nPerfloop-Head: ${req.pull.headSha}\n`;
  const { data: commit } = await client.rest.git.createCommit({
    ...repo,
    message,
    tree: newTree.sha,
    parents: [req.pull.headSha],
  });

  const moved = await pointBranch(client, repo, branch, commit.sha, req.pull.headSha);
  if (moved !== null) return { status: "skipped", branch, reason: moved };
  return { ...(await openOrUpdatePr(client, repo, branch, req)), branch, commitSha: commit.sha };
}

/** A tree entry for createTree: a blob by sha, or `sha: null` to delete the path. */
interface TreeItem {
  path: string;
  mode: "100644" | "100755" | "120000";
  type: "blob";
  sha: string | null;
}

/**
 * Applies every file diff to the head's blobs (src/publish/unified-diff.ts, jsdiff) and uploads the
 * new contents as UTF-8 bytes, so each blob is byte for byte the candidate's file; returns the tree
 * entries (a deleted or renamed-away path with `sha: null`; the head's executable bit kept).
 * @throws PatchApplyError when a diff does not apply, names a missing or non-file path, adds a path
 *   that exists, touches a symbolic link, or a blob is not UTF-8.
 */
async function changedTree(
  client: GitHubClient,
  repo: RepoRef,
  files: FileDiff[],
  entries: Map<string, TreeEntry>,
): Promise<TreeItem[]> {
  const items: TreeItem[] = [];
  for (const file of files) {
    const old = file.oldPath === null ? undefined : entries.get(file.oldPath);
    if (file.oldPath !== null && (old === undefined || old.type !== "blob"))
      throw new PatchApplyError(`${file.oldPath} is not a file at the head commit`, file.oldPath);
    if (old?.mode === "120000")
      throw new PatchApplyError(`${file.oldPath} is a symbolic link at the head commit`, file.oldPath);
    if (file.oldPath === null && file.newPath !== null && entries.has(file.newPath))
      throw new PatchApplyError(`${file.newPath} already exists`, file.newPath);
    const before = old ? await readBlob(client, repo, old) : null;
    const after = applyFileDiff(file, before);
    const mode = old?.mode === "100755" ? "100755" : "100644";
    if (file.oldPath !== null && file.oldPath !== file.newPath && !file.keepOld)
      items.push({ path: file.oldPath, mode, type: "blob", sha: null });
    if (file.newPath === null || after === null) continue;
    const { data: blob } = await client.rest.git.createBlob({
      ...repo,
      content: Buffer.from(after, "utf8").toString("base64"),
      encoding: "base64",
    });
    items.push({ path: file.newPath, mode, type: "blob", sha: blob.sha });
  }
  return items;
}

/**
 * A blob's content as text that encodes back to the same bytes: strict UTF-8, a byte-order mark
 * kept (final.patch is UTF-8 text; src/core/loop/workspace.ts `diffTrees` leaves other files out).
 * @throws PatchApplyError when the blob is not valid UTF-8.
 */
async function readBlob(client: GitHubClient, repo: RepoRef, entry: TreeEntry): Promise<string> {
  const { data } = await client.rest.git.getBlob({ ...repo, file_sha: entry.sha });
  const bytes = Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new PatchApplyError(`${entry.path} is not UTF-8 text at the head commit`, entry.path, {
      cause: error,
    });
  }
}

/**
 * Creates `refs/heads/<branch>` at `sha`, or moves an existing one when its tip is a perfloop
 * commit (trailer + a bot author) on the same head. Returns null when done, else the reason it refused.
 */
async function pointBranch(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  sha: string,
  headSha: string,
): Promise<string | null> {
  try {
    await client.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha });
    return null;
  } catch (error) {
    if ((error as { status?: number }).status !== 422) throw error;
  }
  const { data: ref } = await client.rest.git.getRef({ ...repo, ref: `heads/${branch}` });
  const { data: tip } = await client.rest.git.getCommit({ ...repo, commit_sha: ref.object.sha });
  const ours =
    tip.message.includes(COMMIT_TRAILER) &&
    /\[bot\]@users\.noreply\.github\.com$/.test(tip.author.email ?? "") &&
    tip.parents.length === 1 &&
    tip.parents[0]?.sha === headSha;
  if (!ours) return `branch ${branch} already exists and was not created by perfloop; it was left untouched`;
  await client.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha, force: true });
  return null;
}

/** Updates the open PR from `branch`, or opens one (draft, then non-draft where drafts are refused). */
async function openOrUpdatePr(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  req: FollowUpRequest,
): Promise<{ status: "created" | "updated"; number: number; url: string }> {
  const { data: open } = await client.rest.pulls.list({
    ...repo,
    state: "open",
    head: `${repo.owner}:${branch}`,
    per_page: 1,
  });
  const existing = open[0];
  if (existing) {
    await client.rest.pulls.update({
      ...repo,
      pull_number: existing.number,
      title: req.title,
      body: req.body,
    });
    return { status: "updated", number: existing.number, url: existing.html_url };
  }
  const create = (draft: boolean) =>
    client.rest.pulls.create({
      ...repo,
      title: req.title,
      head: branch,
      base: req.pull.headRef,
      body: req.body,
      draft,
    });
  const draft = req.draft ?? true;
  try {
    const { data } = await create(draft);
    return { status: "created", number: data.number, url: data.html_url };
  } catch (error) {
    const text = JSON.stringify((error as { response?: { data?: unknown } }).response?.data ?? "");
    if (!draft || (error as { status?: number }).status !== 422 || !/draft/i.test(text)) throw error;
    const { data } = await create(false);
    return { status: "created", number: data.number, url: data.html_url };
  }
}
