/**
 * Steps 6–8 for one candidate, cheap gates first: the patch policy, a fresh tree, the tests, one
 * benchmark run checked against the baseline's output and behaviour (behaviour.ts), and only then
 * the performance gate (interleaved A/B against the current best). Every rejection keeps its evidence
 * and leaves the best tree as it was.
 */
import { rm } from "node:fs/promises";
import { CaptureReadError } from "../behaviour/capture.ts";
import { type BehaviourComparison, describeDifference } from "../behaviour/compare.ts";
import { capText, STREAM_CEILING_BYTES } from "../evidence/cap.ts";
import type { Gate } from "../evidence/results-schema.ts";
import { type CommandResult, describeOutcome, succeeded } from "../exec/run-command.ts";
import { countedRuns, type Measurement, MeasurementError } from "../measure/protocol.ts";
import { checkPatchPolicy, type PolicyChange } from "../patch/policy.ts";
import type { Comparison } from "../types.ts";
import { type BehaviourReference, captureRuns, checkBehaviour } from "./behaviour.ts";
import { type BenchOutput, compareMeasurement, outputDifference, outputOf } from "./compare.ts";
import {
  commandLog,
  type LoopContext,
  measureSides,
  patchPolicyOf,
  runInTree,
  runStep,
  side,
  TreeChangedError,
} from "./context.ts";
import { cloneTree, diffTrees, writeChanges } from "./workspace.ts";

/** A proposed change, from the tuner or the model. */
export interface Candidate {
  strategy: "llm" | "tune";
  description: string;
  rationale: string;
  /** File changes relative to the best tree (empty for an environment-only knob). */
  changes: PolicyChange[];
  /** Environment values the candidate adds (env knobs). */
  env: Record<string, string>;
  tokens: number;
  /** Model usage of the session that produced it (LLM candidates). */
  usage?: { calls: number; promptTokens: number; completionTokens: number };
  /** Set when the strategy could not even produce a change: the round is rejected with this. */
  failure?: { gate: Gate; reason: string };
}

/** What the gates decided. */
export interface Evaluation {
  outcome: "accepted" | "rejected";
  gate: Gate | null;
  reason: string;
  /** Primary comparison first (empty when no A/B ran). */
  comparisons: Comparison[];
  measurement: Measurement | null;
  /** The candidate tree when accepted (the caller promotes it). */
  tree: string | null;
  /** What behaviour capture found (null or absent: nothing captured or not reached). */
  behaviour?: BehaviourComparison | null;
}

/** The best state so far: its environment additions, and the baseline's references. */
export interface BestState {
  env: Record<string, string>;
  /** The baseline's benchmark output (the output gate's reference). */
  baselineOutput: BenchOutput;
  /** The baseline's recorded behaviour; null = no behaviour gate (nothing captured). */
  behaviour: BehaviourReference | null;
}

/** A candidate that passed the cheap gates, in its own tree (the caller removes it or promotes it). */
export interface Prepared {
  tree: string;
  env: Record<string, string>;
  /** The behaviour comparison (null when nothing was captured). */
  behaviour: BehaviourComparison | null;
}

/**
 * The cheap gates, before any timing (docs/agent.md, "Choosing between candidates"): the patch policy, a fresh tree, the
 * tests, and one benchmark run whose output is compared with the baseline's — with behaviour
 * capture on both when the baseline has a reference. Writes `<dir>/diff.patch`, `<dir>/test.log`
 * and `<dir>/check.log` (the benchmark run) into the evidence.
 * @param label the candidate tree's name (unique in the workspace).
 * @returns the prepared candidate, or the rejection; user-code failures never throw.
 */
export async function prepareCandidate(
  ctx: LoopContext,
  best: BestState,
  candidate: Candidate,
  dir: string,
  label: string,
): Promise<Prepared | Evaluation> {
  if (candidate.failure) return rejected(candidate.failure.gate, candidate.failure.reason);
  const violations = await checkPatchPolicy(ctx.workspace.best, candidate.changes, patchPolicyOf(ctx));
  if (violations.length > 0)
    return rejected("policy", violations.map((v) => `${v.path}: ${v.message}`).join("; "));

  const tree = await cloneTree(ctx.workspace, ctx.workspace.best, `candidate-${label}`);
  let keep = false;
  try {
    try {
      await writeChanges(tree, candidate.changes);
    } catch (error) {
      // e.g. a new file under a path that is a file: the candidate cannot exist, the run goes on.
      return rejected("apply", `the candidate's files cannot be written: ${(error as Error).message}`);
    }
    const files = candidate.changes.flatMap((c) => (c.moveTo ? [c.path, c.moveTo] : [c.path]));
    await ctx.evidence.text(`${dir}/diff.patch`, await diffTrees(ctx.workspace.best, tree, files));
    const env = { ...best.env, ...candidate.env };
    ctx.emit({ type: "phase", phase: `${where(dir)}: tests`, detail: ctx.config.test });
    const checked = await runChecks(ctx, best, tree, env, dir);
    if ("gate" in checked)
      return rejected(checked.gate, checked.reason, { behaviour: checked.behaviour ?? null });
    keep = true;
    return { tree, env, behaviour: checked.behaviour };
  } finally {
    if (!keep) await rm(tree, { recursive: true, force: true });
  }
}

/**
 * The full gate: interleaved A/B of the best tree (A) against the prepared candidate (B), the output
 * gate on B's runs, and the statistics at significance level `alpha` (default
 * `statistics.alpha`; round-candidates.ts halves it for a round's second full A/B). Writes
 * `<dir>/bench.log`.
 * @returns the evaluation; the caller keeps `tree` when accepted and removes it otherwise.
 */
export async function measureCandidate(
  ctx: LoopContext,
  best: BestState,
  prepared: Prepared,
  dir: string,
  seed: number,
  alpha = ctx.config.statistics.alpha,
): Promise<Evaluation> {
  const extra = { behaviour: prepared.behaviour };
  ctx.emit({
    type: "phase",
    phase: `${where(dir)}: A/B measurement`,
    detail: "current best (A) against the candidate (B), interleaved",
  });
  let measurement: Measurement;
  try {
    measurement = await ctx.exclusive(() =>
      measureSides(
        ctx,
        [side(ctx, "A", ctx.workspace.best, best.env), side(ctx, "B", prepared.tree, prepared.env)],
        where(dir),
      ),
    );
  } catch (error) {
    if (error instanceof TreeChangedError) return rejected("error", error.message, extra);
    if (!(error instanceof MeasurementError)) throw error;
    await ctx.evidence.text(`${dir}/bench.log`, commandLog(error.result));
    // A crash of the candidate's benchmark is a correctness failure; one of the reference is not.
    return rejected(
      error.side === "B" ? "tests" : "error",
      `${error.message}; ${lastLines(error.result.stderr)}`,
      extra,
    );
  }
  await ctx.evidence.text(`${dir}/bench.log`, benchLog(measurement));
  const candidateOutput = outputOf(measurement.stdout.B ?? "", countedRuns(measurement, "B")[0]);
  const difference = outputDifference(
    best.baselineOutput,
    candidateOutput,
    ctx.config,
    ctx.config.sandbox.output_limit,
  );
  if (difference) return rejected("output", difference, { ...extra, measurement });
  let comparisons: Comparison[];
  try {
    comparisons = compareMeasurement(measurement, ctx.config, seed, alpha);
  } catch (error) {
    // e.g. the candidate stopped printing the declared metric.
    return rejected("output", (error as Error).message, { ...extra, measurement });
  }
  const primary = comparisons[0] as Comparison;
  if (primary.verdict !== "faster")
    return rejected("performance", primary.reason, { ...extra, measurement, comparisons });
  return {
    outcome: "accepted",
    gate: null,
    reason: primary.reason,
    comparisons,
    measurement,
    tree: prepared.tree,
    ...extra,
  };
}

/**
 * Every gate on one candidate as round `n` (prepareCandidate, then measureCandidate); evidence in
 * rounds/<n>/.
 * @returns the evaluation; user-code failures are rejections, never exceptions.
 */
export async function evaluateCandidate(
  ctx: LoopContext,
  best: BestState,
  candidate: Candidate,
  n: number,
): Promise<Evaluation> {
  const dir = `rounds/${n}`;
  const prepared = await prepareCandidate(ctx, best, candidate, dir, String(n));
  if ("outcome" in prepared) return prepared;
  const evaluation = await measureCandidate(ctx, best, prepared, dir, ctx.seed + n);
  if (evaluation.outcome !== "accepted") await rm(prepared.tree, { recursive: true, force: true });
  return evaluation;
}

/** A rejection by `gate`. */
export function rejected(gate: Gate, reason: string, extra: Partial<Evaluation> = {}): Evaluation {
  return { outcome: "rejected", gate, reason, comparisons: [], measurement: null, tree: null, ...extra };
}

type Checked =
  | { behaviour: BehaviourComparison | null }
  | { gate: Gate; reason: string; behaviour?: BehaviourComparison };

/** Tests, then one benchmark run with the output gate, with behaviour capture when there is a reference. */
async function runChecks(
  ctx: LoopContext,
  best: BestState,
  tree: string,
  env: Record<string, string>,
  dir: string,
): Promise<Checked> {
  const testFailed = (result: CommandResult): Checked => ({
    gate: "tests",
    reason: `tests failed on the candidate: ${describeOutcome(result)}; ${lastLines(result.stdout + result.stderr)}`,
  });
  const benchFailed = (result: CommandResult): Checked => ({
    gate: "tests",
    reason: `the benchmark fails on the candidate: ${describeOutcome(result)}; ${lastLines(result.stderr)}`,
  });
  const output = (result: CommandResult) =>
    outputDifference(
      best.baselineOutput,
      outputOf(result.stdout, undefined),
      ctx.config,
      ctx.config.sandbox.output_limit,
    );
  const logs = { test: `${dir}/test.log`, bench: `${dir}/check.log` };
  if (best.behaviour) {
    let runs: Awaited<ReturnType<typeof captureRuns>>;
    try {
      runs = await captureRuns(ctx, tree, env, best.behaviour.targets, logs);
    } catch (error) {
      // The records are written by the candidate's own processes: unreadable ones reject it.
      if (!(error instanceof CaptureReadError)) throw error;
      return {
        gate: "behaviour",
        reason: `behaviour capture: the candidate's records cannot be read (${error.message})`,
      };
    }
    const [test, bench] = runs;
    if (!succeeded(test.result) || !bench) return testFailed(test.result);
    if (!succeeded(bench.result)) return benchFailed(bench.result);
    const difference = output(bench.result);
    if (difference) return { gate: "output", reason: difference };
    const behaviour = checkBehaviour(best.behaviour, [test, bench]);
    if (behaviour.difference)
      return {
        gate: "behaviour",
        reason: `behaviour capture: ${describeDifference(behaviour.difference)} (the output was the same)`,
        behaviour,
      };
    return { behaviour };
  }
  const test = await ctx.exclusive(() => runStep(ctx, "test", tree, { ...ctx.baseEnv, ...env }, logs.test));
  if (!succeeded(test)) return testFailed(test);
  const bench = await ctx.exclusive(() =>
    runInTree(ctx, ctx.config.benchmark.command, tree, {
      env: { ...ctx.baseEnv, ...env },
      access: "ro",
      timeoutMs: ctx.config.timeouts.benchmark * 1000,
    }),
  );
  await ctx.evidence.text(logs.bench, commandLog(bench));
  if (!succeeded(bench)) return benchFailed(bench);
  const difference = output(bench);
  return difference ? { gate: "output", reason: difference } : { behaviour: null };
}

/** "round 3" or "round 3, candidate 2", from an evidence folder. */
function where(dir: string): string {
  const m = /^rounds\/(\d+)(?:\/candidates\/(\d+))?/.exec(dir);
  return m ? `round ${m[1]}${m[2] ? `, candidate ${m[2]}` : ""}` : dir;
}

/** One line per run: side, wall, CPU, RSS, exit — the human view of perf_raw.json's round entry. */
function benchLog(measurement: Measurement): string {
  const lines = measurement.runs.map(
    (r) =>
      `${String(r.order).padStart(3)} ${r.side}${r.warmup ? " (warm-up)" : "          "} wall ${r.wallMs.toFixed(1)} ms  cpu ${r.cpuMs.toFixed(1)} ms  rss ${(r.maxRssBytes / 2 ** 20).toFixed(1)} MiB  exit ${r.exitCode}${r.metric === null ? "" : `  metric ${r.metric}`}`,
  );
  const stdout = capText(measurement.stdout.B ?? "", STREAM_CEILING_BYTES);
  return `${lines.join("\n")}\n\n## stdout of B (first counted run)\n${stdout}`;
}

function lastLines(text: string, count = 6): string {
  const lines = text.trim().split("\n");
  return lines.slice(-count).join(" ⏎ ").slice(0, 800);
}
