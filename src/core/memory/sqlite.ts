/**
 * Node's built-in SQLite driver (`node:sqlite`), loaded once. No npm dependency: the memory store is
 * one file that any SQLite tool can open.
 *
 * The warning: Node 22.13 to early 24.x print "ExperimentalWarning: SQLite is an experimental feature"
 * when `node:sqlite` is first loaded (Node 24.21, the version this repo pins, prints nothing). That one
 * warning — type `ExperimentalWarning` with "SQLite" in its text — is filtered while the module loads;
 * every other warning passes through untouched, and the filter is removed right after the load.
 */
import type { DatabaseSync } from "node:sqlite";

type SqliteModule = typeof import("node:sqlite");

let loading: Promise<SqliteModule> | undefined;

/** A SQLite database handle (re-exported so callers need no `node:sqlite` import). */
export type Database = DatabaseSync;

/**
 * Loads `node:sqlite` (once per process), without its experimental-feature warning.
 * @throws Error when the running Node has no `node:sqlite` (Node < 22.5): the caller turns it into
 *   a note and runs without memory.
 */
export function loadSqlite(): Promise<SqliteModule> {
  loading ??= (async () => {
    const original = process.emitWarning;
    process.emitWarning = withoutSqliteWarning(original);
    try {
      return await import("node:sqlite");
    } finally {
      process.emitWarning = original;
    }
  })();
  return loading;
}

/**
 * `emit` with the one SQLite experimental warning dropped: a warning whose type is
 * `ExperimentalWarning` (given as the second argument, as `{ type }`, or as the Error's name) and whose
 * text mentions SQLite. Everything else is passed to `emit` unchanged.
 */
export function withoutSqliteWarning(emit: typeof process.emitWarning): typeof process.emitWarning {
  const filtered = (warning: string | Error, ...rest: unknown[]): void => {
    const message = typeof warning === "string" ? warning : warning.message;
    const first = rest[0];
    const type =
      typeof first === "string"
        ? first
        : ((first as { type?: string } | undefined)?.type ??
          (typeof warning === "string" ? undefined : warning.name));
    if (type === "ExperimentalWarning" && /sqlite/i.test(message)) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  };
  return filtered as typeof process.emitWarning;
}

/** SQLite result codes that mean "this file is damaged or not a database" (sqlite.org/rescode.html). */
export const CORRUPT_CODES: ReadonlySet<number> = new Set([
  11, // SQLITE_CORRUPT: database disk image is malformed
  26, // SQLITE_NOTADB: file is not a database
]);

/** The SQLite result code of an error thrown by `node:sqlite` (`errcode`), or null for other errors. */
export function sqliteCode(error: unknown): number | null {
  const code = (error as { errcode?: unknown } | null)?.errcode;
  return typeof code === "number" ? code : null;
}
