/**
 * The performance history for the Action (docs/gate.md, "History"): read from the repository's
 * `perfloop-data` branch before a gate or a scan (so the report can draw the trend), and the run's
 * own line appended there afterwards (src/publish/history-store.ts). Both need the step's token;
 * appending needs `contents: write`. A failure is a warning: the history is never the run's failure.
 */
import type { HistoryRecord } from "../core/history/record.ts";
import type { RunHistory } from "../core/loop/trend.ts";
import { appendHistoryStore, type GitHubClient, type RepoRef, readHistoryStore } from "../publish/index.ts";
import type { ActionCore } from "./deps.ts";

/** The history to give a run measuring `commit`; empty (with a warning) when it cannot be read. */
export async function readActionHistory(
  client: GitHubClient,
  repo: RepoRef,
  commit: string,
  core: Pick<ActionCore, "warning">,
): Promise<RunHistory> {
  try {
    return { records: await readHistoryStore(client, repo), commit };
  } catch (error) {
    core.warning(
      `perfloop: the performance history could not be read (${(error as Error).message}); no trend this time`,
    );
    return { records: [], commit };
  }
}

/**
 * Appends the run's line (core/history/record.ts `historyRecordOf` of its results) to the store.
 * @returns the data commit's SHA, or null when there was nothing to append or it failed (warned).
 */
export async function saveActionHistory(
  client: GitHubClient,
  repo: RepoRef,
  record: HistoryRecord | null,
  core: Pick<ActionCore, "warning" | "info">,
): Promise<string | null> {
  if (!record) return null;
  try {
    const sha = await appendHistoryStore(client, repo, [record]);
    core.info(
      `performance history: appended ${record.commit.slice(0, 12)} to perfloop-data (${sha.slice(0, 12)})`,
    );
    return sha;
  } catch (error) {
    core.warning(
      `perfloop: the performance history was not saved (${(error as Error).message}); the job needs \`contents: write\` to append to the perfloop-data branch`,
    );
    return null;
  }
}
