/**
 * The App's one-off replies on a pull request (refusals, help, problems). Each refusal is one
 * comment, never a silent drop. Untrusted text (config values echoed in problems, GitHub error
 * messages) is escaped; no reply has a line that starts with `/optimize`, so replies never trigger.
 */
import { clipText, codeBlock, codeSpan, escapeMarkdown } from "../core/report/escape.ts";
import type { GitHubClient, RepoRef } from "../publish/index.ts";
import { USAGE } from "./command.ts";
import { REQUEST_LIMITS } from "./request-memory.ts";
import { workflowTemplate } from "./workflow-template.ts";

/** The body of a reply: `markdown`, then the App's signature. */
export function replyBody(markdown: string): string {
  return `${markdown}\n\n<sub>perfloop</sub>`;
}

/** Posts `markdown` as a new comment on issue/PR `issueNumber`; returns the comment's id. */
export async function reply(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  markdown: string,
): Promise<{ id: number }> {
  const { data } = await client.rest.issues.createComment({
    ...repo,
    issue_number: issueNumber,
    body: replyBody(markdown),
  });
  return { id: data.id };
}

/** Replaces the text of the App's earlier reply `commentId` with `markdown`. */
export async function editReply(
  client: GitHubClient,
  repo: RepoRef,
  commentId: number,
  markdown: string,
): Promise<void> {
  await client.rest.issues.updateComment({ ...repo, comment_id: commentId, body: replyBody(markdown) });
}

/** Help text: every subcommand and argument. */
export function helpReply(): string {
  return `**perfloop** optimizes this pull request on the GPU runner and reports verified results.\n\n${USAGE}\n\nAdding the label configured in \`app.label\` (default \`perfloop:optimize\`) also starts a run. Only people with write, maintain or admin permission (and bots listed in \`app.allow_bots\`) can start, retry, cancel or ask for the status of a run. The command counts only at the start of a line of ordinary text: not in code, quotes or HTML comments.`;
}

/** A malformed command: the problems and the usage. */
export function invalidCommandReply(problems: string[]): string {
  // At most 5 problems: a comment of 30,000 bad tokens must not make a reply GitHub refuses (422).
  const shown = problems.slice(0, 5).map((p) => `- ${p}`);
  if (problems.length > 5) shown.push(`- … and ${problems.length - 5} more`);
  return `perfloop did not understand the command:\n\n${shown.join("\n")}\n\n${USAGE}`;
}

/** An invalid or missing `.github/perfloop.yml`, naming every key (problems are escaped: they quote file content). */
export function configReply(problems: string[]): string {
  const lines = problems.slice(0, 20).map((p) => `- ${codeSpan(clipText(p.replace(/`/g, ""), 500))}`);
  const more = problems.length > 20 ? `\n- … and ${problems.length - 20} more` : "";
  return `perfloop cannot start: \`.github/perfloop.yml\` on the default branch is invalid.\n\n${lines.join("\n")}${more}\n\nFix the file on the default branch and ask again.`;
}

/** What the "already running" answer shows. */
export interface AlreadyRunning {
  headSha: string;
  /** The active run's link (workflow run, else check run). */
  url: string | null;
  /** Login of who started the active run, when known. */
  startedBy?: string | undefined;
  /** Logins answered so far, first asker first (the later ones are listed). */
  askers: readonly string[];
}

/** A run is already active for this head commit: one answer per active request, edited for later askers. */
export function alreadyRunningReply(a: AlreadyRunning): string {
  const link = a.url && /^https:\/\/\S+$/.test(a.url) ? ` Follow it here: ${a.url}.` : "";
  const by = a.startedBy ? ` (requested by @${login(a.startedBy)})` : "";
  const again =
    a.askers.length > 1
      ? `\n\nAsked again while it runs by ${a.askers
          .slice(1)
          .map((l) => `@${login(l)}`)
          .join(", ")}; this answer is updated instead of adding a comment each time.`
      : "";
  return `perfloop is already running for \`${a.headSha.slice(0, 7)}\`${by}; a second run was not started.${link} Use \`/optimize status\` to see where it stands, \`/optimize cancel\` to stop it.${again}`;
}

/** `/optimize retry` without an earlier run to repeat. */
export function nothingToRetryReply(reason: "unknown" | "arguments-unknown"): string {
  const why =
    reason === "unknown"
      ? "perfloop knows no earlier run on this pull request to retry"
      : `perfloop no longer knows the arguments of this pull request's last run (it remembers them for ${Math.round(REQUEST_LIMITS.ttlMs / 86_400_000)} days, and not across a restart of the App)`;
  return `${why}. Start a run with \`/optimize\` and the arguments you want (see \`/optimize help\`).`;
}

/** A login as it may appear in a reply (GitHub's login characters, plus `[bot]`). */
function login(name: string): string {
  return name.replace(/[^A-Za-z0-9[\]_-]/g, "");
}

/** The workflow is missing or disabled: show the workflow to add. */
export function missingWorkflowReply(
  file: string,
  state: "missing" | "disabled",
  defaultBranch: string,
): string {
  const what =
    state === "missing"
      ? `the workflow \`.github/workflows/${file}\` does not exist on the default branch (\`${escapeMarkdown(defaultBranch)}\`)`
      : `the workflow \`.github/workflows/${file}\` is disabled; enable it in the Actions tab`;
  return `perfloop cannot start: ${what}. The App dispatches it with the pull request's number, head SHA and a request id. Add this workflow (or set \`app.workflow\` to yours):\n\n${codeBlock(workflowTemplate(file), "yaml")}`;
}

/** GitHub refused the dispatch for another reason (e.g. the workflow lacks one of the inputs). */
export function dispatchFailedReply(message: string): string {
  return `perfloop could not dispatch the workflow; GitHub answered:\n\n${codeBlock(clipText(message, 2_000))}\n\nThe workflow needs the inputs \`pr\`, \`sha\`, \`request-id\`, \`rounds\`, \`target\` and \`strategy\` (see \`/optimize help\` and the App's documentation).`;
}

/** Cancel asked, nothing active. */
export function nothingToCancelReply(headSha: string): string {
  return `There is no active perfloop run for \`${headSha.slice(0, 7)}\` to cancel.`;
}

/** The pull request is closed. */
export function closedReply(): string {
  return "perfloop runs only on open pull requests.";
}
