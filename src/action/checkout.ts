/**
 * The code to optimize, on the runner: the commit (the PR head, or the default branch's tip for a
 * scan) is fetched into a fresh repository under RUNNER_TEMP — a directory of the Action's own, so
 * the workflow's checkout and its working tree stay exactly as they were. The config is read from the
 * workflow's own commit (GITHUB_SHA: the default branch for the App's dispatches and for schedules),
 * never from the PR, so a pull request cannot change its own sandbox or commands.
 */
import { rm } from "node:fs/promises";
import path from "node:path";
import type { ActionContext } from "./context.ts";
import { checkoutCommit, defaultBranchHead, type Remote, showFile } from "./git.ts";
import type { ActionInputs } from "./inputs.ts";

/** The config file is missing at the commit it is read from. */
export class MissingConfigError extends Error {
  override name = "MissingConfigError";
}

/** A prepared checkout. */
export interface Checkout {
  /** The repository's root (a git repository of the Action's own). */
  root: string;
  /** `root` + the `working-directory` input: what the loop optimizes. */
  projectDir: string;
  /** The commit checked out. */
  sha: string;
  /** Mode scan: the default branch (base of follow-up PRs); null in mode pr. */
  defaultBranch: string | null;
  /** The config file's text, and where it was read ("path at commit"). */
  configText: string;
  configSource: string;
}

/** The remote of the workflow's repository: `<server>/<owner>/<repo>.git`. */
export function repositoryRemote(ctx: ActionContext, token: string, env: NodeJS.ProcessEnv): Remote {
  return { url: `${ctx.serverUrl}/${ctx.repository}.git`, token, env };
}

/**
 * Fetches and checks out the commit to optimize into `<RUNNER_TEMP>/perfloop/<request-id>/repo`
 * (emptied first: it belongs to this request) and reads the config.
 * @throws GitError (fetch or checkout failed), MissingConfigError.
 */
export async function prepareCheckout(
  inputs: ActionInputs,
  ctx: ActionContext,
  remote: Remote,
): Promise<Checkout> {
  let sha = inputs.sha;
  let defaultBranch: string | null = null;
  if (inputs.mode === "scan") {
    const head = await defaultBranchHead(remote);
    defaultBranch = head.branch;
    sha ??= head.sha;
  }
  if (sha === null) throw new Error("no commit to check out (inputs.ts guarantees one in mode pr)");
  const root = path.join(ctx.runnerTemp, "perfloop", inputs.requestId, "repo");
  await rm(root, { recursive: true, force: true });
  // Also fetched: the workflow's commit (the config is read there) and, in mode gate, the base.
  const also = [ctx.workflowSha, inputs.base].filter((s): s is string => s !== null && s !== undefined);
  await checkoutCommit(remote, root, sha, also);

  const configPath = path.posix.join(inputs.workingDirectory, inputs.config);
  const configSha = ctx.workflowSha ?? sha;
  const configText = await showFile(root, configSha, configPath, remote);
  const configSource = `${configPath} at ${configSha.slice(0, 12)}`;
  if (configText === null) {
    throw new MissingConfigError(
      `${configPath} does not exist at ${configSha.slice(0, 12)}${ctx.workflowSha ? " (the workflow's commit: the config is read from the default branch, never from the pull request)" : ""}. Add it (README.md, "Configuration"), or point the \`config\` / \`working-directory\` inputs at it.`,
    );
  }
  return {
    root,
    projectDir: path.join(root, inputs.workingDirectory),
    sha,
    defaultBranch,
    configText,
    configSource,
  };
}

/** Removes the checkout (the evidence directory is elsewhere and stays). */
export async function removeCheckout(checkout: Checkout | null): Promise<void> {
  if (checkout) await rm(checkout.root, { recursive: true, force: true });
}
