/**
 * Reflection after a rejected candidate (issue 5): what failed — the gate, the numbers, an excerpt of
 * the test output — the likely cause and what to change. Written to `rounds/<n>/reflection.json`,
 * fed into the next round's prompt, stored in memory as a failure, and read by the tuner for its
 * search. Built by rules from the evidence (no model call), so it is free, deterministic and
 * available without a model.
 */
import { createHash } from "node:crypto";
import type { Gate } from "../evidence/results-schema.ts";
import type { Comparison, HotSpot } from "../types.ts";
import { diagnose } from "./causes.ts";
import { testExcerpt } from "./excerpt.ts";

/** The numbers of the A/B comparison that decided, when one ran (units: the metric's; CI of ratio). */
export interface ReflectionNumbers {
  metric: string;
  unit: string;
  verdict: Comparison["verdict"];
  medianA: number;
  medianB: number;
  /** median(B) / median(A), with its CI; improvement in the metric's direction, %. */
  ratio: number;
  ci: [number, number];
  pValue: number;
  improvementPct: number;
  /** CV of the current best's (A) runs, %. */
  cvPctA: number;
}

/** One structured reflection. */
export interface Reflection {
  round: number;
  strategy: "llm" | "tune";
  description: string;
  gate: Gate;
  /** The gate's own words. */
  reason: string;
  numbers: ReflectionNumbers | null;
  /** The failing part of the test log (tests gate only), at most ~1,500 characters. */
  testExcerpt: string | null;
  /** Files the candidate changed; the knob and value for a tuner candidate. */
  files: string[];
  knob: { name: string; value: string } | null;
  /** Identifies a repeat of the same failure across rounds and runs (see {@link failureSignature}). */
  signature: string;
  likelyCause: string;
  whatToChange: string;
}

/** What a reflection is built from. */
export interface ReflectionInput {
  round: number;
  strategy: "llm" | "tune";
  description: string;
  gate: Gate;
  reason: string;
  comparison: Comparison | null;
  files: string[];
  knob: { name: string; value: string } | null;
  /** The round's test.log text when the tests gate failed (else null). */
  testLog: string | null;
  /** The baseline's hot spots, hottest first (to say what a no-effect change missed). */
  hotSpots: HotSpot[];
  /** The config's `min_improvement`, %. */
  minImprovementPct: number;
}

/**
 * Builds the reflection of one rejected candidate.
 * @returns the reflection; never throws (unknown shapes fall back to the gate's reason).
 */
export function reflect(input: ReflectionInput): Reflection {
  const numbers = input.comparison ? numbersOf(input.comparison) : null;
  const excerpt = input.gate === "tests" && input.testLog ? testExcerpt(input.testLog) : null;
  const { likelyCause, whatToChange } = diagnose({ ...input, numbers, excerpt });
  return {
    round: input.round,
    strategy: input.strategy,
    description: input.description,
    gate: input.gate,
    reason: input.reason,
    numbers,
    testExcerpt: excerpt,
    files: input.files,
    knob: input.knob,
    signature: failureSignature(input),
    likelyCause,
    whatToChange,
  };
}

/**
 * A failure's signature: SHA-256 (first 16 hex digits) of strategy, gate, what was changed (the knob
 * and value, else the sorted files) and the reason's first 120 characters with digits, hex ids and
 * temp paths masked — so "the same change failing the same way" matches across rounds and runs while
 * timings and paths do not make every failure unique.
 */
export function failureSignature(input: {
  strategy: "llm" | "tune";
  gate: Gate;
  reason: string;
  files: string[];
  knob: { name: string; value: string } | null;
}): string {
  const what = input.knob ? `${input.knob.name}=${input.knob.value}` : [...input.files].sort().join(",");
  const reason = input.reason
    .slice(0, 120)
    .toLowerCase()
    .replace(/\/tmp\/\S+/g, "<tmp>")
    .replace(/\b[0-9a-f]{7,}\b/g, "<hex>")
    .replace(/\d+(\.\d+)?/g, "#");
  return createHash("sha256")
    .update(`${input.strategy}|${input.gate}|${what}|${reason}`)
    .digest("hex")
    .slice(0, 16);
}

/**
 * The reflection as prompt lines: the legacy "description — gate: reason" line first (tests and
 * readers rely on it), then the cause and the advice, indented.
 */
export function reflectionLines(r: Reflection): string {
  const numbers = r.numbers
    ? `\n  - numbers: ${r.numbers.metric} ${r.numbers.medianA.toPrecision(4)} → ${r.numbers.medianB.toPrecision(4)} ${r.numbers.unit} (ratio ${r.numbers.ratio.toFixed(3)}, CI ${r.numbers.ci[0].toFixed(3)}…${r.numbers.ci[1].toFixed(3)}, p = ${r.numbers.pValue.toPrecision(2)}, verdict: ${r.numbers.verdict})`
    : "";
  const excerpt = r.testExcerpt
    ? `\n  - test output:\n${r.testExcerpt
        .split("\n")
        .slice(0, 20)
        .map((l) => `    ${l}`)
        .join("\n")}`
    : "";
  return `round ${r.round}: ${r.description} — ${r.gate}: ${r.reason.slice(0, 400)}${numbers}${excerpt}\n  - likely cause: ${r.likelyCause}\n  - what to change: ${r.whatToChange}`;
}

function numbersOf(c: Comparison): ReflectionNumbers {
  return {
    metric: c.metric,
    unit: c.unit,
    verdict: c.verdict,
    medianA: c.a.median,
    medianB: c.b.median,
    ratio: c.ratio,
    ci: [c.ci[0], c.ci[1]],
    pValue: c.pValue,
    improvementPct: c.improvementPct,
    cvPctA: c.a.cvPct,
  };
}
