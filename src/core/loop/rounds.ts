/**
 * Steps 5–9: rounds of candidates until convergence, then the final A/B of the baseline against the
 * best state. Convergence (docs/design.md, "The loop", step 9): the target reached, the round / time / token budget spent, no
 * candidate left, or two consecutive measured rounds each improving less than 5% (rounds rejected
 * before the A/B measurement do not count towards convergence; they do count against `rounds`).
 */
import type OpenAI from "openai";
import { defaultModelConfig } from "../config/schema.ts";
import type { Results } from "../evidence/results-schema.ts";
import { countedRuns } from "../measure/protocol.ts";
import { median } from "../measure/stats.ts";
import type { MemorySession } from "../memory/session.ts";
import { recordReflection } from "../reflect/record.ts";
import { type Reflection, reflectionLines } from "../reflect/reflection.ts";
import type { Comparison } from "../types.ts";
import type { Baseline } from "./baseline.ts";
import { compareMeasurement, outputOf, primaryMetric } from "./compare.ts";
import { type LoopContext, measureSides, side } from "./context.ts";
import { type BestState, evaluateCandidate } from "./evaluate.ts";
import { rankByPullRequest } from "./focus.ts";
import { llmSource } from "./llm-source.ts";
import { profileTree } from "./profile-run.ts";
import type { RunRecordings } from "./recordings.ts";
import { type BatchOutcome, evaluateBatch, recordOf } from "./round-candidates.ts";
import { type CandidateSource, orderSources, type SourcedCandidate, tuneSource } from "./strategies.ts";
import { promote } from "./workspace.ts";

/** Lines of a failed candidate's diff shown in the next round's prompt. */
const DIFF_LINES_IN_PROMPT = 40;

/** A round that improves less than this counts towards convergence (docs/design.md, "The loop", step 9), %. */
export const CONVERGENCE_STEP_PCT = 5;

/** How the rounds ended. */
export interface RoundsOutcome {
  status: Results["status"];
  message: string;
}

/**
 * Runs the rounds and the final comparison, filling `recordings`. After each rejected candidate a
 * reflection (reflect/) is written to rounds/<n>/reflection.json and goes into the next prompt.
 * @param model null = no model: knob tuning only.
 * @param memory the run's memory (warm start, recalled lines, strategy policy), null = none.
 */
export async function optimizeRounds(
  ctx: LoopContext,
  baseline: Baseline,
  model: OpenAI | null,
  recordings: RunRecordings,
  memory: MemorySession | null = null,
): Promise<RoundsOutcome> {
  const { config } = ctx;
  const verdicts = baseline.verdicts;
  const top = verdicts[0]?.category;
  const policy = memory?.policy ?? null;
  const tune = config.tune.length > 0 ? tuneSource(ctx, verdicts, memory) : null;
  const llm = model
    ? llmSource(ctx, {
        client: model,
        model: config.model ?? defaultModelConfig(),
        verdicts,
        ...(policy?.llm?.system ? { system: policy.llm.system } : {}),
        remembered: memory?.remembered ?? [],
        ...(baseline.focus ? { pullRequest: baseline.focus.prompt } : {}),
      })
    : null;
  const knobsHelpTop = top !== undefined && config.tune.some((k) => k.helps.includes(top));
  const sources = orderSources(config.strategy, verdicts, tune, llm, knobsHelpTop, policy?.primary.strategy);
  if (sources.length === 0) {
    recordings.stopReason = "no strategy available";
    const why =
      config.strategy === "llm"
        ? "strategy is llm but no model is configured (set model in the config or --model, and the API key variable)"
        : "no knobs in `tune` and no model configured";
    return { status: "no-improvement", message: `nothing to try: ${why}` };
  }

  const direction = primaryMetric(config).direction;
  const best: BestState = {
    env: {},
    baselineOutput: outputOf(baseline.stdout, countedRuns(baseline.measurement, "A")[0]),
    behaviour: baseline.behaviour,
  };
  let hotSpots = baseline.hotSpots;
  let bestRatio = 1; // primary metric of best / baseline, chained over accepted rounds
  let bestWallMs = medianWall(baseline);
  let smallRounds = 0;
  const failures: string[] = [];
  let sourceIndex = 0;
  const improvement = () => (direction === "lower" ? (1 - bestRatio) * 100 : (bestRatio - 1) * 100);

  for (let n = 1; ; n++) {
    const stop = stopReason(ctx, n, improvement(), smallRounds);
    if (stop) {
      recordings.stopReason = stop;
      break;
    }
    const started = performance.now(); // the sessions' time counts in the round's
    let batch: SourcedCandidate[] = [];
    let from: CandidateSource | undefined;
    for (let source = sources[sourceIndex]; batch.length === 0 && source; source = sources[sourceIndex]) {
      batch = await source.next({
        n,
        best,
        hotSpots,
        bestWallMs,
        bestImprovementPct: improvement(),
        failures,
      });
      from = source;
      if (batch.length === 0) sourceIndex += 1;
    }
    const first = batch[0];
    if (!first) {
      recordings.stopReason = "no candidate left to try";
      break;
    }
    ctx.emit({
      type: "round-start",
      n,
      total: config.rounds,
      strategy: first.strategy,
      description: batch.length > 1 ? `${batch.length} candidates` : first.description,
    });
    const outcome = await evaluateRound(ctx, best, batch, n);
    const { decisive: candidate, evaluation } = outcome;
    const primary: Comparison | null = evaluation.comparisons[0] ?? null;
    if (evaluation.outcome === "accepted" && evaluation.tree && primary) {
      await promote(ctx.workspace, evaluation.tree);
      Object.assign(best.env, candidate.env);
      bestRatio *= primary.ratio;
      bestWallMs = evaluation.comparisons.find((c) => c.metric === "wall time")?.b.median ?? bestWallMs;
      recordings.changedFiles.push(
        ...candidate.changes.flatMap((c) => (c.moveTo ? [c.path, c.moveTo] : [c.path])),
      );
      for (const [env, value] of Object.entries(candidate.env)) {
        recordings.recommendations = recordings.recommendations.filter((r) => r.env !== env);
        recordings.recommendations.push({
          knob: candidate.description.split(":")[0] ?? env,
          env,
          value,
          improvementPct: primary.improvementPct,
        });
      }
      // Fresh facts for the next round: the accepted change moved the time elsewhere. After the
      // last round too: the last accepted round's profile is the final state's (flamegraphs.ts).
      ctx.emit({
        type: "phase",
        phase: `round ${n}: profiling`,
        detail: "the new best tree, for the next round's hot spots and the bundle's profiles",
      });
      hotSpots = await rankByPullRequest(
        ctx,
        await profileTree(
          ctx,
          ctx.workspace.best,
          { log: `rounds/${n}/profile.log`, json: `rounds/${n}/hot_spots.json` },
          best.env,
        ),
      );
    }
    const files = candidate.changes.map((c) => c.moveTo ?? c.path);
    let reflection: Reflection | null = null;
    if (evaluation.outcome === "rejected") {
      reflection = await recordReflection(
        ctx.evidence,
        {
          round: n,
          strategy: candidate.strategy,
          description: candidate.description,
          gate: evaluation.gate ?? "error",
          reason: evaluation.reason,
          comparison: primary,
          files,
          knob: candidate.knob ? { name: candidate.knob.knob.name, value: candidate.knob.value } : null,
          hotSpots,
          minImprovementPct: config.min_improvement,
        },
        batch.length > 1 ? `rounds/${n}/candidates/${candidate.session?.k ?? 1}` : `rounds/${n}`,
      );
      failures.push(withAttempt(reflectionLines(reflection), candidate));
    }
    for (const other of outcome.rejected) {
      if (other.candidate === candidate || other.evaluation.gate === "screen") continue;
      failures.push(
        withAttempt(
          `${other.candidate.description} — ${other.evaluation.gate}: ${other.evaluation.reason.slice(0, 400)}`,
          other.candidate,
        ),
      );
    }
    await from?.observe?.(candidate, { outcome: evaluation.outcome, gate: evaluation.gate });
    memory?.recordRound({
      n,
      strategy: candidate.strategy,
      description: candidate.description,
      rationale: candidate.rationale,
      files,
      knob: candidate.knob ?? null,
      outcome: evaluation.outcome,
      gate: evaluation.gate,
      reason: evaluation.reason,
      comparison: primary,
      reflection,
    });
    // Convergence counts measured rounds only: a candidate stopped before the A/B (policy, tests,
    // a patch that does not apply) says nothing about diminishing returns, only about that attempt.
    // A measured round that did not gain CONVERGENCE_STEP_PCT counts whatever its verdict ("no
    // significant change", "slower", or "inconclusive" with the runs that would settle it): none of
    // them is a gain to build on, and counting them keeps the stop rule what it was.
    if (primary)
      smallRounds =
        evaluation.outcome === "accepted" && primary.improvementPct >= CONVERGENCE_STEP_PCT
          ? 0
          : smallRounds + 1;
    const roundCost = addUsage(recordings, batch);
    recordings.rounds.push({
      n,
      strategy: candidate.strategy,
      description: candidate.description,
      rationale: candidate.rationale,
      files,
      env: candidate.env,
      outcome: evaluation.outcome,
      gate: evaluation.gate,
      reason: evaluation.reason,
      comparison: primary,
      bestImprovementPct: improvement(),
      durationMs: performance.now() - started,
      tokens: batch.reduce((t, c) => t + c.tokens, 0),
      ...(first.strategy === "llm" ? { candidates: outcome.records, costUsd: roundCost } : {}),
      ...(reflection
        ? {
            reflection: {
              likelyCause: reflection.likelyCause,
              whatToChange: reflection.whatToChange,
              signature: reflection.signature,
            },
          }
        : {}),
    });
    recordings.roundMeasurements.push({ n, measurement: evaluation.measurement });
    await ctx.evidence.json("optimization_rounds.json", recordings.rounds);
    await ctx.evidence.audit(
      `round ${n} ${evaluation.outcome}`,
      `${candidate.description}: ${evaluation.gate ?? "all gates passed"}: ${evaluation.reason}`,
    );
    ctx.emit({
      type: "round-end",
      n,
      outcome: evaluation.outcome,
      reason: evaluation.reason,
      bestImprovementPct: improvement(),
    });
  }

  if (!recordings.rounds.some((r) => r.outcome === "accepted")) {
    const inconclusive = recordings.rounds.filter((r) => r.comparison?.verdict === "inconclusive");
    const runs = inconclusive.flatMap((r) => (r.comparison?.runsNeeded ? [r.comparison.runsNeeded] : []));
    const settle =
      runs.length > 0
        ? `; up to about ${Math.max(...runs)} runs a side (repetitions.runs) would settle the ones whose interval was too wide`
        : "";
    return inconclusive.length > 0
      ? {
          status: "inconclusive",
          message: `no candidate could be judged: ${inconclusive.length} measurement(s) too noisy, too short for their confidence interval to decide, or compromised (see the rounds)${settle}`,
        }
      : {
          status: "no-improvement",
          message: `no candidate passed every gate in ${recordings.rounds.length} round(s)`,
        };
  }
  ctx.emit({
    type: "phase",
    phase: "final measurement",
    detail: "baseline (A) against the best state (B), interleaved",
  });
  const measurement = await measureSides(
    ctx,
    [side(ctx, "A", ctx.workspace.baseline, {}), side(ctx, "B", ctx.workspace.best, best.env)],
    "final",
  );
  const comparisons = compareMeasurement(measurement, config, ctx.seed);
  recordings.final = { comparisons, measurement };
  const primary = comparisons[0] as Comparison;
  if (primary.verdict === "faster")
    return {
      status: "improved",
      message: `verified: ${primary.metric} ${primary.improvementPct.toFixed(1)}% better than the baseline (${primary.reason})`,
    };
  if (primary.verdict === "inconclusive")
    return { status: "inconclusive", message: `the final comparison is ${primary.reason}` };
  return {
    status: "no-improvement",
    message: `the final comparison does not confirm the rounds' gains: ${primary.reason}`,
  };
}

/** One candidate a round: its gates, else several: batch evaluation (round-candidates.ts). */
async function evaluateRound(
  ctx: LoopContext,
  best: BestState,
  batch: SourcedCandidate[],
  n: number,
): Promise<BatchOutcome> {
  if (batch.length > 1) return evaluateBatch(ctx, best, batch, n);
  const candidate = batch[0] as SourcedCandidate;
  const evaluation = await evaluateCandidate(ctx, best, candidate, n);
  return {
    decisive: candidate,
    evaluation,
    records: [recordOf(candidate, 0, evaluation, null, evaluation.measurement !== null)],
    rejected: evaluation.outcome === "rejected" ? [{ candidate, evaluation }] : [],
  };
}

/** Lines for the next prompt: the failure, then the attempt's rationale and diff (cut), so it is not repeated. */
function withAttempt(failure: string, candidate: SourcedCandidate): string {
  const diff = candidate.session?.patchText?.split("\n") ?? [];
  const shown = diff.slice(0, DIFF_LINES_IN_PROMPT).map((l) => `    ${l}`);
  const more =
    diff.length > DIFF_LINES_IN_PROMPT ? [`    … (${diff.length - DIFF_LINES_IN_PROMPT} more lines)`] : [];
  return [
    failure,
    ...(candidate.rationale ? [`  rationale was: ${candidate.rationale.slice(0, 300)}`] : []),
    ...(shown.length > 0 ? ["  its diff:", ...shown, ...more] : []),
  ].join("\n");
}

/** Adds a round's model usage to the run's; returns the round's estimated cost, USD (null = unknown). */
function addUsage(recordings: RunRecordings, batch: SourcedCandidate[]): number | null {
  let cost: number | null = null;
  for (const c of batch) {
    if (!c.usage) continue;
    recordings.usage.modelCalls += c.usage.calls;
    recordings.usage.promptTokens += c.usage.promptTokens;
    recordings.usage.completionTokens += c.usage.completionTokens;
    const usd = c.session?.costUsd;
    if (usd !== null && usd !== undefined) cost = (cost ?? 0) + usd;
  }
  if (cost !== null)
    recordings.usage.costUsd = Math.round(((recordings.usage.costUsd ?? 0) + cost) * 10_000) / 10_000;
  return cost === null ? null : Math.round(cost * 10_000) / 10_000;
}

function stopReason(ctx: LoopContext, n: number, improvementPct: number, smallRounds: number): string | null {
  const { config } = ctx;
  if (config.target !== undefined && improvementPct >= config.target)
    return `target of ${config.target}% reached (estimated ${improvementPct.toFixed(1)}% from the rounds; the final A/B measures it)`;
  if (n > config.rounds) return `round budget of ${config.rounds} spent`;
  if (Date.now() > ctx.deadline) return `time budget of ${config.timeouts.total} s spent`;
  if (smallRounds >= 2)
    return `converged: two consecutive measured rounds each brought less than ${CONVERGENCE_STEP_PCT}% (or were not conclusive)`;
  return null;
}

function medianWall(baseline: Baseline): number {
  return median(countedRuns(baseline.measurement, "A").map((r) => r.wallMs));
}
