/**
 * The GPU's timeline in a PyTorch trace: when it was busy (kernels, copies, memsets), the idle gaps
 * between, and why each gap happened, by Holistic Trace Analysis's idle-time breakdown (HTA,
 * docs/source/features/idle_time_breakdown.rst and hta/analyzers/breakdown_analysis.py):
 *
 * - host wait: the CUDA runtime call that launched the work after the gap started after the gap
 *   began: the host did not enqueue work fast enough;
 * - kernel wait: otherwise, a gap shorter than HTA's default `consecutive_kernel_delay` (30 ns):
 *   the overhead between back-to-back launches;
 * - other: the rest (waits on events between streams, launch delays).
 *
 * HTA classifies per stream; perfloop merges all streams of the first device, since a gap on one
 * stream while another runs is not idle hardware.
 */
import { median } from "../measure/stats.ts";
import { SYNC_CALLS } from "./torch-copies.ts";
import type { CallSite } from "./torch-sites.ts";
import { endOf, launchIndex, launchKey, numberArg, type TorchTrace, type TraceEvent } from "./torch-trace.ts";

/** HTA's default `consecutive_kernel_delay`, µs (30 ns). */
export const KERNEL_WAIT_US = 0.03;
/** At most this many gaps are listed (the longest), and host work is read over this many. */
const LISTED_GAPS = 5;
const EXAMINED_GAPS = 50;

/** One idle gap of the GPU. */
export interface IdleGap {
  /** Start, ms after the first GPU event; duration, ms. */
  startMs: number;
  durMs: number;
  kind: "host-wait" | "kernel-wait" | "other";
  /** The Python function that launched the work after the gap, when known. */
  site: CallSite | null;
}

/** The GPU side of a trace. Times in ms; `idlePct` of `activeMs`. */
export interface GpuTimeline {
  /** First GPU event start to last end. */
  activeMs: number;
  /** Union of kernels, copies and memsets. */
  busyMs: number;
  /** Sum of kernel durations. */
  kernelMs: number;
  idleMs: number;
  idlePct: number;
  idle: { hostWaitMs: number; kernelWaitMs: number; otherMs: number };
  /** Idle time in the gaps during which a synchronizing call returned (SYNC_CALLS): after a sync
   *  the device is empty until the host launches again — what removing the syncs can win. */
  idleAfterSyncMs: number;
  kernelCount: number;
  /** Median kernel duration, µs. */
  kernelMedianUs: number;
  /** Median idle gap, µs (0 without gaps). */
  gapMedianUs: number;
  /** Kernel launches on the host (`cudaLaunchKernel` and kin) and their median duration, µs. */
  launchCount: number;
  launchMedianUs: number;
  /** The longest gaps. */
  gaps: IdleGap[];
  /** What the host ran during the longest host-wait gaps: event names by overlapping time, ms
   *  (top-level operators, and annotations such as DataLoader's `__next__`). */
  hostDuringIdle: { name: string; ms: number }[];
}

const LAUNCHES = /^(cudaLaunchKernel|cudaLaunchKernelExC?|cuLaunchKernel(Ex)?|cudaLaunchCooperativeKernel)$/;

/**
 * The GPU timeline of the trace's first device (`args.device`, else every GPU event), or null when
 * the trace holds no GPU event.
 * @param siteOf the call-site resolver (torch-sites.ts).
 */
export function gpuTimeline(
  trace: TorchTrace,
  siteOf: (e: TraceEvent) => CallSite | null,
): GpuTimeline | null {
  const everything = [...trace.kernels, ...trace.copies, ...trace.memsets];
  if (everything.length === 0) return null;
  const firstDevice = numberArg(everything[0] as TraceEvent, "device");
  const events = everything
    .filter((e) => firstDevice === null || numberArg(e, "device") === firstDevice)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const launchOf = launchIndex(trace);
  const origin = (events[0] as TraceEvent).ts;
  let busy = 0;
  let end = origin;
  const gaps: (IdleGap & { startUs: number; endUs: number })[] = [];
  const idle = { hostWaitMs: 0, kernelWaitMs: 0, otherMs: 0 };
  for (const e of events) {
    if (e.ts > end) {
      const launch = launchOf.get(launchKey(e));
      const gapUs = e.ts - end;
      const kind = launch && launch.ts > end ? "host-wait" : gapUs < KERNEL_WAIT_US ? "kernel-wait" : "other";
      idle[kind === "host-wait" ? "hostWaitMs" : kind === "kernel-wait" ? "kernelWaitMs" : "otherMs"] +=
        gapUs / 1000;
      gaps.push({
        startMs: (end - origin) / 1000,
        durMs: gapUs / 1000,
        kind,
        site: launch ? siteOf(launch) : null,
        startUs: end,
        endUs: e.ts,
      });
      busy += e.dur;
      end = endOf(e);
    } else if (endOf(e) > end) {
      busy += endOf(e) - end;
      end = endOf(e);
    }
  }
  const activeUs = end - origin;
  const syncEnds = trace.runtime
    .filter((r) => SYNC_CALLS.has(r.name))
    .map(endOf)
    .sort((a, b) => a - b);
  let idleAfterSyncUs = 0;
  for (const g of gaps) {
    const i = firstAtOrAfter(syncEnds, g.startUs);
    if (i < syncEnds.length && (syncEnds[i] as number) <= g.endUs) idleAfterSyncUs += g.endUs - g.startUs;
  }
  const kernels = trace.kernels.filter((k) => firstDevice === null || numberArg(k, "device") === firstDevice);
  const launches = trace.runtime.filter((r) => LAUNCHES.test(r.name));
  const longest = [...gaps].sort((a, b) => b.durMs - a.durMs);
  const idleMs = (activeUs - busy) / 1000;
  return {
    activeMs: activeUs / 1000,
    busyMs: busy / 1000,
    kernelMs: kernels.reduce((s, k) => s + k.dur, 0) / 1000,
    idleMs,
    idlePct: activeUs > 0 ? (100 * (activeUs - busy)) / activeUs : 0,
    idle,
    idleAfterSyncMs: idleAfterSyncUs / 1000,
    kernelCount: kernels.length,
    kernelMedianUs: kernels.length ? median(kernels.map((k) => k.dur)) : 0,
    gapMedianUs: gaps.length ? median(gaps.map((g) => g.durMs * 1000)) : 0,
    launchCount: launches.length,
    launchMedianUs: launches.length ? median(launches.map((l) => l.dur)) : 0,
    gaps: longest.slice(0, LISTED_GAPS).map(({ startUs: _s, endUs: _e, ...g }) => g),
    hostDuringIdle: hostWork(trace, longest.filter((g) => g.kind === "host-wait").slice(0, EXAMINED_GAPS)),
  };
}

/** Host events overlapping the gaps, by name, ms of overlap; the 5 largest. */
function hostWork(
  trace: TorchTrace,
  gaps: { startUs: number; endUs: number }[],
): { name: string; ms: number }[] {
  if (gaps.length === 0) return [];
  // Top-level operators (what the program called, not what they call) and annotations (DataLoader's
  // `__next__`, record_function ranges); not Python frames, whose outer ones span every gap.
  const topLevel: TraceEvent[] = [];
  const openUntil = new Map<string, number>();
  for (const op of trace.ops) {
    const thread = `${op.pid}/${op.tid}`;
    if (op.ts < (openUntil.get(thread) ?? Number.NEGATIVE_INFINITY)) continue;
    topLevel.push(op);
    openUntil.set(thread, endOf(op));
  }
  const host = [...trace.annotations, ...topLevel].filter((e) => !e.name.startsWith("ProfilerStep"));
  const byName = new Map<string, number>();
  for (const e of host) {
    for (const g of gaps) {
      const overlap = Math.min(endOf(e), g.endUs) - Math.max(e.ts, g.startUs);
      if (overlap > 0) byName.set(e.name, (byName.get(e.name) ?? 0) + overlap / 1000);
    }
  }
  return [...byName.entries()]
    .map(([name, ms]) => ({ name, ms }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5);
}

/** Index of the first value ≥ `x` in the ascending `sorted` (its length when none). */
function firstAtOrAfter(sorted: readonly number[], x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
