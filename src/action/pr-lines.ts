/**
 * The lines a pull request changed, from GitHub's REST API, for ranking hot spots by the pull request
 * (src/core/focus/rank.ts). The core reads the same shape from a local `git diff`.
 */
import { type ChangedLines, mergeRanges, parseHunks } from "../core/focus/changed-lines.ts";
import type { GitHubClient } from "../publish/index.ts";

/** The pull request whose files are listed. */
export interface PullRequestRef {
  owner: string;
  repo: string;
  pullNumber: number;
}

/**
 * The changed lines of pull request `pullNumber` of `owner/repo`, from "List pull requests files"
 * (`GET /repos/{owner}/{repo}/pulls/{pull_number}/files`, all pages of 100): each file's `patch` read
 * by {@link parseHunks}, under its new name (`filename`). Removed files, and files without a `patch`
 * (binary, or a diff too large for GitHub to include), are absent. GitHub lists at most 3000 files
 * of a pull request: the lines of files past that are missing.
 * @param client an Octokit-compatible client (@octokit/rest, or Probot's `context.octokit`) with
 *   read access to the repository's pull requests.
 * @throws RequestError from Octokit when GitHub refuses (404 unknown pull request or no access,
 *   403 rate limit or permissions) or the network fails.
 */
export async function pullRequestChangedLines(
  client: GitHubClient,
  { owner, repo, pullNumber }: PullRequestRef,
): Promise<ChangedLines> {
  const files = await client.paginate(client.rest.pulls.listFiles, {
    owner,
    repo,
    pull_number: pullNumber,
    per_page: 100,
  });
  const changed: ChangedLines = Object.create(null); // a file named __proto__ is a file
  for (const file of files) {
    if (file.status === "removed" || !file.patch) continue;
    const ranges = parseHunks(file.patch);
    if (ranges.length > 0)
      changed[file.filename] = mergeRanges([...(changed[file.filename] ?? []), ...ranges]);
  }
  return changed;
}

/**
 * The pull request's changed lines relative to the project directory (`working-directory`), for
 * the loop's focus: files outside the project are dropped, the prefix is removed. A failure (no
 * token, no permission, a network error) costs the focus, not the run: it is reported as a warning.
 * @param client makes the client (none without a token); a factory that throws costs the focus only.
 * @param projectPrefix the project's path inside the repository, POSIX, "" for the root.
 * @returns the lines, or undefined when there is no pull request or they could not be read.
 */
export async function focusLines(
  client: () => GitHubClient | null,
  ref: PullRequestRef | null,
  projectPrefix: string,
  warn: (message: string) => void,
): Promise<ChangedLines | undefined> {
  if (!ref) return undefined;
  try {
    const github = client();
    if (!github) return undefined;
    const all = await pullRequestChangedLines(github, ref);
    const prefix =
      projectPrefix === "" || projectPrefix === "." ? "" : `${projectPrefix.replace(/\/+$/, "")}/`;
    const inside: ChangedLines = Object.create(null);
    for (const [file, ranges] of Object.entries(all))
      if (file.startsWith(prefix)) inside[file.slice(prefix.length)] = ranges;
    return inside;
  } catch (error) {
    warn(
      `perfloop: the pull request's changed lines could not be read (${(error as Error).message}); hot spots are not ranked by the pull request. The token needs \`pull-requests: read\`.`,
    );
    return undefined;
  }
}
