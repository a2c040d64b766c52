/**
 * The Action's `main`: orchestration only. Inputs → checkout of the commit in a directory of its own
 * → config → the loop (progress in log groups) → job summary → artifact `perfloop-<request-id>` →
 * (with `publish: action`) comment / check run / follow-up PR, or the scan's tracking issue →
 * outputs. Every failure ends in `setFailed` with a message that says what to change.
 */
import { ConfigError } from "../core/config/load.ts";
import type { Results } from "../core/evidence/results-schema.ts";
import type { GitHubClient, RunLinks } from "../publish/index.ts";
import { artifactName, type BundleUpload, redactSecrets, uploadBundle } from "./artifact.ts";
import { type Checkout, prepareCheckout, removeCheckout, repositoryRemote } from "./checkout.ts";
import { type ActionContext, readContext } from "./context.ts";
import { type ActionCore, type ActionDeps, defaultDeps } from "./deps.ts";
import { type ActionInputs, readInputs } from "./inputs.ts";
import { actionConfig, modelApiKey, runLoop } from "./loop.ts";
import { publishRun, publishRunFailure } from "./publish.ts";
import { loopEnv, maskSecrets } from "./secrets.ts";
import { setOutputs, summaryHead, writeJobSummary } from "./summary.ts";

/** Runs `fn` inside a log group. */
async function inGroup<T>(core: ActionCore, name: string, fn: () => Promise<T>): Promise<T> {
  core.startGroup(name);
  try {
    return await fn();
  } finally {
    core.endGroup();
  }
}

/** The step's failure message: the error's own words for the ones meant for people. */
function failureMessage(error: unknown): string {
  const e = error as Error;
  if (
    e instanceof ConfigError ||
    ["InputError", "ContextError", "GitError", "MissingConfigError"].includes(e?.name)
  )
    return e.message;
  return `perfloop failed: ${e?.message ?? String(error)}`;
}

/** Uploads the bundle; a missing runtime or a failed upload is reported, and returned as null. */
async function upload(
  deps: ActionDeps,
  dir: string,
  requestId: string,
  runUrl: string | null,
): Promise<{ bundle: BundleUpload | null; error: string | null }> {
  if (!deps.upload) {
    deps.core.warning(
      `the evidence was not uploaded: ACTIONS_RUNTIME_TOKEN is not set (not running in a GitHub Actions job); it is in ${dir}`,
    );
    return { bundle: null, error: null };
  }
  try {
    const bundle = await uploadBundle(deps.upload, dir, requestId, runUrl);
    deps.core.info(`artifact ${bundle.name}: ${bundle.files} files${bundle.url ? `, ${bundle.url}` : ""}`);
    return { bundle, error: null };
  } catch (error) {
    return {
      bundle: null,
      error: `the evidence artifact could not be uploaded: ${(error as Error).message}`,
    };
  }
}

/**
 * Hands the results over: checks the bundle for secrets, uploads it, writes the job summary and the
 * outputs. Adds the artifact's link to `run.links`.
 * @returns the upload's error message, or null.
 */
async function deliver(
  deps: ActionDeps,
  run: {
    inputs: ActionInputs;
    ctx: ActionContext;
    results: Results;
    sha: string;
    links: RunLinks;
    secrets: readonly string[];
  },
): Promise<string | null> {
  const { core } = deps;
  const { inputs, results, links } = run;
  const redacted = await redactSecrets(inputs.out, run.secrets);
  if (redacted.length > 0)
    core.warning(`a secret's value was found in the evidence and replaced by ***: ${redacted.join(", ")}`);
  const uploaded = await upload(deps, inputs.out, inputs.requestId, run.ctx.runUrl);
  if (uploaded.bundle?.url) links.artifactUrl = uploaded.bundle.url;
  const head = summaryHead(results, run.sha, links, artifactName(inputs.requestId));
  await writeJobSummary(core, deps.env, results, inputs.out, head);
  setOutputs(core, results, inputs.out);
  return uploaded.error;
}

/** The step fails for statuses that need attention: perfloop's own error, or a red baseline. */
function failureFor(results: Results): string | null {
  if (results.status === "error") return results.message;
  if (results.status === "baseline-failed") return `the unmodified code fails: ${results.message}`;
  return null;
}

/**
 * Runs the Action.
 * @param deps the toolkit, uploader, GitHub client factory, environment and loop (tests inject them).
 * @returns when done; failures are reported through `core.setFailed`, never thrown.
 */
export async function main(deps: ActionDeps = defaultDeps()): Promise<void> {
  const { core } = deps;
  let checkout: Checkout | null = null;
  try {
    const ctx = await readContext(deps.env);
    const inputs = readInputs((name) => core.getInput(name), ctx);
    // The inputs' secrets, and the runtime's own credentials (kept out of the bundle as well).
    const secrets = [
      inputs.apiKey,
      inputs.githubToken,
      deps.env.ACTIONS_RUNTIME_TOKEN ?? "",
      deps.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? "",
    ];
    maskSecrets(secrets, (s) => core.setSecret(s));
    const remote = repositoryRemote(ctx, inputs.githubToken, loopEnv(deps.env, secrets));
    const client: GitHubClient | null =
      inputs.publish === "action" ? deps.github(inputs.githubToken, ctx.apiUrl) : null;
    const links: RunLinks = ctx.runUrl ? { runUrl: ctx.runUrl } : {};
    try {
      checkout = await inGroup(core, "perfloop ▸ checkout", () => prepareCheckout(inputs, ctx, remote));
      const config = actionConfig(checkout, inputs);
      const apiKey = modelApiKey(config, inputs, deps.env);
      maskSecrets([apiKey], (s) => core.setSecret(s));
      secrets.push(apiKey);
      const current = checkout;
      const results = await runLoop({
        deps,
        core,
        config,
        apiKey,
        inputs,
        ctx,
        checkout: current,
        env: loopEnv(deps.env, secrets),
      });

      const uploadError = await deliver(deps, { inputs, ctx, results, sha: current.sha, links, secrets });
      if (client)
        await inGroup(core, "perfloop ▸ publish", () =>
          publishRun({ client, core, ctx, inputs, checkout: current, remote, results, links }),
        );
      const failure = uploadError ?? failureFor(results);
      if (failure) core.setFailed(failure);
    } catch (error) {
      if (client) await publishRunFailure(client, core, ctx, inputs, failureMessage(error), links);
      throw error;
    }
  } catch (error) {
    core.setFailed(failureMessage(error));
  } finally {
    await removeCheckout(checkout);
  }
}
