/**
 * How contended the CPUs were during one run, from its `/proc` samples (README, "How perfloop
 * measures"): the measured tree's run-queue delay — time its threads were runnable but waiting for
 * a CPU, `/proc/<pid>/task/<tid>/schedstat` field 2 (kernel Documentation/scheduler/sched-stats.rst)
 * — and the machine's state (`procs_running` and steal time from `/proc/stat`, `/proc/loadavg`).
 * Brendan Gregg's USE method names run-queue latency (`/proc/PID/schedstat` 2nd field,
 * sched_info.run_delay) as the per-process measure of CPU saturation ("The USE Method: Linux
 * Performance Checklist"). Pure arithmetic on recorded samples.
 */
import type { ProcSample } from "../types.ts";

/** The contention of one run (part of the `RunRecord` in perf_raw.json). */
export interface RunContention {
  /**
   * Run-queue delay of the tree over the run, ms: the largest cumulative value the samples reached
   * (a lower bound: the delay after each thread's last sample is not seen). null when no sample
   * could read a schedstat file (sampler off, a run shorter than one interval, kernel without it).
   */
  runQueueMs: number | null;
  /** runQueueMs / wallMs: the average number of the tree's threads waiting in a run queue (for
   *  one thread, the share of the wall time it spent runnable but not running). */
  runQueueShare: number | null;
  /** Share of the wall time lost to run-queue delay, 0..1 (see {@link contentionShare}). */
  contentionShare: number | null;
  /** Steal time of all CPUs over the run (hypervisor ran something else), ms; null when not read. */
  stealMs: number | null;
  /** Mean machine-wide `procs_running` over the run's samples; null when not read. */
  procsRunningMean: number | null;
  /** Mean 1-minute load average over the run's samples; null when not read. */
  loadavg1: number | null;
}

/**
 * Share of a run's wall time lost to run-queue delay, 0..1:
 * `runQueueMs / max(wallMs, cpuMs + runQueueMs)`.
 * For one thread, wall = time on CPU + time in a run queue + time blocked (sched-stats.rst counts
 * the first two per thread), so this is runQueueMs / wallMs, and `wallMs × (1 − share)` is the wall
 * the run would have had with the CPUs to itself (its own work unchanged). Several threads can wait
 * at once, so their summed delay can exceed the wall; then the delay is spread over the tree's
 * average runnable threads ((CPU + delay) / wall, cores) and the share is delay / (CPU + delay): the
 * part of the tree's demand for CPU that was spent waiting. perfloop's own reasoning; 0 when
 * wallMs ≤ 0. Throws nothing; negative inputs count as 0.
 */
export function contentionShare(wallMs: number, cpuMs: number, runQueueMs: number): number {
  const delay = Math.max(0, runQueueMs);
  const span = Math.max(wallMs, Math.max(0, cpuMs) + delay);
  return span > 0 ? delay / span : 0;
}

/** Mean of the finite values picked from the samples; null when none. */
function meanOf(samples: readonly ProcSample[], pick: (s: ProcSample) => number | null | undefined) {
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    const x = pick(s);
    if (typeof x === "number" && Number.isFinite(x)) {
      sum += x;
      n++;
    }
  }
  return n > 0 ? sum / n : null;
}

/** Largest finite value picked from the samples; null when none. */
function maxOf(samples: readonly ProcSample[], pick: (s: ProcSample) => number | null | undefined) {
  let max: number | null = null;
  for (const s of samples) {
    const x = pick(s);
    if (typeof x === "number" && Number.isFinite(x)) max = Math.max(max ?? 0, x);
  }
  return max;
}

/**
 * The contention of one run from its samples (`ProcSample`, time order) and its whole-run wall and
 * CPU time (ms, from the OS). Run-queue delay and steal are cumulative in the samples, so their
 * largest value covers the run; procs_running and the load average are means over the samples.
 * Samples recorded before these fields existed (undefined) count as unread.
 */
export function runContention(samples: readonly ProcSample[], wallMs: number, cpuMs: number): RunContention {
  const runQueueMs = maxOf(samples, (s) => s.runQueueMs);
  return {
    runQueueMs,
    runQueueShare: runQueueMs !== null && wallMs > 0 ? runQueueMs / wallMs : null,
    contentionShare: runQueueMs !== null ? contentionShare(wallMs, cpuMs, runQueueMs) : null,
    stealMs: maxOf(samples, (s) => s.stealMs),
    procsRunningMean: meanOf(samples, (s) => s.procsRunning),
    loadavg1: meanOf(samples, (s) => s.loadavg1),
  };
}
