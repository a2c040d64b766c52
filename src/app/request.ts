/**
 * A perfloop request as it travels through GitHub: its id (the webhook delivery GUID that started
 * it, so redeliveries of one event share it), the `workflow_dispatch` inputs, and the run name
 * (`run-name:` in the workflow) by which `workflow_run` events are matched back to the request —
 * the App keeps no state of its own.
 */
import { DISPATCH_MAX_INPUTS, DISPATCH_MAX_PAYLOAD_CHARS } from "../publish/index.ts";

/** Arguments of a request; absent ones fall back to the config on the runner. */
export interface RunArgs {
  rounds?: number;
  /** Target improvement, %. */
  target?: number;
  strategy?: "auto" | "llm" | "tune";
}

/** What a run name carries. */
export interface RunIdentity {
  pr: number;
  headSha: string;
  requestId: string;
}

/** Request ids: the delivery GUID, or any id of letters, digits and `-` up to 64 characters. */
const REQUEST_ID = /^[A-Za-z0-9-]{1,64}$/;
const RUN_NAME = /^perfloop #(\d{1,10}) @ ([0-9a-f]{40}) \[([A-Za-z0-9-]{1,64})\]$/;

/** An invalid request (a bug or a hostile payload): never dispatched. */
export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
}

/**
 * The run name the workflow must produce from its inputs:
 * `run-name: "perfloop #${{ inputs.pr }} @ ${{ inputs.sha }} [${{ inputs.request-id }}]"`.
 */
export function runName(id: RunIdentity): string {
  return `perfloop #${id.pr} @ ${id.headSha} [${id.requestId}]`;
}

/** Reads a workflow run's `display_title`; null when it is not a perfloop run name. */
export function parseRunName(title: string | null | undefined): RunIdentity | null {
  const m = RUN_NAME.exec(title ?? "");
  if (!m?.[1] || !m[2] || !m[3]) return null;
  return { pr: Number(m[1]), headSha: m[2], requestId: m[3] };
}

/**
 * The `workflow_dispatch` inputs, all strings as GitHub requires: `pr`, `sha`, `request-id`,
 * `rounds`, `target`, `strategy` (empty string = the config's value).
 * @throws InvalidRequestError when an id is malformed or the inputs break GitHub's limits (25 inputs,
 *   65,535 characters; see publish/limits.ts).
 */
export function dispatchInputs(id: RunIdentity, args: RunArgs): Record<string, string> {
  if (!REQUEST_ID.test(id.requestId))
    throw new InvalidRequestError(`malformed request id ${JSON.stringify(id.requestId)}`);
  if (!/^[0-9a-f]{40}$/.test(id.headSha))
    throw new InvalidRequestError(`malformed head SHA ${JSON.stringify(id.headSha)}`);
  if (!Number.isInteger(id.pr) || id.pr < 1)
    throw new InvalidRequestError(`malformed pull request number ${id.pr}`);
  const inputs: Record<string, string> = {
    pr: String(id.pr),
    sha: id.headSha,
    "request-id": id.requestId,
    rounds: args.rounds === undefined ? "" : String(args.rounds),
    target: args.target === undefined ? "" : String(args.target),
    strategy: args.strategy ?? "",
  };
  if (
    Object.keys(inputs).length > DISPATCH_MAX_INPUTS ||
    JSON.stringify(inputs).length > DISPATCH_MAX_PAYLOAD_CHARS
  ) {
    throw new InvalidRequestError("the workflow_dispatch inputs exceed GitHub's limits");
  }
  return inputs;
}

/** The run id in a workflow run URL (`…/actions/runs/<id>`), or null. */
export function runIdFromUrl(url: string | null | undefined): number | null {
  const m = /\/actions\/runs\/(\d+)(?:$|[/?#])/.exec(url ?? "");
  return m?.[1] ? Number(m[1]) : null;
}
