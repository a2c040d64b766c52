/**
 * One flow for both triggers (an `/optimize` comment, a label): read the config, the actor's role
 * and the pull request in parallel, refuse with one clear reply where a rule says no (actor,
 * config, fork, closed PR), then start, retry, cancel or report the status. Order of the checks: a
 * person's permission comes first (an outsider learns nothing about the config), then the config,
 * then the pull request. `status` only reads, so it answers on closed and fork pull requests too.
 */
import { ConfigError } from "../core/config/load.ts";
import { type Actor, actorRole, isBot, refuseActor, refuseFork } from "./authorize.ts";
import { cancelRuns } from "./cancel-run.ts";
import { DEFAULT_LABEL, loadRepoConfig, type RepoConfig } from "./config.ts";
import type { OpenablePull } from "./pull-request.ts";
import { closedReply, configReply, reply } from "./replies.ts";
import type { RunArgs } from "./request.ts";
import { retryRun } from "./retry.ts";
import { startRun } from "./start-run.ts";
import type { AppDeps } from "./state.ts";
import { reportStatus } from "./status.ts";

/** What a trigger asks for. */
export type TriggerAction =
  | { kind: "optimize"; args: RunArgs }
  | { kind: "retry" }
  | { kind: "cancel" }
  | { kind: "status" };

/** A trigger, as the handlers build it from the webhook payload. */
export interface Trigger {
  deps: AppDeps;
  /** Probot's `context.config("perfloop.yml")`. */
  readConfig: () => Promise<unknown>;
  /** The webhook delivery GUID (`X-GitHub-Delivery`): the request id. */
  requestId: string;
  actor: Actor;
  /** What to do. */
  action: TriggerAction;
  /** For label triggers: the label that was added (checked against `app.label`). */
  label?: string;
  issueNumber: number;
  defaultBranch: string;
  /** The pull request (from the payload, or fetched). */
  pull: () => Promise<OpenablePull>;
}

/** Runs the checks and the action. Returns what happened (for logs and tests). */
export async function handleTrigger(t: Trigger): Promise<string> {
  const { deps } = t;
  const configRead = readConfigSafely(t);
  // A label event is perfloop's only when it names the configured label: decide before any other call.
  if (t.label !== undefined && !labelIsOurs(t.label, await configRead)) return "other-label";
  const [config, role, pull] = await Promise.all([
    configRead,
    actorRole(deps.client, deps.repo, t.actor),
    t.pull(),
  ]);

  const actorRefusal = !isBot(t.actor) ? refuseActor(t.actor, role, null) : null;
  if (actorRefusal) return refuse(t, actorRefusal, "actor");
  if (config instanceof ConfigError) {
    if (isBot(t.actor)) return refuse(t, refuseActor(t.actor, role, null) ?? "", "actor");
    return refuse(t, configReply(config.problems), "config");
  }
  const botRefusal = isBot(t.actor) ? refuseActor(t.actor, role, config.app) : null;
  if (botRefusal) return refuse(t, botRefusal, "actor");
  if (t.action.kind === "status") return reportStatus(deps, { pull, config });
  if (!pull.open) return refuse(t, closedReply(), "closed");
  const forkRefusal = refuseFork(pull.isFork, config.app);
  if (forkRefusal) return refuse(t, forkRefusal, "fork");

  if (t.action.kind === "cancel")
    return `cancelled-${await cancelRuns(deps, { pull, actor: t.actor.login, config })}`;
  const start = {
    pull,
    requestId: t.requestId,
    actor: t.actor.login,
    config,
    defaultBranch: t.defaultBranch,
  };
  if (t.action.kind === "retry") return retryRun(deps, start);
  return startRun(deps, {
    ...start,
    via: t.label !== undefined ? `label ${t.label}` : "/optimize",
    args: t.action.args,
  });
}

/** The config, or the ConfigError (other errors, e.g. API failures, propagate). */
async function readConfigSafely(t: Trigger): Promise<RepoConfig | ConfigError> {
  try {
    return await loadRepoConfig(t.readConfig);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

/**
 * Whether an added label is perfloop's: `app.label` when the config is valid; with an invalid
 * config, the default label or any label starting with "perfloop" (so its owner hears about the
 * config problem, and unrelated labels stay silent).
 */
function labelIsOurs(label: string, config: RepoConfig | ConfigError): boolean {
  if (!(config instanceof ConfigError)) return label === config.app.label;
  return label === DEFAULT_LABEL || label.toLowerCase().startsWith("perfloop");
}

async function refuse(t: Trigger, markdown: string, why: string): Promise<string> {
  t.deps.log.info({ requestId: t.requestId, actor: t.actor.login, why }, "request refused");
  await reply(t.deps.client, t.deps.repo, t.issueNumber, markdown);
  return `refused-${why}`;
}
