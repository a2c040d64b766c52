/**
 * Starting the performance gate (docs/gate.md, "With the App") for a push to a pull request, when
 * the repository opted in with `app.gate: true`: the `perfloop gate` check run (queued) on the head
 * commit, then the workflow dispatched at the default branch with the usual inputs plus
 * `mode: gate` and `base` (the PR's base commit). No sticky comment at the start: a gate runs on
 * every push, so only its report (workflow-runs.ts) writes the comment. Its request id is
 * `gate-<delivery id>` (gate-request.ts); a check run with that `external_id` already on the commit
 * means a redelivery. Gates keep their own check-run name, so they never block `/optimize`
 * requests, nor those them. A gate is not remembered in request-memory.ts: `/optimize retry` and
 * `/optimize status` are about optimization requests.
 */

import { GATE_CHECK_NAME } from "../contract/index.ts";
import { ConfigError } from "../core/config/load.ts";
import { concludeCheckRun, createCheckRun, type PullTarget, updateCheckRun } from "../publish/index.ts";
import { failureCheckOutput } from "../publish/messages.ts";
import { type Actor, isBot } from "./authorize.ts";
import { type AppConfig, loadRepoConfig, type RepoConfig } from "./config.ts";
import { DispatchError, dispatchWorkflow, workflowState } from "./dispatch.ts";
import { gatePhaseOutput, gateRequestId } from "./gate-request.ts";
import { missingWorkflowReply } from "./replies.ts";
import { dispatchInputs } from "./request.ts";
import { toRequestInfo } from "./request-info.ts";
import { type AppDeps, errorSummary, readCommitState } from "./state.ts";

/** A push to gate: the pull request (head), its base commit, the delivery and the config. */
export interface GateRequest {
  pull: PullTarget;
  /** The PR's base commit (40 hex digits): what the head is compared with. */
  baseSha: string;
  /** The webhook delivery GUID; the request id is `gate-<it>`. */
  deliveryId: string;
  /** Login of who pushed (the event's sender), for the check run's text. */
  actor: string;
  config: RepoConfig;
  defaultBranch: string;
}

/** What happened. */
export type GateOutcome = "dispatched" | "duplicate" | "workflow-unavailable" | "dispatch-failed";

/**
 * Why no gate runs for this pull request, or null when one may: `off` (`app.gate` is false), `fork`
 * (a fork's PR without `app.allow_forks`: its code would run on the self-hosted runner), `bot` (a
 * PR opened by a bot not in `app.allow_bots`). Silent refusals: a push is no request to answer.
 */
export function gateRefusal(app: AppConfig, pull: PullTarget, author: Actor): "off" | "fork" | "bot" | null {
  if (!app.gate) return "off";
  if (pull.isFork && !app.allow_forks) return "fork";
  if (isBot(author) && !app.allow_bots.some((b) => b.toLowerCase() === author.login.toLowerCase()))
    return "bot";
  return null;
}

/**
 * The config for a gate decision, or null when the file is missing or invalid (no gate then: the
 * gate is opt-in, and a push is not the place to report a config problem; `/optimize` does).
 * @throws the loader's error for API failures (the delivery is then retried).
 */
export async function loadGateConfig(read: () => Promise<unknown>): Promise<RepoConfig | null> {
  try {
    return await loadRepoConfig(read);
  } catch (error) {
    if (error instanceof ConfigError) return null;
    throw error;
  }
}

/**
 * Creates the `perfloop gate` check run and dispatches the gate (see above). A missing or disabled
 * workflow, or a dispatch GitHub refuses, concludes the check run `failure` with the reason.
 * @throws RequestError when GitHub refuses a check-run write or another call.
 */
export async function startGate(deps: AppDeps, req: GateRequest): Promise<GateOutcome> {
  const { pull, config } = req;
  const requestId = gateRequestId(req.deliveryId);
  const [before, workflow] = await Promise.all([
    readCommitState(deps, pull.headSha, config.app.stale_after_hours, GATE_CHECK_NAME),
    workflowState(deps.client, deps.repo, config.app.workflow),
  ]);
  if (before.all.some((r) => r.externalId === requestId)) return "duplicate";
  const info = toRequestInfo(requestId, { actor: req.actor, via: "gate" });
  const mine = await createCheckRun(deps.client, deps.repo, {
    name: GATE_CHECK_NAME,
    headSha: pull.headSha,
    externalId: requestId,
    output: gatePhaseOutput("Queued on the GPU runner", info, {}),
  });
  if (workflow !== "active") {
    // The required check must not wait forever for a run that cannot start: it fails, saying why.
    await concludeCheckRun(deps.client, deps.repo, mine.id, {
      conclusion: "failure",
      output: {
        title: "The perfloop gate could not start",
        summary: missingWorkflowReply(config.app.workflow, workflow, req.defaultBranch),
      },
    });
    return "workflow-unavailable";
  }
  let run: Awaited<ReturnType<typeof dispatchWorkflow>>;
  try {
    const inputs = dispatchInputs(
      { pr: pull.number, headSha: pull.headSha, requestId },
      {},
      { base: req.baseSha },
    );
    run = await dispatchWorkflow(deps.client, deps.repo, {
      file: config.app.workflow,
      ref: req.defaultBranch,
      inputs,
    });
  } catch (error) {
    deps.log.warn({ requestId, err: errorSummary(error) }, "gate dispatch failed");
    await concludeCheckRun(deps.client, deps.repo, mine.id, {
      conclusion: "failure",
      output: failureCheckOutput(
        `The workflow could not be dispatched: ${(error as Error).message}`,
        info,
        {},
      ),
    });
    if (error instanceof DispatchError) return "dispatch-failed";
    throw error;
  }
  deps.log.info({ requestId, pr: pull.number, runId: run.runId }, "gate dispatched");
  // The run link now, when GitHub returned it; else the `workflow_run` event brings it.
  if (run.runUrl)
    await updateCheckRun(deps.client, deps.repo, mine.id, {
      detailsUrl: run.runUrl,
      output: gatePhaseOutput("Queued on the GPU runner", info, { runUrl: run.runUrl }),
    });
  return "dispatched";
}
