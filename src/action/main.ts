/**
 * The Action's `main`: orchestration only. Inputs → checkout of the commit in a directory of its own
 * → config → the loop (progress in log groups) → job summary → artifact `perfloop-<request-id>` →
 * (with `publish: action`) comment / check run / follow-up PR, or the scan's tracking issue →
 * outputs. Every failure ends in `setFailed` with a message that says what to change.
 *
 * Everything the step hands over comes from perfloop's memory once the loop has returned (issue 10,
 * item 10): the outputs from the results, the job summary from the writer's copy of report.md, and
 * the artifact from the bundle directory restored from the writer's copies (files changed or added
 * by a process left behind are overwritten or removed, with a warning).
 */
import path from "node:path";
import { GATE_CHECK_NAME } from "../contract/index.ts";
import { ConfigError } from "../core/config/load.ts";
import type { Results } from "../core/evidence/results-schema.ts";
import { type EvidenceWriter, type RestoredBundle, restoreBundle } from "../core/evidence/writer.ts";
import { abortOnSignals } from "../core/exec/cancel.ts";
import { exportGateTrees, type GateTrees, gateOptionsOf } from "../core/gate/trees.ts";
import { historyRecordOf } from "../core/history/record.ts";
import type { GitHubClient, RunLinks } from "../publish/index.ts";
import { artifactName, type BundleUpload, uploadBundle } from "./artifact.ts";
import { type Checkout, prepareCheckout, removeCheckout, repositoryRemote } from "./checkout.ts";
import { type ActionContext, readContext } from "./context.ts";
import { type ActionCore, type ActionDeps, defaultDeps } from "./deps.ts";
import { readActionHistory, saveActionHistory } from "./history.ts";
import { type ActionInputs, readInputs } from "./inputs.ts";
import { startLiveProgress } from "./live-progress.ts";
import { actionConfig, modelApiKey, runLoop } from "./loop.ts";
import { focusLines } from "./pr-lines.ts";
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
    [
      "InputError",
      "ContextError",
      "GitError",
      "MissingConfigError",
      "SandboxUnavailableError",
      "InstructionsUnavailableError",
    ].includes(e?.name)
  )
    return e.message;
  return `perfloop failed: ${e?.message ?? String(error)}`;
}

/** Names for a log line: the first ten, then "(+N more)". */
function names(list: readonly string[]): string {
  return list.length > 10 ? `${list.slice(0, 10).join(", ")} (+${list.length - 10} more)` : list.join(", ");
}

/**
 * Restores the bundle directory from the writer's memory and says what that changed, and how many
 * secrets the writer redacted.
 * @returns the restored bundle, or the error message when it could not be restored (then nothing is
 *   uploaded: the directory may hold what perfloop did not write).
 */
async function restore(
  core: ActionCore,
  evidence: EvidenceWriter,
): Promise<{ bundle: RestoredBundle | null; error: string | null }> {
  const redactions = evidence.redactions();
  if (redactions.count > 0)
    core.warning(
      `${redactions.count} secret(s) (a secret's value, plain or encoded, or a token-shaped string) were redacted from the evidence: ${names(redactions.files)}`,
    );
  try {
    const bundle = await restoreBundle(evidence);
    if (bundle.changed.length > 0 || bundle.removed.length > 0)
      core.warning(
        `the evidence directory changed after perfloop wrote it (a process left behind?): ${[
          bundle.changed.length > 0 ? `restored ${names(bundle.changed)}` : "",
          bundle.removed.length > 0 ? `removed ${names(bundle.removed)}` : "",
        ]
          .filter(Boolean)
          .join("; ")}`,
      );
    return { bundle, error: null };
  } catch (error) {
    return { bundle: null, error: `the evidence was not uploaded: ${(error as Error).message}` };
  }
}

/** Uploads the bundle; a missing runtime or a failed upload is reported, and returned as null. */
async function upload(
  deps: ActionDeps,
  dir: string,
  files: readonly string[],
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
    const bundle = await uploadBundle(deps.upload, dir, files, requestId, runUrl);
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
 * Hands the results over, from memory: restores the bundle directory from the writer's copies,
 * uploads exactly those files, writes the job summary (report.md's in-memory copy) and the outputs
 * (the in-memory results). Adds the artifact's link to `run.links`.
 * @returns the restore's or the upload's error message, or null.
 */
async function deliver(
  deps: ActionDeps,
  run: {
    inputs: ActionInputs;
    ctx: ActionContext;
    results: Results;
    sha: string;
    links: RunLinks;
    evidence: EvidenceWriter;
  },
): Promise<string | null> {
  const { core } = deps;
  const { inputs, results, links } = run;
  const restored = await restore(core, run.evidence);
  const uploaded = restored.bundle
    ? await upload(deps, inputs.out, restored.bundle.files, inputs.requestId, run.ctx.runUrl)
    : { bundle: null, error: restored.error };
  if (uploaded.bundle?.url) links.artifactUrl = uploaded.bundle.url;
  const head = summaryHead(results, run.sha, links, artifactName(inputs.requestId));
  await writeJobSummary(core, deps.env, results, run.evidence.files().get("report.md") ?? null, head);
  setOutputs(core, results, inputs.out);
  return uploaded.error;
}

/** The step fails for statuses that need attention: perfloop's own error, or a red baseline. */
function failureFor(results: Results): string | null {
  if (results.status === "error") return results.message;
  if (results.status === "baseline-failed") return `the unmodified code fails: ${results.message}`;
  // The gate (docs/gate.md): a regressed or broken head fails the step too, not only its check run.
  if (results.status === "regressed") return `performance regression: ${results.message}`;
  if (results.status === "head-failed") return `the head fails: ${results.message}`;
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
  // Mode gate: base and head exported from the checkout; removed with it.
  let gateTrees: GateTrees | null = null;
  // The runner cancels a job with SIGINT, then SIGTERM, then SIGKILL (10 s in all): the loop kills
  // every sandbox and ends "cancelled", and the step still uploads the partial bundle, writes the
  // summary and closes the check run (src/core/exec/cancel.ts).
  const controller = new AbortController();
  const stopListening = abortOnSignals(controller, { exitOnSecond: false });
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
    // Outside the inner try: a failure concludes the live check run instead of leaving it running.
    let live: Awaited<ReturnType<typeof startLiveProgress>> | null = null;
    try {
      checkout = await inGroup(core, "perfloop ▸ checkout", () => prepareCheckout(inputs, ctx, remote));
      const config = actionConfig(checkout, inputs);
      const apiKey = modelApiKey(config, inputs, deps.env);
      maskSecrets([apiKey], (s) => core.setSecret(s));
      secrets.push(apiKey);
      const current = checkout;
      // One client for the token's reads and, with `publish: app`, the progress check run.
      let tokenClient: GitHubClient | null | undefined;
      const withToken = () =>
        (tokenClient ??= inputs.githubToken ? (client ?? deps.github(inputs.githubToken, ctx.apiUrl)) : null);
      const changedLines = await focusLines(
        withToken,
        inputs.pr === null ? null : { owner: ctx.owner, repo: ctx.repo, pullNumber: inputs.pr },
        path.relative(current.root, current.projectDir).split(path.sep).join("/"),
        (message) => core.warning(message),
      );
      // On a pull request, a live checklist: with `publish: action` in the check run and the sticky
      // comment; with `publish: app` in a `perfloop progress` check run the App mirrors.
      let progressClient = client;
      try {
        if (inputs.publish === "app") progressClient = withToken();
      } catch (error) {
        core.warning(`perfloop: live progress is off: no GitHub client (${(error as Error).message})`);
      }
      live =
        progressClient && inputs.mode !== "scan" && inputs.pr !== null
          ? await startLiveProgress({
              client: progressClient,
              repo: { owner: ctx.owner, repo: ctx.repo },
              pr: inputs.pr,
              headSha: current.sha,
              requestId: inputs.requestId,
              links,
              ...(inputs.mode === "gate" ? { checkName: GATE_CHECK_NAME } : {}),
              ...(client ? { requestedBy: ctx.actor ?? undefined } : { channel: "progress-check" as const }), // the actor is the App; it names who asked
              warn: (message) => core.warning(message),
            })
          : null;
      // Mode gate: base and head exported side by side from the checkout (src/core/gate/trees.ts).
      gateTrees =
        inputs.mode === "gate" && inputs.base
          ? await exportGateTrees(current.projectDir, inputs.base, current.sha)
          : null;
      // A gate and a scan (the default branch) add to the performance history. The trend needs
      // only a read (any token); the line is appended here with `publish: action`, by the App with
      // `publish: app` (its runner holds no write token).
      const keepsHistory = inputs.mode === "gate" || inputs.mode === "scan";
      const repoRef = { owner: ctx.owner, repo: ctx.repo };
      const reader = keepsHistory ? progressClient : null;
      const history = reader ? await readActionHistory(reader, repoRef, current.sha, core) : undefined;
      const { results, evidence } = await runLoop({
        deps,
        secrets,
        core,
        config,
        apiKey,
        inputs,
        ctx,
        checkout: current,
        env: loopEnv(deps.env, secrets),
        signal: controller.signal,
        ...(changedLines ? { changedLines } : {}),
        ...(live ? { onEvent: live.onEvent } : {}),
        ...(history ? { history } : {}),
        ...(gateTrees ? { gate: gateOptionsOf(gateTrees) } : {}),
      }).finally(() => live?.stop());

      const uploadError = await deliver(deps, { inputs, ctx, results, sha: current.sha, links, evidence });
      if (keepsHistory && client)
        await saveActionHistory(client, repoRef, historyRecordOf(results, current.sha), core);
      if (client)
        await inGroup(core, "perfloop ▸ publish", () =>
          publishRun({
            client,
            core,
            ctx,
            inputs,
            checkout: current,
            remote,
            results,
            links,
            // Never re-read from disk: the copy the loop wrote (README, "Safety").
            patch: evidence.files().get("final.patch") ?? null,
            checkRunIds: live?.checkRunId ? [live.checkRunId] : [],
            config,
          }),
        );
      const failure = uploadError ?? failureFor(results);
      if (failure) core.setFailed(failure);
    } catch (error) {
      if (client)
        await publishRunFailure(
          client,
          core,
          ctx,
          inputs,
          failureMessage(error),
          links,
          live?.checkRunId ? [live.checkRunId] : [],
        );
      throw error;
    }
  } catch (error) {
    core.setFailed(failureMessage(error));
  } finally {
    // Once cancelled, later signals are ignored to the end: the step is finishing its delivery.
    if (!controller.signal.aborted) stopListening();
    await gateTrees?.dispose();
    await removeCheckout(checkout);
  }
}
