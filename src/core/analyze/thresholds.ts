/**
 * Thresholds of the bottleneck classifier (`classify.ts`), each with its source. Where no published
 * number exists the value is perfloop's own engineering choice, said so, with the reasoning. The
 * ratio CPU time / wall time is the average number of cores the process tree kept busy (the same
 * quantity GNU time prints as "%CPU" = (user + system) / elapsed); it is the main host signal.
 */
import type { GpuSlowdownReason } from "../types.ts";

/**
 * cpu-single-thread band, CPU time / wall time (cores). Own choice: 0.8 leaves 20% of the run for
 * start-up, imports and small I/O; 1.3 admits the helper threads of managed runtimes (garbage
 * collector, JIT compiler) without calling the program parallel.
 */
export const SINGLE_THREAD_MIN_CPU_PER_WALL = 0.8;
/** Upper end of the cpu-single-thread band (see SINGLE_THREAD_MIN_CPU_PER_WALL). Own choice. */
export const SINGLE_THREAD_MAX_CPU_PER_WALL = 1.3;
/** Distance inside the single-thread band (cores) at which its confidence is full. Own choice. */
export const SINGLE_THREAD_FULL_MARGIN = 0.2;

/** cpu-parallel: CPU time / wall time ≥ this (cores). Own choice: halfway between one and two busy cores. */
export const PARALLEL_MIN_CPU_PER_WALL = 1.5;

/**
 * Cores count as saturated when CPU time / wall time ≥ this fraction of the logical cores. In the
 * USE method (Brendan Gregg, "The USE Method") a resource near 100% utilization is the bottleneck
 * candidate; 0.9 rather than 1.0 is perfloop's allowance for the sampler, the OS and start-up.
 */
export const SATURATED_CORE_FRACTION = 0.9;

/**
 * Machine-wide busy cores (sum of `/proc/stat` per-core busy %) above the tree's own CPU / wall by
 * more than this many cores means other load shared the machine: single-thread confidence is
 * multiplied by OTHER_LOAD_FACTOR. Own choice. (Per-core means cannot show "one core busy, the rest
 * idle" directly: the scheduler migrates a single thread between cores, spreading its busy time.)
 */
export const OTHER_LOAD_CORES = 0.5;
/** Confidence factor of cpu-single-thread under other load (see OTHER_LOAD_CORES). Own choice. */
export const OTHER_LOAD_FACTOR = 0.8;

/** waiting: CPU time / wall time below this. Own choice: the tree was on CPU less than half the run. */
export const WAITING_MAX_CPU_PER_WALL = 0.5;

/**
 * disk-io: CPU time / wall time below this (and heavy I/O or faults). Own choice, looser than
 * waiting's 0.5 because moving data through the page cache itself costs CPU (system time: copying,
 * checksums), so an I/O-bound program shows more CPU than a sleeping one.
 */
export const DISK_MAX_CPU_PER_WALL = 0.7;

/**
 * Storage I/O rate, (read + write bytes from `/proc/<pid>/io`) per second of wall time, at or above
 * which I/O counts as heavy: 10 MB/s. Own choice: a small fraction of the sequential bandwidth of
 * any current disk (SSDs: hundreds of MB/s and more), so below it bandwidth is not what the program
 * waits for; above it, with the CPU idle, storage is the likely wait. Random small I/O on spinning
 * disks can be slow below this rate: the confidence says how far past it a program is.
 */
export const IO_RATE_BYTES_PER_S = 10e6;

/**
 * Major page faults per run at or above which paging is significant: 1000. Own choice: a major fault
 * reads a page from storage or swap (proc(5): "majflt"); at ~0.1 ms per read on an SSD, 1000 cost
 * ≥ 0.1 s, at ~5-10 ms on a spinning disk several seconds.
 */
export const MAJOR_FAULTS_PER_RUN = 1000;

/** host-memory: peak RSS ≥ this fraction of total memory. Own choice: leaves 20% for the OS and page cache. */
export const RSS_NEAR_LIMIT_FRAC = 0.8;

/**
 * host-memory: RSS growth (end − first quarter of the run) ≥ this fraction of peak RSS and ≥
 * RSS_GROWTH_MIN_BYTES. Own choice: half the peak built up after start-up is a leak or an
 * accumulate-everything pattern; the absolute floor (256 MiB) keeps small programs from firing.
 */
export const RSS_GROWTH_FRAC_OF_PEAK = 0.5;
/** Absolute floor of the host-memory growth rule, bytes (256 MiB; see RSS_GROWTH_FRAC_OF_PEAK). Own choice. */
export const RSS_GROWTH_MIN_BYTES = 256 * 2 ** 20;

/**
 * GPU "busy" / "idle" thresholds on utilization.gpu, %. NVML/nvidia-smi define utilization.gpu as
 * "percent of time over the past sample period during which one or more kernels was executing on
 * the GPU" (NVML API reference, nvmlUtilization_t) — so it says a kernel was running, not how much
 * of the chip it used. 70 and 50 are perfloop's own choices with a gap between them so that a
 * program near one threshold is not flipped between categories by noise.
 */
export const GPU_BUSY_UTIL_PCT = 70;
/** utilization.gpu below which the GPU counts as idle (gpu-starved; blocks "waiting" when above), %. Own choice. */
export const GPU_IDLE_UTIL_PCT = 50;

/**
 * gpu-starved needs at least this mean utilization.gpu, %, as evidence that the program uses the
 * GPU at all (nvidia-smi does not attribute utilization to processes; a CPU-only program on a GPU
 * machine shows ~0%). Own choice.
 */
export const GPU_USED_MIN_UTIL_PCT = 1;

/** gpu-starved: host CPU time / wall time ≥ this (the host is busy while the GPU idles). Own choice. */
export const HOST_BUSY_CPU_PER_WALL = 0.7;

/**
 * Mean power.draw / power.limit below which a "busy" GPU is launch-bound (small kernels leave most
 * of the chip idle, so it draws far below its limit), and at or above which it is compute-bound.
 * Own choices; NVML documents that near the limit the SW power cap reduces clocks "to ensure not to
 * exceed currently set power limits", i.e. a chip doing full work runs at or near its power limit.
 * Between 0.5 and 0.7 neither fires: the signals do not separate the two.
 */
export const LAUNCH_BOUND_MAX_POWER_FRAC = 0.5;
/** Mean power / limit at or above which a busy GPU is compute-bound (see LAUNCH_BOUND_MAX_POWER_FRAC). Own choice. */
export const COMPUTE_MIN_POWER_FRAC = 0.7;

/** gpu-memory: peak memory.used / memory.total ≥ this. Own choice: under 10% left for activations/workspaces. */
export const GPU_MEM_FULL_FRAC = 0.9;

/**
 * Slowdown reasons that mark a measurement as throttled. NVML: HW slowdown, HW thermal slowdown and
 * HW power-brake slowdown reduce "the core clocks by a factor of 2 or more"; SW thermal slowdown
 * lowers clocks because of temperature. `sw_power_cap` is deliberately absent: NVML describes it as
 * clocks "optimized to ensure not to exceed currently set power limits", which is the normal state of
 * a datacenter GPU under full load, not a fault. `sync_boost` is a configuration, not a slowdown.
 */
export const THROTTLE_REASONS: readonly GpuSlowdownReason[] = [
  "hw_slowdown",
  "hw_thermal_slowdown",
  "hw_power_brake_slowdown",
  "sw_thermal_slowdown",
];

/** Amdahl bound cap, ×: shares ≥ 1 − 1/100 report 100× (see `amdahlBound`). Own choice. */
export const AMDAHL_CAP = 100;

/** Sampler period of docs/design.md, "Hardware signals" (10 Hz), ms: wall / period = expected `/proc` samples of a run. */
export const SAMPLE_PERIOD_MS = 100;

/**
 * Confidence is multiplied by min(1, samples / FULL_CONFIDENCE_SAMPLES), floored at
 * MIN_SAMPLE_FACTOR. Own choice: 10 samples = 1 s at 10 Hz; nvidia-smi's utilization covers a sample
 * period of 1/6 s to 1 s (NVML), so fewer readings can miss whole phases of a run.
 */
export const FULL_CONFIDENCE_SAMPLES = 10;
/** Floor of the sample-count factor of confidence (see FULL_CONFIDENCE_SAMPLES). Own choice. */
export const MIN_SAMPLE_FACTOR = 0.5;

/**
 * Contention (README, "Bottleneck verdicts"): time the tree spent runnable but waiting for a CPU
 * (run-queue delay, `/proc/<pid>/task/<tid>/schedstat` field 2; kernel
 * Documentation/scheduler/sched-stats.rst). Run-queue latency is the CPU saturation signal of
 * Brendan Gregg's USE method ("The USE Method: Linux Performance Checklist": per process,
 * `/proc/PID/schedstat` 2nd field, sched_info.run_delay). At or above this share of the wall time
 * the verdict's rule says so in words (the numbers are on every verdict). Own choice: 5%, the
 * default `min_improvement` (src/core/config/schema.ts) — a delay that size moves the wall time as
 * much as the smallest change perfloop claims.
 */
export const CONTENTION_NOTABLE_SHARE = 0.05;

/**
 * A baseline whose run-queue delay is at least this share of the wall time was measured under
 * heavy contention: the memory store does not learn its verdict's category. Own choice: 0.2 =
 * 1 − SINGLE_THREAD_MIN_CPU_PER_WALL — at that share a CPU-bound program's uncorrected CPU / wall
 * falls out of the single-thread band, i.e. the contention alone is big enough to change a verdict
 * if its correction were off, so the verdict rests on the correction.
 */
export const HEAVY_CONTENTION_SHARE = 1 - SINGLE_THREAD_MIN_CPU_PER_WALL;

/**
 * An A/B comparison is compromised (answers "inconclusive") when the two sides saw clearly
 * different contention: the median share of wall time lost to run-queue delay (or to steal) of one
 * side would, by itself, make its wall time longer than the other's by more than this fraction:
 * (1 − share_low) / (1 − share_high) − 1 > 0.05. One thread's wall = CPU + run-queue delay + blocked
 * time (sched-stats.rst), so with the same work the side with more delay is slower by that factor.
 * Own choice: 5% = the default `min_improvement` (src/core/config/schema.ts), the smallest change
 * perfloop would claim — contention that alone could fake or hide such a change compromises it.
 * "Clearly" also means systematic: the per-run shares of the two sides must differ at the
 * measurement's α by a two-sided Mann–Whitney test (`contentionMismatch` in contention.ts).
 */
export const CONTENTION_MISMATCH_EFFECT = 0.05;
