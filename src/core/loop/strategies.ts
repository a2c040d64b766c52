/**
 * Where candidates come from (docs/design.md, "Optimizer strategies"): the knob tuner (here) and the LLM rewrite
 * (llm-source.ts), in an order chosen by the verdict, or by the strategy bandit when memory has one
 * (memory/policy.ts). A source yields a round's candidates and none when it has nothing left, and
 * may observe each outcome.
 */
import type { Gate } from "../evidence/results-schema.ts";
import type { MemorySession } from "../memory/session.ts";
import type { WarmStartPlan } from "../memory/warm-start.ts";
import {
  currentKnobValue,
  KnobError,
  type KnobTrial,
  knobChange,
  planKnobTrials,
} from "../optimize/knobs.ts";
import type { HotSpot, Verdict } from "../types.ts";
import type { LoopContext } from "./context.ts";
import type { BestState, Candidate } from "./evaluate.ts";

/** What a source may know about the run so far. */
export interface RoundView {
  n: number;
  /** The best state (its env knobs and the baseline's references). */
  best: BestState;
  /** Hot spots of the best tree (profiled again after each accepted round). */
  hotSpots: HotSpot[];
  /** Median wall time of the best tree, ms, and its improvement over the baseline, %. */
  bestWallMs: number;
  bestImprovementPct: number;
  /**
   * One entry per rejected candidate: "description — gate: reason", then the reflection's indented
   * lines (numbers, test output, likely cause, what to change).
   */
  failures: string[];
}

/** What an agent session did (LLM candidates): its number in the round, turns, tools and cost. */
export interface SessionFacts {
  k: number;
  /** Model calls, execution-tool calls and their wall time (ms), and the estimated cost (USD, null = no price). */
  turns: number;
  toolCalls: number;
  toolMs: number;
  costUsd: number | null;
  /** The session's diff, for the next round's prompt when it fails. */
  patchText: string | null;
}

/** A candidate and, for the tuner, the trial it came from; for the model, its session. */
export type SourcedCandidate = Candidate & { knob?: KnobTrial; session?: SessionFacts };

/** How a candidate fared (what a source may learn from). */
export interface Observed {
  outcome: "accepted" | "rejected";
  gate: Gate | null;
}

/** A producer of candidates: the tuner yields one a round, the model `model.candidates`. */
export interface CandidateSource {
  strategy: "llm" | "tune";
  /** The round's candidates; empty when the source has nothing left. */
  next(view: RoundView): Promise<SourcedCandidate[]>;
  /** Called after each of this source's candidates was evaluated. */
  observe?(candidate: SourcedCandidate, observed: Observed): Promise<void>;
}

/**
 * The tuner: every (knob, value) trial in verdict order, reordered and filtered by memory's warm start
 * when there is one. It learns within the run from each outcome: a knob that cannot be applied (its
 * reflection: the pattern or file is wrong) has its other values dropped, since each would fail the
 * same way; a remembered winner that is rejected now brings back the values it had held back. A knob
 * that cannot be located becomes a rejected round with the reason (visible in the report).
 */
export function tuneSource(
  ctx: LoopContext,
  verdicts: Verdict[],
  memory: Pick<MemorySession, "warmStart"> | null = null,
): CandidateSource {
  let trials: KnobTrial[] | undefined;
  let plan: WarmStartPlan | null = null;
  return {
    strategy: "tune",
    async next() {
      if (!trials) {
        const current: Record<string, string | null> = {};
        for (const knob of ctx.config.tune)
          current[knob.name] = await currentKnobValue(ctx.workspace.best, knob).catch(() => null);
        trials = planKnobTrials(ctx.config.tune, verdicts, current);
        if (memory) {
          plan = memory.warmStart(trials, current);
          trials = [...plan.trials];
          for (const s of plan.skipped)
            await ctx.evidence.audit("memory skip", `${s.trial.knob.name}=${s.trial.value}: ${s.reason}`);
          for (const d of [...plan.deferred.values()].flat())
            await ctx.evidence.audit("memory defer", `${d.trial.knob.name}=${d.trial.value}: ${d.reason}`);
        }
      }
      const trial = trials.shift();
      if (!trial) return [];
      try {
        const change = await knobChange(ctx.workspace.best, trial);
        const remembered = plan?.remembered.some((r) => r.trial === trial)
          ? "; tried first: it won on this machine before"
          : "";
        const rationale = `knob "${trial.knob.name}" (declared in the config${trial.knob.helps.length > 0 ? ` to help ${trial.knob.helps.join(", ")}` : ""}); verdict: ${verdicts[0]?.category ?? "none"}${remembered}`;
        return [
          {
            strategy: "tune",
            description: change.description,
            rationale,
            changes: change.changes.map((c) => ({ ...c, kind: "update" as const })),
            env: change.env,
            tokens: 0,
            knob: trial,
          },
        ];
      } catch (error) {
        if (!(error instanceof KnobError)) throw error;
        return [
          {
            strategy: "tune",
            description: `${trial.knob.name} = ${trial.value}`,
            rationale: "",
            changes: [],
            env: {},
            tokens: 0,
            knob: trial,
            failure: { gate: "apply", reason: error.message },
          },
        ];
      }
    },
    async observe(candidate, observed) {
      const trial = candidate.knob;
      if (!trial || !trials || observed.outcome === "accepted") return;
      const name = trial.knob.name;
      if (observed.gate === "apply") {
        const dropped = trials.filter((t) => t.knob.name === name);
        trials = trials.filter((t) => t.knob.name !== name);
        if (dropped.length > 0)
          await ctx.evidence.audit(
            "tuner",
            `knob "${name}" cannot be applied; its ${dropped.length} other value(s) are not tried`,
          );
        return;
      }
      const deferred = plan?.deferred.get(name);
      if (deferred && plan?.remembered.some((r) => r.trial === trial)) {
        plan.deferred.delete(name);
        trials.push(...deferred.map((d) => d.trial));
        await ctx.evidence.audit(
          "memory",
          `remembered winner ${name}=${trial.value} was rejected now: its ${deferred.length} held-back value(s) are tried after all`,
        );
      }
    },
  };
}

/**
 * The order of sources for `strategy`: with "auto", the strategy memory's bandit put first when there
 * is one (`preferred`), else knobs first when a knob declares it helps the top verdict (cheap and
 * safe), else the model first; then the other.
 */
export function orderSources(
  strategy: "auto" | "llm" | "tune",
  verdicts: Verdict[],
  tune: CandidateSource | null,
  llm: CandidateSource | null,
  knobsHelpTop: boolean,
  preferred?: "llm" | "tune",
): CandidateSource[] {
  if (strategy === "tune") return tune ? [tune] : [];
  if (strategy === "llm") return llm ? [llm] : [];
  const tuneFirst = preferred ? preferred === "tune" : knobsHelpTop || verdicts.length === 0;
  const both = tuneFirst ? [tune, llm] : [llm, tune];
  return both.filter((s): s is CandidateSource => s !== null);
}
