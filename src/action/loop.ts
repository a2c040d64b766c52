/**
 * The runner of the Action: maps the inputs onto the config (the same overrides and model rules as
 * the CLI, from the core), builds the request that results.json carries, and runs the loop with its
 * progress in log groups. The loop never sees a secret: its parent environment comes from
 * secrets.ts, and the API key goes only into the model client.
 */
import { parseConfigText } from "../core/config/load.ts";
import { applyOverrides } from "../core/config/overrides.ts";
import type { Config } from "../core/config/schema.ts";
import type { Results, ResultsRequest } from "../core/evidence/results-schema.ts";
import { modelClientFor } from "../core/optimize/llm/client-for-config.ts";
import type { Checkout } from "./checkout.ts";
import type { ActionContext } from "./context.ts";
import type { ActionCore, ActionDeps } from "./deps.ts";
import type { ActionInputs } from "./inputs.ts";
import { createGroupedProgress } from "./progress.ts";

/**
 * The run's config: the file's keys, then the inputs `rounds`, `target`, `strategy`, `model`,
 * `base-url`.
 * @throws ConfigError naming the key (of the file) or the input that is wrong.
 */
export function actionConfig(checkout: Checkout, inputs: ActionInputs): Config {
  return applyOverrides(
    parseConfigText(checkout.configText, checkout.configSource),
    inputs.overrides,
    (key) => `input \`${key}\``,
  );
}

/** The model API key: the `api-key` input, else the variable named by `model.api_key_env`; "" for none. */
export function modelApiKey(config: Config, inputs: ActionInputs, env: NodeJS.ProcessEnv): string {
  return inputs.apiKey || env[config.model?.api_key_env ?? "OPENAI_API_KEY"] || "";
}

/** Who asked, as results.json records it (`request.requestId` is what the App matches). */
export function actionRequest(inputs: ActionInputs, ctx: ActionContext, checkout: Checkout): ResultsRequest {
  return {
    trigger: inputs.mode === "scan" ? "schedule" : "workflow",
    repository: ctx.repository,
    ...(inputs.pr !== null ? { pr: inputs.pr } : {}),
    headSha: checkout.sha,
    requestId: inputs.requestId,
    ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}),
  };
}

/**
 * Runs the loop on the checkout and writes the evidence into `inputs.out`.
 * @param env the loop's parent environment, already without secrets (secrets.ts).
 * @returns the results (status "error" with the message when perfloop itself failed).
 */
export async function runLoop(args: {
  deps: Pick<ActionDeps, "runLoop">;
  core: ActionCore;
  config: Config;
  apiKey: string;
  inputs: ActionInputs;
  ctx: ActionContext;
  checkout: Checkout;
  env: NodeJS.ProcessEnv;
}): Promise<Results> {
  const { core, config, inputs } = args;
  const model = modelClientFor(config, args.apiKey, {
    model: "set the Action's `model` input",
    key: "set the `api-key` input from a secret",
  });
  if (model.note) core.notice(model.note);
  const progress = createGroupedProgress(core);
  let results: Results;
  try {
    results = await args.deps.runLoop({
      repoDir: args.checkout.projectDir,
      outDir: inputs.out,
      mode: "optimize",
      config,
      request: actionRequest(inputs, args.ctx, args.checkout),
      model: model.client,
      onEvent: progress.onEvent,
      apply: false,
      env: args.env,
      ...(inputs.memoryPath ? { memoryPath: inputs.memoryPath } : {}),
    });
  } finally {
    progress.close();
  }
  if (config.sandbox.network === "off" && results.isolation.startsWith("network ON"))
    core.warning(
      `user commands (setup, tests, benchmark) ran without network isolation (${results.isolation}): enable unprivileged user namespaces on the runner (docs/action.md, "A self-hosted GPU runner")`,
    );
  return results;
}
