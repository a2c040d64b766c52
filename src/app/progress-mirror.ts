/**
 * Live progress in App mode (`publish: app`). The runner's token may write check runs but not the
 * App's check run or its sticky comment, so the runner keeps its checklist in a `perfloop progress`
 * check run of its own (src/action/live-progress.ts, src/contract/run-identity.ts) and the App,
 * told of it by `check_run.created`, polls it and copies each new checklist into its `perfloop`
 * check run and the sticky comment. GitHub sends no event when a check run's output changes, hence
 * the polling: one GET every {@link MIRROR_TIMING}.intervalMs per active run (240 an hour at 15 s,
 * against an installation's 5,000 an hour: docs.github.com, "Rate limits for the REST API"). A
 * changed checklist costs a listing of the commit's check runs (is the request still active?), a
 * check-run update and a comment edit by id (the comment is found once, at the first copy).
 *
 * A mirror stops when the progress check run completes (the runner concludes it before uploading
 * its results), when the request is no longer active, after `maxMs`, or when the results arrive
 * (workflow-runs.ts stops it and waits for a write in flight before publishing the report, so the
 * report is never overwritten). The registry lives in this process only: after a restart, or on
 * another replica, the sticky comment shows the phase until the report replaces it.
 * A gate's checklist (request id `gate-…`, gate-request.ts) goes into its `perfloop gate` check run
 * only: a gate leaves the sticky comment alone until its report.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { clipText } from "../core/report/escape.ts";
import { isActive, type PullTarget, publishPhase } from "../publish/index.ts";
import { checkNameOf, isGateRequest, publishGatePhase } from "./gate-request.ts";
import type { RunIdentity } from "./request.ts";
import { recallRequest, toRequestInfo } from "./request-info.ts";
import { type AppDeps, errorSummary, readCommitState } from "./state.ts";

/** How often a mirror polls and how long it may live, ms. */
export interface MirrorTiming {
  intervalMs: number;
  maxMs: number;
}

/** 15 s between polls; at most 6 hours (the default workflow `timeout-minutes` is 120). */
export const MIRROR_TIMING: MirrorTiming = { intervalMs: 15_000, maxMs: 6 * 3_600_000 };

/** Most mirrors one App process runs at once; a request beyond it shows phases only. */
export const MAX_MIRRORS = 256;

/** Characters of a runner's checklist shown (the runner's own renderer stays near 6,000). */
const CHECKLIST_MAX_CHARS = 8_000;

/** A running mirror: `stop` ends it and resolves once no write is in flight. */
interface Mirror {
  controller: AbortController;
  done: Promise<string>;
}

/** The mirrors of one App process, by "owner/repo request-id". */
export type MirrorRegistry = Map<string, Mirror>;

/** What a mirror follows: the request and the runner's progress check run. */
export interface MirrorTarget extends RunIdentity {
  /** The `perfloop progress` check run's id. */
  progressCheckRunId: number;
}

function keyOf(deps: AppDeps, requestId: string): string {
  return `${deps.repo.owner}/${deps.repo.repo} ${requestId}`;
}

/** Whether a mirror runs for `requestId` (then the phase messages leave the checklist alone). */
export function isMirroring(deps: AppDeps, registry: MirrorRegistry | undefined, requestId: string): boolean {
  return registry?.has(keyOf(deps, requestId)) ?? false;
}

/**
 * Starts mirroring in the background (the webhook is answered at once); a second start for the
 * same request, or one past {@link MAX_MIRRORS}, is ignored.
 * @returns "started", "already-mirroring" or "too-many".
 */
export function startMirror(
  deps: AppDeps,
  registry: MirrorRegistry,
  target: MirrorTarget,
  timing: MirrorTiming = MIRROR_TIMING,
): "started" | "already-mirroring" | "too-many" {
  const key = keyOf(deps, target.requestId);
  if (registry.has(key)) return "already-mirroring";
  if (registry.size >= MAX_MIRRORS) return "too-many";
  const controller = new AbortController();
  const done = mirrorProgress(deps, target, timing, controller.signal)
    .catch((error: unknown) => {
      deps.log.warn({ requestId: target.requestId, err: errorSummary(error) }, "live progress mirror failed");
      return "failed";
    })
    .then((outcome) => {
      registry.delete(key);
      deps.log.info({ requestId: target.requestId, outcome }, "live progress mirror ended");
      return outcome;
    });
  registry.set(key, { controller, done });
  return "started";
}

/** Stops the mirror of `requestId`, if any, and waits until its write in flight is done. */
export async function stopMirror(
  deps: AppDeps,
  registry: MirrorRegistry | undefined,
  requestId: string,
): Promise<void> {
  const mirror = registry?.get(keyOf(deps, requestId));
  if (!mirror) return;
  mirror.controller.abort();
  await mirror.done;
}

/**
 * The mirror's loop: poll the progress check run, copy a changed checklist.
 * @returns why it ended: "runner-finished", "request-ended", "stopped" or "time-limit".
 * @throws RequestError when GitHub refuses a read or a write (startMirror logs it).
 */
export async function mirrorProgress(
  deps: AppDeps,
  target: MirrorTarget,
  timing: MirrorTiming,
  signal: AbortSignal,
): Promise<string> {
  const endAt = deps.now() + timing.maxMs;
  let shown: string | null = null;
  let commentId: number | null = null;
  while (deps.now() < endAt) {
    const waited = await sleep(timing.intervalMs, true, { signal }).catch(() => false);
    if (!waited || signal.aborted) return "stopped";
    const { data } = await deps.client.rest.checks.get({
      ...deps.repo,
      check_run_id: target.progressCheckRunId,
    });
    if (data.status === "completed") return "runner-finished";
    const checklist = cleanChecklist(data.output?.text);
    if (checklist === null || checklist === shown) continue;
    const state = await readCommitState(
      deps,
      target.headSha,
      Number.POSITIVE_INFINITY,
      checkNameOf(target.requestId),
    );
    const mine = state.all.filter((r) => r.externalId === target.requestId);
    const active = mine.filter(isActive);
    if (active.length === 0) return "request-ended";
    if (signal.aborted) return "stopped";
    const pull: PullTarget = { number: target.pr, headSha: target.headSha, headRef: "", isFork: false };
    const phaseTarget = {
      repo: deps.repo,
      pull,
      info: toRequestInfo(
        target.requestId,
        recallRequest(deps.memory?.requests, deps.repo, target.requestId, mine),
      ),
      links: data.details_url ? { runUrl: data.details_url } : {},
      checkRunIds: active.map((r) => r.id),
    };
    if (isGateRequest(target.requestId))
      await publishGatePhase(deps.client, phaseTarget, "running", checklist);
    else commentId = await publishPhase(deps.client, phaseTarget, "running", checklist, commentId);
    shown = checklist;
  }
  return "time-limit";
}

/**
 * The checklist as the App shows it: the runner's markdown (escaped there), clipped, with HTML
 * comment markers removed so it cannot imitate the sticky comment's marker; null when empty.
 */
export function cleanChecklist(text: string | null | undefined): string | null {
  if (typeof text !== "string") return null;
  const clean = clipText(text.replace(/<!--|-->/g, ""), CHECKLIST_MAX_CHARS).trim();
  return clean === "" ? null : clean;
}
