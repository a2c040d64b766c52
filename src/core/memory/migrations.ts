/**
 * The memory store's schema, as an ordered list of migrations. `schema_version` holds one row per
 * applied migration; a store is brought to {@link SCHEMA_VERSION} on open, each migration in its own
 * transaction (a failure leaves the store at the previous version). Never edit a published migration:
 * append a new one.
 */
import type { Database } from "./sqlite.ts";

/** One step of the schema. */
export interface Migration {
  version: number;
  description: string;
  sql: string;
}

/** Every migration, oldest first. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: "runs, successes and failures, knob results",
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        repository TEXT NOT NULL,
        commit_sha TEXT,
        fingerprint TEXT NOT NULL,
        started_at TEXT NOT NULL,
        status TEXT,
        category TEXT,
        improvement_pct REAL,
        candidates INTEGER NOT NULL DEFAULT 0,
        accepted INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE entries (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('success', 'failure')),
        run_id TEXT NOT NULL,
        commit_sha TEXT,
        created_at TEXT NOT NULL,
        category TEXT,
        strategy TEXT NOT NULL,
        file TEXT,
        function TEXT,
        summary TEXT NOT NULL,
        signature TEXT,
        gain_pct REAL,
        numbers TEXT NOT NULL DEFAULT '{}',
        fixed_by INTEGER
      );
      CREATE INDEX entries_location ON entries (category, file, function);
      CREATE INDEX entries_signature ON entries (signature);
      CREATE TABLE knob_results (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        commit_sha TEXT,
        created_at TEXT NOT NULL,
        knob TEXT NOT NULL,
        knob_key TEXT NOT NULL,
        value TEXT NOT NULL,
        file TEXT,
        fingerprint TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'rejected')),
        gate TEXT,
        verdict TEXT,
        effect_pct REAL,
        reason TEXT NOT NULL,
        winner INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX knob_lookup ON knob_results (fingerprint, knob_key);`,
  },
  {
    version: 2,
    description: "safe self-update: strategy outcomes, prompt versions, rollbacks; retrieval bookkeeping",
    sql: `
      ALTER TABLE entries ADD COLUMN embedding TEXT;
      ALTER TABLE entries ADD COLUMN embedding_model TEXT;
      ALTER TABLE runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '[]';
      CREATE TABLE prompt_versions (
        version TEXT PRIMARY KEY,
        variant TEXT NOT NULL,
        text TEXT NOT NULL,
        first_seen TEXT NOT NULL
      );
      CREATE TABLE arm_outcomes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        category TEXT NOT NULL,
        arm TEXT NOT NULL,
        version TEXT NOT NULL,
        policy TEXT NOT NULL,
        success INTEGER NOT NULL CHECK (success IN (0, 1))
      );
      CREATE INDEX arm_outcomes_category ON arm_outcomes (category, id);
      CREATE TABLE rollbacks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        category TEXT NOT NULL,
        from_version TEXT NOT NULL,
        to_version TEXT NOT NULL,
        change_outcome_id INTEGER NOT NULL,
        before_rate REAL NOT NULL,
        after_rate REAL NOT NULL,
        reason TEXT NOT NULL
      );
      CREATE TABLE retrievals (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('prompt', 'warm-start')),
        entry_id INTEGER,
        knob_result_id INTEGER,
        used INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX retrievals_run ON retrievals (run_id);`,
  },
];

/** The schema version this perfloop writes. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/** A store written by a newer perfloop (its schema version is above {@link SCHEMA_VERSION}). */
export class NewerSchemaError extends Error {
  override name = "NewerSchemaError";
  readonly found: number;
  constructor(found: number) {
    super(
      `the memory store has schema version ${found}, newer than this perfloop's ${SCHEMA_VERSION}; upgrade perfloop to use it`,
    );
    this.found = found;
  }
}

/** The store's schema version: 0 for an empty database (no `schema_version` table). */
export function schemaVersion(db: Database): number {
  const table = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'")
    .get();
  if (!table) return 0;
  const row = db.prepare("SELECT MAX(version) AS v FROM schema_version").get() as { v: number | null };
  return row.v ?? 0;
}

/**
 * Applies the migrations above the store's version, up to `target` (tests migrate step by step).
 * @returns the versions before and after.
 * @throws NewerSchemaError when the store is newer than this code; the SQLite error of a failing
 *   migration (that migration is rolled back).
 */
export function migrate(db: Database, target = SCHEMA_VERSION): { from: number; to: number } {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
  );
  const from = schemaVersion(db);
  if (from > SCHEMA_VERSION) throw new NewerSchemaError(from);
  for (const migration of MIGRATIONS) {
    if (migration.version <= from || migration.version > target) continue;
    db.exec("BEGIN");
    try {
      db.exec(migration.sql);
      db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)").run(
        migration.version,
        migration.description,
        new Date().toISOString(),
      );
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  }
  return { from, to: schemaVersion(db) };
}
