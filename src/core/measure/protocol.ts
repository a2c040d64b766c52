/**
 * The measurement protocol of docs/design.md ("Order of runs"): warm-up runs that are not counted, then A and B interleaved
 * (AB BA AB BA …) so drift of the machine (thermal, caches, other load) hits both sides alike; one
 * long-lived GPU sampler for the whole measurement; every run recorded raw.
 */

import { CancelledError } from "../exec/cancel.ts";
import type { CommandResult } from "../exec/run-command.ts";
import type { GpuTrace } from "../types.ts";
import { startGpuSampler } from "./gpu-sampler.ts";
import { type BenchSide, type RunContext, type RunRecord, runOnce } from "./run-once.ts";
import { startBenchRunner } from "./runner.ts";

/**
 * A benchmark run that failed: the measurement cannot be used. Keeps the failing run's output and
 * every run recorded before it (`partial`, written to perf_raw.json: evidence is never dropped).
 */
export class MeasurementError extends Error {
  override name = "MeasurementError";
  readonly side: "A" | "B";
  readonly result: CommandResult;
  /** The runs so far, the failing one included. */
  partial: Measurement | null = null;
  constructor(side: "A" | "B", result: CommandResult, reason: string) {
    super(`benchmark run on side ${side} failed: ${reason}`);
    this.side = side;
    this.result = result;
  }
}

/**
 * The measurement was stopped (SIGINT, SIGTERM, `timeouts.total`). Keeps the runs measured so far.
 */
export class MeasurementStoppedError extends CancelledError {
  override name = "MeasurementStoppedError";
  readonly partial: Measurement;
  constructor(cause: CancelledError, partial: Measurement) {
    super(cause.stop, { cause });
    this.partial = partial;
  }
}

/** The raw outcome of one measurement (A alone, or A and B). */
export interface Measurement {
  /** Every run in the order it ran, warm-ups included. */
  runs: RunRecord[];
  gpu: GpuTrace;
  /** Stdout of the first counted run of each side (for the output gate and the evidence). */
  stdout: Partial<Record<"A" | "B", string>>;
  /** Wall time of the whole measurement, ms. */
  durationMs: number;
}

/** How to measure. */
export interface MeasureOptions extends Omit<RunContext, "runner"> {
  warmup: number;
  /** Counted runs per side. */
  runs: number;
  /** Called after every run (for progress on the terminal / the Actions log). */
  onRun?: (record: RunRecord, done: number, total: number) => void;
}

/**
 * The run order: warm-ups first (A then B), then pairs alternating AB, BA, AB… (ABBA blocks).
 * @returns side labels with a warm-up flag; with one side, just that side repeated.
 */
export function runOrder(
  sides: 1 | 2,
  warmup: number,
  runs: number,
): Array<{ side: "A" | "B"; warmup: boolean }> {
  const order: Array<{ side: "A" | "B"; warmup: boolean }> = [];
  for (let i = 0; i < warmup; i++) {
    order.push({ side: "A", warmup: true });
    if (sides === 2) order.push({ side: "B", warmup: true });
  }
  for (let i = 0; i < runs; i++) {
    if (sides === 1) order.push({ side: "A", warmup: false });
    else if (i % 2 === 0) order.push({ side: "A", warmup: false }, { side: "B", warmup: false });
    else order.push({ side: "B", warmup: false }, { side: "A", warmup: false });
  }
  return order;
}

/**
 * Measures one side (a baseline) or two (an A/B comparison).
 * @throws MeasurementError when any run exits non-zero, is killed or times out: a benchmark that
 *   fails is never timed as if it had worked.
 */
export async function measure(
  sides: [BenchSide] | [BenchSide, BenchSide],
  options: MeasureOptions,
): Promise<Measurement> {
  CancelledError.throwIfAborted(options.signal);
  const runner = await startBenchRunner();
  const ctx: RunContext = { ...options, runner };
  const order = runOrder(sides.length, options.warmup, options.runs);
  const bySide = { A: sides[0], B: sides[1] ?? sides[0] };
  const gpuSampler = await startGpuSampler({ intervalMs: Math.max(options.sampleIntervalMs, 100) });
  const started = performance.now();
  const runs: RunRecord[] = [];
  const stdout: Measurement["stdout"] = {};
  let gpu: GpuTrace = { available: false, reason: "not sampled", fields: [], samples: [] };
  let kept: Measurement | null = null; // handed out with an error; its GPU trace is filled in below
  const partial = (): Measurement => {
    kept = { runs, gpu, stdout, durationMs: performance.now() - started };
    return kept;
  };
  try {
    for (const [index, step] of order.entries()) {
      const position = { order: index, warmup: step.warmup, startMs: performance.now() - started };
      const { record, result } = await runOnce(bySide[step.side], ctx, position).catch((error: unknown) => {
        if (error instanceof CancelledError) throw new MeasurementStoppedError(error, partial());
        throw error;
      });
      runs.push(record);
      options.onRun?.(record, index + 1, order.length);
      if (record.exitCode !== 0 || record.timedOut) {
        const why = record.timedOut
          ? `timed out after ${options.timeoutMs / 1000} s`
          : record.signal
            ? `killed by ${record.signal}`
            : `exit code ${record.exitCode}`;
        const error = new MeasurementError(step.side, result, why);
        error.partial = partial();
        throw error;
      }
      if (!step.warmup && stdout[step.side] === undefined) stdout[step.side] = result.stdout;
    }
  } finally {
    gpu = await gpuSampler.stop(); // stopped on failure too, so no nvidia-smi is left running
    if (kept) (kept as Measurement).gpu = gpu;
    await runner.close();
  }
  return { runs, gpu, stdout, durationMs: performance.now() - started };
}

/** The counted runs of one side. */
export function countedRuns(measurement: Measurement, side: "A" | "B"): RunRecord[] {
  return measurement.runs.filter((run) => run.side === side && !run.warmup);
}
