/**
 * The runner of the Action: maps the inputs onto the config (the same overrides and model rules as
 * the CLI, from the core), builds the request that results.json carries, and runs the loop with its
 * progress in log groups. The loop never sees a secret: its parent environment comes from
 * secrets.ts, and the API key goes only into the model client. The evidence writer is made here, with
 * a redactor that knows every secret of the step (src/core/evidence/redact.ts), and kept: what the
 * step publishes afterwards comes from its memory, not from the files on disk.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { checkConfigPaths, parseConfigText } from "../core/config/load.ts";
import { applyOverrides } from "../core/config/overrides.ts";
import type { Config } from "../core/config/schema.ts";
import { createRedactor, type Redactor } from "../core/evidence/redact.ts";
import { parseResults, type Results, type ResultsRequest } from "../core/evidence/results-schema.ts";
import { createEvidenceWriter, type EvidenceWriter } from "../core/evidence/writer.ts";
import type { ChangedLines } from "../core/focus/changed-lines.ts";
import type { LoopEvent } from "../core/loop/events.ts";
import type { PerfloopOptions } from "../core/loop/run.ts";
import { modelClientFor } from "../core/optimize/llm/client-for-config.ts";
import type { Checkout } from "./checkout.ts";
import type { ActionContext } from "./context.ts";
import type { ActionCore, ActionDeps } from "./deps.ts";
import { type ActionInputs, InputError } from "./inputs.ts";
import { createGroupedProgress } from "./progress.ts";
import { ensureBubblewrap } from "./sandbox-setup.ts";

/**
 * The run's config: the file's keys, then the inputs `rounds`, `target`, `strategy`, `model`,
 * `base-url`.
 * @throws ConfigError naming the key (of the file) or the input that is wrong.
 */
export function actionConfig(checkout: Checkout, inputs: ActionInputs): Config {
  const config = applyOverrides(
    parseConfigText(checkout.configText, checkout.configSource),
    inputs.overrides,
    (key) => `input \`${key}\``,
  );
  // Path keys may not lead out of the checkout through links (src/core/config/load.ts).
  checkConfigPaths(config, checkout.projectDir, checkout.configSource);
  return config;
}

/** The model API key: the `api-key` input, else the variable named by `model.api_key_env`; "" for none. */
export function modelApiKey(config: Config, inputs: ActionInputs, env: NodeJS.ProcessEnv): string {
  return inputs.apiKey || env[config.model?.api_key_env ?? "OPENAI_API_KEY"] || "";
}

/** Who asked, as results.json records it (`request.requestId` is what the App matches). */
export function actionRequest(inputs: ActionInputs, ctx: ActionContext, checkout: Checkout): ResultsRequest {
  return {
    trigger: inputs.mode === "scan" ? "schedule" : "workflow",
    ...(inputs.base ? { baseSha: inputs.base } : {}),
    repository: ctx.repository,
    ...(inputs.pr !== null ? { pr: inputs.pr } : {}),
    headSha: checkout.sha,
    requestId: inputs.requestId,
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
  };
}

/**
 * Checks that the evidence directory is new or empty: before the upload it is emptied and rewritten
 * from the writer's memory (src/core/evidence/writer.ts, `restoreBundle`), which must never delete
 * anything of the user's (an `out` input pointing at the workspace, say).
 * @param memoryPath the `memory-path` input: refused inside `dir`, where it would be deleted.
 * @throws InputError naming the input when `dir` holds anything, or holds the memory store.
 */
export async function checkEvidenceDir(dir: string, memoryPath: string | null): Promise<void> {
  const entries = await readdir(dir).catch(() => []);
  if (entries.length > 0)
    throw new InputError([
      `input \`out\`: found "${dir}", which holds ${entries.length} entries, expected a new or empty directory (the step empties it and writes the evidence again from memory before the upload)`,
    ]);
  // A relative memory path is resolved in the checkout (src/core/loop/run.ts), never in `dir`.
  const inside = memoryPath && path.isAbsolute(memoryPath) ? path.relative(dir, memoryPath) : "..";
  if (inside === "" || (!inside.startsWith("..") && !path.isAbsolute(inside)))
    throw new InputError([
      `input \`memory-path\`: found "${memoryPath}", expected a file outside the evidence directory "${dir}" (which is emptied before the upload)`,
    ]);
}

/** A finished loop: its results and the writer that holds the bundle in memory. */
export interface LoopRun {
  /** results.json as the writer wrote it (secrets redacted), parsed from its in-memory copy. */
  results: Results;
  evidence: EvidenceWriter;
}

/**
 * The results as the bundle holds them: the writer's in-memory results.json, else (a loop that
 * wrote none) the returned results with the secrets redacted.
 * @throws ResultsValidationError when neither matches the contract (a bug of the loop).
 */
function bundledResults(evidence: EvidenceWriter, returned: Results, redactor: Redactor): Results {
  const text = evidence.files().get("results.json");
  if (text !== undefined) {
    try {
      return parseResults(JSON.parse(text));
    } catch {
      // fall through: the returned object, redacted the same way
    }
  }
  return parseResults(redactor.value(returned).value);
}

/**
 * Runs the loop on the checkout and writes the evidence into `inputs.out`.
 * @param env the loop's parent environment, already without secrets (secrets.ts).
 * @param secrets values to redact from the evidence besides those of `deps.env`'s secret-named
 *   variables (the step's whole environment: INPUT_API-KEY, ACTIONS_RUNTIME_TOKEN, …).
 * @returns the results (status "error" with the message when perfloop itself failed) and the writer.
 * @throws InputError when the evidence directory is not new or empty; the fs error when it cannot be
 *   created.
 */
export async function runLoop(args: {
  deps: Pick<ActionDeps, "runLoop" | "env">;
  secrets: readonly string[];
  core: ActionCore;
  config: Config;
  apiKey: string;
  inputs: ActionInputs;
  ctx: ActionContext;
  checkout: Checkout;
  env: NodeJS.ProcessEnv;
  /** Aborted when the runner cancels the job (see main.ts). */
  signal?: AbortSignal;
  /** The pull request's changed lines, relative to the project (pr-lines.ts); absent = no focus. */
  changedLines?: ChangedLines;
  /** Another receiver of the loop's events (live progress on the PR, live-progress.ts). */
  onEvent?: (event: LoopEvent) => void;
  /** Mode gate: the two commits and their exported trees (src/core/gate/trees.ts). */
  gate?: PerfloopOptions["gate"];
  /** The repository's performance history (history.ts), for the trend in the report. */
  history?: PerfloopOptions["history"];
}): Promise<LoopRun> {
  const { core, config, inputs } = args;
  const model = modelClientFor(config, args.apiKey, {
    model: "set the Action's `model` input",
    key: () => "set the `api-key` input from a secret",
  });
  if (model.note) core.notice(model.note);
  await checkEvidenceDir(inputs.out, inputs.memoryPath);
  const redactor = createRedactor({ env: args.deps.env, secrets: args.secrets });
  const evidence = await createEvidenceWriter(inputs.out, { redactor });
  if (config.sandbox.isolation === "bwrap") await ensureBubblewrap(core, args.deps.env);
  const progress = createGroupedProgress(core);
  let returned: Results;
  try {
    returned = await args.deps.runLoop({
      repoDir: args.checkout.projectDir,
      outDir: inputs.out,
      mode: args.gate ? "gate" : "optimize",
      ...(args.gate ? { gate: args.gate } : {}),
      ...(args.history ? { history: args.history } : {}),
      config,
      request: actionRequest(inputs, args.ctx, args.checkout),
      model: model.client,
      onEvent: (event) => {
        progress.onEvent(event);
        args.onEvent?.(event);
      },
      apply: false,
      env: args.env,
      secrets: args.secrets.filter((s) => s !== ""),
      evidence,
      ...(args.signal ? { signal: args.signal } : {}),
      ...(inputs.memoryPath ? { memoryPath: inputs.memoryPath } : {}),
      ...(args.changedLines ? { changedLines: args.changedLines } : {}),
    });
  } finally {
    progress.close();
  }
  const results = bundledResults(evidence, returned, redactor);
  if (results.sandbox?.warning) core.warning(results.sandbox.warning);
  return { results, evidence };
}
