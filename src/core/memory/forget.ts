/**
 * Forgetting (issue 5): what the store drops at the start of each run, before anything is retrieved.
 * 1. Entries and knob results whose file no longer exists in the repository, and entries whose
 *    function no longer appears in its file (a whole-word search for the name; names that are not
 *    identifiers, like `<module>` or `<listcomp>`, are not checked).
 * 2. Rows older than `max_age_days` (learned rows, strategy outcomes and rollbacks — so an old
 *    rollback stops blocking its version; runs stay for `perfloop stats`).
 * 3. The size cap: each table keeps its newest `max_entries` rows.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Database } from "./sqlite.ts";

/** Settings of {@link forget}. */
export interface ForgetOptions {
  repoDir: string;
  maxAgeDays: number;
  maxEntries: number;
  now?: Date;
}

/** Rows dropped, by reason. */
export interface Forgotten {
  codeGone: number;
  aged: number;
  capped: number;
}

/** Tables with a `created_at` column, dropped by age. */
const AGED = ["entries", "knob_results", "arm_outcomes", "rollbacks"] as const;
/** Tables capped in size (runs and retrievals included: they grow by one run's worth each time). */
const CAPPED = ["entries", "knob_results", "arm_outcomes", "rollbacks", "runs", "retrievals"] as const;

/**
 * Applies the three rules in one transaction.
 * @throws the SQLite error (the transaction is rolled back).
 */
export async function forget(db: Database, options: ForgetOptions): Promise<Forgotten> {
  const gone = await codeGone(db, options.repoDir);
  const cutoff = new Date(
    (options.now ?? new Date()).getTime() - options.maxAgeDays * 86_400_000,
  ).toISOString();
  const result: Forgotten = { codeGone: 0, aged: 0, capped: 0 };
  db.exec("BEGIN");
  try {
    for (const file of gone.files) {
      result.codeGone += changes(db, "DELETE FROM entries WHERE file = ?", file);
      result.codeGone += changes(db, "DELETE FROM knob_results WHERE file = ?", file);
    }
    for (const id of gone.entryIds) result.codeGone += changes(db, "DELETE FROM entries WHERE id = ?", id);
    for (const table of AGED) result.aged += changes(db, `DELETE FROM ${table} WHERE created_at < ?`, cutoff);
    for (const table of CAPPED) {
      const key = table === "runs" ? "rowid" : "id";
      result.capped += changes(
        db,
        `DELETE FROM ${table} WHERE ${key} NOT IN (SELECT ${key} FROM ${table} ORDER BY ${key} DESC LIMIT ?)`,
        options.maxEntries,
      );
    }
    db.exec("UPDATE entries SET fixed_by = NULL WHERE fixed_by NOT IN (SELECT id FROM entries)");
    db.exec("COMMIT");
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
  return result;
}

/** Files that are gone, and entries whose function is gone from a file that still exists. */
async function codeGone(db: Database, repoDir: string): Promise<{ files: string[]; entryIds: number[] }> {
  const rows = db
    .prepare(
      "SELECT file FROM entries WHERE file IS NOT NULL UNION SELECT file FROM knob_results WHERE file IS NOT NULL",
    )
    .all() as Array<{ file: string }>;
  const texts = new Map<string, string | null>();
  for (const { file } of rows) texts.set(file, await readInside(repoDir, file));
  const files = [...texts].filter(([, text]) => text === null).map(([file]) => file);
  const withFunction = db
    .prepare("SELECT id, file, function FROM entries WHERE file IS NOT NULL AND function IS NOT NULL")
    .all() as Array<{ id: number; file: string; function: string }>;
  const entryIds = withFunction
    .filter((e) => {
      const text = texts.get(e.file);
      if (text === null || text === undefined || !/^[A-Za-z_$][\w$]*$/.test(e.function)) return false;
      return !new RegExp(`\\b${e.function.replace(/\$/g, "\\$")}\\b`).test(text);
    })
    .map((e) => e.id);
  return { files, entryIds };
}

/** The file's text, or null when it is missing or outside the repository. */
async function readInside(repoDir: string, file: string): Promise<string | null> {
  const full = path.resolve(repoDir, file);
  if (!full.startsWith(path.resolve(repoDir) + path.sep)) return null;
  return readFile(full, "utf8").catch(() => null);
}

function changes(db: Database, sql: string, value: string | number): number {
  return Number(db.prepare(sql).run(value).changes);
}
