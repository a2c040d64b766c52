/**
 * The Probot handlers (probot/settings style): guard clauses on the payload, then one delegation.
 * They turn webhook payloads into the plain values the flows take; the flows talk to GitHub.
 * A delivery that passes the guards is handled once: a redelivery of it (same `X-GitHub-Delivery`,
 * Probot's `context.id`) is acknowledged and ignored (deliveries.ts).
 */
import type { Context } from "probot";
import { PROGRESS_CHECK_NAME, parseProgressExternalId } from "../contract/index.ts";
import { type AppMemory, createAppMemory } from "./app-memory.ts";
import { parseCommand } from "./command.ts";
import { handleCommentCommand } from "./comment-command.ts";
import { loadRepoConfig } from "./config.ts";
import { oncePerDelivery } from "./deliveries.ts";
import { type MirrorTiming, startMirror } from "./progress-mirror.ts";
import { fetchPull, pullFrom } from "./pull-request.ts";
import { parseRunName } from "./request.ts";
import { gateRefusal, loadGateConfig, startGate } from "./start-gate.ts";
import type { AppDeps } from "./state.ts";
import { handleTrigger } from "./trigger.ts";
import { collectResults, followRun, type WorkflowRunInfo } from "./workflow-runs.ts";

/** The config file name under `.github/` that Probot's loader reads from the default branch. */
const CONFIG_FILE = "perfloop.yml";

/** Handler options fixed at start-up (from the environment). */
export interface HandlerOptions {
  /** The App's id (APP_ID), to read only its own check runs. */
  appId?: number;
  /** The App's memory; by default one per options object, shared by the handlers made with it. */
  memory?: AppMemory;
  /** How live progress mirrors poll (progress-mirror.ts); tests make it short. */
  mirrorTiming?: MirrorTiming;
}

/** One memory per options object: index.ts passes one object to every handler of a loaded App. */
const memories = new WeakMap<HandlerOptions, AppMemory>();

/** The memory of the App that `opts` belongs to. */
function memoryOf(opts: HandlerOptions): AppMemory {
  if (opts.memory) return opts.memory;
  let memory = memories.get(opts);
  if (!memory) {
    memory = createAppMemory();
    memories.set(opts, memory);
  }
  return memory;
}

/** The pull_request actions that push a new head (or bring one back): each may start a gate. */
type PushContext = Context<"pull_request.opened" | "pull_request.synchronize" | "pull_request.reopened">;

type AnyContext = Context<
  | "issue_comment.created"
  | "pull_request.labeled"
  | "pull_request.opened"
  | "pull_request.synchronize"
  | "pull_request.reopened"
  | "workflow_run"
  | "check_run.created"
>;

/** The flows' dependencies for one event. */
function depsOf(context: AnyContext, opts: HandlerOptions): AppDeps {
  const { owner, repo } = context.repo();
  return {
    client: context.octokit,
    repo: { owner, repo },
    log: context.log,
    now: Date.now,
    memory: memoryOf(opts),
    ...(opts.appId ? { appId: opts.appId } : {}),
  };
}

/** Runs `handle` unless this delivery was handled before (then logs and ignores it). */
async function once(context: AnyContext, opts: HandlerOptions, handle: () => Promise<void>): Promise<void> {
  const handled = await oncePerDelivery(memoryOf(opts).deliveries, context.id, handle);
  if (!handled) context.log.info({ deliveryId: context.id }, "redelivery ignored");
}

/** `issue_comment.created`: `/optimize …` on a pull request. */
export function onIssueComment(opts: HandlerOptions) {
  return async (context: Context<"issue_comment.created">): Promise<void> => {
    const { issue, comment, sender, repository } = context.payload;
    if (!issue.pull_request) return;
    if (comment.performed_via_github_app && opts.appId && comment.performed_via_github_app.id === opts.appId)
      return;
    const command = parseCommand(comment.body ?? "");
    if (command === null) return;
    await once(context, opts, async () => {
      const deps = depsOf(context, opts);
      const outcome = await handleCommentCommand({
        command,
        commentId: comment.id,
        trigger: {
          deps,
          readConfig: () => context.config(CONFIG_FILE),
          requestId: context.id,
          actor: { login: sender.login, type: sender.type },
          issueNumber: issue.number,
          defaultBranch: repository.default_branch,
          pull: () => fetchPull(deps, issue.number),
        },
      });
      context.log.info({ requestId: context.id, outcome }, "/optimize handled");
    });
  };
}

/** `pull_request.labeled`: the configured label starts a run. */
export function onPullRequestLabeled(opts: HandlerOptions) {
  return async (context: Context<"pull_request.labeled">): Promise<void> => {
    const { pull_request: pr, label, sender, repository } = context.payload;
    if (!label?.name) return;
    await once(context, opts, async () => {
      const outcome = await handleTrigger({
        deps: depsOf(context, opts),
        readConfig: () => context.config(CONFIG_FILE),
        requestId: context.id,
        actor: { login: sender.login, type: sender.type },
        action: { kind: "optimize", args: {} },
        label: label.name,
        issueNumber: pr.number,
        defaultBranch: repository.default_branch,
        pull: async () => pullFrom(pr),
      });
      if (outcome !== "other-label") context.log.info({ requestId: context.id, outcome }, "label handled");
    });
  };
}

/**
 * `pull_request` opened / synchronize / reopened: the performance gate (start-gate.ts), when the
 * repository opted in with `app.gate: true`; a fork's PR only with `app.allow_forks`, a bot's only
 * when it is in `app.allow_bots`. Refusals are silent (a push asked for nothing): logged only.
 */
export function onPullRequestPushed(opts: HandlerOptions) {
  return async (context: PushContext): Promise<void> => {
    const { pull_request: pr, sender, repository } = context.payload;
    if (pr.state !== "open" || !/^[0-9a-f]{40}$/.test(pr.base.sha)) return;
    await once(context, opts, async () => {
      const config = await loadGateConfig(() => context.config(CONFIG_FILE));
      const pull = pullFrom(pr);
      // The PR's author decides (a bot's PR is gated only when allowed), not who pushed.
      const author = { login: pr.user?.login ?? "", type: pr.user?.type ?? "" };
      const refused = config === null ? "config" : gateRefusal(config.app, pull, author);
      if (config === null || refused !== null) {
        if (refused !== "off") context.log.info({ deliveryId: context.id, refused }, "no gate");
        return;
      }
      const outcome = await startGate(depsOf(context, opts), {
        pull,
        baseSha: pr.base.sha,
        deliveryId: context.id,
        actor: sender.login,
        config,
        defaultBranch: repository.default_branch,
      });
      context.log.info({ deliveryId: context.id, pr: pr.number, outcome }, "gate handled");
    });
  };
}

/** `workflow_run` requested / in_progress / completed of a perfloop dispatch. */
export function onWorkflowRun(opts: HandlerOptions) {
  return async (context: Context<"workflow_run">): Promise<void> => {
    const { workflow_run: run, repository, action } = context.payload;
    const id = parseRunName((run as { display_title?: string }).display_title);
    if (id === null || run.event !== "workflow_dispatch") return;
    if (run.head_repository?.full_name !== repository.full_name) return;
    const info: WorkflowRunInfo = {
      id: run.id,
      htmlUrl: run.html_url,
      path: run.path,
      status: run.status,
      conclusion: run.conclusion,
    };
    await once(context, opts, async () => {
      const deps = depsOf(context, opts);
      if (action !== "completed")
        return followRun(deps, id, info, action === "in_progress" ? "running" : "queued");
      const outcome = await collectResults(
        deps,
        {
          loadConfig: () => loadRepoConfig(() => context.config(CONFIG_FILE)),
          repoHtmlUrl: repository.html_url,
        },
        id,
        info,
      );
      context.log.info({ requestId: id.requestId, outcome }, "workflow run completed");
    });
  };
}

/**
 * `check_run.created` of a runner's `perfloop progress` check run (`publish: app`): mirror its
 * live checklist into the App's check run and sticky comment (progress-mirror.ts). Only check runs
 * written by a workflow's token (the `github-actions` app) with a `<pr>/<request id>` external id
 * count; the mirror writes only while the App's own check run of that request is active.
 */
export function onCheckRunCreated(opts: HandlerOptions) {
  return async (context: Context<"check_run.created">): Promise<void> => {
    const { check_run: run } = context.payload;
    if (run.name !== PROGRESS_CHECK_NAME || run.app?.slug !== "github-actions") return;
    const id = parseProgressExternalId(run.external_id);
    if (id === null || !/^[0-9a-f]{40}$/.test(run.head_sha)) return;
    await once(context, opts, async () => {
      const deps = depsOf(context, opts);
      const target = { ...id, headSha: run.head_sha, progressCheckRunId: run.id };
      const outcome = startMirror(deps, memoryOf(opts).mirrors, target, opts.mirrorTiming);
      context.log.info({ requestId: id.requestId, outcome }, "live progress");
    });
  };
}
