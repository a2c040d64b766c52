/**
 * Live progress on the pull request while the step runs (mode pr), a checklist
 * (src/core/report/checklist.ts) updated as the loop goes — at every phase and round, other events
 * at most every {@link QUIET_INTERVAL_MS}, never more often than {@link MIN_INTERVAL_MS}. Two
 * channels:
 * - `pull-request` (`publish: action`): the `perfloop` check run is created `in_progress` at the
 *   start, and it and the sticky comment carry the checklist until the report replaces it
 *   (publish-pr.ts concludes the same check run).
 * - `progress-check` (`publish: app`): the workflow's token cannot write the App's check run or
 *   comment, so the checklist goes into a check run of its own, `perfloop progress`
 *   (src/contract/), whose output `text` is the checklist alone; the App mirrors it into its check
 *   run and the sticky comment (src/app/progress-mirror.ts). It is concluded `neutral` at the end:
 *   the verdict is the App's check run's.
 * GitHub's secondary rate limits allow about 80 content-creating requests a minute
 * (docs.github.com, "Rate limits for the REST API"); two requests every few seconds stay far below.
 * A failed update is a warning, never the run's failure.
 */

import { PROGRESS_CHECK_NAME, progressExternalId } from "../contract/index.ts";
import type { LoopEvent } from "../core/loop/events.ts";
import { createProgressChecklist } from "../core/report/checklist.ts";
import { clipText, escapeInline } from "../core/report/escape.ts";
import {
  concludeCheckRun,
  createCheckRun,
  type GitHubClient,
  type RepoRef,
  type RunLinks,
  updateCheckRun,
  updateStickyComment,
  upsertStickyComment,
} from "../publish/index.ts";

/** Updates never come closer together than this, ms. */
export const MIN_INTERVAL_MS = 3_000;
/** Events that are not milestones (run counters, agent tool calls) update at most this often, ms. */
export const QUIET_INTERVAL_MS = 15_000;

/** Where the progress goes. */
export interface LiveProgressTarget {
  client: GitHubClient;
  repo: RepoRef;
  pr: number;
  headSha: string;
  requestId: string;
  links: RunLinks;
  /** Who asked (the workflow's actor), shown in the header. */
  requestedBy?: string | undefined;
  /** Where the checklist goes (see the file's comment); `pull-request` by default. */
  channel?: "pull-request" | "progress-check";
  /** The check run's name on the `pull-request` channel: `perfloop` (default) or `perfloop gate`. */
  checkName?: string;
  warn: (message: string) => void;
  /** The clock, ms, and the intervals (tests make them short). */
  now?: () => number;
  intervals?: { minMs: number; quietMs: number };
}

/** A running live progress: feed it events; `stop` writes the last state and stops updating. */
export interface LiveProgress {
  onEvent(event: LoopEvent): void;
  /** Waits for the update in flight, writes the final checklist, and stops. */
  stop(): Promise<void>;
  /** The check run it created (publish-pr.ts concludes a `pull-request` one), or null when it could not. */
  checkRunId: number | null;
}

/**
 * Starts live progress: creates the check run (in progress) and the sticky comment's checklist.
 * @returns the progress; when GitHub refuses the start, a progress that only warns once.
 */
export async function startLiveProgress(target: LiveProgressTarget): Promise<LiveProgress> {
  const now = target.now ?? Date.now;
  const intervals = target.intervals ?? { minMs: MIN_INTERVAL_MS, quietMs: QUIET_INTERVAL_MS };
  const toComment = (target.channel ?? "pull-request") === "pull-request";
  const checklist = createProgressChecklist();
  const header = `### perfloop is running${target.requestedBy ? `, asked by @${escapeInline(clipText(target.requestedBy, 60))}` : ""}\n\n${target.links.runUrl ? `[Workflow run](${target.links.runUrl}) · ` : ""}request \`${escapeInline(target.requestId)}\``;
  let checkRunId: number | null = null;
  try {
    const created = await createCheckRun(target.client, target.repo, {
      headSha: target.headSha,
      ...(toComment
        ? { externalId: target.requestId, ...(target.checkName ? { name: target.checkName } : {}) }
        : { externalId: progressExternalId(target), name: PROGRESS_CHECK_NAME }),
      output: { title: "perfloop is running", summary: header },
      ...(target.links.runUrl ? { detailsUrl: target.links.runUrl } : {}),
    });
    checkRunId = created.id;
  } catch (error) {
    target.warn(
      `perfloop: live progress is off: the check run could not be created (${(error as Error).message})${toComment ? "" : "; grant the workflow `checks: write` for the App to show it (docs/github-app.md)"}`,
    );
  }
  let last = 0;
  let dirty = false;
  let stopped = false;
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let due = Number.POSITIVE_INFINITY;
  // The sticky comment is found (listed) once; later updates edit it by id.
  let commentId: number | null = null;
  const writeComment = async (body: string) => {
    if (commentId === null) {
      commentId = (await upsertStickyComment(target.client, target.repo, target.pr, body)).id;
      return;
    }
    await updateStickyComment(target.client, target.repo, commentId, body);
  };
  const output = (title: string) => {
    const list = checklist.render();
    return { title, summary: `${header}\n\n${list}`, ...(toComment ? {} : { text: list }) };
  };
  const write = async () => {
    dirty = false;
    last = now();
    const running = output("perfloop is running");
    try {
      await Promise.all([
        checkRunId === null
          ? Promise.resolve()
          : updateCheckRun(target.client, target.repo, checkRunId, {
              status: "in_progress",
              output: running,
            }),
        toComment ? writeComment(running.summary) : Promise.resolve(),
      ]);
    } catch (error) {
      target.warn(`perfloop: a live progress update failed (${(error as Error).message}); the run goes on`);
    }
  };
  /** Writes at `at` (epoch ms), or sooner when an earlier write is already due. */
  const schedule = (at: number) => {
    if (stopped || (timer && at >= due)) return;
    if (timer) clearTimeout(timer);
    due = at;
    timer = setTimeout(
      () => {
        timer = undefined;
        due = Number.POSITIVE_INFINITY;
        writing = writing.then(write);
      },
      Math.max(0, at - now()),
    );
    timer.unref?.();
  };
  if (checkRunId !== null) writing = writing.then(write);
  return {
    checkRunId,
    onEvent(event) {
      if (stopped || checkRunId === null) return;
      checklist.onEvent(event);
      dirty = true;
      schedule(last + (checklist.isMilestone(event) ? intervals.minMs : intervals.quietMs));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await writing;
      if (checkRunId === null) return;
      if (toComment) {
        if (dirty) await write();
        return;
      }
      const done = output("perfloop finished");
      done.summary = `The run has ended; its verdict and report are in the \`${target.checkName ?? "perfloop"}\` check run and the pull request's comment.\n\n${done.summary}`;
      await concludeCheckRun(target.client, target.repo, checkRunId, {
        conclusion: "neutral",
        output: done,
      }).catch((error: Error) =>
        target.warn(`perfloop: the progress check run could not be concluded (${error.message})`),
      );
    },
  };
}
