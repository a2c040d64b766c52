/**
 * Where candidates come from (DESIGN.md step 5): the knob tuner and the LLM rewrite, in an order
 * chosen by the verdict, or by the strategy bandit when memory has one (memory/policy.ts). A source
 * yields one candidate per round and null when it has nothing left, and may observe each outcome.
 */
import type OpenAI from "openai";
import type { ModelConfig } from "../config/schema.ts";
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
import { ModelError, runAgent } from "../optimize/llm/agent.ts";
import { buildUserPrompt, SYSTEM_PROMPT } from "../optimize/llm/prompt.ts";
import type { HotSpot, Verdict } from "../types.ts";
import type { LoopContext } from "./context.ts";
import type { Candidate } from "./evaluate.ts";

/** What a source may know about the run so far. */
export interface RoundView {
  n: number;
  /** Median wall time of the best tree, ms, and its improvement over the baseline, %. */
  bestWallMs: number;
  bestImprovementPct: number;
  /**
   * One entry per rejected candidate: "description — gate: reason", then the reflection's indented
   * lines (numbers, test output, likely cause, what to change).
   */
  failures: string[];
}

/** A candidate and, for the tuner, the trial it came from. */
export type SourcedCandidate = Candidate & { knob?: KnobTrial };

/** How a candidate fared (what a source may learn from). */
export interface Observed {
  outcome: "accepted" | "rejected";
  gate: Gate | null;
}

/** A producer of candidates. */
export interface CandidateSource {
  strategy: "llm" | "tune";
  next(view: RoundView): Promise<SourcedCandidate | null>;
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
      if (!trial) return null;
      try {
        const change = await knobChange(ctx.workspace.best, trial);
        const remembered = plan?.remembered.some((r) => r.trial === trial)
          ? "; tried first: it won on this machine before"
          : "";
        const rationale = `knob "${trial.knob.name}" (declared in the config${trial.knob.helps.length > 0 ? ` to help ${trial.knob.helps.join(", ")}` : ""}); verdict: ${verdicts[0]?.category ?? "none"}${remembered}`;
        return {
          strategy: "tune",
          description: change.description,
          rationale,
          changes: change.changes.map((c) => ({ ...c, kind: "update" as const })),
          env: change.env,
          tokens: 0,
          knob: trial,
        };
      } catch (error) {
        if (!(error instanceof KnobError)) throw error;
        return {
          strategy: "tune",
          description: `${trial.knob.name} = ${trial.value}`,
          rationale: "",
          changes: [],
          env: {},
          tokens: 0,
          knob: trial,
          failure: { gate: "apply", reason: error.message },
        };
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

/** Settings of the LLM source. */
export interface LlmSourceOptions {
  client: OpenAI;
  model: ModelConfig;
  verdicts: Verdict[];
  hotSpots: HotSpot[];
  /** The system prompt (a variant chosen by the bandit); default {@link SYSTEM_PROMPT}. */
  system?: string;
  /** Lines recalled from earlier runs, for the prompt. */
  remembered?: string[];
}

/**
 * The LLM rewrite: one bounded agent session per round; prompt and transcript go to
 * rounds/<n>/prompt.md and response.json. Stops after two consecutive model failures or when the
 * run's token budget (`model.max_tokens`) is spent.
 */
export function llmSource(ctx: LoopContext, options: LlmSourceOptions): CandidateSource {
  let tokensUsed = 0;
  let modelFailures = 0;
  return {
    strategy: "llm",
    async next(view) {
      const remaining = options.model.max_tokens - tokensUsed;
      if (modelFailures >= 2 || remaining <= 0) return null;
      const user = await buildUserPrompt({
        root: ctx.workspace.best,
        verdicts: options.verdicts,
        hotSpots: options.hotSpots,
        benchmarkCommand: ctx.config.benchmark.command,
        testCommand: ctx.config.test,
        paths: ctx.config.paths,
        protect: ctx.config.protect,
        bestWallMs: view.bestWallMs,
        bestImprovementPct: view.bestImprovementPct,
        failures: view.failures,
        remembered: options.remembered ?? [],
      });
      const system = options.system ?? SYSTEM_PROMPT;
      await ctx.evidence.text(`rounds/${view.n}/prompt.md`, `# System\n\n${system}\n\n# User\n\n${user}\n`);
      ctx.emit({
        type: "phase",
        phase: `round ${view.n}: model`,
        detail: `${options.model.name} reads the hot code and writes a patch`,
      });
      const base = {
        strategy: "llm" as const,
        description: `LLM rewrite (${options.model.name})`,
        changes: [],
        env: {},
      };
      try {
        const outcome = await runAgent({
          client: options.client,
          model: options.model.name,
          temperature: options.model.temperature,
          root: ctx.workspace.best,
          system,
          user,
          maxTurns: options.model.max_turns,
          maxTokens: remaining,
          timeoutMs: options.model.timeout * 1000,
        });
        const tokens = outcome.usage.promptTokens + outcome.usage.completionTokens;
        tokensUsed += tokens;
        modelFailures = 0;
        await ctx.evidence.json(`rounds/${view.n}/response.json`, {
          status: outcome.status,
          reason: outcome.reason,
          usage: outcome.usage,
          patch: outcome.patchText,
          rationale: outcome.rationale,
          transcript: outcome.transcript,
        });
        const usage = outcome.usage;
        if (outcome.status !== "submitted")
          return {
            ...base,
            rationale: "",
            tokens,
            usage,
            failure: { gate: "parse", reason: outcome.reason },
          };
        const files = outcome.changes.map((c) => c.moveTo ?? c.path);
        return {
          ...base,
          description: `LLM rewrite of ${files.join(", ")}`,
          rationale: outcome.rationale,
          changes: outcome.changes,
          tokens,
          usage,
        };
      } catch (error) {
        if (!(error instanceof ModelError)) throw error;
        modelFailures += 1;
        await ctx.evidence.json(`rounds/${view.n}/response.json`, {
          status: "model-error",
          reason: error.message,
        });
        return { ...base, rationale: "", tokens: 0, failure: { gate: "error", reason: error.message } };
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
