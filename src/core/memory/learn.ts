/**
 * Turning one evaluated candidate into rows of the store: a success or a failure entry, a knob result
 * for a tuner candidate, and the strategy arm's outcome for the bandit and the trust region. Pure
 * mapping plus inserts; the session decides when to call it.
 */
import { heavyContention } from "../analyze/contention.ts";
import { HEAVY_CONTENTION_SHARE } from "../analyze/thresholds.ts";
import type { Gate } from "../evidence/results-schema.ts";
import type { KnobTrial } from "../optimize/knobs.ts";
import type { Reflection } from "../reflect/reflection.ts";
import type { Comparison, HotSpot, Verdict } from "../types.ts";
import { insertOutcome } from "./history.ts";
import { insertEntry, insertKnobResult, markFixed, type Provenance } from "./records.ts";
import type { Database } from "./sqlite.ts";
import { knobKey } from "./warm-start.ts";

/** What the loop knows about one evaluated candidate. */
export interface RoundFacts {
  n: number;
  strategy: "llm" | "tune";
  description: string;
  rationale: string;
  /** Files the candidate changed (relative). */
  files: string[];
  /** The knob trial of a tuner candidate. */
  knob: KnobTrial | null;
  outcome: "accepted" | "rejected";
  gate: Gate | null;
  reason: string;
  /** The primary A/B comparison, when one ran. */
  comparison: Comparison | null;
  reflection: Reflection | null;
}

/** Where the facts are filed. */
export interface LearnContext extends Provenance {
  /** The run's top category ("uncategorized" when no verdict fired). */
  category: string;
  fingerprint: string;
  hotSpots: HotSpot[];
  /** The producing arm and its version, and the run's policy version. */
  arm: { id: string; version: string };
  policy: string;
}

/**
 * The category a run files its rows under: the top verdict's, or "uncategorized" when no verdict
 * fired — or when the baseline was measured under heavy contention (run-queue delay ≥
 * HEAVY_CONTENTION_SHARE of the wall time, src/core/analyze/thresholds.ts gives the source), so a
 * verdict that rests on the contention correction is never learned. `note` says so, for the run's
 * memory notes; null otherwise.
 */
export function learningCategory(verdicts: readonly Verdict[]): { category: string; note: string | null } {
  const top = verdicts[0];
  if (!top) return { category: "uncategorized", note: null };
  const heavy = heavyContention(verdicts);
  if (heavy === null) return { category: top.category, note: null };
  return {
    category: "uncategorized",
    note:
      `the baseline was measured under heavy CPU contention (run-queue delay ${heavy}% of the wall time, ` +
      `limit ${Math.round(100 * HEAVY_CONTENTION_SHARE)}%): its verdict \`${top.category}\` is not learned; this run's ` +
      "outcomes are filed as uncategorized",
  };
}

/** Ids of the rows written. */
export interface Learned {
  entryId: number | null;
  knobResultId: number | null;
  /** Whether the outcome counted for the bandit (see {@link countsForBandit}). */
  counted: boolean;
}

/**
 * An outcome says something about the strategy unless perfloop or the endpoint failed (gate "error")
 * or the measurement could not judge it ("inconclusive"): those are not the strategy's doing.
 */
export function countsForBandit(f: RoundFacts): boolean {
  return f.gate !== "error" && f.comparison?.verdict !== "inconclusive";
}

/**
 * Writes the rows for one candidate: a success entry (and the failures at its files marked fixed by
 * it); a failure entry unless the rejection is not the change's doing ({@link countsForBandit}); a
 * knob result for every tuner candidate; the arm outcome when it counts. SQLite errors propagate.
 */
export function learnRound(db: Database, ctx: LearnContext, f: RoundFacts): Learned {
  const provenance = { runId: ctx.runId, commit: ctx.commit, createdAt: ctx.createdAt };
  const category = ctx.category === "uncategorized" ? null : ctx.category;
  const literalFile = f.knob && "literal" in f.knob.knob ? f.knob.knob.literal.file : null;
  const file = f.knob ? literalFile : (f.files[0] ?? null);
  const fn = file && !f.knob ? (ctx.hotSpots.find((h) => h.file === file)?.function ?? null) : null;
  const counted = countsForBandit(f);
  const c = f.comparison;
  const numbers = c
    ? {
        metric: c.metric,
        verdict: c.verdict,
        ratio: c.ratio,
        ci: c.ci,
        pValue: c.pValue,
        improvementPct: c.improvementPct,
      }
    : {};
  let entryId: number | null = null;
  if (f.outcome === "accepted") {
    entryId = insertEntry(db, {
      ...provenance,
      kind: "success",
      category,
      strategy: f.strategy,
      file,
      function: fn,
      summary: `${f.description}${f.rationale ? `: ${f.rationale}` : ""}`.slice(0, 600),
      signature: null,
      gainPct: c?.improvementPct ?? null,
      numbers: { ...numbers, files: f.files, round: f.n },
    });
    for (const changed of new Set(f.knob ? (literalFile ? [literalFile] : []) : f.files))
      markFixed(db, entryId, category, changed);
  } else if (counted && f.reflection) {
    const r = f.reflection;
    entryId = insertEntry(db, {
      ...provenance,
      kind: "failure",
      category,
      strategy: f.strategy,
      file,
      function: fn,
      summary: `${f.description} — ${f.gate}: ${r.likelyCause}; to change: ${r.whatToChange}`.slice(0, 600),
      signature: r.signature,
      gainPct: null,
      numbers: { ...numbers, gate: f.gate, reason: f.reason.slice(0, 300), files: f.files, round: f.n },
    });
  }
  const knobResultId = f.knob
    ? insertKnobResult(db, {
        ...provenance,
        knob: f.knob.knob.name,
        knobKey: knobKey(f.knob.knob),
        value: f.knob.value,
        file: literalFile,
        fingerprint: ctx.fingerprint,
        outcome: f.outcome,
        gate: f.gate,
        verdict: c?.verdict ?? null,
        effectPct: c?.improvementPct ?? null,
        reason: f.reason.slice(0, 500),
      })
    : null;
  if (counted)
    insertOutcome(
      db,
      {
        runId: ctx.runId,
        category: ctx.category,
        arm: ctx.arm.id,
        version: ctx.arm.version,
        policy: ctx.policy,
        success: f.outcome === "accepted",
      },
      ctx.createdAt,
    );
  return { entryId, knobResultId, counted };
}
