/**
 * Shared value shapes of the perfloop core. Every module of the core speaks these; the results
 * schema (`evidence/results-schema.ts`) validates the ones that cross to the App and the Action.
 * Units are in the field names or docstrings: ms, bytes, %, W, °C, MHz.
 */
import type { TorchFacts } from "./profile/torch-facts.ts";

/** One reading of the measured process tree by the `/proc` sampler (`measure/proc-sampler.ts`). */
export interface ProcSample {
  /** Time since the sampler started, ms. */
  tMs: number;
  /** Live processes in the tree (root included). */
  procs: number;
  /** User + system CPU time of the live tree, cumulative since each process started, ms. */
  cpuMs: number;
  /** Resident set size summed over the tree, bytes. */
  rssBytes: number;
  /** Major page faults of the live tree, cumulative (a major fault = a page read from disk or swap). */
  majorFaults: number;
  /** Bytes the tree caused to be read from / written to storage, cumulative (`/proc/<pid>/io`). */
  readBytes: number;
  writeBytes: number;
  /** Busy share of each logical core since the previous sample, system-wide (`/proc/stat`), %. */
  coreBusyPct: number[];
  /**
   * Run-queue delay of the tree, cumulative, ms: the time its threads were runnable but waiting for a
   * CPU (`/proc/<pid>/task/<tid>/schedstat` field 2, ns; kernel Documentation/scheduler/sched-stats.rst),
   * summed over every thread of the tree seen so far, each at its latest reading (a thread that exited
   * keeps the value it had at the last sample that saw it: what it accumulated after that is lost).
   * null when no schedstat file could be read (kernel without CONFIG_SCHED_INFO, or no live sample).
   */
  runQueueMs: number | null;
  /** Machine-wide `procs_running` of `/proc/stat` at this sample (runnable tasks, the sampler's own
   *  thread included); null when unreadable. */
  procsRunning: number | null;
  /** Steal time of all CPUs (the aggregate `cpu` line of `/proc/stat`, field 8) since the sampler
   *  started, ms; null when unreadable. */
  stealMs: number | null;
  /** 1-minute load average (`/proc/loadavg` field 1); null when unreadable. */
  loadavg1: number | null;
}

/** Slowdown reasons nvidia-smi reports (`clocks_event_reasons.*`, formerly `clocks_throttle_reasons.*`). */
export type GpuSlowdownReason =
  | "sw_power_cap"
  | "hw_slowdown"
  | "hw_thermal_slowdown"
  | "hw_power_brake_slowdown"
  | "sw_thermal_slowdown"
  | "sync_boost";

/** One GPU reading from the long-lived `nvidia-smi --query-gpu … -lms` process. `null` = `[N/A]`. */
export interface GpuSample {
  tMs: number;
  /** GPU index as nvidia-smi numbers it. */
  index: number;
  /** "A kernel was running" share of the last sample period, % (not SM occupancy). */
  utilGpuPct: number | null;
  /** Memory-controller busy share, %. */
  utilMemPct: number | null;
  memUsedMiB: number | null;
  memTotalMiB: number | null;
  powerW: number | null;
  powerLimitW: number | null;
  tempC: number | null;
  smClockMHz: number | null;
  smClockMaxMHz: number | null;
  /** Active slowdown reasons at this reading (empty = none active or not reported). */
  slowdown: GpuSlowdownReason[];
}

/** What the GPU sampler saw over one measurement. */
export interface GpuTrace {
  /** False when there is no GPU, no nvidia-smi, or it failed; `reason` says which. */
  available: boolean;
  reason?: string;
  /** The query fields nvidia-smi accepted on this machine (probed). */
  fields: string[];
  samples: GpuSample[];
}

/** A hot spot from profiling, limited to files of the repository. */
export interface HotSpot {
  /** Path relative to the repository root, POSIX separators. */
  file: string;
  /** 1-based line of the function's definition. */
  line: number;
  function: string;
  /** Time spent in the function itself, % of profiled time. */
  selfPct: number;
  /** Time spent in the function and its callees, % of profiled time. */
  cumulativePct: number;
  /** Call count where the profiler gives one (cProfile), else null. */
  calls: number | null;
}

/** Bottleneck categories of docs/design.md ("Bottleneck categories and thresholds"), the one list every schema uses. */
export const BOTTLENECK_CATEGORIES = [
  "cpu-single-thread",
  "cpu-parallel",
  "waiting",
  "disk-io",
  "host-memory",
  "gpu-starved",
  "gpu-launch-bound",
  "gpu-memory",
  "gpu-compute",
  "gpu-transfer",
  "gpu-sync",
  "gpu-bandwidth",
  "throttled",
] as const;

/** One bottleneck category. */
export type BottleneckCategory = (typeof BOTTLENECK_CATEGORIES)[number];

/** The signals a verdict is computed from: one baseline measurement, summarized. */
export interface SignalSummary {
  /** Median wall time of the measured runs, ms. */
  wallMs: number;
  /** Median user + system CPU time of the measured runs (whole process tree), ms. */
  cpuMs: number;
  /** Logical cores of the machine. */
  cores: number;
  /** Mean busy share of each core across the sampled runs, %. */
  coreBusyPct: number[];
  /** Largest RSS of the tree seen, bytes; and the machine's total memory, bytes. */
  peakRssBytes: number;
  memTotalBytes: number;
  /** RSS at the end of a run minus RSS at its first quarter, median over runs, bytes. */
  rssGrowthBytes: number;
  /** Major faults per run (median). */
  majorFaults: number;
  /** Storage bytes read / written per run (median). */
  readBytes: number;
  writeBytes: number;
  /** GPU signals, or null when no GPU was seen. */
  gpu: GpuSignals | null;
  hotSpots: HotSpot[];
  /** How contended the CPUs were during the runs; null when no run had a run-queue reading. */
  contention: ContentionSignals | null;
  /** The facts of the profiling run's PyTorch trace (README, "GPU programs"); absent or null when
   *  no trace was recorded. */
  torch?: TorchFacts | null;
}

/**
 * Contention over the measured runs (README, "How perfloop measures"): run-queue delay of the tree
 * (time runnable but not running) and the machine's state. Medians over the runs that have the
 * reading, means over samples for the machine's state.
 */
export interface ContentionSignals {
  /** Runs with a run-queue reading. */
  runs: number;
  /** Run-queue delay of the tree per run (median), ms. */
  runQueueMs: number;
  /**
   * Share of the wall time lost to run-queue delay, 0..1 (median over runs of
   * `runQueueMs / max(wallMs, cpuMs + runQueueMs)`; see `contentionShare` in
   * `measure/contention.ts`).
   */
  share: number;
  /** Average runnable threads of the tree, (CPU + run-queue delay) / wall, cores (median). */
  demandCores: number;
  /** Steal time of the machine per run (median), ms over all CPUs; null when not read. */
  stealMs: number | null;
  /** Mean machine-wide `procs_running`; null when not read. */
  procsRunningMean: number | null;
  /** Mean 1-minute load average; null when not read. */
  loadavg1: number | null;
}

/** GPU signals over the measured runs (means over samples unless said otherwise). */
export interface GpuSignals {
  samples: number;
  utilGpuPct: number | null;
  /** Peak memory.used / memory.total, 0..1. */
  memUsedFrac: number | null;
  /** Mean power.draw / power.limit, 0..1. */
  powerFrac: number | null;
  /** Every slowdown reason that was active in at least one sample (sync_boost excluded). */
  slowdown: GpuSlowdownReason[];
}

/** One bottleneck verdict: why the program is slow, with the numbers behind it. */
export interface Verdict {
  category: BottleneckCategory;
  /** The rule that fired, in words, with its thresholds. */
  rule: string;
  /** The numbers that fired it, by name (units in the names: `cpuPerWall`, `majorFaults`, ...). */
  numbers: Record<string, number>;
  /** 0..1: how clearly the numbers clear the thresholds. */
  confidence: number;
  /** Share of run time this bottleneck explains, %. */
  sharePct: number;
  /** Best possible speedup if that share vanished (Amdahl): 1 / (1 - share), ×. */
  amdahlBound: number;
  /** What the optimizer should try, best first. */
  remedies: string[];
}

/** Summary statistics of one side of a measurement. */
export interface SampleStats {
  n: number;
  median: number;
  q1: number;
  q3: number;
  iqr: number;
  mean: number;
  stdev: number;
  /** Coefficient of variation: stdev / mean, % (0 when mean is 0). */
  cvPct: number;
  min: number;
  max: number;
}

/** The verdict words of docs/design.md, "Verdict rules". */
export type ComparisonVerdict = "faster" | "slower" | "no significant change" | "inconclusive";

/** An A/B comparison of one metric. */
export interface Comparison {
  metric: string;
  unit: string;
  direction: "lower" | "higher";
  a: SampleStats;
  b: SampleStats;
  /** median(B) / median(A). */
  ratio: number;
  /** 95% (or configured) bootstrap confidence interval of the ratio. */
  ci: [number, number];
  confidence: number;
  /** Mann–Whitney U two-sided p-value. */
  pValue: number;
  /** The significance level the verdict used (absent in bundles older than this field). */
  alpha?: number;
  /** The minimum improvement the verdict used, % (absent in bundles older than this field). */
  minImprovementPct?: number;
  /** Improvement of B over A in %, positive = better in the metric's direction. */
  improvementPct: number;
  verdict: ComparisonVerdict;
  /** Why this verdict, in words (thresholds included). */
  reason: string;
  /**
   * Only when the measurement itself is not trusted — a side's CV above `statistics.max_cv`, or a
   * measurement compromised (contention that differed between the sides, GPU throttling) — the
   * doubts, in words; the verdict is then "inconclusive" whatever the numbers say. Readers that
   * apply a rule of their own to the interval (the gate, src/core/gate/verdict.ts) test this field.
   */
  untrusted?: string;
  /**
   * Only on an "inconclusive" comparison whose CI was too wide: counted runs per side that would likely
   * settle it at the observed ratio and noise (`estimateRunsNeeded` in src/core/measure/stats.ts; at
   * most `RUNS_NEEDED_CAP`, which means "that many or more").
   */
  runsNeeded?: number;
  /**
   * Only on a "faster" wall time whose CPU time did not fall with it: what the CPU time did, in words
   * (`compareMeasurement` in src/core/loop/compare.ts). A flag for the reader, not a rejection.
   */
  crossCheck?: string;
}
