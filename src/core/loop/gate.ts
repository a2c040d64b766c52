/**
 * The performance gate (docs/gate.md), after the base tree's baseline (baseline.ts: set-up, tests,
 * measurement, profile, verdict on the base): set-up and tests on the head, an interleaved A/B of
 * the base (A) against the head (B) with the configured metric, the gate's rule
 * (src/core/gate/verdict.ts), and for a regressed head its profile and the functions whose share
 * grew, marked when the pull request changed them.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
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
 * @returns the outcome; user-code failures on the head are an outcome ("head-failed"), not a throw.
 * @throws CancelledError when the run is stopped; MeasurementError-free: a benchmark that fails on
 *   the head during the A/B ends as "head-failed".
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

  ctx.emit({ type: "phase", phase: "gate measurement", detail: "base (A) against head (B), interleaved" });
  let comparisons: Comparison[];
  try {
    const measurement = await measureSides(
      ctx,
      [side(ctx, "A", ctx.workspace.baseline, {}), side(ctx, "B", head, {})],
      "gate",
    );
    comparisons = compareMeasurement(measurement, ctx.config, ctx.seed);
    recordings.final = { comparisons, measurement };
  } catch (error) {
    if ((error as Error).name !== "MeasurementError") throw error;
    return failed(`the benchmark fails on the head: ${(error as Error).message}`);
  }
  const primary = comparisons[0] as Comparison;
  const decision = gateDecision(primary, ctx.config.gate.threshold);
  await ctx.evidence.audit(`gate ${decision.verdict}`, decision.reason);
  const grown = decision.verdict === "regressed" ? await grownFunctions(ctx, baseline.hotSpots) : [];
  const gate = { base: options.base, head: options.head, ...pick(decision), grown };
  const status = decision.verdict === "inconclusive" ? "inconclusive" : decision.verdict;
  return { status, message: `${words(decision)}: ${decision.reason}`, gate };
}

function failed(message: string): GateOutcome {
  return { status: "head-failed", message, gate: null };
}

function words(d: GateDecision): string {
  if (d.verdict === "passed") return `gate passed (threshold ${d.thresholdPct}%)`;
  if (d.verdict === "regressed") return `performance regression past the ${d.thresholdPct}% threshold`;
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
 */
async function grownFunctions(
  ctx: LoopContext,
  base: HotSpot[],
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
  return head
    .map((h) => ({
      file: h.file,
      function: h.function,
      line: h.line,
      baseSelfPct: before.get(key(h)) ?? 0,
      headSelfPct: h.selfPct,
      changed: changed ? changed.has(key(h)) : null,
    }))
    .filter((g) => g.headSelfPct > g.baseSelfPct)
    .sort((a, b) => b.headSelfPct - b.baseSelfPct - (a.headSelfPct - a.baseSelfPct))
    .slice(0, GROWN_SHOWN);
}
