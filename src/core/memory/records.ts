/**
 * What the store keeps about code changes, row by row: successes and failures (`entries`) and knob
 * results (`knob_results`). Each row carries its evidence: the run id, the commit when known, and the
 * measured numbers. Plain functions over an open database; SQLite errors propagate (the session turns
 * them into notes).
 */
import type { Database } from "./sqlite.ts";

/** Where a row came from: the run that measured it and the commit it ran on (null when unknown). */
export interface Provenance {
  runId: string;
  commit: string | null;
  /** ISO 8601 time the row was written. */
  createdAt: string;
}

/** A success or failure of one candidate. */
export interface MemoryEntry extends Provenance {
  id: number;
  kind: "success" | "failure";
  /** The run's top bottleneck category (null when no verdict fired). */
  category: string | null;
  strategy: "llm" | "tune";
  /** The changed (or target) file and the hot function in it, when known. */
  file: string | null;
  function: string | null;
  /** The change in a sentence, and for failures why it failed. */
  summary: string;
  /** Failures: the signature that identifies a repeat (see reflect/reflection.ts). */
  signature: string | null;
  /** Successes: the measured improvement of the primary metric, %. */
  gainPct: number | null;
  /** The numbers behind it (ratio, CI, p-value, gate, …). */
  numbers: Record<string, unknown>;
  /** Failures: the id of the success that later fixed the same location, if any. */
  fixedBy: number | null;
}

/** A new entry (id and fixedBy are assigned by the store). */
export type NewEntry = Omit<MemoryEntry, "id" | "fixedBy">;

/** The measured result of one knob value on one machine. */
export interface KnobResult extends Provenance {
  id: number;
  knob: string;
  /** Identity of the knob across runs: name plus what it changes (env var, or file and pattern). */
  knobKey: string;
  value: string;
  /** The file a literal knob edits (null for env knobs); used by forgetting. */
  file: string | null;
  /** Hardware fingerprint (fingerprint.ts) of the machine that measured it. */
  fingerprint: string;
  outcome: "accepted" | "rejected";
  /** The gate that rejected it (null when accepted) and the A/B verdict when one ran. */
  gate: string | null;
  verdict: string | null;
  /** Improvement over the then-best state, % in the primary metric (null without an A/B). */
  effectPct: number | null;
  reason: string;
  /** 1 when this value was the knob's value in a run's verified final state. */
  winner: boolean;
}

/** A new knob result. */
export type NewKnobResult = Omit<KnobResult, "id" | "winner">;

/** Inserts an entry. @returns its id. */
export function insertEntry(db: Database, e: NewEntry): number {
  const result = db
    .prepare(
      `INSERT INTO entries (kind, run_id, commit_sha, created_at, category, strategy, file, function, summary, signature, gain_pct, numbers)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      e.kind,
      e.runId,
      e.commit,
      e.createdAt,
      e.category,
      e.strategy,
      e.file,
      e.function,
      e.summary,
      e.signature,
      e.gainPct,
      JSON.stringify(e.numbers),
    );
  return Number(result.lastInsertRowid);
}

/** Every entry, newest first. */
export function listEntries(db: Database): MemoryEntry[] {
  return (db.prepare("SELECT * FROM entries ORDER BY id DESC").all() as unknown as EntryRow[]).map(
    fromEntryRow,
  );
}

/**
 * Marks open failures at `file` (same category) as fixed by success `successId` — "what fixed it
 * later" of the issue. @returns how many failures were marked.
 */
export function markFixed(db: Database, successId: number, category: string | null, file: string): number {
  const result = db
    .prepare(
      "UPDATE entries SET fixed_by = ? WHERE kind = 'failure' AND fixed_by IS NULL AND file = ? AND category IS ?",
    )
    .run(successId, file, category);
  return Number(result.changes);
}

/** Stores an entry's embedding vector (JSON) and the model that made it. */
export function setEmbedding(db: Database, id: number, model: string, vector: number[]): void {
  db.prepare("UPDATE entries SET embedding = ?, embedding_model = ? WHERE id = ?").run(
    JSON.stringify(vector),
    model,
    id,
  );
}

/** The cached embeddings of `model`, by entry id. */
export function embeddingsOf(db: Database, model: string): Map<number, number[]> {
  const rows = db
    .prepare("SELECT id, embedding FROM entries WHERE embedding_model = ? AND embedding IS NOT NULL")
    .all(model) as Array<{ id: number; embedding: string }>;
  return new Map(rows.map((r) => [r.id, JSON.parse(r.embedding) as number[]]));
}

/** Inserts a knob result. @returns its id. */
export function insertKnobResult(db: Database, k: NewKnobResult): number {
  const result = db
    .prepare(
      `INSERT INTO knob_results (run_id, commit_sha, created_at, knob, knob_key, value, file, fingerprint, outcome, gate, verdict, effect_pct, reason)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      k.runId,
      k.commit,
      k.createdAt,
      k.knob,
      k.knobKey,
      k.value,
      k.file,
      k.fingerprint,
      k.outcome,
      k.gate,
      k.verdict,
      k.effectPct,
      k.reason,
    );
  return Number(result.lastInsertRowid);
}

/** Knob results measured on `fingerprint`, newest first. */
export function knobResultsFor(db: Database, fingerprint: string): KnobResult[] {
  return (
    db
      .prepare("SELECT * FROM knob_results WHERE fingerprint = ? ORDER BY id DESC")
      .all(fingerprint) as unknown as KnobRow[]
  ).map(fromKnobRow);
}

/** Marks the knob values of a run's verified final state as winners. */
export function markWinners(db: Database, runId: string, winners: Array<{ knobKey: string; value: string }>) {
  const statement = db.prepare(
    "UPDATE knob_results SET winner = 1 WHERE run_id = ? AND knob_key = ? AND value = ? AND outcome = 'accepted'",
  );
  for (const w of winners) statement.run(runId, w.knobKey, w.value);
}

interface EntryRow {
  id: number;
  kind: "success" | "failure";
  run_id: string;
  commit_sha: string | null;
  created_at: string;
  category: string | null;
  strategy: "llm" | "tune";
  file: string | null;
  function: string | null;
  summary: string;
  signature: string | null;
  gain_pct: number | null;
  numbers: string;
  fixed_by: number | null;
}

function fromEntryRow(r: EntryRow): MemoryEntry {
  return {
    id: r.id,
    kind: r.kind,
    runId: r.run_id,
    commit: r.commit_sha,
    createdAt: r.created_at,
    category: r.category,
    strategy: r.strategy,
    file: r.file,
    function: r.function,
    summary: r.summary,
    signature: r.signature,
    gainPct: r.gain_pct,
    numbers: JSON.parse(r.numbers) as Record<string, unknown>,
    fixedBy: r.fixed_by,
  };
}

interface KnobRow {
  id: number;
  run_id: string;
  commit_sha: string | null;
  created_at: string;
  knob: string;
  knob_key: string;
  value: string;
  file: string | null;
  fingerprint: string;
  outcome: "accepted" | "rejected";
  gate: string | null;
  verdict: string | null;
  effect_pct: number | null;
  reason: string;
  winner: number;
}

function fromKnobRow(r: KnobRow): KnobResult {
  return {
    id: r.id,
    runId: r.run_id,
    commit: r.commit_sha,
    createdAt: r.created_at,
    knob: r.knob,
    knobKey: r.knob_key,
    value: r.value,
    file: r.file,
    fingerprint: r.fingerprint,
    outcome: r.outcome,
    gate: r.gate,
    verdict: r.verdict,
    effectPct: r.effect_pct,
    reason: r.reason,
    winner: r.winner === 1,
  };
}
