/**
 * `--history FILE` of gate, optimize and profile: the run gets the history's records (its report
 * draws the trend, src/core/loop/trend.ts) and its own line is appended to FILE afterwards. A run
 * records a commit only when it measured one: the gate's head, or a clean working tree's HEAD.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import type { Results } from "../core/evidence/results-schema.ts";
import { appendHistory, historyRecordOf, parseHistory } from "../core/history/record.ts";
import type { RunHistory } from "../core/loop/trend.ts";

/**
 * The history to give the run, or undefined (with a line on `err`) when there is no commit to
 * record. A FILE that does not exist yet is an empty history.
 * @param commit the measured commit when known (the gate's head), else HEAD of a clean tree.
 */
export async function readRunHistory(
  file: string,
  commit: string | null,
  repoDir: string,
  err: NodeJS.WritableStream,
): Promise<RunHistory | undefined> {
  const measured = commit ?? (await cleanHeadCommit(repoDir));
  if (measured === null) {
    err.write(
      "perfloop: --history: the working tree is not a clean git commit, so there is no commit to record; the run goes on without history\n",
    );
    return undefined;
  }
  const text = await readFile(path.resolve(file), "utf8").catch(() => "");
  return { records: parseHistory(text).records, commit: measured };
}

/** HEAD's commit when `dir`'s git working tree has no change (so the run measured that commit), else null. */
async function cleanHeadCommit(dir: string): Promise<string | null> {
  const head = await execa("git", ["rev-parse", "HEAD"], { cwd: dir, reject: false });
  const status = await execa("git", ["status", "--porcelain", "--untracked-files=no"], {
    cwd: dir,
    reject: false,
  });
  if (head.exitCode !== 0 || status.exitCode !== 0 || status.stdout.trim() !== "") return null;
  return head.stdout.trim();
}

/** Appends the run's line (the one its bundle's history-record.json holds) to the history file. */
export async function appendRunHistory(
  file: string,
  results: Results,
  history: RunHistory,
  err: NodeJS.WritableStream,
): Promise<void> {
  const record = historyRecordOf(results, history.commit);
  if (record === null) {
    err.write("perfloop: --history: this run measured nothing to record\n");
    return;
  }
  const before = await readFile(file, "utf8").catch(() => "");
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, appendHistory(before, [record]));
  err.write(`history: ${file} (1 line appended)\n`);
}
