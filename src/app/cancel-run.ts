/**
 * `/optimize cancel`: cancels the workflow run of every active request on the PR head commit and
 * concludes its check runs `cancelled`. The run id comes from the check run's `details_url`, or,
 * before the App learned it, from the run names of recent dispatches. A run that starts after its
 * request was cancelled is cancelled when its `workflow_run` event arrives (see run-progress.ts).
 */

import { type CheckRunInfo, type PullTarget, publishCancelled } from "../publish/index.ts";
import type { RepoConfig } from "./config.ts";
import { cancelWorkflowRun, findRunForRequest } from "./dispatch.ts";
import { stopMirror } from "./progress-mirror.ts";
import { nothingToCancelReply, reply } from "./replies.ts";
import { runIdFromUrl } from "./request.ts";
import { recallRequest, toRequestInfo } from "./request-info.ts";
import { type AppDeps, readCommitState } from "./state.ts";

/** Who cancels what. */
export interface CancelRequest {
  pull: PullTarget;
  actor: string;
  config: RepoConfig;
}

/** Cancels; replies when there is nothing to cancel. Returns the number of requests cancelled. */
export async function cancelRuns(deps: AppDeps, req: CancelRequest): Promise<number> {
  const state = await readCommitState(deps, req.pull.headSha, req.config.app.stale_after_hours);
  if (state.active.length === 0) {
    await reply(deps.client, deps.repo, req.pull.number, nothingToCancelReply(req.pull.headSha));
    return 0;
  }
  const byRequest = new Map<string, CheckRunInfo[]>();
  for (const run of state.active)
    byRequest.set(run.externalId, [...(byRequest.get(run.externalId) ?? []), run]);
  for (const [requestId, runs] of byRequest) {
    let runUrl = runs.map((r) => r.detailsUrl).find((u) => runIdFromUrl(u) !== null) ?? null;
    let runId = runIdFromUrl(runUrl);
    if (runId === null) {
      const found = await findRunForRequest(deps.client, deps.repo, req.config.app.workflow, requestId);
      runId = found?.runId ?? null;
      runUrl = found?.runUrl ?? null;
    }
    if (runId !== null) await cancelWorkflowRun(deps.client, deps.repo, runId);
    deps.log.info({ requestId, runId }, "request cancelled");
    await stopMirror(deps, deps.memory?.mirrors, requestId);
    await publishCancelled(
      deps.client,
      {
        repo: deps.repo,
        pull: req.pull,
        info: toRequestInfo(requestId, recallRequest(deps.memory?.requests, deps.repo, requestId, runs)),
        links: runUrl ? { runUrl } : {},
        checkRunIds: runs.map((r) => r.id),
      },
      req.actor,
    );
  }
  return byRequest.size;
}
