/**
 * The `perfloop` check run: one per request, on the PR head SHA. It is also the App's only state
 * (docs/design.md, "State and scale"): `external_id` holds the request id, `details_url` the workflow run, and the
 * output shows the phase. Annotations are added 50 per request (GitHub's limit).
 */
import type { Results } from "../core/evidence/results-schema.ts";
import {
  ANNOTATIONS_PER_REQUEST,
  CHECK_TEXT_MAX_CHARS,
  CHECK_TITLE_MAX_CHARS,
  clipPlain,
  SAFETY_MARGIN_CHARS,
  truncateMarkdown,
} from "./limits.ts";
import type { CheckConclusion, GitHubClient, RepoRef } from "./types.ts";

/** The check run name perfloop uses everywhere. */
export const CHECK_NAME = "perfloop";

/** A perfloop check run as listed by GitHub (the fields perfloop reads). */
export interface CheckRunInfo {
  id: number;
  externalId: string;
  status: "queued" | "in_progress" | "completed" | string;
  conclusion: string | null;
  /** Where the check run links to: the workflow run once known. */
  detailsUrl: string | null;
  htmlUrl: string | null;
  /** ISO time the check run started (GitHub sets it at creation). */
  startedAt: string | null;
  /**
   * The output's summary, when the listing carries it: it holds "requested by …"
   * (src/publish/messages.ts), so another replica or a restarted App can still say who asked.
   */
  summary?: string | null;
}

/** The output of a check run: `title` ≤ 255, `summary` and `text` ≤ 65,535 characters (clipped here). */
export interface CheckOutput {
  title: string;
  summary: string;
  text?: string;
}

/** One check-run annotation (see GitHub's "Update a check run": `annotations[]`). */
export interface CheckAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  annotation_level: "notice" | "warning" | "failure";
  message: string;
  title?: string;
}

/**
 * Maps a results status to the check conclusion (issue 3): improved → success; no-improvement and
 * inconclusive → neutral; baseline-failed and error → failure; cancelled → cancelled; timeout →
 * timed_out (GitHub's check-run conclusions of those names). The gate (docs/gate.md): passed →
 * success, regressed and head-failed → failure (blocks a merge where the check is required).
 */
export function conclusionFor(status: Results["status"]): CheckConclusion {
  if (status === "improved" || status === "passed") return "success";
  if (status === "cancelled") return "cancelled";
  if (status === "timeout") return "timed_out";
  if (status === "no-improvement" || status === "inconclusive") return "neutral";
  return "failure";
}

/**
 * Lists the `perfloop` check runs (or those named `checkName`) on commit `sha`, every status, newest
 * first as GitHub returns them (`filter=all`: the default `latest` would hide all but one per name).
 * At most 100 (one page). One name at a time, so the gate's `perfloop gate` check runs and the
 * `/optimize` requests' `perfloop` ones never block or alias each other.
 * @param appId when given, only check runs created by that GitHub App (others cannot be updated by us).
 * @param checkName the check run name, `perfloop` by default (the gate's is `perfloop gate`).
 */
export async function listPerfloopCheckRuns(
  client: GitHubClient,
  repo: RepoRef,
  sha: string,
  appId?: number,
  checkName: string = CHECK_NAME,
): Promise<CheckRunInfo[]> {
  const { data } = await client.rest.checks.listForRef({
    ...repo,
    ref: sha,
    check_name: checkName,
    filter: "all",
    per_page: 100,
    ...(appId ? { app_id: appId } : {}),
  });
  return data.check_runs.map((r) => ({
    id: r.id,
    externalId: r.external_id ?? "",
    status: r.status,
    conclusion: r.conclusion ?? null,
    detailsUrl: r.details_url ?? null,
    htmlUrl: r.html_url ?? null,
    startedAt: r.started_at ?? null,
    summary: r.output?.summary ?? null,
  }));
}

/** True while a check run is queued or in progress. */
export function isActive(run: CheckRunInfo): boolean {
  return run.status !== "completed";
}

/**
 * Creates the `perfloop` check run (or `args.name`) for a request, status `queued`.
 * `externalId` is the request id (the App uses the webhook delivery GUID, 36 characters).
 * @returns the created check run.
 */
export async function createCheckRun(
  client: GitHubClient,
  repo: RepoRef,
  args: { headSha: string; externalId: string; output: CheckOutput; detailsUrl?: string; name?: string },
): Promise<CheckRunInfo> {
  const { data } = await client.rest.checks.create({
    ...repo,
    name: args.name ?? CHECK_NAME,
    head_sha: args.headSha,
    external_id: args.externalId,
    status: "queued",
    ...(args.detailsUrl ? { details_url: args.detailsUrl } : {}),
    output: fitOutput(args.output),
  });
  return {
    id: data.id,
    externalId: data.external_id ?? args.externalId,
    status: data.status,
    conclusion: data.conclusion ?? null,
    detailsUrl: data.details_url ?? null,
    htmlUrl: data.html_url ?? null,
    startedAt: data.started_at ?? null,
  };
}

/**
 * Updates a running check run: its phase (`output`), status, link, or its `external_id` (used to
 * make a duplicate check run an alias of the request that won, see app/start-run.ts).
 */
export async function updateCheckRun(
  client: GitHubClient,
  repo: RepoRef,
  checkRunId: number,
  args: { status?: "queued" | "in_progress"; detailsUrl?: string; externalId?: string; output?: CheckOutput },
): Promise<void> {
  await client.rest.checks.update({
    ...repo,
    check_run_id: checkRunId,
    ...(args.status ? { status: args.status } : {}),
    ...(args.detailsUrl ? { details_url: args.detailsUrl } : {}),
    ...(args.externalId ? { external_id: args.externalId } : {}),
    ...(args.output ? { output: fitOutput(args.output) } : {}),
  });
}

/**
 * Completes a check run with `conclusion` and `output`; annotations beyond the first 50 are sent in
 * further updates of 50 each (GitHub: "make multiple requests to Update a check run").
 * @returns the number of update requests made.
 */
export async function concludeCheckRun(
  client: GitHubClient,
  repo: RepoRef,
  checkRunId: number,
  args: {
    conclusion: CheckConclusion;
    output: CheckOutput;
    annotations?: CheckAnnotation[];
    detailsUrl?: string;
  },
): Promise<number> {
  const output = fitOutput(args.output);
  const batches = chunk(args.annotations ?? [], ANNOTATIONS_PER_REQUEST);
  await client.rest.checks.update({
    ...repo,
    check_run_id: checkRunId,
    status: "completed",
    conclusion: args.conclusion,
    completed_at: new Date().toISOString(),
    ...(args.detailsUrl ? { details_url: args.detailsUrl } : {}),
    output: { ...output, ...(batches[0] ? { annotations: batches[0] } : {}) },
  });
  for (const batch of batches.slice(1)) {
    await client.rest.checks.update({
      ...repo,
      check_run_id: checkRunId,
      output: { title: output.title, summary: output.summary, annotations: batch },
    });
  }
  return Math.max(1, batches.length);
}

/** Clips the title to 255 and summary/text to 65,535 characters (minus a margin). */
export function fitOutput(output: CheckOutput): CheckOutput {
  const room = CHECK_TEXT_MAX_CHARS - SAFETY_MARGIN_CHARS;
  return {
    title: clipPlain(output.title, CHECK_TITLE_MAX_CHARS),
    summary: truncateMarkdown(output.summary, room, "(summary truncated)"),
    ...(output.text !== undefined ? { text: truncateMarkdown(output.text, room, "(report truncated)") } : {}),
  };
}

/** Splits `items` into arrays of at most `size`. */
function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
