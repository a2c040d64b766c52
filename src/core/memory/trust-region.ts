/**
 * The trust region of safe self-update (issue 5): when the success rate over a sliding window drops by
 * more than 10 percentage points after a change of strategy or prompt version, roll back to the last
 * good version. The window and the minimum counts are ours: 10 candidates a side (about two runs of
 * five rounds), judged once each side has at least 5, so one unlucky candidate cannot trigger it.
 */
import type { ArmOutcome } from "./history.ts";

/** Outcomes per side of the change point compared at most. */
export const TRUST_WINDOW = 10;
/** Outcomes each side needs before the change is judged. */
export const TRUST_MIN_SIDE = 5;
/** The largest tolerated drop of the success rate, percentage points (issue 5). */
export const TRUST_MAX_DROP_POINTS = 10;

/** A rollback the rule calls for. Rates are fractions 0..1. */
export interface RollbackDecision {
  fromVersion: string;
  toVersion: string;
  /** Id of the first outcome under `fromVersion`: the change point. */
  changeOutcomeId: number;
  beforeRate: number;
  afterRate: number;
  beforeN: number;
  afterN: number;
  reason: string;
}

/** The judgement: a rollback, or why there is none. */
export type TrustJudgement =
  | { rollback: RollbackDecision }
  | { rollback: null; why: "no change" | "already judged" | "too few outcomes" | "within the region" };

/**
 * Judges the latest change of policy version in `outcomes` (one category, oldest first), by each
 * outcome's `policy` (the version the run put first). Before: up to {@link TRUST_WINDOW} outcomes just before
 * the change point; after: up to {@link TRUST_WINDOW} from it on.
 * @param judged change points already acted on (a rollback is never taken twice for one change).
 */
export function judgeTrustRegion(
  outcomes: readonly ArmOutcome[],
  judged: ReadonlySet<number>,
): TrustJudgement {
  let change = -1;
  for (let i = outcomes.length - 1; i > 0; i--) {
    if (outcomes[i]?.policy !== outcomes[i - 1]?.policy) {
      change = i;
      break;
    }
  }
  if (change === -1) return { rollback: null, why: "no change" };
  const first = outcomes[change] as ArmOutcome;
  if (judged.has(first.id)) return { rollback: null, why: "already judged" };
  const before = outcomes.slice(Math.max(0, change - TRUST_WINDOW), change);
  const after = outcomes.slice(change, change + TRUST_WINDOW);
  if (before.length < TRUST_MIN_SIDE || after.length < TRUST_MIN_SIDE)
    return { rollback: null, why: "too few outcomes" };
  const rate = (xs: readonly ArmOutcome[]) => xs.filter((o) => o.success).length / xs.length;
  const beforeRate = rate(before);
  const afterRate = rate(after);
  const dropPoints = (beforeRate - afterRate) * 100;
  if (dropPoints <= TRUST_MAX_DROP_POINTS) return { rollback: null, why: "within the region" };
  const previous = outcomes[change - 1] as ArmOutcome;
  return {
    rollback: {
      fromVersion: first.policy,
      toVersion: previous.policy,
      changeOutcomeId: first.id,
      beforeRate,
      afterRate,
      beforeN: before.length,
      afterN: after.length,
      reason: `success rate fell from ${(beforeRate * 100).toFixed(0)}% (${before.length} candidates under ${previous.policy}) to ${(afterRate * 100).toFixed(0)}% (${after.length} under ${first.policy}): a drop of ${dropPoints.toFixed(0)} points > ${TRUST_MAX_DROP_POINTS}`,
    },
  };
}
