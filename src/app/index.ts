/**
 * The perfloop GitHub App (Probot). Run with `probot run ./src/app/index.ts`; see
 * docs/github-app.md. This file only checks the environment and wires events to handlers.
 */
import type { Probot } from "probot";
import { readEnvironment } from "./env.ts";
import {
  onCheckRunCreated,
  onIssueComment,
  onPullRequestLabeled,
  onPullRequestPushed,
  onWorkflowRun,
} from "./handlers.ts";

/**
 * The Probot application function.
 * @throws EnvironmentError at start-up in production without WEBHOOK_SECRET (see env.ts).
 */
export default function perfloopApp(app: Probot): void {
  const env = readEnvironment(process.env);
  app.on("issue_comment.created", onIssueComment(env));
  app.on("pull_request.labeled", onPullRequestLabeled(env));
  // The performance gate (opt-in, `app.gate`): every push to a pull request.
  app.on(
    ["pull_request.opened", "pull_request.synchronize", "pull_request.reopened"],
    onPullRequestPushed(env),
  );
  app.on(
    ["workflow_run.requested", "workflow_run.in_progress", "workflow_run.completed"],
    onWorkflowRun(env),
  );
  app.on("check_run.created", onCheckRunCreated(env));
}
