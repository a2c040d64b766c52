/**
 * GPU kernels of a PyTorch trace, by name: calls, time, median duration, the operator that launched
 * them (the operator running when the CUDA runtime call with the kernel's `correlation` started)
 * with its Python call site, and where the trace recorded them (`with_flops`,
 * `record_shapes`) the work done: FLOPs and an estimate of the bytes moved, for a roofline reading
 * (analyze/torch-rules.ts). An operator's FLOPs and bytes are split over its kernels in proportion
 * to their durations.
 */
import { median } from "../measure/stats.ts";
import type { OpInfo } from "./torch-ops.ts";
import type { CallSite } from "./torch-sites.ts";
import { launchIndex, launchKey, type TorchTrace, type TraceEvent } from "./torch-trace.ts";

/** One kernel name, summed over its launches. */
export interface KernelFact {
  /** The kernel's name, cut to 160 characters (C++ template names run to thousands). */
  name: string;
  calls: number;
  totalMs: number;
  medianUs: number;
  /** Share of all kernel time, %. */
  pctOfKernelTime: number;
  /** The operator that launched most of its time, and that operator's call site. */
  op: string | null;
  site: CallSite | null;
  /** FLOPs (from the launching operators' `flops`) and estimated bytes (their inputs, plus an
   *  output the size of the largest input), over the launches that had them; null when none. */
  flops: number | null;
  bytes: number | null;
}

const MAX_NAME = 160;

/**
 * Kernel facts of the trace, the `n` longest-running by total time.
 * @param opOf the operator running when a host event started (torch-ops.ts).
 */
export function kernelFacts(
  trace: TorchTrace,
  opOf: (e: TraceEvent) => OpInfo | null,
  siteOf: (e: TraceEvent) => CallSite | null,
  n: number,
): KernelFact[] {
  const launchOf = launchIndex(trace);
  // Each kernel's launching operator. An operator's bytes are split over the kernels it launched,
  // its FLOPs over the kernels launched under the call that carries them (a conv2d's FLOPs over
  // the kernels of all its children), each in proportion to duration.
  const launched = new Map<TraceEvent, { op: OpInfo; launch: TraceEvent }>();
  const bytesUs = new Map<string, number>();
  const flopsUs = new Map<string, number>();
  const add = (m: Map<string, number>, key: string, us: number): void => {
    m.set(key, (m.get(key) ?? 0) + us);
  };
  for (const k of trace.kernels) {
    const launch = launchOf.get(launchKey(k));
    const op = launch ? opOf(launch) : null;
    if (!launch || !op) continue;
    launched.set(k, { op, launch });
    add(bytesUs, op.key, k.dur);
    if (op.flopsKey) add(flopsUs, op.flopsKey, k.dur);
  }
  let allUs = 0;
  type Acc = {
    durs: number[];
    us: number;
    flops: number | null;
    bytes: number | null;
    ops: Map<string, [OpInfo, number]>;
  };
  const byName = new Map<string, Acc>();
  for (const k of trace.kernels) {
    allUs += k.dur;
    const name = k.name.length > MAX_NAME ? `${k.name.slice(0, MAX_NAME - 1)}…` : k.name;
    const s: Acc = byName.get(name) ?? { durs: [], us: 0, flops: null, bytes: null, ops: new Map() };
    s.durs.push(k.dur);
    s.us += k.dur;
    const link = launched.get(k);
    if (link) {
      const { op, launch } = link;
      const part = (m: Map<string, number>, key: string): number =>
        k.dur / Math.max(1e-9, m.get(key) ?? k.dur);
      if (op.flops !== null && op.flopsKey) s.flops = (s.flops ?? 0) + op.flops * part(flopsUs, op.flopsKey);
      if (op.inputBytes !== null)
        s.bytes = (s.bytes ?? 0) + (op.inputBytes + (op.largestInputBytes ?? 0)) * part(bytesUs, op.key);
      const site = op.site ?? siteOf(launch);
      const prev = s.ops.get(op.name);
      s.ops.set(op.name, [{ ...op, site }, (prev?.[1] ?? 0) + k.dur]);
    }
    byName.set(name, s);
  }
  return [...byName.entries()]
    .map(([name, s]) => {
      const main = [...s.ops.values()].sort((a, b) => b[1] - a[1])[0]?.[0];
      return {
        name,
        calls: s.durs.length,
        totalMs: s.us / 1000,
        medianUs: median(s.durs),
        pctOfKernelTime: allUs > 0 ? (100 * s.us) / allUs : 0,
        op: main?.name ?? null,
        site: main?.site ?? null,
        flops: s.flops,
        bytes: s.bytes,
      };
    })
    .sort((a, b) => b.totalMs - a.totalMs || a.name.localeCompare(b.name))
    .slice(0, n);
}
