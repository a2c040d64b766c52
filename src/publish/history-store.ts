/**
 * The performance history on GitHub (docs/gate.md, "History"): `history.jsonl` on the branch
 * `perfloop-data` of the repository itself, read through the contents API and appended through the
 * Git Data API (blob, tree, commit, ref), so nothing outside GitHub is needed and the repository
 * owns its data. The branch has its own root commit and shares no history with the code.
 */
import {
  appendHistory,
  HISTORY_BRANCH,
  HISTORY_FILE,
  type HistoryRecord,
  parseHistory,
} from "../core/history/record.ts";
import type { GitHubClient, RepoRef } from "./types.ts";

export { HISTORY_BRANCH, HISTORY_FILE };

/** Attempts at updating the branch when another job moved it in between (422 "not a fast forward"). */
const APPEND_ATTEMPTS = 3;

/**
 * Reads the history; an absent branch or file is an empty history.
 * @throws RequestError for other failures (401/403: the token cannot read contents).
 */
export async function readHistoryStore(client: GitHubClient, repo: RepoRef): Promise<HistoryRecord[]> {
  const branch = await readBranch(client, repo);
  return branch === null ? [] : parseHistory(branch.text).records;
}

/** The branch's head commit and the file's text (empty without the file); null without the branch. */
async function readBranch(
  client: GitHubClient,
  repo: RepoRef,
): Promise<{ head: string; text: string } | null> {
  let head: string;
  try {
    head = (await client.rest.git.getRef({ ...repo, ref: `heads/${HISTORY_BRANCH}` })).data.object.sha;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
  const commit = await client.rest.git.getCommit({ ...repo, commit_sha: head });
  const tree = await client.rest.git.getTree({ ...repo, tree_sha: commit.data.tree.sha });
  const entry = tree.data.tree.find((e) => e.path === HISTORY_FILE && e.type === "blob");
  if (!entry?.sha) return { head, text: "" };
  // Blobs, not the contents API: they are read whole up to 100 MB (contents stops at 1 MB).
  const blob = await client.rest.git.getBlob({ ...repo, file_sha: entry.sha });
  return { head, text: Buffer.from(blob.data.content, "base64").toString("utf8") };
}

/**
 * Appends `records` to the history: a new commit on `perfloop-data` (created, as a root commit,
 * when absent). Retries when the branch moved meanwhile.
 * @returns the new commit's SHA.
 * @throws RequestError when GitHub refuses (403: the token needs `contents: write`).
 */
export async function appendHistoryStore(
  client: GitHubClient,
  repo: RepoRef,
  records: readonly HistoryRecord[],
): Promise<string> {
  let lastError: unknown;
  for (let attempt = 0; attempt < APPEND_ATTEMPTS; attempt++) {
    const branch = await readBranch(client, repo);
    const parent = branch?.head ?? null;
    const text = appendHistory(branch?.text ?? "", records);
    const blob = await client.rest.git.createBlob({ ...repo, content: text, encoding: "utf-8" });
    const tree = await client.rest.git.createTree({
      ...repo,
      tree: [{ path: HISTORY_FILE, mode: "100644", type: "blob", sha: blob.data.sha }],
    });
    const commit = await client.rest.git.createCommit({
      ...repo,
      message: `perfloop history: ${records.length} record(s)`,
      tree: tree.data.sha,
      parents: parent ? [parent] : [],
    });
    try {
      if (parent)
        await client.rest.git.updateRef({ ...repo, ref: `heads/${HISTORY_BRANCH}`, sha: commit.data.sha });
      else
        await client.rest.git.createRef({
          ...repo,
          ref: `refs/heads/${HISTORY_BRANCH}`,
          sha: commit.data.sha,
        });
      return commit.data.sha;
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status !== 422 && status !== 409) throw error;
      lastError = error; // another job appended first: read again and retry
    }
  }
  throw lastError;
}
