/**
 * The performance gate's requests in the App (docs/gate.md, "With the App"). With `app.gate: true`
 * every push to a pull request dispatches a gate (start-gate.ts) whose request id is
 * `gate-<delivery id>`. The prefix is how later events (`workflow_run`, the runner's progress check
 * run) know a request is a gate without any state of their own: its check run is `perfloop gate`
 * (the one to make a required status check), its phases touch only that check run (no sticky
 * comment: a gate runs on every push), and it never opens a follow-up PR. `/optimize` request ids
 * are delivery GUIDs (hex digits and `-`), so they never start with `gate-`.
 */

import { GATE_CHECK_NAME } from "../contract/index.ts";
import { codeSpan } from "../core/report/escape.ts";
import {
  CHECK_NAME,
  type CheckOutput,
  type GitHubClient,
  type RepoRef,
  type RequestInfo,
  type RunLinks,
  updateCheckRun,
} from "../publish/index.ts";

/** The request-id prefix of a gate. */
export const GATE_REQUEST_PREFIX = "gate-";

/** The request id of the gate started by webhook delivery `deliveryId`: `gate-<delivery id>`. */
export function gateRequestId(deliveryId: string): string {
  return `${GATE_REQUEST_PREFIX}${deliveryId}`;
}

/** True when `requestId` is a gate's ({@link GATE_REQUEST_PREFIX}). */
export function isGateRequest(requestId: string): boolean {
  return requestId.startsWith(GATE_REQUEST_PREFIX);
}

/** The check run name of a request: `perfloop gate` for a gate, else `perfloop`. */
export function checkNameOf(requestId: string): string {
  return isGateRequest(requestId) ? GATE_CHECK_NAME : CHECK_NAME;
}

/** A link in markdown when `url` is a plain https URL, else nothing. */
function runLink(links: RunLinks): string {
  return links.runUrl && /^https:\/\/[^\s<>()[\]"'`]+$/.test(links.runUrl)
    ? ` [Workflow run](${links.runUrl}).`
    : "";
}

/**
 * A gate's phase as check-run output: `{ title, summary }`, the summary saying who pushed,
 * the run link, the runner's live `checklist` (already cleaned, progress-mirror.ts) and the request id.
 */
export function gatePhaseOutput(
  title: string,
  info: RequestInfo,
  links: RunLinks,
  checklist?: string,
): CheckOutput {
  // "requested by @x via `gate`", as the publish messages write it: request-info.ts reads it back,
  // so the report still names who pushed after a restart.
  const by = info.requestedBy ? ` by @${info.requestedBy.replace(/[^A-Za-z0-9[\]_-]/g, "")}` : "";
  const via = info.via ? ` via ${codeSpan(info.via)}` : "";
  const list = checklist ? `\n\n${checklist}` : "";
  return {
    title,
    summary: `${title}: performance gate of the head against the pull request's base, requested${by}${via}.${runLink(links)}${list}\n\n<sub>request ${codeSpan(info.requestId)}</sub>`,
  };
}

/**
 * Shows a gate's phase on its check runs only (status `in_progress` when running, the run link as
 * `details_url`); the sticky comment is left alone until the report.
 * @throws RequestError when GitHub refuses an update.
 */
export async function publishGatePhase(
  client: GitHubClient,
  target: { repo: RepoRef; info: RequestInfo; links: RunLinks; checkRunIds: number[] },
  phase: "queued" | "running",
  checklist?: string,
): Promise<void> {
  const title = phase === "queued" ? "Queued on the GPU runner" : "Running on the GPU runner";
  const output = gatePhaseOutput(title, target.info, target.links, checklist);
  await Promise.all(
    target.checkRunIds.map((id) =>
      updateCheckRun(client, target.repo, id, {
        ...(phase === "running" ? { status: "in_progress" as const } : {}),
        ...(target.links.runUrl ? { detailsUrl: target.links.runUrl } : {}),
        output,
      }),
    ),
  );
}
