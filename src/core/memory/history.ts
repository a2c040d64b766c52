/**
 * What the store keeps about perfloop itself: one row per run, the outcome of every candidate with the
 * strategy arm and version that produced it (the bandit's and the trust region's data), the text of
 * every prompt version, the rollbacks, and which remembered rows a run retrieved and used.
 */
import type { Database } from "./sqlite.ts";

/** One run of perfloop on the repository. */
export interface RunRow {
  id: string;
  /** owner/name on GitHub, else the directory name. */
  repository: string;
  commit: string | null;
  fingerprint: string;
  startedAt: string;
  /** results.json `status`; null while the run is in progress (or crashed). */
  status: string | null;
  category: string | null;
  /** Verified improvement of the final state over the baseline, % (0 when none). */
  improvementPct: number | null;
  /** Candidates evaluated, and accepted. */
  candidates: number;
  accepted: number;
  /** Knob values skipped because memory remembered them failing or dominated. */
  skipped: number;
}

/** One candidate's outcome under a strategy arm. success: accepted by every gate. */
export interface ArmOutcome {
  id: number;
  runId: string;
  category: string;
  /** "tune" or "llm:<prompt variant>". */
  arm: string;
  /** The arm's version: "tune@<n>" or "llm:<variant>@<hash of the system prompt>". */
  version: string;
  /** The run's policy: the version of the arm the bandit put first (what the trust region judges). */
  policy: string;
  success: boolean;
}

/** A trust-region rollback. Rates are fractions 0..1. */
export interface RollbackRow {
  id: number;
  runId: string;
  createdAt: string;
  category: string;
  fromVersion: string;
  toVersion: string;
  /** The first outcome recorded under `fromVersion` (the change point that was judged). */
  changeOutcomeId: number;
  beforeRate: number;
  afterRate: number;
  reason: string;
}

/** Inserts (or replaces) a run row. */
export function upsertRun(db: Database, run: RunRow): void {
  db.prepare(
    `INSERT OR REPLACE INTO runs (id, repository, commit_sha, fingerprint, started_at, status, category, improvement_pct, candidates, accepted, skipped)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    run.id,
    run.repository,
    run.commit,
    run.fingerprint,
    run.startedAt,
    run.status,
    run.category,
    run.improvementPct,
    run.candidates,
    run.accepted,
    run.skipped,
  );
}

/** Every run, oldest first. */
export function listRuns(db: Database): RunRow[] {
  const rows = db.prepare("SELECT * FROM runs ORDER BY started_at, rowid").all() as Array<{
    id: string;
    repository: string;
    commit_sha: string | null;
    fingerprint: string;
    started_at: string;
    status: string | null;
    category: string | null;
    improvement_pct: number | null;
    candidates: number;
    accepted: number;
    skipped: number;
  }>;
  return rows.map((r) => ({
    id: r.id,
    repository: r.repository,
    commit: r.commit_sha,
    fingerprint: r.fingerprint,
    startedAt: r.started_at,
    status: r.status,
    category: r.category,
    improvementPct: r.improvement_pct,
    candidates: r.candidates,
    accepted: r.accepted,
    skipped: r.skipped,
  }));
}

/** Records one candidate's outcome. @returns its id. */
export function insertOutcome(db: Database, o: Omit<ArmOutcome, "id">, createdAt: string): number {
  const result = db
    .prepare(
      "INSERT INTO arm_outcomes (run_id, created_at, category, arm, version, policy, success) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .run(o.runId, createdAt, o.category, o.arm, o.version, o.policy, o.success ? 1 : 0);
  return Number(result.lastInsertRowid);
}

/** The outcomes of `category`, oldest first. */
export function outcomesFor(db: Database, category: string): ArmOutcome[] {
  const rows = db
    .prepare("SELECT * FROM arm_outcomes WHERE category = ? ORDER BY id")
    .all(category) as Array<{
    id: number;
    run_id: string;
    category: string;
    arm: string;
    version: string;
    policy: string;
    success: number;
  }>;
  return rows.map((r) => ({
    id: r.id,
    runId: r.run_id,
    category: r.category,
    arm: r.arm,
    version: r.version,
    policy: r.policy,
    success: r.success === 1,
  }));
}

/** Keeps the text of a prompt version (first time seen only). */
export function savePromptVersion(db: Database, version: string, variant: string, text: string): void {
  db.prepare(
    "INSERT OR IGNORE INTO prompt_versions (version, variant, text, first_seen) VALUES (?, ?, ?, ?)",
  ).run(version, variant, text, new Date().toISOString());
}

/** The stored text of a prompt version, or null. */
export function promptText(db: Database, version: string): string | null {
  const row = db.prepare("SELECT text FROM prompt_versions WHERE version = ?").get(version) as
    | { text: string }
    | undefined;
  return row?.text ?? null;
}

/** Records a rollback. */
export function insertRollback(db: Database, r: Omit<RollbackRow, "id">): void {
  db.prepare(
    `INSERT INTO rollbacks (run_id, created_at, category, from_version, to_version, change_outcome_id, before_rate, after_rate, reason)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    r.runId,
    r.createdAt,
    r.category,
    r.fromVersion,
    r.toVersion,
    r.changeOutcomeId,
    r.beforeRate,
    r.afterRate,
    r.reason,
  );
}

/** Every rollback, oldest first (optionally of one category). */
export function listRollbacks(db: Database, category?: string): RollbackRow[] {
  const rows = (
    category === undefined
      ? db.prepare("SELECT * FROM rollbacks ORDER BY id").all()
      : db.prepare("SELECT * FROM rollbacks WHERE category = ? ORDER BY id").all(category)
  ) as Array<{
    id: number;
    run_id: string;
    created_at: string;
    category: string;
    from_version: string;
    to_version: string;
    change_outcome_id: number;
    before_rate: number;
    after_rate: number;
    reason: string;
  }>;
  return rows.map((r) => ({
    id: r.id,
    runId: r.run_id,
    createdAt: r.created_at,
    category: r.category,
    fromVersion: r.from_version,
    toVersion: r.to_version,
    changeOutcomeId: r.change_outcome_id,
    beforeRate: r.before_rate,
    afterRate: r.after_rate,
    reason: r.reason,
  }));
}

/** Records that a run retrieved a remembered row. @returns the retrieval id. */
export function insertRetrieval(
  db: Database,
  runId: string,
  source: "prompt" | "warm-start",
  ref: { entryId?: number; knobResultId?: number },
): number {
  const result = db
    .prepare("INSERT INTO retrievals (run_id, source, entry_id, knob_result_id) VALUES (?, ?, ?, ?)")
    .run(runId, source, ref.entryId ?? null, ref.knobResultId ?? null);
  return Number(result.lastInsertRowid);
}

/** Marks retrievals as used by an accepted candidate. */
export function markUsed(db: Database, retrievalIds: number[]): void {
  const statement = db.prepare("UPDATE retrievals SET used = 1 WHERE id = ?");
  for (const id of retrievalIds) statement.run(id);
}

/** Retrieved and used counts per run id. */
export function retrievalCounts(db: Database): Map<string, { retrieved: number; used: number }> {
  const rows = db
    .prepare("SELECT run_id, COUNT(*) AS retrieved, SUM(used) AS used FROM retrievals GROUP BY run_id")
    .all() as Array<{ run_id: string; retrieved: number; used: number | null }>;
  return new Map(rows.map((r) => [r.run_id, { retrieved: r.retrieved, used: r.used ?? 0 }]));
}

/** Stored versions of a prompt variant, newest first. */
export function promptVersionsOf(db: Database, variant: string): Array<{ version: string; text: string }> {
  return db
    .prepare(
      "SELECT version, text FROM prompt_versions WHERE variant = ? ORDER BY first_seen DESC, rowid DESC",
    )
    .all(variant) as Array<{ version: string; text: string }>;
}
