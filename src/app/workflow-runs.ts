/**
 * Following a dispatched run through its `workflow_run` events, matched to the request by the run
 * name (request.ts): `requested`/`in_progress` show the phase and the run link; `completed`
 * collects the results bundle and publishes it, or reports why it cannot (failure, cancellation,
 * a missing, oversized, malformed or mismatched bundle). Events for requests that are no longer
 * active (redeliveries, cancelled requests) change nothing, so the handling is idempotent.
 * A gate (request id `gate-…`, gate-request.ts) is followed through its `perfloop gate` check run:
 * its phases touch only that check run (no sticky comment), and its results are published with no
 * patch (a gate never opens a follow-up PR); the report goes into the sticky comment as usual.
 */
import type { Results } from "../core/evidence/results-schema.ts";
import { historyRecordOf } from "../core/history/record.ts";
import {
  appendHistoryStore,
  type CheckRunInfo,
  isActive,
  type PublishTarget,
  type PullTarget,
  publishCancelled,
  publishFailure,
  publishPhase,
  publishResults,
} from "../publish/index.ts";
import { BundleError, fetchBundle } from "./artifact.ts";
import type { RepoConfig } from "./config.ts";
import { cancelWorkflowRun } from "./dispatch.ts";
import { checkNameOf, isGateRequest, publishGatePhase } from "./gate-request.ts";
import { isMirroring, stopMirror } from "./progress-mirror.ts";
import { fetchPull } from "./pull-request.ts";
import type { RunIdentity } from "./request.ts";
import { recallRequest, toRequestInfo } from "./request-info.ts";
import { runFailureMessages } from "./run-errors.ts";
import { type AppDeps, errorSummary, readCommitState } from "./state.ts";

/** The fields of a `workflow_run` payload that matter here. */
export interface WorkflowRunInfo {
  id: number;
  htmlUrl: string;
  /** Workflow file path, e.g. ".github/workflows/perfloop.yml". */
  path: string;
  status: string | null;
  conclusion: string | null;
}

/** What the results flow needs beyond the run. */
export interface CollectDeps {
  /** Loads `.github/perfloop.yml` (throws ConfigError when invalid). */
  loadConfig: () => Promise<RepoConfig>;
  /** The repository's page, e.g. https://github.com/o/r (for artifact links). */
  repoHtmlUrl: string;
}

/** `requested` / `in_progress`: shows the phase and link; cancels a run whose request was cancelled. */
export async function followRun(
  deps: AppDeps,
  id: RunIdentity,
  run: WorkflowRunInfo,
  phase: "queued" | "running",
): Promise<void> {
  // The runner's live checklist is shown (progress-mirror.ts): a phase line would replace it, and
  // the request is active while it is copied (`/optimize cancel` stops the copy first).
  if (isMirroring(deps, deps.memory?.mirrors, id.requestId)) return;
  const state = await readCommitState(deps, id.headSha, Number.POSITIVE_INFINITY, checkNameOf(id.requestId));
  const mine = state.all.filter((r) => r.externalId === id.requestId);
  const active = mine.filter(isActive);
  if (active.length === 0) {
    if (mine.some((r) => r.conclusion === "cancelled") && run.status !== "completed")
      await cancelWorkflowRun(deps.client, deps.repo, run.id);
    return;
  }
  // Events arrive out of order; and a dispatch that returned the run link already showed "queued".
  if (phase === "queued" && active.some((r) => r.status === "in_progress" || r.detailsUrl !== null)) return;
  const pull: PullTarget = { number: id.pr, headSha: id.headSha, headRef: "", isFork: false };
  const target = requestTarget(deps, id, pull, mine, active, run.htmlUrl);
  // A gate runs on every push: its phases stay in its check run, the comment waits for the report.
  if (isGateRequest(id.requestId)) return publishGatePhase(deps.client, target, phase);
  await publishPhase(deps.client, target, phase);
}

/** `completed`: collects and publishes. Returns what it did (for logs and tests). */
export async function collectResults(
  deps: AppDeps,
  collect: CollectDeps,
  id: RunIdentity,
  run: WorkflowRunInfo,
): Promise<string> {
  // A live checklist written after the report would hide it: the mirror ends first.
  await stopMirror(deps, deps.memory?.mirrors, id.requestId);
  const gate = isGateRequest(id.requestId);
  const state = await readCommitState(deps, id.headSha, Number.POSITIVE_INFINITY, checkNameOf(id.requestId));
  const active = state.active.filter((r) => r.externalId === id.requestId);
  if (active.length === 0) return "not-active";
  const target = requestTarget(deps, id, await pullTarget(deps, id), active, active, run.htmlUrl);

  let config: RepoConfig | null = null;
  try {
    config = await collect.loadConfig();
  } catch (error) {
    deps.log.warn(
      { err: errorSummary(error) },
      "config unreadable while collecting results; App defaults, and no follow-up PR",
    );
  }
  const expectedPath = `.github/workflows/${config?.app.workflow ?? "perfloop.yml"}`;
  if (run.path !== expectedPath) {
    await publishFailure(
      deps.client,
      target,
      `The results came from workflow ${run.path}, not the configured ${expectedPath}; they were not trusted.`,
    );
    return "wrong-workflow";
  }
  if (run.conclusion === "cancelled" || run.conclusion === "skipped") {
    await publishCancelled(deps.client, target);
    return "cancelled";
  }
  let bundle: Awaited<ReturnType<typeof fetchBundle>>;
  try {
    bundle = await fetchBundle(
      deps.client,
      deps.repo,
      run.id,
      { requestId: id.requestId, pr: id.pr, headSha: id.headSha },
      collect.repoHtmlUrl,
    );
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    deps.log.warn({ requestId: id.requestId, err: errorSummary(error) }, "results bundle refused");
    const ended =
      run.conclusion && run.conclusion !== "success" ? `The run ended with "${run.conclusion}". ` : "";
    // A run that failed before it had results (an invalid config, say) said why in its job's
    // error annotation: quote it here, where the request was made.
    const said = run.conclusion === "failure" ? await runFailureMessages(deps.client, deps.repo, run.id) : [];
    const why = said.length > 0 ? ` The runner said: ${said.join(" — ")}` : "";
    await publishFailure(deps.client, target, `${ended}No trustworthy results: ${error.message}.${why}`);
    return "bundle-refused";
  }
  const outcome = await publishResults(
    deps.client,
    { ...target, links: { runUrl: run.htmlUrl, artifactUrl: bundle.artifactUrl } },
    bundle.results,
    // Without the config the patch policy cannot be checked with its `paths` and `protect`: the
    // results are shown, but no follow-up PR is opened (nothing is committed on a guess).
    config && !gate ? bundle.patch : null,
    // A gate measures the head as it is: it never proposes a patch, whatever the bundle holds.
    // The config the run used, for the patch policy the bundle is checked against again.
    { draft: config?.app.draft ?? true, config: config?.core },
  );
  if (outcome.refused)
    deps.log.warn(
      { requestId: id.requestId, problems: outcome.refused.slice(0, 5) },
      "results bundle refused by the re-check",
    );
  deps.log.info(
    { requestId: id.requestId, conclusion: outcome.conclusion, followUp: outcome.followUp?.status ?? "none" },
    "results published",
  );
  // A gate's head joins the performance history (docs/gate.md, "History"): the runner of an App
  // run holds no write token, so the App appends the line, computed from the validated results.
  if (gate) await appendGateHistory(deps, bundle.results, id);
  return `published-${outcome.conclusion}`;
}

/** Appends a gate's line to the history on `perfloop-data`; a failure is logged, never thrown. */
async function appendGateHistory(deps: AppDeps, results: Results, id: RunIdentity): Promise<void> {
  const record = historyRecordOf(results, id.headSha);
  if (!record) return;
  try {
    await appendHistoryStore(deps.client, deps.repo, [record]);
  } catch (error) {
    deps.log.warn({ requestId: id.requestId, err: errorSummary(error) }, "performance history not appended");
  }
}

/**
 * Where a request's phase or results go: its active check runs, the run's link, and who asked —
 * from the App's memory, else from one of `known`'s summaries ("requested by …").
 */
function requestTarget(
  deps: AppDeps,
  id: RunIdentity,
  pull: PullTarget,
  known: CheckRunInfo[],
  active: CheckRunInfo[],
  runUrl: string,
): PublishTarget {
  return {
    repo: deps.repo,
    pull,
    info: toRequestInfo(id.requestId, recallRequest(deps.memory?.requests, deps.repo, id.requestId, known)),
    links: { runUrl },
    checkRunIds: active.map((r) => r.id),
  };
}

/** The pull request as it is now (branch, fork), with the head SHA that was optimized. */
async function pullTarget(deps: AppDeps, id: RunIdentity): Promise<PullTarget> {
  const { headRef, isFork } = await fetchPull(deps, id.pr);
  return { number: id.pr, headSha: id.headSha, headRef, isFork };
}
