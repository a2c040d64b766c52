/**
 * `/optimize status`: replies with where the pull request's latest run stands. The latest run is
 * the newest request among the `perfloop` check runs of the head commit; when the head has none
 * (e.g. after a push), the last request the App remembers for the pull request, on its commit.
 * Who asked comes from the App's memory or the check run's text (request-info.ts).
 */
import type { RepoConfig } from "./config.ts";
import type { OpenablePull } from "./pull-request.ts";
import { reply } from "./replies.ts";
import { recallRequest, toRequestInfo } from "./request-info.ts";
import { type AppDeps, type CommitState, latestRequest, type RequestRuns, readCommitState } from "./state.ts";
import { noRunStatusReply, statusReply } from "./status-text.ts";

/** Whose status to report. */
export interface StatusRequest {
  pull: OpenablePull;
  config: RepoConfig;
}

/** Replies with the status. Returns what happened, for logs and tests. */
export async function reportStatus(deps: AppDeps, req: StatusRequest): Promise<string> {
  const found = await findLatest(deps, req);
  if (!found) {
    await reply(deps.client, deps.repo, req.pull.number, noRunStatusReply(req.pull.headSha));
    return "status-none";
  }
  const { latest, state, headSha } = found;
  const origin = recallRequest(deps.memory?.requests, deps.repo, latest.requestId, latest.runs);
  await reply(
    deps.client,
    deps.repo,
    req.pull.number,
    statusReply({
      requestId: latest.requestId,
      runs: latest.runs,
      headSha,
      currentHeadSha: req.pull.headSha,
      stale: latest.runs.some((r) => state.stale.includes(r)),
      info: toRequestInfo(latest.requestId, origin),
      now: deps.now(),
    }),
  );
  return "status";
}

/** The newest request on the head commit, else on the commit of the PR's last remembered request. */
async function findLatest(
  deps: AppDeps,
  req: StatusRequest,
): Promise<{ latest: RequestRuns; state: CommitState; headSha: string } | null> {
  const hours = req.config.app.stale_after_hours;
  const state = await readCommitState(deps, req.pull.headSha, hours);
  const latest = latestRequest(state);
  if (latest) return { latest, state, headSha: req.pull.headSha };
  const remembered = deps.memory?.requests.lastOf(deps.repo, req.pull.number);
  if (!remembered || remembered.headSha === req.pull.headSha) return null;
  const earlier = await readCommitState(deps, remembered.headSha, hours);
  const found = latestRequest(earlier);
  return found ? { latest: found, state: earlier, headSha: remembered.headSha } : null;
}
