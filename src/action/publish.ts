/**
 * `publish: action`: the step publishes its own results with its token — to the pull request in mode
 * pr (publish-pr.ts), to the tracking issue and follow-up PRs in mode scan (scan/). With `publish:
 * app` the App does it from the artifact, and with `none` nobody does.
 */

import path from "node:path";
import { GATE_CHECK_NAME } from "../contract/index.ts";
import type { Config } from "../core/config/schema.ts";
import type { Results } from "../core/evidence/results-schema.ts";
import type { GitHubClient, RunLinks } from "../publish/index.ts";
import type { Checkout } from "./checkout.ts";
import type { ActionContext } from "./context.ts";
import type { ActionCore } from "./deps.ts";
import type { Remote } from "./git.ts";
import type { ActionInputs } from "./inputs.ts";
import { publishPullFailure, publishToPull } from "./publish-pr.ts";
import { publishScan } from "./scan/publish-scan.ts";

/** What publishing needs. */
export interface PublishArgs {
  client: GitHubClient;
  core: ActionCore;
  ctx: ActionContext;
  inputs: ActionInputs;
  checkout: Checkout;
  remote: Remote;
  results: Results;
  links: RunLinks;
  /** final.patch as the loop wrote it (the evidence writer's in-memory copy), or null. */
  patch: string | null;
  /** The check run live progress created, to conclude (mode pr); none = one is created. */
  checkRunIds?: number[];
  /** The config the run used (the re-check before publishing applies its patch policy). */
  config?: Config;
}

/**
 * Publishes the results for the inputs' mode, logs what was done, and sets the outputs
 * `follow-up-pr` (URL) and, for scans, `tracking-issue` (URL).
 * @throws RequestError when GitHub refuses the comment, the check run or the issue.
 */
export async function publishRun(args: PublishArgs): Promise<void> {
  const { client, core, ctx, inputs, results, links } = args;
  const patch = results.final?.patchFile ? args.patch : null;
  if (inputs.mode !== "scan" && inputs.pr !== null) {
    const run = {
      pr: inputs.pr,
      sha: args.checkout.sha,
      requestId: inputs.requestId,
      links,
      checkRunIds: args.checkRunIds ?? [],
      ...(inputs.mode === "gate" ? { checkName: GATE_CHECK_NAME } : {}),
    };
    const outcome = await publishToPull(client, ctx, run, results, patch, inputs.draft, args.config);
    if (outcome.refused)
      core.warning(`perfloop: the results were not published: ${outcome.refused.join("; ")}`);
    core.info(`published to #${inputs.pr}: check run ${outcome.conclusion}, comment ${outcome.stickyUrl}`);
    if (outcome.followUp?.status === "skipped")
      core.info(`follow-up PR not opened: ${outcome.followUp.reason}`);
    else if (outcome.followUp) core.setOutput("follow-up-pr", outcome.followUp.url);
    return;
  }
  const { checkout } = args;
  const outcome = await publishScan(
    client,
    { owner: ctx.owner, repo: ctx.repo },
    {
      results,
      sha: checkout.sha,
      defaultBranch: checkout.defaultBranch ?? "main",
      serverUrl: ctx.serverUrl,
      repository: ctx.repository,
      links,
      followUp:
        patch && results.status === "improved"
          ? {
              remote: args.remote,
              checkoutRoot: checkout.root,
              directory: inputs.workingDirectory,
              patch,
              patchFile: path.join(inputs.out, "final.patch"),
              requestId: inputs.requestId,
              maxOpen: inputs.maxOpenPrs,
              draft: inputs.draft,
            }
          : null,
    },
  );
  core.info(
    `tracking issue #${outcome.issue.number} ${outcome.issue.created ? "created" : "updated"}: ${outcome.issue.url}`,
  );
  core.setOutput("tracking-issue", outcome.issue.url);
  if (outcome.followUp?.status === "created") {
    core.info(`follow-up PR #${outcome.followUp.number}: ${outcome.followUp.url}`);
    core.setOutput("follow-up-pr", outcome.followUp.url);
  } else if (outcome.followUp)
    core.info(
      `follow-up PR not opened: ${outcome.followUp.reason}${outcome.followUp.pr ? ` (#${outcome.followUp.pr})` : ""}`,
    );
}

/**
 * Reports a run that ended without results on the pull request (mode pr only; a scan's failure is
 * the failed workflow run itself). Never throws: a failure to report is logged as a warning.
 */
export async function publishRunFailure(
  client: GitHubClient,
  core: ActionCore,
  ctx: ActionContext,
  inputs: ActionInputs,
  reason: string,
  links: RunLinks,
  checkRunIds: number[] = [],
): Promise<void> {
  if (inputs.mode === "scan" || inputs.pr === null || inputs.sha === null) return;
  try {
    await publishPullFailure(
      client,
      ctx,
      {
        pr: inputs.pr,
        sha: inputs.sha,
        requestId: inputs.requestId,
        links,
        checkRunIds,
        ...(inputs.mode === "gate" ? { checkName: GATE_CHECK_NAME } : {}),
      },
      reason,
    );
  } catch (error) {
    core.warning(`could not report the failure on #${inputs.pr}: ${(error as Error).message}`);
  }
}
