/**
 * The follow-up pull request that carries `final.patch` (issue 3): branch
 * `perfloop/pr-<N>-<short sha>` with one commit on top of the optimized head SHA, made through the
 * git data API (blobs → tree → commit → ref), opened as a draft against the PR's head branch.
 * Before anything is written the patch is re-checked (issue 14): the patch policy and the bundle's
 * claims (verify.ts), then the head's files (prepare.ts); a patch that fails is refused whole.
 * A branch of that name is only moved when its tip is a perfloop commit on the same head; any
 * other branch is left alone (never force-push a branch the bot did not create).
 */

import type { PatchPolicy } from "../core/patch/policy.ts";
import {
  describePullRequestError,
  describeRequestError,
  errorStatus,
  FollowUpStepError,
  githubMessages,
} from "./github-errors.ts";
import { UNKNOWN_CONFIG_POLICY } from "./policy-config.ts";
import { type PreparedPatch, preparePatch } from "./prepare.ts";
import type { GitHubClient, PullTarget, RepoRef } from "./types.ts";
import { type BundleClaims, checkPatch, policyForPatch } from "./verify.ts";

/** The trailer every perfloop commit carries; it marks branches perfloop may move. */
export const COMMIT_TRAILER = "Perfloop-Request:";

/** What to open. `title` is plain text (GitHub does not render titles as markdown); `body` is markdown the caller made safe (escaped). */
export interface FollowUpRequest {
  pull: PullTarget;
  /** final.patch text (git-style unified diff). */
  patch: string;
  requestId: string;
  title: string;
  body: string;
  /** Open as a draft (default true); retried as a normal PR where the plan has no drafts. */
  draft?: boolean;
  /** The run's patch policy (policy-config.ts `patchPolicyFromConfig`); `UNKNOWN_CONFIG_POLICY` when absent. */
  policy?: PatchPolicy;
  /** What results.json says about the patch (verify.ts `claimsOf`); when given, the patch must match it. */
  claims?: BundleClaims;
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
 * Re-checks `req.patch`, commits it on top of `req.pull.headSha` and opens (or updates) the
 * follow-up PR. Skips, with a reason, for fork PRs (their head branch is not in this repository;
 * the patch is still checked first), a patch that changes no file, a branch of that name perfloop
 * did not create, and any request GitHub refuses (the reason says which step and what GitHub
 * answered, e.g. a 422 "a pull request … already exists").
 * @throws BundleRefusedError (verify.ts) when the patch breaks the policy, disagrees with
 *   `req.claims`, or does not apply exactly to the head's files; nothing has been written then.
 */
export async function openFollowUpPr(
  client: GitHubClient,
  repo: RepoRef,
  req: FollowUpRequest,
): Promise<FollowUpResult> {
  const branch = followUpBranch(req.pull.number, req.pull.headSha);
  const policy = policyForPatch(req.policy ?? UNKNOWN_CONFIG_POLICY, req.claims?.acceptedRounds ?? 1);
  const files = await checkPatch(req.patch, policy, req.claims);
  if (req.pull.isFork)
    return {
      status: "skipped",
      branch,
      reason:
        "the pull request comes from a fork, so its head branch cannot be the base of a follow-up PR here; apply final.patch from the evidence artifact",
    };
  if (files.length === 0) return { status: "skipped", branch, reason: "final.patch changes no file" };
  try {
    const prepared = await step("reading the head commit's files", () =>
      preparePatch(client, repo, req.pull.headSha, files, policy),
    );
    const commitSha = await commitPrepared(client, repo, prepared, req);
    const moved = await pointBranch(client, repo, branch, commitSha, req.pull.headSha);
    if (moved !== null) return { status: "skipped", branch, reason: moved };
    return { ...(await openOrUpdatePr(client, repo, branch, req)), branch, commitSha };
  } catch (error) {
    if (error instanceof FollowUpStepError) return { status: "skipped", branch, reason: error.message };
    throw error;
  }
}

/**
 * Runs one request step; an Octokit error becomes a {@link FollowUpStepError} saying
 * "<step> failed: GitHub answered <status> <message>". Other errors pass unchanged.
 */
async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof FollowUpStepError || errorStatus(error) === undefined) throw error;
    throw new FollowUpStepError(name, `${name} failed: ${describeRequestError(error)}`, error);
  }
}

/** A tree entry for createTree: a blob by sha, or `sha: null` to delete the path. */
interface TreeItem {
  path: string;
  mode: "100644" | "100755";
  type: "blob";
  sha: string | null;
}

/**
 * Uploads the prepared contents as UTF-8 blobs (each byte for byte the candidate's file), then the
 * tree on the head's tree and the commit with the perfloop trailer. Returns the commit SHA.
 */
async function commitPrepared(
  client: GitHubClient,
  repo: RepoRef,
  prepared: PreparedPatch,
  req: FollowUpRequest,
): Promise<string> {
  const tree: TreeItem[] = [];
  for (const file of prepared.files) {
    if (file.content === null) {
      tree.push({ path: file.path, mode: file.mode, type: "blob", sha: null });
      continue;
    }
    const content = Buffer.from(file.content, "utf8").toString("base64");
    const { data: blob } = await step(`uploading ${file.path}`, () =>
      client.rest.git.createBlob({ ...repo, content, encoding: "base64" }),
    );
    tree.push({ path: file.path, mode: file.mode, type: "blob", sha: blob.sha });
  }
  const { data: newTree } = await step("creating the tree", () =>
    client.rest.git.createTree({ ...repo, base_tree: prepared.treeSha, tree }),
  );
  const message = `perf: perfloop's verified optimization for #${req.pull.number}\n\n${COMMIT_TRAILER} ${req.requestId}\nPerfloop-Head: ${req.pull.headSha}\n`;
  const { data: commit } = await step("creating the commit", () =>
    client.rest.git.createCommit({ ...repo, message, tree: newTree.sha, parents: [req.pull.headSha] }),
  );
  return commit.sha;
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
  const ref = `refs/heads/${branch}`;
  try {
    await client.rest.git.createRef({ ...repo, ref, sha });
    return null;
  } catch (error) {
    const { message, details } = githubMessages(error);
    const exists = /already exists/i.test([message, ...details].join(" "));
    if (errorStatus(error) !== 422 || !exists)
      throw new FollowUpStepError(
        `creating branch ${branch}`,
        `creating branch ${branch} failed: ${describeRequestError(error)}`,
        error,
      );
  }
  const tip = await step(`reading branch ${branch}`, async () => {
    const { data: head } = await client.rest.git.getRef({ ...repo, ref: `heads/${branch}` });
    return (await client.rest.git.getCommit({ ...repo, commit_sha: head.object.sha })).data;
  });
  const ours =
    tip.message.includes(COMMIT_TRAILER) &&
    /\[bot\]@users\.noreply\.github\.com$/.test(tip.author.email ?? "") &&
    tip.parents.length === 1 &&
    tip.parents[0]?.sha === headSha;
  if (!ours) return `branch ${branch} already exists and was not created by perfloop; it was left untouched`;
  await step(`moving branch ${branch}`, () =>
    client.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha, force: true }),
  );
  return null;
}

/**
 * Updates the open PR from `branch`, or opens one (draft, then non-draft where GitHub answers 422
 * about drafts). Any other refusal of "Create a pull request" is a {@link FollowUpStepError} in
 * GitHub's words (github-errors.ts `describePullRequestError`).
 */
async function openOrUpdatePr(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  req: FollowUpRequest,
): Promise<{ status: "created" | "updated"; number: number; url: string }> {
  const { data: open } = await step("looking up the open pull request", () =>
    client.rest.pulls.list({ ...repo, state: "open", head: `${repo.owner}:${branch}`, per_page: 1 }),
  );
  const existing = open[0];
  if (existing) {
    await step(`updating pull request #${existing.number}`, () =>
      client.rest.pulls.update({ ...repo, pull_number: existing.number, title: req.title, body: req.body }),
    );
    return { status: "updated", number: existing.number, url: existing.html_url };
  }
  const base = req.pull.headRef;
  const create = (draft: boolean) =>
    client.rest.pulls.create({ ...repo, title: req.title, head: branch, base, body: req.body, draft });
  let draft = req.draft ?? true;
  for (;;) {
    try {
      const { data } = await create(draft);
      return { status: "created", number: data.number, url: data.html_url };
    } catch (error) {
      const { message, details } = githubMessages(error);
      if (draft && errorStatus(error) === 422 && /draft/i.test([message, ...details].join(" "))) {
        draft = false;
        continue;
      }
      const reason = describePullRequestError(error, branch, base);
      throw new FollowUpStepError("creating the pull request", reason, error);
    }
  }
}
