/**
 * `results.json`: the one versioned contract between the runner side (CLI, Action) and the App side.
 * Both ends validate it with this schema; a bundle that does not parse is reported, never trusted.
 * Bump {@link RESULTS_SCHEMA} on any breaking change.
 */

import { z } from "zod";
import { BOTTLENECK_CATEGORIES } from "../types.ts";
import { perfGateSchema } from "./gate-schema.ts";
import { torchFactsSchema } from "./torch-schema.ts";

/** The schema id written into every results.json. */
export const RESULTS_SCHEMA = "perfloop.results/v1";

const sampleStats = z.object({
  n: z.number().int(),
  median: z.number(),
  q1: z.number(),
  q3: z.number(),
  iqr: z.number(),
  mean: z.number(),
  stdev: z.number(),
  cvPct: z.number(),
  min: z.number(),
  max: z.number(),
});

/** An A/B comparison (see `Comparison` in types.ts). */
export const comparisonSchema = z.object({
  metric: z.string(),
  unit: z.string(),
  direction: z.enum(["lower", "higher"]),
  a: sampleStats,
  b: sampleStats,
  ratio: z.number(),
  ci: z.tuple([z.number(), z.number()]),
  confidence: z.number(),
  pValue: z.number(),
  alpha: z.number().optional(),
  minImprovementPct: z.number().optional(),
  improvementPct: z.number(),
  verdict: z.enum(["faster", "slower", "no significant change", "inconclusive"]),
  reason: z.string(),
  untrusted: z.string().optional(),
  runsNeeded: z.number().int().positive().optional(),
  crossCheck: z.string().optional(),
});

const category = z.enum(BOTTLENECK_CATEGORIES);

const verdictSchema = z.object({
  category,
  rule: z.string(),
  numbers: z.record(z.string(), z.number()),
  confidence: z.number(),
  sharePct: z.number(),
  amdahlBound: z.number(),
  remedies: z.array(z.string()),
});

const hotSpotSchema = z.object({
  file: z.string(),
  line: z.number().int(),
  function: z.string(),
  selfPct: z.number(),
  cumulativePct: z.number(),
  calls: z.number().nullable(),
});

/** Who asked for the run; empty for a CLI run. */
export const requestSchema = z.object({
  trigger: z.enum(["cli", "comment", "label", "workflow", "schedule"]).default("cli"),
  repository: z.string().optional(),
  pr: z.number().int().positive().optional(),
  headSha: z.string().optional(),
  baseSha: z.string().optional(),
  requestId: z.string().optional(),
  runUrl: z.string().optional(),
});

/** The gate that stopped a candidate (null = accepted). */
export const gateSchema = z.enum([
  "parse",
  "apply",
  "policy",
  "tests",
  "output",
  "behaviour",
  "screen",
  "performance",
  "error",
]);

/** What behaviour capture compared for a candidate (src/core/behaviour/compare.ts). */
const behaviourCheckSchema = z.object({
  functionsCompared: z.number().int().nonnegative(),
  callsCompared: z.number().int().nonnegative(),
  /** Functions the baseline called and the candidate never did (renamed, inlined): not compared. */
  missing: z.array(z.string()).default([]),
  difference: z
    .object({ function: z.string(), call: z.string(), baseline: z.string(), candidate: z.string() })
    .nullable(),
});

/**
 * One candidate of a round (README, "The agent"): its gates, its quick screen against the best tree
 * (medians in the primary metric's unit; changePct > 0 = better), whether it got the full A/B, and
 * its session's cost (tokens; USD estimate, null = no known price; tool wall time, ms).
 */
const candidateSchema = z.object({
  k: z.number().int().positive(),
  description: z.string(),
  rationale: z.string(),
  files: z.array(z.string()),
  outcome: z.enum(["accepted", "rejected"]),
  gate: gateSchema.nullable(),
  reason: z.string(),
  measured: z.boolean(),
  screen: z
    .object({
      metric: z.string(),
      unit: z.string(),
      runs: z.number().int().positive(),
      aMedian: z.number(),
      bMedian: z.number(),
      ratio: z.number(),
      changePct: z.number(),
      withinNoise: z.boolean(),
    })
    .nullable(),
  behaviour: behaviourCheckSchema.nullable(),
  tokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative().nullable(),
  turns: z.number().int().nonnegative(),
  toolCalls: z.number().int().nonnegative(),
  toolMs: z.number().nonnegative(),
});

const roundSchema = z.object({
  n: z.number().int().positive(),
  strategy: z.enum(["llm", "tune"]),
  description: z.string(),
  rationale: z.string(),
  files: z.array(z.string()),
  env: z.record(z.string(), z.string()),
  outcome: z.enum(["accepted", "rejected"]),
  gate: gateSchema.nullable(),
  reason: z.string(),
  comparison: comparisonSchema.nullable(),
  /** ESTIMATED improvement of the best tree over the baseline after this round, % in the primary
   *  metric: the product of the accepted rounds' median ratios, each measured against a different A.
   *  Only `final` is a direct A/B of the baseline against the best state. */
  bestImprovementPct: z.number(),
  durationMs: z.number(),
  tokens: z.number().int().nonnegative(),
  /** Every candidate of the round (LLM rounds; optional, added without a schema bump). */
  candidates: z.array(candidateSchema).optional(),
  /** Estimated model cost of the round, USD (optional; null = no known price). */
  costUsd: z.number().nonnegative().nullable().optional(),
  /** Rejected rounds: the reflection's diagnosis (full text in rounds/<n>/reflection.json). Optional. */
  reflection: z
    .object({ likelyCause: z.string(), whatToChange: z.string(), signature: z.string() })
    .optional(),
});

const heldBackSchema = z.object({ knob: z.string(), value: z.string(), reason: z.string() });

/** What perfloop's memory did in this run (optional: absent when memory is off or in profile mode). */
export const memorySummarySchema = z.object({
  /** The store file in use, or ":memory:" when the file could not be used (notes say why). */
  store: z.string(),
  /** Hardware fingerprint (12 hex digits) and the text it hashes. */
  fingerprint: z.string(),
  hardware: z.string(),
  /** Sentences about the store: fallbacks, corrupt files moved aside, errors. */
  notes: z.array(z.string()),
  retrieval: z.enum(["embeddings", "lexical", "none"]),
  /** Remembered entries put into the prompt. */
  retrieved: z.number().int().nonnegative(),
  warmStart: z.object({
    /** Knob values tried first because they won before ("knob=value"). */
    first: z.array(z.string()),
    skipped: z.array(heldBackSchema),
    /** Held back behind a remembered winner at the start (tried after all if that winner was rejected). */
    deferred: z.array(heldBackSchema),
  }),
  forgotten: z.object({ codeGone: z.number(), aged: z.number(), capped: z.number() }),
  /** The strategy policy of the run (bandit and trust region), null when not chosen. */
  policy: z.object({ category: z.string(), version: z.string(), reason: z.string() }).nullable(),
  /** The trust-region rollback taken at the start of this run, in words; null when none. */
  rollback: z.string().nullable(),
});

const recommendationSchema = z.object({
  knob: z.string(),
  env: z.string(),
  value: z.string(),
  improvementPct: z.number(),
});

/** Every value of results.json's `status`. */
export const RESULTS_STATUSES = [
  "improved",
  "no-improvement",
  "baseline-failed",
  "inconclusive",
  "error",
  "cancelled",
  "timeout",
  // The performance gate (mode gate, docs/gate.md): the head is not slower than the threshold, is,
  // or its own set-up or tests fail.
  "passed",
  "regressed",
  "head-failed",
] as const;

/**
 * The sandbox of the run (README, "Safety: patch policy and sandbox"): how user commands were
 * isolated, their resource limits, the check that the user's tree is byte-identical afterwards, and
 * the secrets redacted from the bundle.
 */
const sandboxSummarySchema = z.object({
  /** bwrap: every command in its own namespaces; none: `sandbox.isolation: none`, no isolation. */
  mode: z.enum(["bwrap", "none"]),
  network: z.enum(["off", "on"]),
  /** Set when the run was not isolated: the sentence the report and the PR comment lead with. */
  warning: z.string().nullable(),
  /** Per-command limits in force (processes, bytes of address space / files, open files). */
  limits: z.record(z.string(), z.number()),
  /** sha256 digests of the user's tree (files, links, modes; `.git` included) before and after. */
  userTree: z
    .object({ before: z.string(), after: z.string().nullable(), unchanged: z.boolean().nullable() })
    .nullable(),
  /** Secret values and token-shaped strings replaced in the bundle before it was written. */
  redactions: z.object({ count: z.number().int(), files: z.array(z.string()) }),
});

/** One side's contention (see `SideContention` in src/core/analyze/contention.ts). */
const sideContentionSchema = z.object({
  runs: z.number().int().nonnegative(),
  /** Share of wall time lost to run-queue delay (median), %. */
  sharePct: z.number(),
  runQueueMs: z.number(),
  demandCores: z.number(),
  stealPct: z.number().nullable(),
  procsRunning: z.number().nullable(),
  loadavg1: z.number().nullable(),
});

/** Contention of the baseline and of the final A/B's sides; null where not measured. */
const contentionSummarySchema = z.object({
  baseline: sideContentionSchema.nullable(),
  final: z.object({ a: sideContentionSchema.nullable(), b: sideContentionSchema.nullable() }).nullable(),
});

/** The whole results.json. */
export const resultsSchema = z.object({
  schema: z.literal(RESULTS_SCHEMA),
  perfloopVersion: z.string(),
  request: requestSchema,
  /** improved: a verified improvement; no-improvement: nothing significant; baseline-failed: tests or
   *  benchmark failed on the unmodified code; inconclusive: measurements too noisy or throttled;
   *  error: perfloop itself failed (message says why); cancelled: SIGINT or SIGTERM ended the run;
   *  timeout: `timeouts.total` ended it (both keep the evidence measured so far). */
  status: z.enum(RESULTS_STATUSES),
  message: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  mode: z.enum(["optimize", "profile", "gate"]),
  benchmark: z.object({
    command: z.string(),
    test: z.string(),
    metric: z.string(),
    unit: z.string(),
    direction: z.enum(["lower", "higher"]),
    /** Why this metric decides, and how it was measured (optional, added without a schema bump). */
    why: z.string().optional(),
  }),
  isolation: z.string(),
  environment: z.object({
    cpu: z.string(),
    cores: z.number(),
    memoryBytes: z.number(),
    os: z.string(),
    gpus: z.array(z.string()),
  }),
  verdicts: z.array(verdictSchema),
  hotSpots: z.array(hotSpotSchema),
  /** The baseline's PyTorch trace facts (README, "GPU programs"); absent without a trace. */
  torch: torchFactsSchema.optional(),
  baseline: z
    .object({
      wallMs: sampleStats,
      cpuMs: sampleStats,
      maxRssBytes: sampleStats,
      metric: sampleStats.nullable(),
    })
    .nullable(),
  rounds: z.array(roundSchema),
  final: z
    .object({
      comparisons: z.array(comparisonSchema),
      primary: comparisonSchema,
      changedFiles: z.array(z.string()),
      patchFile: z.string().nullable(),
      recommendations: z.array(recommendationSchema),
    })
    .nullable(),
  stopReason: z.string(),
  reproduce: z.array(z.string()),
  usage: z.object({
    modelCalls: z.number().int(),
    promptTokens: z.number().int(),
    completionTokens: z.number().int(),
    /** Estimated cost of every session, USD (optional; null = no known price for the model). */
    costUsd: z.number().nonnegative().nullable().optional(),
  }),
  /**
   * Behaviour capture (docs/agent.md, "Behaviour capture"): the functions recorded on the baseline and how
   * many distinct calls; absent when nothing was captured. Optional, added without a schema bump.
   */
  behaviour: z.object({ functions: z.array(z.string()), calls: z.number().int().nonnegative() }).optional(),
  /**
   * The pull request's share of the profile (docs/agent.md, "Focus on the pull request"): self time of the
   * hot functions whose body the PR changed, % of the profiled time. Optional, absent without a PR.
   */
  focus: z
    .object({
      sharePct: z.number(),
      changedFunctions: z.number().int(),
      changedLines: z.number().int(),
      text: z.string(),
    })
    .optional(),
  /** The performance gate's conclusion (mode gate only; docs/gate.md). */
  gate: perfGateSchema.optional(),
  /** What memory did. Optional, added without a schema bump: readers must accept its absence. */
  memory: memorySummarySchema.optional(),
  /** The sandbox the user's commands ran in (optional, added without a schema bump). */
  sandbox: sandboxSummarySchema.optional(),
  /**
   * How contended the CPUs were (README, "How perfloop measures"): the baseline's counted runs and
   * each side of the final A/B (`contentionReport`, src/core/analyze/contention.ts). Optional, added
   * without a schema bump: readers must accept its absence.
   */
  contention: contentionSummarySchema.optional(),
});

/** A validated results.json. */
export type Results = z.infer<typeof resultsSchema>;
/** One optimization round as recorded in results.json. */
export type RoundRecord = z.infer<typeof roundSchema>;
/** One candidate of a round as recorded in results.json. */
export type CandidateRecord = z.infer<typeof candidateSchema>;
/** The request part of results.json. */
export type ResultsRequest = z.infer<typeof requestSchema>;
/** The sandbox part of results.json. */
export type SandboxSummary = z.infer<typeof sandboxSummarySchema>;
/** The memory part of results.json. */
export type MemorySummary = z.infer<typeof memorySummarySchema>;
/** The gate names. */
export type Gate = z.infer<typeof gateSchema>;

/** A results.json that does not match the schema. `problems` lists the keys. */
export class ResultsValidationError extends Error {
  override name = "ResultsValidationError";
  readonly problems: string[];
  constructor(problems: string[], options?: { cause?: unknown }) {
    super(
      `results.json does not match ${RESULTS_SCHEMA}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * Validates parsed results.json content (used by the App before it trusts an artifact).
 * @throws ResultsValidationError naming every offending key.
 */
export function parseResults(raw: unknown): Results {
  const result = resultsSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ResultsValidationError(
    result.error.issues.map((i) => `${i.path.join(".") || "(top level)"}: ${i.message}`),
  );
}
