/**
 * How a perfloop request is named while it travels through GitHub — the App's side and the
 * runner's side must agree byte for byte, so this is the one definition (test/contract.test.ts pins
 * it): the request id, the workflow's `run-name` (how `workflow_run` events are matched back to the
 * request: the App keeps no state of its own), and the evidence artifact's name.
 */

/** What a run name carries. */
export interface RunIdentity {
  /** The pull request number. */
  pr: number;
  /** The PR head commit, 40 hex digits. */
  headSha: string;
  /** The request id: the webhook delivery GUID, or letters, digits and `-`, at most 64. */
  requestId: string;
}

/** A request id: letters, digits and `-`, 1 to 64 characters (a delivery GUID fits). */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9-]{1,64}$/;

/** The `run-name:` every perfloop workflow must carry (GitHub expression syntax). */
export const RUN_NAME_EXPRESSION =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
  "perfloop #${{ inputs.pr }} @ ${{ inputs.sha }} [${{ inputs.request-id }}]";

const RUN_NAME = /^perfloop #(\d{1,10}) @ ([0-9a-f]{40}) \[([A-Za-z0-9-]{1,64})\]$/;

/** The run name {@link RUN_NAME_EXPRESSION} evaluates to for `id`. */
export function runName(id: RunIdentity): string {
  return `perfloop #${id.pr} @ ${id.headSha} [${id.requestId}]`;
}

/** Reads a workflow run's `display_title`; null when it is not a perfloop run name. */
export function parseRunName(title: string | null | undefined): RunIdentity | null {
  const m = RUN_NAME.exec(title ?? "");
  if (!m?.[1] || !m[2] || !m[3]) return null;
  return { pr: Number(m[1]), headSha: m[2], requestId: m[3] };
}

/** The evidence artifact of a request: `perfloop-<request id>`, results.json at its root. */
export function artifactName(requestId: string): string {
  return `perfloop-${requestId}`;
}

/**
 * The check run a runner keeps its live checklist in when the App publishes (`publish: app`): the
 * workflow's token may write check runs (`checks: write`) but not the App's own check run or its
 * comment, so the App mirrors this one's checklist into them (src/app/progress-mirror.ts).
 */
export const PROGRESS_CHECK_NAME = "perfloop progress";

const PROGRESS_EXTERNAL_ID = /^(\d{1,10})\/([A-Za-z0-9-]{1,64})$/;

/** The progress check run's `external_id`: `<pr>/<request id>`, so the App needs no state to find the PR. */
export function progressExternalId(id: Pick<RunIdentity, "pr" | "requestId">): string {
  return `${id.pr}/${id.requestId}`;
}

/** Reads a progress check run's `external_id`; null when it is not `<pr>/<request id>`. */
export function parseProgressExternalId(
  externalId: string | null | undefined,
): Pick<RunIdentity, "pr" | "requestId"> | null {
  const m = PROGRESS_EXTERNAL_ID.exec(externalId ?? "");
  if (!m?.[1] || !m[2]) return null;
  return { pr: Number(m[1]), requestId: m[2] };
}

/** The check run of the performance gate (docs/gate.md): the one to make a required status check. */
export const GATE_CHECK_NAME = "perfloop gate";
