/**
 * `publish: action` for a pull request (no App installed): the same publishing module as the App
 * (src/publish) — sticky comment, `perfloop` check run with hot-spot annotations, and for a verified
 * improvement the follow-up PR — called with the step's token.
 */
import type { Config } from "../core/config/schema.ts";
import type { Results } from "../core/evidence/results-schema.ts";
import {
  type GitHubClient,
  type PublishOutcome,
  type PublishTarget,
  publishFailure,
  publishResults,
  type RunLinks,
} from "../publish/index.ts";
import type { ActionContext } from "./context.ts";

/** What identifies the request on the pull request. */
export interface PullRequestRun {
  pr: number;
  /** The commit that was optimized. */
  sha: string;
  requestId: string;
  links: RunLinks;
  /** The check run live progress created (live-progress.ts), concluded by the publication; none = one is created. */
  checkRunIds?: number[];
  /** The name of the check run created when there is none (mode gate: `perfloop gate`). */
  checkName?: string;
}

/**
 * Looks the pull request up ("Get a pull request": head branch, fork or not) and builds the target.
 * @throws RequestError (404 unknown PR, 401/403 token without access).
 */
export async function pullTarget(
  client: GitHubClient,
  ctx: ActionContext,
  run: PullRequestRun,
): Promise<PublishTarget> {
  const { data } = await client.rest.pulls.get({ owner: ctx.owner, repo: ctx.repo, pull_number: run.pr });
  return {
    repo: { owner: ctx.owner, repo: ctx.repo },
    pull: {
      number: run.pr,
      headSha: run.sha,
      headRef: data.head.ref,
      isFork: data.head.repo?.full_name !== ctx.repository,
    },
    info: {
      requestId: run.requestId,
      ...(ctx.actor ? { requestedBy: ctx.actor } : {}),
      via: ctx.eventName ? `${ctx.eventName} workflow` : "workflow",
    },
    links: run.links,
    checkRunIds: run.checkRunIds ?? [],
    ...(run.checkName ? { checkName: run.checkName } : {}),
  };
}

/**
 * Publishes results to the pull request: follow-up PR (improved with a patch), check run, sticky comment.
 * @param patch final.patch's text, or null.
 * @param config the config the run used: the patch policy the bundle is checked against again.
 * @throws RequestError when GitHub refuses the comment or the check run (a refused follow-up PR is
 *   reported in the comment instead).
 */
export async function publishToPull(
  client: GitHubClient,
  ctx: ActionContext,
  run: PullRequestRun,
  results: Results,
  patch: string | null,
  draft: boolean,
  config?: Config,
): Promise<PublishOutcome> {
  return publishResults(client, await pullTarget(client, ctx, run), results, patch, {
    draft,
    ...(config ? { config } : {}),
  });
}

/**
 * Reports a run that produced no results (checkout, config or upload failed) on the pull request.
 * @throws RequestError when GitHub refuses.
 */
export async function publishPullFailure(
  client: GitHubClient,
  ctx: ActionContext,
  run: PullRequestRun,
  reason: string,
): Promise<void> {
  await publishFailure(client, await pullTarget(client, ctx, run), reason);
}
