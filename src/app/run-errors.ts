/**
 * What a failed run said: the error annotations of its jobs. The runner (the Action) ends a failed
 * step with `core.setFailed(message)` — an invalid config named key by key, a missing config, no
 * sandbox — and GitHub keeps that message as an error annotation on the job's check run. When a run
 * leaves no results bundle, the App quotes these messages on the pull request, so a config error is
 * reported where the request was made, in the runner's words.
 */
import type { GitHubClient, RepoRef } from "../publish/index.ts";

/** Jobs and annotations read at most (a perfloop workflow has one or two jobs). */
const MAX_JOBS = 5;
const MAX_MESSAGES = 3;
/** Characters of one message kept. */
const MAX_MESSAGE_CHARS = 2_000;

/**
 * The failure messages of workflow run `runId`: "failure"-level annotations of its jobs, first
 * {@link MAX_MESSAGES}, each cut to {@link MAX_MESSAGE_CHARS} characters; GitHub's generic "Process
 * completed with exit code N." lines are left out. Never throws: a read that fails gives [] (the
 * failure is then reported without the runner's words).
 * @param client needs `actions: read` and `checks: read` (the App's permissions).
 */
export async function runFailureMessages(
  client: GitHubClient,
  repo: RepoRef,
  runId: number,
): Promise<string[]> {
  try {
    const { data } = await client.rest.actions.listJobsForWorkflowRun({
      ...repo,
      run_id: runId,
      per_page: MAX_JOBS,
    });
    const messages: string[] = [];
    for (const job of data.jobs.slice(0, MAX_JOBS)) {
      const { data: annotations } = await client.rest.checks.listAnnotations({
        ...repo,
        check_run_id: job.id,
        per_page: 50,
      });
      for (const a of annotations) {
        const message = a.message ?? "";
        if (
          a.annotation_level !== "failure" ||
          /^Process completed with exit code \d+\.?$/.test(message.trim())
        )
          continue;
        messages.push(message.slice(0, MAX_MESSAGE_CHARS));
        if (messages.length >= MAX_MESSAGES) return messages;
      }
    }
    return messages;
  } catch {
    return [];
  }
}
