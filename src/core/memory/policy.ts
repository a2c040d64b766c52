/**
 * Safe self-update: which strategy arm a run puts first for its top bottleneck category. First the
 * trust region judges the latest change of policy (trust-region.ts) and, when the success rate fell by
 * more than 10 points, rolls back to the last good version and records why; versions rolled back from
 * are blocked (until the rollback row ages out, see forget.ts). Then Thompson sampling (bandit.ts)
 * picks among the arms left. A blocked prompt version falls back to the newest stored, unblocked text
 * of the same variant — so a perfloop upgrade that makes the prompt worse is undone from the store.
 */
import { PROMPT_VARIANTS, promptVersion, systemPromptFor } from "../optimize/llm/prompt.ts";
import { thompsonChoose } from "./bandit.ts";
import {
  type ArmOutcome,
  insertRollback,
  listRollbacks,
  outcomesFor,
  promptVersionsOf,
  savePromptVersion,
} from "./history.ts";
import type { Database } from "./sqlite.ts";
import { judgeTrustRegion, type RollbackDecision } from "./trust-region.ts";

/** The tuner's version; bump it when the tuner's search changes in a way worth judging. */
export const TUNER_VERSION = "tune@1";

/** A strategy arm. */
export interface Arm {
  /** "tune" or "llm:<variant>". */
  id: string;
  strategy: "llm" | "tune";
  /** "tune@1" or a prompt version (prompt.ts `promptVersion`). */
  version: string;
  /** The system prompt of an LLM arm (null for the tuner). */
  system: string | null;
}

/** The arms of this perfloop for the strategies available in this run. */
export function currentArms(available: { tune: boolean; llm: boolean }): Arm[] {
  const arms: Arm[] = [];
  if (available.tune) arms.push({ id: "tune", strategy: "tune", version: TUNER_VERSION, system: null });
  if (available.llm)
    for (const variant of PROMPT_VARIANTS) {
      const system = systemPromptFor(variant);
      arms.push({
        id: `llm:${variant.id}`,
        strategy: "llm",
        version: promptVersion(variant.id, system),
        system,
      });
    }
  return arms;
}

/** The policy of one run. */
export interface PolicyChoice {
  category: string;
  /** The arm put first; its version is the run's policy. */
  primary: Arm;
  /** The LLM arm (prompt) this run uses: the primary when it is an LLM arm, else the best by posterior mean. */
  llm: Arm | null;
  /** How it was chosen, in words. */
  reason: string;
  /** The rollback taken at the start of this run, if any. */
  rollback: RollbackDecision | null;
}

/** What {@link choosePolicy} needs. */
export interface PolicyInput {
  category: string;
  runId: string;
  arms: Arm[];
  /** The strategy the verdict rule of docs/design.md, "Order of strategies", prefers: one pseudo-success in its arms' prior. */
  preferred: "llm" | "tune";
  rng: () => number;
  now?: Date;
}

/**
 * Chooses the run's policy, recording a rollback and the prompt versions in the store.
 * @throws RangeError when `arms` is empty; SQLite errors propagate.
 */
export function choosePolicy(db: Database, input: PolicyInput): PolicyChoice {
  if (input.arms.length === 0) throw new RangeError("choosePolicy: no arms");
  for (const arm of input.arms)
    if (arm.system !== null) savePromptVersion(db, arm.version, arm.id.slice(4), arm.system);
  const outcomes = outcomesFor(db, input.category);
  const earlier = listRollbacks(db, input.category);
  const judgement = judgeTrustRegion(outcomes, new Set(earlier.map((r) => r.changeOutcomeId)));
  const rollback = judgement.rollback;
  if (rollback)
    insertRollback(db, {
      ...rollback,
      runId: input.runId,
      createdAt: (input.now ?? new Date()).toISOString(),
      category: input.category,
    });
  const blocked = new Set([
    ...earlier.map((r) => r.fromVersion),
    ...(rollback ? [rollback.fromVersion] : []),
  ]);
  const arms = input.arms.map((arm) => unblocked(db, arm, blocked)).filter((a): a is Arm => a !== null);
  const pool = arms.length > 0 ? arms : input.arms;
  const bestLlm = (candidates: Arm[]) => greedyLlm(candidates, outcomes);

  const target = rollback ? pool.find((a) => a.version === rollback.toVersion) : undefined;
  if (rollback && target)
    return {
      category: input.category,
      primary: target,
      llm: target.strategy === "llm" ? target : bestLlm(pool),
      reason: `trust region: rolled back from ${rollback.fromVersion} to ${rollback.toVersion}; ${rollback.reason}`,
      rollback,
    };
  if (pool.length === 1) {
    const only = pool[0] as Arm;
    return {
      category: input.category,
      primary: only,
      llm: only.strategy === "llm" ? only : null,
      reason: `one strategy arm available (${only.version})${rollback ? `; trust region blocked ${rollback.fromVersion}: ${rollback.reason}` : ""}`,
      rollback,
    };
  }
  const records = pool.map((arm) => {
    const mine = outcomes.filter((o) => o.version === arm.version);
    const successes = mine.filter((o) => o.success).length;
    return {
      id: arm.version,
      successes,
      failures: mine.length - successes,
      alpha: arm.strategy === input.preferred ? 2 : 1,
    };
  });
  const choice = thompsonChoose(records, input.rng);
  const primary = pool.find((a) => a.version === choice.id) as Arm;
  const counts = records
    .map(
      (r) =>
        `${r.id} ${r.successes}/${r.successes + r.failures} (draw ${(choice.draws[r.id] ?? 0).toFixed(2)})`,
    )
    .join(", ");
  return {
    category: input.category,
    primary,
    llm: primary.strategy === "llm" ? primary : bestLlm(pool),
    reason: `Thompson sampling for ${input.category}: ${counts}${rollback ? `; trust region blocked ${rollback.fromVersion}: ${rollback.reason}` : ""}`,
    rollback,
  };
}

/** The arm, or its newest stored unblocked version when the current one is blocked; null if none. */
function unblocked(db: Database, arm: Arm, blocked: ReadonlySet<string>): Arm | null {
  if (!blocked.has(arm.version)) return arm;
  if (arm.strategy !== "llm") return null;
  const stored = promptVersionsOf(db, arm.id.slice(4)).find((v) => !blocked.has(v.version));
  return stored ? { ...arm, version: stored.version, system: stored.text } : null;
}

/** The LLM arm with the highest posterior mean (1 + s) / (2 + n); ties keep the declared order. */
function greedyLlm(arms: Arm[], outcomes: readonly ArmOutcome[]): Arm | null {
  let best: Arm | null = null;
  let bestMean = -1;
  for (const arm of arms.filter((a) => a.strategy === "llm")) {
    const mine = outcomes.filter((o) => o.version === arm.version);
    const mean = (1 + mine.filter((o) => o.success).length) / (2 + mine.length);
    if (mean > bestMean) {
      best = arm;
      bestMean = mean;
    }
  }
  return best;
}
