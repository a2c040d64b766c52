/**
 * Starting a run for an authorized request: at most one active request per head commit, the
 * workflow dispatched at the default branch, the check run and the sticky comment showing "queued".
 *
 * De-duplication without server state (issue 3, "Idempotency and concurrency"):
 * 1. a check run whose `external_id` is this request id already exists → a redelivery: do nothing;
 * 2. another request is active on the commit → answer with its link, once per active request
 *    (repeat-reply.ts: later asks edit that answer, never add a comment);
 * 3. else create the check run, list again, and let the oldest active check run (lowest id) win.
 *    A loser that belongs to another request turns its check run into an alias of the winner
 *    (same `external_id`, so later updates reach it) and answers as in 2; a loser of the same
 *    request (concurrent redeliveries) stays silent. Only the winner dispatches.
 * Check-run ids grow with creation, so two racing requests agree on the winner as long as GitHub's
 * listing shows a check run created before the listing (read-after-write). A dispatched request is
 * remembered (request-memory.ts) for `/optimize status` and `/optimize retry`.
 */
import {
  type CheckRunInfo,
  createCheckRun,
  type PullTarget,
  phaseCheckOutput,
  publishFailure,
  publishPhase,
  type RequestInfo,
  updateCheckRun,
} from "../publish/index.ts";
import type { RepoConfig } from "./config.ts";
import { DispatchError, dispatchWorkflow, workflowState } from "./dispatch.ts";
import { answerRepeat } from "./repeat-reply.ts";
import { dispatchFailedReply, missingWorkflowReply, reply } from "./replies.ts";
import { dispatchInputs, type RunArgs } from "./request.ts";
import { recallRequest, toRequestInfo } from "./request-info.ts";
import {
  type AppDeps,
  type CommitState,
  errorSummary,
  leaderOf,
  readCommitState,
  runsOfRequest,
} from "./state.ts";

/** An authorized request to optimize a pull request. */
export interface StartRequest {
  pull: PullTarget;
  requestId: string;
  /** Login of who asked (for the messages). */
  actor: string;
  /** "/optimize", "/optimize retry" or "label <name>". */
  via: string;
  args: RunArgs;
  config: RepoConfig;
  defaultBranch: string;
}

/** What happened. */
export type StartOutcome =
  | "dispatched"
  | "duplicate"
  | "already-running"
  | "workflow-unavailable"
  | "dispatch-failed";

/** Runs the protocol above. Replies on the PR for every outcome but a duplicate delivery. */
export async function startRun(deps: AppDeps, req: StartRequest): Promise<StartOutcome> {
  const { pull, requestId, config } = req;
  const staleHours = config.app.stale_after_hours;
  const [before, workflow] = await Promise.all([
    readCommitState(deps, pull.headSha, staleHours),
    workflowState(deps.client, deps.repo, config.app.workflow),
  ]);
  if (before.all.some((r) => r.externalId === requestId)) return "duplicate";
  const running = leaderOf(before);
  if (running) return alreadyRunning(deps, req, running, before);
  if (workflow !== "active") {
    await reply(
      deps.client,
      deps.repo,
      pull.number,
      missingWorkflowReply(config.app.workflow, workflow, req.defaultBranch),
    );
    return "workflow-unavailable";
  }
  const info = requestInfo(req);
  const mine = await createCheckRun(deps.client, deps.repo, {
    headSha: pull.headSha,
    externalId: requestId,
    output: phaseCheckOutput("Queued on the GPU runner", info, {}),
  });

  const after = await readCommitState(deps, pull.headSha, staleHours);
  const winner = leaderOf(after) ?? mine;
  if (winner.id !== mine.id) return yieldTo(deps, req, mine.id, winner, after);

  const ids = [...new Set([mine.id, ...runsOfRequest(after, requestId).map((r) => r.id)])];
  const target = { repo: deps.repo, pull, info, links: {}, checkRunIds: ids };
  let run: Awaited<ReturnType<typeof dispatchWorkflow>>;
  try {
    const inputs = dispatchInputs({ pr: pull.number, headSha: pull.headSha, requestId }, req.args);
    run = await dispatchWorkflow(deps.client, deps.repo, {
      file: config.app.workflow,
      ref: req.defaultBranch,
      inputs,
    });
  } catch (error) {
    deps.log.warn({ requestId, err: errorSummary(error) }, "workflow dispatch failed");
    const message = (error as Error).message;
    await publishFailure(deps.client, target, `The workflow could not be dispatched: ${message}`);
    if (error instanceof DispatchError) {
      await reply(deps.client, deps.repo, pull.number, dispatchFailedReply(message));
      return "dispatch-failed";
    }
    throw error;
  }
  deps.log.info({ requestId, pr: pull.number, runId: run.runId }, "workflow dispatched");
  deps.memory?.requests.remember(deps.repo, {
    requestId,
    pr: pull.number,
    headSha: pull.headSha,
    actor: req.actor,
    via: req.via,
    args: req.args,
    at: deps.now(),
  });
  await publishPhase(deps.client, { ...target, links: run.runUrl ? { runUrl: run.runUrl } : {} }, "queued");
  return "dispatched";
}

/** Another check run is older: become its alias (another request) or stay silent (same request). */
async function yieldTo(
  deps: AppDeps,
  req: StartRequest,
  mineId: number,
  winner: CheckRunInfo,
  state: CommitState,
): Promise<StartOutcome> {
  if (winner.externalId === req.requestId) return "duplicate";
  const origin = recallRequest(deps.memory?.requests, deps.repo, winner.externalId, state.all);
  await updateCheckRun(deps.client, deps.repo, mineId, {
    externalId: winner.externalId,
    output: phaseCheckOutput("Queued on the GPU runner", toRequestInfo(winner.externalId, origin), {}),
  });
  return alreadyRunning(deps, req, winner, state);
}

/** Answers a request made while `running` is active (once per active request, see repeat-reply.ts). */
async function alreadyRunning(
  deps: AppDeps,
  req: StartRequest,
  running: CheckRunInfo,
  state: CommitState,
): Promise<StartOutcome> {
  const origin = recallRequest(deps.memory?.requests, deps.repo, running.externalId, state.all);
  const answered = await answerRepeat(deps, {
    pr: req.pull.number,
    headSha: req.pull.headSha,
    running: {
      requestId: running.externalId,
      url: running.detailsUrl ?? running.htmlUrl,
      startedBy: origin.actor,
    },
    actor: req.actor,
  });
  deps.log.info({ requestId: req.requestId, running: running.externalId, answered }, "already running");
  return "already-running";
}

/** The request as shown in messages. */
export function requestInfo(req: Pick<StartRequest, "requestId" | "actor" | "via" | "args">): RequestInfo {
  return toRequestInfo(req.requestId, { actor: req.actor, via: req.via, args: req.args });
}
