/**
 * Steps 6–8 for one candidate: the patch policy, a fresh tree, the correctness gate (tests, then the
 * benchmark's output against the baseline's) and the performance gate (interleaved A/B against the
 * current best). Every rejection keeps its evidence and leaves the best tree as it was.
 */
import { rm } from "node:fs/promises";
import { capText, STREAM_CEILING_BYTES } from "../evidence/cap.ts";
import type { Gate } from "../evidence/results-schema.ts";
import { describeOutcome, succeeded } from "../exec/run-command.ts";
import { countedRuns, type Measurement, MeasurementError } from "../measure/protocol.ts";
import { checkPatchPolicy, type PolicyChange } from "../patch/policy.ts";
import type { Comparison } from "../types.ts";
import { type BenchOutput, compareMeasurement, outputDifference, outputOf } from "./compare.ts";
import { commandLog, type LoopContext, measureSides, runStep, side, TreeChangedError } from "./context.ts";
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
}

/** The best state so far: its environment additions, and the baseline's output (the reference). */
export interface BestState {
  env: Record<string, string>;
  baselineOutput: BenchOutput;
}

/**
 * Runs every gate on `candidate` as round `n`; writes rounds/<n>/{diff.patch,test.log,bench.log}.
 * @returns the evaluation; user-code failures are rejections, never exceptions.
 */
export async function evaluateCandidate(
  ctx: LoopContext,
  best: BestState,
  candidate: Candidate,
  n: number,
): Promise<Evaluation> {
  const reject = (gate: Gate, reason: string, extra: Partial<Evaluation> = {}): Evaluation => ({
    outcome: "rejected",
    gate,
    reason,
    comparisons: [],
    measurement: null,
    tree: null,
    ...extra,
  });
  if (candidate.failure) return reject(candidate.failure.gate, candidate.failure.reason);

  const violations = await checkPatchPolicy(ctx.workspace.best, candidate.changes, {
    paths: ctx.config.paths,
    protect: ctx.config.protect,
    maxFiles: ctx.config.limits.max_files,
    maxChangedLines: ctx.config.limits.max_changed_lines,
    maxFileBytes: ctx.config.limits.max_file_bytes,
    benchmarkFiles: ctx.config.benchmark.files,
    configPath: ctx.configPath,
  });
  if (violations.length > 0)
    return reject("policy", violations.map((v) => `${v.path}: ${v.message}`).join("; "));

  const tree = await cloneTree(ctx.workspace, ctx.workspace.best, `candidate-${n}`);
  let keep = false;
  try {
    try {
      await writeChanges(tree, candidate.changes);
    } catch (error) {
      // e.g. a new file under a path that is a file: the candidate cannot exist, the run goes on.
      return reject("apply", `the candidate's files cannot be written: ${(error as Error).message}`);
    }
    const files = candidate.changes.flatMap((c) => (c.moveTo ? [c.path, c.moveTo] : [c.path]));
    await ctx.evidence.text(`rounds/${n}/diff.patch`, await diffTrees(ctx.workspace.best, tree, files));
    const env = { ...best.env, ...candidate.env };

    ctx.emit({ type: "phase", phase: `round ${n}: tests`, detail: ctx.config.test });
    const test = await runStep(ctx, "test", tree, { ...ctx.baseEnv, ...env }, `rounds/${n}/test.log`);
    if (!succeeded(test))
      return reject(
        "tests",
        `tests failed on the candidate: ${describeOutcome(test)}; ${lastLines(test.stdout + test.stderr)}`,
      );

    ctx.emit({
      type: "phase",
      phase: `round ${n}: A/B measurement`,
      detail: "current best (A) against the candidate (B), interleaved",
    });
    let measurement: Measurement;
    try {
      measurement = await measureSides(
        ctx,
        [side(ctx, "A", ctx.workspace.best, best.env), side(ctx, "B", tree, env)],
        `round ${n}`,
      );
    } catch (error) {
      if (error instanceof TreeChangedError) return reject("error", error.message);
      if (!(error instanceof MeasurementError)) throw error;
      await ctx.evidence.text(`rounds/${n}/bench.log`, commandLog(error.result));
      // A crash of the candidate's benchmark is a correctness failure; one of the reference is not.
      return reject(
        error.side === "B" ? "tests" : "error",
        `${error.message}; ${lastLines(error.result.stderr)}`,
      );
    }
    await ctx.evidence.text(`rounds/${n}/bench.log`, benchLog(measurement));
    const candidateOutput = outputOf(measurement.stdout.B ?? "", countedRuns(measurement, "B")[0]);
    const difference = outputDifference(
      best.baselineOutput,
      candidateOutput,
      ctx.config,
      ctx.config.sandbox.output_limit,
    );
    if (difference) return reject("output", difference, { measurement });

    let comparisons: Comparison[];
    try {
      comparisons = compareMeasurement(measurement, ctx.config, ctx.seed + n);
    } catch (error) {
      // e.g. the candidate stopped printing the declared metric.
      return reject("output", (error as Error).message, { measurement });
    }
    const primary = comparisons[0] as Comparison;
    if (primary.verdict !== "faster")
      return reject("performance", primary.reason, { measurement, comparisons });
    keep = true;
    return { outcome: "accepted", gate: null, reason: primary.reason, comparisons, measurement, tree };
  } finally {
    if (!keep) await rm(tree, { recursive: true, force: true });
  }
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
