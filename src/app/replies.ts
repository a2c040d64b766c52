/**
 * The App's one-off replies on a pull request (refusals, help, problems). Each refusal is one
 * comment, never a silent drop. Untrusted text (config values echoed in problems, GitHub error
 * messages) is escaped; no reply has a line that starts with `/optimize`, so replies never trigger.
 */
import { clipText, codeBlock, codeSpan, escapeMarkdown } from "../core/report/escape.ts";
import type { GitHubClient, RepoRef } from "../publish/index.ts";
import { USAGE } from "./command.ts";
import { workflowTemplate } from "./workflow-template.ts";

/** Posts `markdown` as a new comment on issue/PR `issueNumber`. */
export async function reply(
  client: GitHubClient,
  repo: RepoRef,
  issueNumber: number,
  markdown: string,
): Promise<void> {
  await client.rest.issues.createComment({
    ...repo,
    issue_number: issueNumber,
    body: `${markdown}\n\n<sub>perfloop</sub>`,
  });
}

/** Help text. */
export function helpReply(): string {
  return `**perfloop** optimizes this pull request on the GPU runner and reports verified results.\n\n${USAGE}\n\nAdding the label configured in \`app.label\` (default \`perfloop:optimize\`) also starts a run.`;
}

/** A malformed command: the problems and the usage. */
export function invalidCommandReply(problems: string[]): string {
  return `perfloop did not understand the command:\n\n${problems.map((p) => `- ${p}`).join("\n")}\n\n${USAGE}`;
}

/** An invalid or missing `.github/perfloop.yml`, naming every key (problems are escaped: they quote file content). */
export function configReply(problems: string[]): string {
  const lines = problems.slice(0, 20).map((p) => `- ${codeSpan(clipText(p.replace(/`/g, ""), 500))}`);
  const more = problems.length > 20 ? `\n- … and ${problems.length - 20} more` : "";
  return `perfloop cannot start: \`.github/perfloop.yml\` on the default branch is invalid.\n\n${lines.join("\n")}${more}\n\nFix the file on the default branch and ask again.`;
}

/** A run is already active for this head commit. */
export function alreadyRunningReply(headSha: string, url: string | null): string {
  const link = url && /^https:\/\/\S+$/.test(url) ? ` Follow it here: ${url}` : "";
  return `perfloop is already running for \`${headSha.slice(0, 7)}\`; a second run was not started.${link} Use \`/optimize cancel\` to stop it.`;
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
