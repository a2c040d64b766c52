/**
 * A round with several candidates (README, "The agent"): each goes through the cheap gates
 * (evaluate.ts `prepareCandidate`: policy, tests, output, behaviour), the survivors are screened
 * (screen.ts: a few interleaved runs against the best tree), and the best screened one goes to the
 * full interleaved A/B. When it fails that gate, the second best follows — if its screen showed a
 * gain; no more, so one round never costs more than two full measurements. Every candidate's fate
 * and why is recorded for the report.
 */
import { rm } from "node:fs/promises";
import type { CandidateRecord, Gate } from "../evidence/results-schema.ts";
import { MeasurementError } from "../measure/protocol.ts";
import type { LoopContext } from "./context.ts";
import {
  type BestState,
  type Evaluation,
  measureCandidate,
  type Prepared,
  prepareCandidate,
  rejected,
} from "./evaluate.ts";
import { describeScreen, type ScreenResult, screen } from "./screen.ts";
import type { SourcedCandidate } from "./strategies.ts";

/** The round's outcome: the decisive candidate and its evaluation, and every candidate's record. */
export interface BatchOutcome {
  /** The accepted candidate, else the first one measured, else the first one. */
  decisive: SourcedCandidate;
  evaluation: Evaluation;
  records: CandidateRecord[];
  /** The rejected candidates with their reasons (for the next prompt). */
  rejected: Array<{ candidate: SourcedCandidate; evaluation: Evaluation }>;
}

/** At most this many candidates of a round get the full A/B. */
export const FULL_MEASUREMENTS_PER_ROUND = 2;

/**
 * Runs round `n` over `candidates` (two or more).
 * @returns the outcome; the accepted candidate's tree is kept (the caller promotes it), every other
 *   candidate tree is removed.
 */
export async function evaluateBatch(
  ctx: LoopContext,
  best: BestState,
  candidates: SourcedCandidate[],
  n: number,
): Promise<BatchOutcome> {
  const evaluations = new Map<number, Evaluation>();
  const screens = new Map<number, ScreenResult>();
  const prepared = new Map<number, Prepared>();
  const measured: number[] = [];
  try {
    for (const [i, candidate] of candidates.entries()) {
      const k = candidate.session?.k ?? i + 1;
      const dir = `rounds/${n}/candidates/${k}`;
      const ready = await prepareCandidate(ctx, best, candidate, dir, `${n}-${k}`);
      if ("outcome" in ready) {
        evaluations.set(i, ready);
        continue;
      }
      prepared.set(i, ready);
      ctx.emit({
        type: "phase",
        phase: `round ${n}, candidate ${k}: screen`,
        detail: `${ctx.config.model?.screen_runs ?? 3} runs a side against the best tree`,
      });
      let result: ScreenResult;
      try {
        result = await screen(
          ctx,
          { start: ctx.workspace.best, startEnv: best.env, tree: ready.tree, env: ready.env },
          ctx.config.model?.screen_runs ?? 3,
          `round ${n}, candidate ${k} screen`,
          best.baselineOutput,
        );
      } catch (error) {
        // The best tree (A) failed its run: no fault of this candidate, but no screen either.
        if (!(error instanceof MeasurementError)) throw error;
        evaluations.set(
          i,
          rejected("error", `the screen could not run: the best tree's benchmark failed (${error.message})`),
        );
        continue;
      }
      screens.set(i, result);
      await ctx.evidence.text(`${dir}/screen.txt`, `${describeScreen(result)}\n`);
      if (result.status === "failed")
        evaluations.set(i, rejected("tests", `the screen failed: ${result.error}`));
      else if (result.outputDifference) evaluations.set(i, rejected("output", result.outputDifference));
    }
    const ranked = [...prepared.keys()]
      .filter((i) => !evaluations.has(i))
      .sort((x, y) => (screens.get(y)?.changePct ?? -Infinity) - (screens.get(x)?.changePct ?? -Infinity));
    let accepted: number | null = null;
    for (const i of ranked) {
      const screened = screens.get(i) as ScreenResult;
      const k = kOf(candidates, i);
      const skip =
        accepted !== null
          ? `candidate ${kOf(candidates, accepted)} was accepted first`
          : measured.length >= FULL_MEASUREMENTS_PER_ROUND
            ? `${FULL_MEASUREMENTS_PER_ROUND} candidates of this round were measured in full already`
            : measured.length > 0 && (screened.changePct ?? 0) <= 0
              ? `its screen showed no gain, and candidate ${kOf(candidates, measured[0] as number)} had failed the full A/B`
              : null;
      if (skip) {
        evaluations.set(
          i,
          rejected(
            "screen",
            `not measured in full: ${skip} (its screen: ${signedChange(screened.changePct ?? 0)})`,
            {
              behaviour: prepared.get(i)?.behaviour ?? null,
            },
          ),
        );
        continue;
      }
      measured.push(i);
      // A second full A/B in one round is a second chance at a false acceptance: it is tested at
      // half the significance level, so a round's chance stays at most 1.5 α (docs/agent.md).
      const alpha = ctx.config.statistics.alpha / (measured.length > 1 ? 2 : 1);
      const evaluation = await measureCandidate(
        ctx,
        best,
        prepared.get(i) as Prepared,
        `rounds/${n}/candidates/${k}`,
        ctx.seed + n * 100 + k,
        alpha,
      );
      evaluations.set(i, evaluation);
      if (evaluation.outcome === "accepted") accepted = i;
    }
    const decisiveIndex = accepted ?? measured[0] ?? furthest(candidates, evaluations);
    const decisive = candidates[decisiveIndex] as SourcedCandidate;
    return {
      decisive,
      evaluation: evaluations.get(decisiveIndex) as Evaluation,
      records: candidates.map((c, i) =>
        recordOf(c, i, evaluations.get(i) as Evaluation, screens.get(i) ?? null, measured.includes(i)),
      ),
      rejected: candidates.flatMap((candidate, i) => {
        const evaluation = evaluations.get(i) as Evaluation;
        return evaluation.outcome === "rejected" ? [{ candidate, evaluation }] : [];
      }),
    };
  } finally {
    for (const [i, p] of prepared) {
      if (evaluations.get(i)?.outcome !== "accepted") await rm(p.tree, { recursive: true, force: true });
    }
  }
}

/** One candidate's line in results.json. */
export function recordOf(
  candidate: SourcedCandidate,
  i: number,
  evaluation: Evaluation,
  screened: ScreenResult | null,
  measured: boolean,
): CandidateRecord {
  const s = candidate.session;
  return {
    k: s?.k ?? i + 1,
    description: candidate.description,
    rationale: candidate.rationale,
    files: candidate.changes.flatMap((c) => (c.moveTo ? [c.path, c.moveTo] : [c.path])),
    outcome: evaluation.outcome,
    gate: evaluation.gate,
    reason: evaluation.reason,
    measured,
    screen:
      screened && screened.status === "measured"
        ? {
            metric: screened.metric,
            unit: screened.unit,
            runs: screened.runs,
            aMedian: screened.a?.median ?? 0,
            bMedian: screened.b?.median ?? 0,
            ratio: screened.ratio ?? 1,
            changePct: screened.changePct ?? 0,
            withinNoise: screened.withinNoise,
          }
        : null,
    behaviour: evaluation.behaviour
      ? {
          functionsCompared: evaluation.behaviour.functionsCompared,
          callsCompared: evaluation.behaviour.callsCompared,
          missing: evaluation.behaviour.missing,
          difference: evaluation.behaviour.difference,
        }
      : null,
    tokens: candidate.tokens,
    costUsd: s?.costUsd ?? null,
    turns: s?.turns ?? 0,
    toolCalls: s?.toolCalls ?? 0,
    toolMs: s?.toolMs ?? 0,
  };
}

/** Gates in the order a candidate meets them: a later gate means the candidate got further. */
const GATE_ORDER: ReadonlyArray<Gate | null> = [
  "error",
  "parse",
  "apply",
  "policy",
  "tests",
  "output",
  "behaviour",
  "screen",
  "performance",
  null,
];

/** The candidate that got furthest through the gates (the first of equals): the round's face. */
function furthest(candidates: SourcedCandidate[], evaluations: Map<number, Evaluation>): number {
  let best = 0;
  for (let i = 1; i < candidates.length; i++)
    if (
      GATE_ORDER.indexOf(evaluations.get(i)?.gate ?? "error") >
      GATE_ORDER.indexOf(evaluations.get(best)?.gate ?? "error")
    )
      best = i;
  return best;
}

/** The session number of candidate `i`. */
function kOf(candidates: SourcedCandidate[], i: number): number {
  return candidates[i]?.session?.k ?? i + 1;
}

/** "12.3% better" or "4.5% worse". */
function signedChange(pct: number): string {
  return pct >= 0 ? `${pct.toFixed(1)}% better` : `${(-pct).toFixed(1)}% worse`;
}
