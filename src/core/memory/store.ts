/**
 * Opening the memory store: one SQLite file per repository (default in the user's cache directory,
 * outside the repository: session.ts `resolveStorePath`). Opening never throws and never stops a run:
 * - a damaged file, or one that is not a SQLite database, is moved aside to `<file>.corrupt-<time>`
 *   (kept for inspection) and a fresh store is created, with a note saying so;
 * - a store written by a newer perfloop is left untouched and this run uses a throw-away in-memory
 *   store, with a note;
 * - a file that cannot be opened at all (permissions, a missing drive) also gives an in-memory store.
 * Every note is a full sentence that names the file, for results.json and the CLI.
 */
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { migrate, NewerSchemaError, SCHEMA_VERSION, schemaVersion } from "./migrations.ts";
import { CORRUPT_CODES, type Database, loadSqlite, sqliteCode } from "./sqlite.ts";

/** An open store and what happened while opening it. */
export interface OpenedStore {
  db: Database;
  /** The file in use, or ":memory:" when the file could not be used (see notes). */
  file: string;
  /** Sentences for the run's notes (empty when the file opened cleanly). */
  notes: string[];
}

/** The memory store failed while in use (wraps the SQLite error as `cause`). */
export class MemoryStoreError extends Error {
  override name = "MemoryStoreError";
}

/** The file is damaged: the quick check failed or SQLite says it is corrupt / not a database. */
class CorruptStoreError extends Error {
  override name = "CorruptStoreError";
}

/**
 * Opens (creating if needed) and migrates the store at `file`.
 * @returns the open store; `notes` explains any fallback. Never throws, except when `node:sqlite`
 *   itself is missing (then the error says so and the caller runs without memory).
 */
export async function openStore(file: string): Promise<OpenedStore> {
  const sqlite = await loadSqlite();
  const open = (where: string): Database => {
    const db = new sqlite.DatabaseSync(where);
    db.exec("PRAGMA busy_timeout = 5000");
    return db;
  };
  const inMemory = (note: string): OpenedStore => {
    const db = open(":memory:");
    migrate(db);
    return { db, file: ":memory:", notes: [note] };
  };

  let db: Database | undefined;
  try {
    await mkdir(path.dirname(file), { recursive: true });
    db = open(file);
    checkIntegrity(db);
    migrate(db);
    return { db, file, notes: [] };
  } catch (error) {
    db?.close();
    if (error instanceof NewerSchemaError)
      return inMemory(
        `memory store ${file}: ${error.message}; this run used a temporary store and left the file as it was`,
      );
    if (!isCorrupt(error))
      return inMemory(
        `memory store ${file} could not be opened (${describe(error)}); this run used a temporary store, so nothing it learned is kept`,
      );
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      await rename(file, aside);
      await Promise.all(["-journal", "-wal", "-shm"].map((s) => rm(file + s, { force: true })));
      const fresh = open(file);
      migrate(fresh);
      return {
        db: fresh,
        file,
        notes: [
          `memory store ${file} was unreadable (${describe(error)}): it was moved to ${aside} and a fresh, empty store was created; earlier runs' memory is not used`,
        ],
      };
    } catch (second) {
      return inMemory(
        `memory store ${file} was unreadable (${describe(error)}) and could not be replaced (${describe(second)}); this run used a temporary store`,
      );
    }
  }
}

/**
 * Opens an existing store for reading (`perfloop stats`): never creates, moves or replaces a file; a
 * store of an older schema is migrated first (migrations only add).
 * @throws MemoryStoreError, naming the file, when it is missing, damaged, or of a newer schema.
 */
export async function openStoreForReading(file: string): Promise<Database> {
  if (!((await stat(file).catch(() => null))?.isFile() ?? false))
    throw new MemoryStoreError(`no memory store at ${file} (perfloop writes one on its first optimize run)`);
  const sqlite = await loadSqlite();
  let db: Database | undefined;
  try {
    db = new sqlite.DatabaseSync(file, { readOnly: true });
    checkIntegrity(db);
    const version = schemaVersion(db);
    if (version > SCHEMA_VERSION) throw new NewerSchemaError(version);
    if (version < SCHEMA_VERSION) {
      db.close();
      db = new sqlite.DatabaseSync(file);
      migrate(db);
    }
    return db;
  } catch (error) {
    db?.close();
    throw new MemoryStoreError(`memory store ${file} cannot be read: ${describe(error)}`, { cause: error });
  }
}

/**
 * SQLite's `PRAGMA quick_check` (O(N), skips the index-content cross-checks of integrity_check):
 * cheap for a store of a few thousand rows.
 * @throws CorruptStoreError listing the first problems found.
 */
function checkIntegrity(db: Database): void {
  const rows = db.prepare("PRAGMA quick_check").all() as Array<{ quick_check: string }>;
  const problems = rows.map((r) => r.quick_check).filter((r) => r !== "ok");
  if (problems.length > 0)
    throw new CorruptStoreError(`integrity check failed: ${problems.slice(0, 3).join("; ")}`);
}

function isCorrupt(error: unknown): boolean {
  if (error instanceof CorruptStoreError) return true;
  const code = sqliteCode(error);
  return code !== null && CORRUPT_CODES.has(code & 0xff);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
