/**
 * Publishing a request's outcome to a pull request: phases, results, failure, cancellation. Each
 * call updates the request's check run(s) and the sticky comment; results also add hot-spot
 * annotations and, for an improvement with a patch, the follow-up PR. Shared by the App and the
 * Action: the inputs are an Octokit client and plain values.
 */
import type { Results } from "../core/evidence/results-schema.ts";
import { hotSpotAnnotations } from "./annotations.ts";
import {
  type CheckOutput,
  concludeCheckRun,
  conclusionFor,
  createCheckRun,
  updateCheckRun,
} from "./check-run.ts";
import { type FollowUpResult, followUpBranch, openFollowUpPr } from "./follow-up-pr.ts";
import { describeRequestError } from "./github-errors.ts";
import {
  cancelledMarkdown,
  failureCheckOutput,
  failureMarkdown,
  followUpBody,
  followUpTitle,
  phaseCheckOutput,
  queuedMarkdown,
  type RequestInfo,
  refusedCheckOutput,
  refusedMarkdown,
  resultsCheckOutput,
  resultsMarkdown,
  runningMarkdown,
} from "./messages.ts";
import { patchPolicyFromConfig } from "./policy-config.ts";
import { updateStickyComment, upsertStickyComment } from "./sticky-comment.ts";
import type { GitHubClient, PullTarget, RepoRef, RunLinks } from "./types.ts";
import { BundleRefusedError, claimsOf } from "./verify.ts";

/**
 * Where and for what to publish. `checkRunIds`: the request's check runs (usually one; duplicates
 * that yielded to it are aliases, see app/start-run.ts); when empty, one is created.
 */
export interface PublishTarget {
  repo: RepoRef;
  pull: PullTarget;
  info: RequestInfo;
  links: RunLinks;
  checkRunIds: number[];
  /** The name of a check run created when `checkRunIds` is empty (default `perfloop`; the gate's is `perfloop gate`). */
  checkName?: string;
}

/**
 * What publishing results did: the follow-up PR (null when none was attempted or the bundle was
 * refused), the sticky comment's URL, the check conclusion, and `refused`: the problems of a
 * bundle that failed the re-checks (absent when it passed).
 */
export interface PublishOutcome {
  followUp: FollowUpResult | null;
  stickyUrl: string;
  conclusion: string;
  refused?: string[];
}

/**
 * Options of {@link publishResults}. `draft`: open the follow-up PR as a draft (default true).
 * `config`: the repository's config as the run used it (the App's `RepoConfig.core`, unvalidated,
 * or the Action's parsed `Config`): its `paths`, `protect`, `benchmark.files` and `limits` make the
 * patch policy the bundle is re-checked against (policy-config.ts); without it, every built-in rule
 * with the size caps at the schema's maxima (`UNKNOWN_CONFIG_POLICY`).
 */
export interface PublishOptions {
  draft?: boolean;
  config?: unknown;
}

/**
 * Shows a phase: check runs get the title and run link (status `in_progress` when running), the
 * sticky comment the phase; both get the runner's live `checklist` when one is given.
 * @param commentId the sticky comment this caller wrote before (edited by id), or null to find it.
 * @returns the sticky comment's id, for the next call.
 * @throws RequestError when GitHub refuses an update.
 */
export async function publishPhase(
  client: GitHubClient,
  target: PublishTarget,
  phase: "queued" | "running",
  checklist?: string,
  commentId: number | null = null,
): Promise<number> {
  const title = phase === "queued" ? "Queued on the GPU runner" : "Running on the GPU runner";
  const output = phaseCheckOutput(title, target.info, target.links, checklist);
  const markdown =
    phase === "queued"
      ? queuedMarkdown(target.info, target.links)
      : runningMarkdown(target.info, target.links, checklist);
  // A known comment is edited by id (no listing of the PR's comments); a deleted one is found again.
  const comment = async () => {
    if (commentId !== null)
      try {
        return (await updateStickyComment(client, target.repo, commentId, markdown)).id;
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw error;
      }
    return (await upsertStickyComment(client, target.repo, target.pull.number, markdown)).id;
  };
  const [id] = await Promise.all([
    comment(),
    ...target.checkRunIds.map((id) =>
      updateCheckRun(client, target.repo, id, {
        ...(phase === "running" ? { status: "in_progress" as const } : {}),
        ...(target.links.runUrl ? { detailsUrl: target.links.runUrl } : {}),
        output,
      }),
    ),
  ]);
  return id;
}

/**
 * Publishes validated results: follow-up PR (status `improved` and a non-empty `patch` only),
 * check-run conclusion (success / neutral / failure, see conclusionFor) with hot-spot annotations,
 * and the sticky comment with the report. Before the follow-up PR writes anything, the bundle is
 * re-checked (follow-up-pr.ts: patch policy from `opts.config`, `final.changedFiles` against the
 * patch, the patch against the head's files); a bundle that fails is refused whole: no branch,
 * commit or PR, the check run concluded `failure` and the sticky comment saying why (`refused` in
 * the outcome). A follow-up PR that GitHub refuses is reported as skipped, with GitHub's answer.
 * @throws RequestError when the check run or the comment cannot be written.
 */
export async function publishResults(
  client: GitHubClient,
  target: PublishTarget,
  results: Results,
  patch: string | null,
  opts: PublishOptions = {},
): Promise<PublishOutcome> {
  let followUp: FollowUpResult | null = null;
  if (results.status === "improved" && patch && patch.trim() !== "") {
    try {
      followUp = await openFollowUpPr(client, target.repo, {
        pull: target.pull,
        patch,
        requestId: target.info.requestId,
        title: followUpTitle(results, target.pull.number),
        body: followUpBody(results, target.info, target.links, target.pull),
        draft: opts.draft ?? true,
        policy: patchPolicyFromConfig(opts.config),
        claims: claimsOf(results),
      });
    } catch (error) {
      if (error instanceof BundleRefusedError) return publishRefused(client, target, error.problems);
      followUp = {
        status: "skipped",
        branch: followUpBranch(target.pull.number, target.pull.headSha),
        reason: describeRequestError(error),
      };
    }
  }
  const conclusion = conclusionFor(results.status);
  await conclude(
    client,
    target,
    conclusion,
    resultsCheckOutput(results, target.info, target.links, followUp),
    hotSpotAnnotations(results),
  );
  const sticky = await upsertStickyComment(
    client,
    target.repo,
    target.pull.number,
    resultsMarkdown(results, target.info, target.links, followUp),
    "Comment truncated; the full report is in the evidence artifact.",
  );
  return { followUp, stickyUrl: sticky.htmlUrl, conclusion };
}

/** Reports a refused bundle: check runs concluded `failure` with the problems, sticky comment saying why. */
async function publishRefused(
  client: GitHubClient,
  target: PublishTarget,
  problems: string[],
): Promise<PublishOutcome> {
  await conclude(client, target, "failure", refusedCheckOutput(problems, target.info, target.links), []);
  const sticky = await upsertStickyComment(
    client,
    target.repo,
    target.pull.number,
    refusedMarkdown(problems, target.info, target.links),
  );
  return { followUp: null, stickyUrl: sticky.htmlUrl, conclusion: "failure", refused: problems };
}

/** Reports a failed request (no trustworthy results): check runs concluded `failure`, sticky comment with the reason. */
export async function publishFailure(
  client: GitHubClient,
  target: PublishTarget,
  reason: string,
): Promise<void> {
  await conclude(client, target, "failure", failureCheckOutput(reason, target.info, target.links), []);
  await upsertStickyComment(
    client,
    target.repo,
    target.pull.number,
    failureMarkdown(target.info, reason, target.links),
  );
}

/** Reports a cancelled request: check runs concluded `cancelled`, sticky comment says by whom. */
export async function publishCancelled(
  client: GitHubClient,
  target: PublishTarget,
  cancelledBy?: string,
): Promise<void> {
  const output: CheckOutput = {
    title: "Cancelled",
    summary: cancelledMarkdown(target.info, cancelledBy, target.links),
  };
  await conclude(client, target, "cancelled", output, []);
  await upsertStickyComment(
    client,
    target.repo,
    target.pull.number,
    cancelledMarkdown(target.info, cancelledBy, target.links),
  );
}

/** Concludes every check run of the target (annotations on the first only); creates one when there is none. */
async function conclude(
  client: GitHubClient,
  target: PublishTarget,
  conclusion: Parameters<typeof concludeCheckRun>[3]["conclusion"],
  output: CheckOutput,
  annotations: Parameters<typeof concludeCheckRun>[3]["annotations"],
): Promise<void> {
  let ids = target.checkRunIds;
  if (ids.length === 0) {
    const created = await createCheckRun(client, target.repo, {
      headSha: target.pull.headSha,
      externalId: target.info.requestId,
      ...(target.checkName ? { name: target.checkName } : {}),
      output,
      ...(target.links.runUrl ? { detailsUrl: target.links.runUrl } : {}),
    });
    ids = [created.id];
  }
  await Promise.all(
    ids.map((id, k) =>
      concludeCheckRun(client, target.repo, id, {
        conclusion,
        output,
        ...(k === 0 && annotations ? { annotations } : {}),
        ...(target.links.runUrl ? { detailsUrl: target.links.runUrl } : {}),
      }),
    ),
  );
}
