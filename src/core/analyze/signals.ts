/**
 * Summarize one baseline measurement (every measured run's whole-run accounting, its `/proc` samples
 * and the GPU traces) into the `SignalSummary` the bottleneck classifier reads (docs/design.md, "Hardware
 * signals" and "Bottleneck categories and thresholds"). Pure arithmetic: no I/O, no clock.
 */

import { runContention } from "../measure/contention.ts";
import { median } from "../measure/stats.ts";
import type { TorchFacts } from "../profile/torch-facts.ts";
import type {
  ContentionSignals,
  GpuSample,
  GpuSignals,
  GpuSlowdownReason,
  GpuTrace,
  HotSpot,
  ProcSample,
  SignalSummary,
} from "../types.ts";

/** One measured run as the measurement layer records it. */
export interface MeasuredRun {
  /** Wall time of the run, ms. */
  wallMs: number;
  /** User + system CPU time of the whole tree from the OS (e.g. `wait4` rusage), ms. */
  cpuMs: number;
  /** Peak RSS the OS reported for the run (rusage `ru_maxrss`, converted to bytes). */
  maxRssBytes: number;
  /** The 10 Hz `/proc` samples of the run's process tree, in time order (may be empty). */
  procSamples: ProcSample[];
}

/** Input of `summarizeSignals`. */
export interface SignalInput {
  /** The measured (not warm-up) runs of the baseline; at least one. */
  runs: MeasuredRun[];
  /** The GPU traces taken during those runs (one per run, or one for all); may be empty. */
  gpu: GpuTrace[];
  /** Logical cores of the machine. */
  cores: number;
  /** Total memory of the machine, bytes. */
  memTotalBytes: number;
  /** Hot spots from the separate profiling run (passed through). */
  hotSpots: HotSpot[];
  /** Facts of the PyTorch trace run (passed through); absent or null without one. */
  torch?: TorchFacts | null;
}

/** Thrown when the input cannot be summarized (no runs, non-finite or negative times). */
export class SignalInputError extends Error {
  override name = "SignalInputError";
}

/**
 * The GPU slowdown reasons that are summarized. `sync_boost` is left out: NVML documents it as the
 * GPU being held to the clocks of a sync-boost group it was added to (a configuration, not a sign
 * of a compromised measurement).
 */
const COUNTED_SLOWDOWN: readonly GpuSlowdownReason[] = [
  "sw_power_cap",
  "hw_slowdown",
  "hw_thermal_slowdown",
  "hw_power_brake_slowdown",
  "sw_thermal_slowdown",
];

function mean(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Median over runs, 0 when no run contributed a value. */
function medianOr0(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : median(xs);
}

/**
 * Largest value a cumulative counter reached in one run's samples. For a single process this is
 * the last sample's value; for a tree it also keeps what children counted before they exited
 * (the live-tree sums of `/proc` drop when a child is reaped). null when the run has no samples.
 */
function counterMax(samples: readonly ProcSample[], pick: (s: ProcSample) => number): number | null {
  if (samples.length === 0) return null;
  let max = 0;
  for (const s of samples) max = Math.max(max, pick(s));
  return max;
}

/**
 * RSS growth of one run: RSS of the last sample minus RSS of the sample at the first quarter
 * (index ⌊n/4⌋), bytes; null with fewer than 2 samples. The first quarter, not the first sample,
 * so interpreter / runtime start-up is not counted as growth.
 */
function rssGrowth(samples: readonly ProcSample[]): number | null {
  if (samples.length < 2) return null;
  const first = samples[Math.floor(samples.length / 4)] as ProcSample;
  const last = samples[samples.length - 1] as ProcSample;
  return last.rssBytes - first.rssBytes;
}

/** Mean busy % per core over every sample of every run; index = core. Cores missing in a sample are skipped. */
function meanCoreBusy(runs: readonly MeasuredRun[]): number[] {
  const sums: number[] = [];
  const counts: number[] = [];
  for (const run of runs) {
    for (const s of run.procSamples) {
      s.coreBusyPct.forEach((pct, i) => {
        if (!Number.isFinite(pct)) return;
        sums[i] = (sums[i] ?? 0) + pct;
        counts[i] = (counts[i] ?? 0) + 1;
      });
    }
  }
  return sums.map((sum, i) => sum / ((counts[i] ?? 0) || 1));
}

/**
 * GPU signals over every sample of every trace (all GPUs pooled: nvidia-smi does not say which
 * process uses which GPU, so on a multi-GPU machine an idle GPU lowers the mean). Each mean is over
 * the samples where that field was reported (`[N/A]` = null is skipped); null when no sample
 * reported it. powerFrac needs both power.draw and a positive power.limit in the same sample.
 * Returns null when no trace has samples.
 */
export function summarizeGpu(traces: readonly GpuTrace[]): GpuSignals | null {
  const samples: GpuSample[] = traces.flatMap((t) => t.samples);
  if (samples.length === 0) return null;
  const util: number[] = [];
  const power: number[] = [];
  let memPeak: number | null = null;
  const slowdown = new Set<GpuSlowdownReason>();
  for (const s of samples) {
    if (s.utilGpuPct !== null) util.push(s.utilGpuPct);
    if (s.powerW !== null && s.powerLimitW !== null && s.powerLimitW > 0)
      power.push(s.powerW / s.powerLimitW);
    if (s.memUsedMiB !== null && s.memTotalMiB !== null && s.memTotalMiB > 0) {
      memPeak = Math.max(memPeak ?? 0, s.memUsedMiB / s.memTotalMiB);
    }
    for (const r of s.slowdown) if (COUNTED_SLOWDOWN.includes(r)) slowdown.add(r);
  }
  return {
    samples: samples.length,
    utilGpuPct: mean(util),
    memUsedFrac: memPeak,
    powerFrac: mean(power),
    slowdown: COUNTED_SLOWDOWN.filter((r) => slowdown.has(r)),
  };
}

/**
 * Contention over the runs (see `ContentionSignals` in types.ts): per run, `runContention` of its
 * samples; medians over the runs with a run-queue reading (run-queue delay, share of wall lost,
 * demand = (CPU + delay) / wall, steal), means over every sample for procs_running and the load
 * average. null when no run has a run-queue reading (no samples, or recordings made before the
 * sampler read schedstat).
 */
export function summarizeContention(runs: readonly MeasuredRun[]): ContentionSignals | null {
  const per = runs
    .map((r) => ({ run: r, c: runContention(r.procSamples, r.wallMs, r.cpuMs) }))
    .filter((x) => x.c.runQueueMs !== null && x.c.contentionShare !== null);
  if (per.length === 0) return null;
  const finite = (xs: Array<number | null>): number[] =>
    xs.filter((x): x is number => x !== null && Number.isFinite(x));
  const samples = runs.flatMap((r) => r.procSamples);
  const meanOrNull = (xs: number[]): number | null => (xs.length > 0 ? (mean(xs) as number) : null);
  const steal = finite(per.map((x) => x.c.stealMs));
  return {
    runs: per.length,
    runQueueMs: median(per.map((x) => x.c.runQueueMs as number)),
    share: median(per.map((x) => x.c.contentionShare as number)),
    demandCores: median(
      per.map((x) => (x.run.wallMs > 0 ? (x.run.cpuMs + (x.c.runQueueMs as number)) / x.run.wallMs : 0)),
    ),
    stealMs: steal.length > 0 ? median(steal) : null,
    procsRunningMean: meanOrNull(finite(samples.map((s) => s.procsRunning ?? null))),
    loadavg1: meanOrNull(finite(samples.map((s) => s.loadavg1 ?? null))),
  };
}

/**
 * Summarize a baseline measurement into a `SignalSummary` (units as in types.ts: ms, bytes, %).
 * - wallMs, cpuMs: medians over runs of the OS's whole-run accounting.
 * - coreBusyPct: mean per core over all samples of all runs (system-wide counters: other load on
 *   the machine is included).
 * - peakRssBytes: the largest of every run's `maxRssBytes` and every sampled tree RSS.
 * - rssGrowthBytes: per run, last sample RSS − RSS at the first quarter of its samples; median.
 * - majorFaults, readBytes, writeBytes: per run, the largest value the cumulative counter reached
 *   in the samples (= the last sample's for a single process, see `counterMax`); median over runs
 *   that have samples, 0 when none has.
 * - gpu: `summarizeGpu` of all traces (null when no trace had samples).
 * - contention: `summarizeContention` of the runs (null without run-queue readings).
 * Throws SignalInputError when `runs` is empty, or a run's wallMs/cpuMs is negative or not finite.
 */
export function summarizeSignals(input: SignalInput): SignalSummary {
  const { runs } = input;
  if (runs.length === 0) throw new SignalInputError("summarizeSignals: no measured runs");
  runs.forEach((r, i) => {
    for (const [k, v] of [
      ["wallMs", r.wallMs],
      ["cpuMs", r.cpuMs],
    ] as const) {
      if (!Number.isFinite(v) || v < 0) throw new SignalInputError(`summarizeSignals: run ${i}: ${k} = ${v}`);
    }
  });
  const collect = (f: (run: MeasuredRun) => number | null): number[] =>
    runs.map(f).filter((x): x is number => x !== null);
  let peak = 0;
  for (const r of runs) {
    peak = Math.max(peak, r.maxRssBytes);
    for (const s of r.procSamples) peak = Math.max(peak, s.rssBytes);
  }
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    cores: input.cores,
    coreBusyPct: meanCoreBusy(runs),
    peakRssBytes: peak,
    memTotalBytes: input.memTotalBytes,
    rssGrowthBytes: medianOr0(collect((r) => rssGrowth(r.procSamples))),
    majorFaults: medianOr0(collect((r) => counterMax(r.procSamples, (s) => s.majorFaults))),
    readBytes: medianOr0(collect((r) => counterMax(r.procSamples, (s) => s.readBytes))),
    writeBytes: medianOr0(collect((r) => counterMax(r.procSamples, (s) => s.writeBytes))),
    gpu: summarizeGpu(input.gpu),
    hotSpots: input.hotSpots,
    contention: summarizeContention(runs),
    ...(input.torch ? { torch: input.torch } : {}),
  };
}
