/**
 * Where candidates come from (DESIGN.md step 5): the knob tuner and the LLM rewrite, in an order
 * chosen by the verdict. A source yields one candidate per round and null when it has nothing left.
 */
import type OpenAI from "openai";
import type { ModelConfig } from "../config/schema.ts";
import { currentKnobValue, KnobError, knobChange, planKnobTrials } from "../optimize/knobs.ts";
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
  /** One line per rejected candidate: "description — gate: reason". */
  failures: string[];
}

/** A producer of candidates. */
export interface CandidateSource {
  strategy: "llm" | "tune";
  next(view: RoundView): Promise<Candidate | null>;
}

/**
 * The tuner: every (knob, value) trial in verdict order; a knob that cannot be located becomes a
 * rejected round with the reason (so a config mistake is visible in the report).
 */
export function tuneSource(ctx: LoopContext, verdicts: Verdict[]): CandidateSource {
  let trials: ReturnType<typeof planKnobTrials> | undefined;
  return {
    strategy: "tune",
    async next() {
      if (!trials) {
        const current: Record<string, string | null> = {};
        for (const knob of ctx.config.tune)
          current[knob.name] = await currentKnobValue(ctx.workspace.best, knob).catch(() => null);
        trials = planKnobTrials(ctx.config.tune, verdicts, current);
      }
      const trial = trials.shift();
      if (!trial) return null;
      try {
        const change = await knobChange(ctx.workspace.best, trial);
        const rationale = `knob "${trial.knob.name}" (declared in the config${trial.knob.helps.length > 0 ? ` to help ${trial.knob.helps.join(", ")}` : ""}); verdict: ${verdicts[0]?.category ?? "none"}`;
        return {
          strategy: "tune",
          description: change.description,
          rationale,
          changes: change.changes.map((c) => ({ ...c, kind: "update" as const })),
          env: change.env,
          tokens: 0,
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
          failure: { gate: "apply", reason: error.message },
        };
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
      });
      await ctx.evidence.text(
        `rounds/${view.n}/prompt.md`,
        `# System\n\n${SYSTEM_PROMPT}\n\n# User\n\n${user}\n`,
      );
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
          system: SYSTEM_PROMPT,
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
 * The order of sources for `strategy`: with "auto", knobs first when a knob declares it helps the top
 * verdict (cheap and safe), else the model first; then the other.
 */
export function orderSources(
  strategy: "auto" | "llm" | "tune",
  verdicts: Verdict[],
  tune: CandidateSource | null,
  llm: CandidateSource | null,
  knobsHelpTop: boolean,
): CandidateSource[] {
  if (strategy === "tune") return tune ? [tune] : [];
  if (strategy === "llm") return llm ? [llm] : [];
  const both = knobsHelpTop || verdicts.length === 0 ? [tune, llm] : [llm, tune];
  return both.filter((s): s is CandidateSource => s !== null);
}
