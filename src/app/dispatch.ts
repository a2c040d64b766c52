/**
 * Starting and stopping the repository's perfloop workflow through the Actions REST API:
 * "Get a workflow" (is it there and enabled), "Create a workflow dispatch event" at the default
 * branch with `return_run_details` (GitHub returns the run id and URL since 2026-02; older servers
 * answer 204 and the link arrives with the `workflow_run` event), "Cancel a workflow run".
 */
import type { GitHubClient, RepoRef } from "../publish/index.ts";
import { parseRunName } from "./request.ts";

/** Whether the workflow can be dispatched. */
export type WorkflowState = "active" | "missing" | "disabled";

/** The dispatched run, when GitHub said which it is. */
export interface DispatchedRun {
  runId: number | null;
  runUrl: string | null;
}

/** A dispatch GitHub refused; `status` is the HTTP status (404 missing workflow, 422 bad inputs or disabled). */
export class DispatchError extends Error {
  override name = "DispatchError";
  readonly status: number;
  constructor(message: string, status: number, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** Looks the workflow file up ("Get a workflow"): active, missing (404) or disabled (any other state). */
export async function workflowState(
  client: GitHubClient,
  repo: RepoRef,
  file: string,
): Promise<WorkflowState> {
  try {
    const { data } = await client.rest.actions.getWorkflow({ ...repo, workflow_id: file });
    return data.state === "active" ? "active" : "disabled";
  } catch (error) {
    if ((error as { status?: number }).status === 404) return "missing";
    throw error;
  }
}

/**
 * Dispatches `file` at `ref` (the default branch: the trusted workflow definition) with `inputs`.
 * @throws DispatchError for 404/422 (message from GitHub); RequestError for other failures.
 */
export async function dispatchWorkflow(
  client: GitHubClient,
  repo: RepoRef,
  args: { file: string; ref: string; inputs: Record<string, string> },
): Promise<DispatchedRun> {
  try {
    const response = await client.request(
      "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
      {
        ...repo,
        workflow_id: args.file,
        ref: args.ref,
        inputs: args.inputs,
        return_run_details: true,
      },
    );
    const data = (response.data ?? {}) as { workflow_run_id?: number; html_url?: string };
    return { runId: data.workflow_run_id ?? null, runUrl: data.html_url ?? null };
  } catch (error) {
    const status = (error as { status?: number }).status ?? 0;
    if (status === 404 || status === 422)
      throw new DispatchError((error as Error).message, status, { cause: error });
    throw error;
  }
}

/**
 * Finds the run of `file` whose run name carries `requestId` among the 50 most recent
 * `workflow_dispatch` runs (used to cancel a run whose id the dispatch did not return).
 * @returns the run id and URL, or null.
 */
export async function findRunForRequest(
  client: GitHubClient,
  repo: RepoRef,
  file: string,
  requestId: string,
): Promise<DispatchedRun | null> {
  const { data } = await client.rest.actions.listWorkflowRuns({
    ...repo,
    workflow_id: file,
    event: "workflow_dispatch",
    per_page: 50,
  });
  const run = data.workflow_runs.find((r) => parseRunName(r.display_title)?.requestId === requestId);
  return run ? { runId: run.id, runUrl: run.html_url } : null;
}

/** Cancels workflow run `runId`; a run that already finished (409) is not an error. */
export async function cancelWorkflowRun(client: GitHubClient, repo: RepoRef, runId: number): Promise<void> {
  try {
    await client.rest.actions.cancelWorkflowRun({ ...repo, run_id: runId });
  } catch (error) {
    if ((error as { status?: number }).status !== 409) throw error;
  }
}
