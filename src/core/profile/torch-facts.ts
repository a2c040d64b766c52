/**
 * The facts of a PyTorch trace that the GPU rules read (analyze/torch-rules.ts) and the report
 * shows: operators and kernels by time with their Python call sites, GPU busy and idle time with
 * HTA's idle-time categories, host↔device copies, and host synchronizations. Pure: a parsed trace
 * and the tree's root in, numbers out. Times in ms unless a name says µs; shares in %.
 */
import { type CopyFact, copyFacts, type SyncFact, syncFacts } from "./torch-copies.ts";
import { type GpuTimeline, gpuTimeline } from "./torch-gpu.ts";
import { type KernelFact, kernelFacts } from "./torch-kernels.ts";
import { type OperatorFact, operatorFacts, type ScalarReads } from "./torch-ops.ts";
import { siteResolver } from "./torch-sites.ts";
import { endOf, type TorchTrace } from "./torch-trace.ts";

export type { CopyFact, GpuTimeline, KernelFact, OperatorFact, ScalarReads, SyncFact };

/** Everything perfloop reads from one process's trace. */
export interface TorchFacts {
  /** The trace's bundle file (e.g. `profiles/torch-123.pt.trace.json`), or the name it was read as. */
  file: string;
  recorder: TorchTrace["recorder"];
  /** The GPU's name (`deviceProperties[0]`), null on a CPU-only trace. */
  device: string | null;
  /** Device memory, bytes, or null. */
  deviceMemBytes: number | null;
  /** First event start to last event end, ms: the traced window all shares are of. */
  windowMs: number;
  /** Operators: how many (all levels), median self time of the top-level ones (µs), the busiest. */
  opCount: number;
  topLevelOps: number;
  opMedianSelfUs: number;
  /** Time in top-level operators on the host, ms (sum over threads). */
  hostOpMs: number;
  operators: OperatorFact[];
  /** `.item()`-style host reads of a tensor's value (aten::item / aten::_local_scalar_dense). */
  scalarReads: ScalarReads;
  /** GPU side: null when the trace holds no kernel, copy or memset. */
  gpu: GpuTimeline | null;
  kernels: KernelFact[];
  copies: CopyFact[];
  syncs: SyncFact[];
  /** Host time blocked in synchronizing CUDA calls, ms (sum of their durations). */
  syncMs: number;
}

/** At most this many operators and kernels are listed (by time). */
export const TOP_N = 10;

/**
 * The facts of `trace`, recorded from a program run in `root`.
 * @param file the name to show for the trace.
 */
export function torchFacts(trace: TorchTrace, root: string, file: string): TorchFacts {
  const siteOf = siteResolver(trace, root);
  const all = [
    ...trace.ops,
    ...trace.python,
    ...trace.runtime,
    ...trace.kernels,
    ...trace.copies,
    ...trace.memsets,
    ...trace.annotations,
  ];
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const e of all) {
    first = Math.min(first, e.ts);
    last = Math.max(last, endOf(e));
  }
  const windowMs = all.length ? (last - first) / 1000 : 0;
  const ops = operatorFacts(trace, siteOf, TOP_N);
  const syncs = syncFacts(trace, siteOf);
  const device = trace.devices[0] ?? null;
  return {
    file,
    recorder: trace.recorder,
    device: device?.name ?? null,
    deviceMemBytes: device?.totalGlobalMem ?? null,
    windowMs,
    opCount: trace.ops.length,
    topLevelOps: ops.topLevel,
    opMedianSelfUs: ops.medianSelfUs,
    hostOpMs: ops.hostMs,
    operators: ops.top,
    scalarReads: ops.scalarReads,
    gpu: gpuTimeline(trace, siteOf),
    kernels: kernelFacts(trace, ops.opOf, siteOf, TOP_N),
    copies: copyFacts(trace),
    syncs,
    syncMs: syncs.reduce((sum, s) => sum + s.ms, 0),
  };
}
