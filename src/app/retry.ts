/**
 * `/optimize retry`: a new run on the pull request's current head commit with the arguments
 * (rounds, target, strategy) of its last run. The last run is the one the App remembers dispatching
 * for the pull request (request-memory.ts), else the newest request on the head commit when its
 * check run still says how it was asked (request-info.ts). Without either, the retry is refused
 * with a reply that says so; it never guesses the arguments.
 */
import { nothingToRetryReply, reply } from "./replies.ts";
import type { RunArgs } from "./request.ts";
import { recallRequest } from "./request-info.ts";
import { type StartRequest, startRun } from "./start-run.ts";
import { type AppDeps, latestRequest, readCommitState } from "./state.ts";

/** The words of the retried request's `via`. */
export const RETRY_VIA = "/optimize retry";

/** Retries (see above). Returns what happened, for logs and tests. */
export async function retryRun(deps: AppDeps, req: Omit<StartRequest, "args" | "via">): Promise<string> {
  const last = await lastArgs(deps, req);
  if ("refused" in last) {
    await reply(deps.client, deps.repo, req.pull.number, nothingToRetryReply(last.refused));
    return `retry-refused-${last.refused}`;
  }
  deps.log.info({ requestId: req.requestId, retried: last.requestId }, "retrying the last run");
  return startRun(deps, { ...req, via: RETRY_VIA, args: last.args });
}

/** The last run's request id and arguments, or why they are not known. */
async function lastArgs(
  deps: AppDeps,
  req: Omit<StartRequest, "args" | "via">,
): Promise<{ requestId: string; args: RunArgs } | { refused: "unknown" | "arguments-unknown" }> {
  const remembered = deps.memory?.requests.lastOf(deps.repo, req.pull.number);
  if (remembered) return { requestId: remembered.requestId, args: remembered.args };
  const state = await readCommitState(deps, req.pull.headSha, req.config.app.stale_after_hours);
  const latest = latestRequest(state);
  if (!latest) return { refused: "unknown" };
  const { args } = recallRequest(deps.memory?.requests, deps.repo, latest.requestId, latest.runs);
  return args ? { requestId: latest.requestId, args } : { refused: "arguments-unknown" };
}
