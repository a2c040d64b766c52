/**
 * What a run has recorded so far — kept in one place so that the bundle can be written from it at any
 * point, including after a failure half-way.
 */
import type { MemorySummary, Results, RoundRecord } from "../evidence/results-schema.ts";
import type { Measurement } from "../measure/protocol.ts";
import type { Comparison } from "../types.ts";
import type { Baseline } from "./baseline.ts";

/** The run's recordings. */
export interface RunRecordings {
  baseline: Baseline | null;
  rounds: RoundRecord[];
  /** Raw A/B measurement of each round (null when the round never reached the benchmark). */
  roundMeasurements: Array<{ n: number; measurement: Measurement | null }>;
  /** Baseline (A) against the final best (B), measured after the rounds. */
  final: { comparisons: Comparison[]; measurement: Measurement } | null;
  /** Files the accepted candidates changed (relative paths). */
  changedFiles: string[];
  /** Environment values of accepted env knobs, with the round improvement that earned them. */
  recommendations: Array<{ knob: string; env: string; value: string; improvementPct: number }>;
  /** Model calls and tokens of every session; estimated cost, USD (null or absent = no known price). */
  usage: { modelCalls: number; promptTokens: number; completionTokens: number; costUsd?: number | null };
  stopReason: string;
  /** What memory did (results.json `memory`); absent when memory is off or in profile mode. */
  memory?: MemorySummary;
  /** The performance gate's record (mode gate; results.json `gate`). */
  gate?: NonNullable<Results["gate"]>;
}

/** Empty recordings. */
export function newRecordings(): RunRecordings {
  return {
    baseline: null,
    rounds: [],
    roundMeasurements: [],
    final: null,
    changedFiles: [],
    recommendations: [],
    usage: { modelCalls: 0, promptTokens: 0, completionTokens: 0 },
    stopReason: "",
  };
}
