/**
 * A perfloop request as the App sees it: the contract with the runner (src/contract/: its id, the
 * `workflow_dispatch` inputs, the run name), and reading a run id from a workflow run URL.
 */
export {
  dispatchInputs,
  InvalidRequestError,
  parseRunName,
  type RunArgs,
  type RunIdentity,
  runName,
} from "../contract/index.ts";

/** The run id in a workflow run URL (`…/actions/runs/<id>`), or null. */
export function runIdFromUrl(url: string | null | undefined): number | null {
  const m = /\/actions\/runs\/(\d+)(?:$|[/?#])/.exec(url ?? "");
  return m?.[1] ? Number(m[1]) : null;
}
