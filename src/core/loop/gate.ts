/**
 * The performance gate (docs/gate.md), after the base tree's baseline (baseline.ts: set-up, tests,
 * measurement, profile, verdict on the base): set-up and tests on the head, an interleaved A/B of
 * the base (A) against the head (B) with the configured metric — for `benchmark` and each of
 * `benchmarks` — the gate's rule (src/core/gate/verdict.ts) on each, and for a regressed head its
 * profile and the functions whose share grew, marked when the pull request changed them. The gate
 * regresses when any benchmark does, is inconclusive when any is and none regressed, passes
 * otherwise.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config/schema.ts";
import type { Results } from "../evidence/results-schema.ts";
import { describeOutcome, succeeded } from "../exec/run-command.ts";
import { focusHotSpots } from "../focus/rank.ts";
import { type GateDecision, gateDecision } from "../gate/verdict.ts";
import type { Comparison, HotSpot } from "../types.ts";
import type { Baseline } from "./baseline.ts";
import { compareMeasurement } from "./compare.ts";
import { type LoopContext, measureSides, runStep, side } from "./context.ts";
import { profileTree } from "./profile-run.ts";
import type { RunRecordings } from "./recordings.ts";

/** What the gate compares: the two commits as the user named them. */
export interface GateOptions {
  base: { ref: string; sha: string };
  head: { ref: string; sha: string };
}

/** How the gate ended, for finish.ts. */
export interface GateOutcome {
  status: Results["status"];
  message: string;
  gate: NonNullable<Results["gate"]> | null;
}

/** Functions shown as grown, at most. */
const GROWN_SHOWN = 10;

/**
 * Runs the gate on `ctx.workspace.best` (the head) against `ctx.workspace.baseline` (the base).
 * @returns the outcome; user-code failures on the head (set-up, tests, a benchmark that fails
 *   during the A/B) are an outcome ("head-failed"), not a throw.
 * @throws CancelledError when the run is stopped.
 */
export async function runGate(
  ctx: LoopContext,
  baseline: Baseline,
  options: GateOptions,
  recordings: RunRecordings,
): Promise<GateOutcome> {
  const head = ctx.workspace.best;
  if (ctx.config.setup) {
    ctx.emit({ type: "phase", phase: "setup on the head", detail: ctx.config.setup });
    const setup = await runStep(ctx, "setup", head, ctx.baseEnv, "head-setup.log");
    if (!succeeded(setup))
      return failed(`set-up fails on the head: ${describeOutcome(setup)} (see head-setup.log)`);
  }
  ctx.emit({ type: "phase", phase: "tests on the head", detail: ctx.config.test });
  const test = await runStep(ctx, "test", head, ctx.baseEnv, "head-test.log");
  if (!succeeded(test))
    return failed(`the tests fail on the head: ${describeOutcome(test)} (see head-test.log)`);

  let rows: GateRow[];
  let primary: GateDecision;
  try {
    const first = await measureBenchmark(ctx, "benchmark", ctx.config, ctx.config.gate.threshold, recordings);
    primary = first.decision;
    rows = [first.row];
    // Further benchmarks (config `benchmarks:`), each its own A/B, metric and threshold.
    for (const extra of ctx.config.benchmarks) {
      const config: Config = {
        ...ctx.config,
        benchmark: {
          ...ctx.config.benchmark,
          command: extra.command,
          metric: extra.metric,
          measure: extra.measure,
          output: "ignore",
        },
      };
      rows.push(
        (await measureBenchmark(ctx, extra.name, config, extra.threshold ?? ctx.config.gate.threshold)).row,
      );
    }
  } catch (error) {
    if ((error as Error).name !== "MeasurementError") throw error;
    return failed(`the benchmark fails on the head: ${(error as Error).message}`);
  }
  const verdict: GateDecision["verdict"] = rows.some((r) => r.verdict === "regressed")
    ? "regressed"
    : rows.some((r) => r.verdict === "inconclusive")
      ? "inconclusive"
      : "passed";
  const worst = rows.find((r) => r.verdict === verdict) ?? rows[0];
  const scale = recordings.final?.comparisons[0];
  const grown =
    verdict === "regressed"
      ? await grownFunctions(
          ctx,
          baseline.hotSpots,
          // Profile shares weighed by each side's amount of work: time or instructions; a declared
          // metric (a throughput, say) says nothing of the work, so shares are compared as they are.
          scale && (scale.unit === "ms" || scale.unit === "instructions")
            ? [scale.a.median, scale.b.median]
            : [1, 1],
        )
      : [];
  const reason = rows.length === 1 || !worst ? primary.reason : `${worst.name}: ${worst.reason}`;
  const gate = {
    base: options.base,
    head: options.head,
    ...pick(primary),
    verdict,
    reason,
    grown,
    ...(rows.length > 1 ? { benchmarks: rows } : {}),
  };
  return {
    status: verdict,
    message: `${words(verdict, worst?.thresholdPct ?? primary.thresholdPct)}: ${reason}`,
    gate,
  };
}

/** One benchmark's row of the gate's table (results.json `gate.benchmarks`). */
type GateRow = NonNullable<NonNullable<Results["gate"]>["benchmarks"]>[number];

/**
 * The A/B of base against head for one benchmark (`config.benchmark`), and the gate's rule on its
 * primary metric. The first benchmark's measurement is the run's final one (`recordings`).
 * @throws MeasurementError when the benchmark fails on a side.
 */
async function measureBenchmark(
  parent: LoopContext,
  name: string,
  config: Config,
  thresholdPct: number,
  recordings?: RunRecordings,
): Promise<{ row: GateRow; decision: GateDecision }> {
  // A further benchmark measures wall or CPU time only: the instruction counter probed for the
  // primary benchmark must not wrap it (under valgrind it would run 20–100× slower for nothing).
  const ctx = config === parent.config ? parent : { ...parent, config, counter: undefined };
  const label = name === "benchmark" ? "gate" : `gate ${name}`;
  ctx.emit({
    type: "phase",
    phase: `${label} measurement`,
    detail: "base (A) against head (B), interleaved",
  });
  const measurement = await measureSides(
    ctx,
    [side(ctx, "A", ctx.workspace.baseline, {}), side(ctx, "B", ctx.workspace.best, {})],
    label,
  );
  const comparisons = compareMeasurement(measurement, config, ctx.seed);
  if (recordings) recordings.final = { comparisons, measurement };
  const c = comparisons[0] as Comparison;
  const decision = gateDecision(c, thresholdPct);
  await ctx.evidence.audit(`${label} ${decision.verdict}`, decision.reason);
  return {
    decision,
    row: {
      name,
      command: config.benchmark.command,
      metric: c.metric,
      unit: c.unit,
      baseMedian: c.a.median,
      headMedian: c.b.median,
      ...pick(decision),
    },
  };
}

function failed(message: string): GateOutcome {
  return { status: "head-failed", message, gate: null };
}

function words(verdict: GateDecision["verdict"], thresholdPct: number): string {
  if (verdict === "passed") return "gate passed";
  if (verdict === "regressed") return `performance regression past the ${thresholdPct}% threshold`;
  return "gate inconclusive";
}

function pick(d: GateDecision) {
  return {
    thresholdPct: d.thresholdPct,
    verdict: d.verdict,
    reason: d.reason,
    changePct: d.changePct,
    ciPct: d.ciPct,
  };
}

/**
 * The head's profile against the base's hot spots: the functions whose self time grew most, with
 * the pull request's changed functions marked (ctx.changedLines; null without one).
 * @param medians the primary metric's medians of base and head when it is a time (ms), to weigh the
 *   profiles' shares by; [1, 1] compares the shares alone.
 */
async function grownFunctions(
  ctx: LoopContext,
  base: HotSpot[],
  medians: [number, number],
): Promise<NonNullable<Results["gate"]>["grown"]> {
  ctx.emit({ type: "phase", phase: "profiling the head", detail: "which functions grew" });
  const head = await profileTree(ctx, ctx.workspace.best, {
    log: "head-profile.log",
    json: "head_hot_spots.json",
  });
  const key = (h: HotSpot) => `${h.file}\0${h.function}`;
  const before = new Map(base.map((h) => [key(h), h.selfPct]));
  const changed = ctx.changedLines
    ? new Set(
        (
          await focusHotSpots(head, ctx.changedLines, (file) =>
            readFile(path.join(ctx.workspace.best, file), "utf8"),
          )
        ).hotSpots
          .filter((h) => h.inPullRequest)
          .map(key),
      )
    : null;
  // Growth in estimated time per run (share × the side's median, ms): a function that holds 96% of
  // both profiles but runs three times as long grew, which its share alone hardly shows.
  const growth = (g: { baseSelfPct: number; headSelfPct: number }) =>
    g.headSelfPct * medians[1] - g.baseSelfPct * medians[0];
  return head
    .map((h) => ({
      file: h.file,
      function: h.function,
      line: h.line,
      baseSelfPct: before.get(key(h)) ?? 0,
      headSelfPct: h.selfPct,
      changed: changed ? changed.has(key(h)) : null,
    }))
    .filter((g) => growth(g) > 0)
    .sort((a, b) => growth(b) - growth(a))
    .slice(0, GROWN_SHOWN);
}
