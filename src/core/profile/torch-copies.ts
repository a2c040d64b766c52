/**
 * Host↔device copies and host synchronizations in a PyTorch trace.
 *
 * Copies: `gpu_memcpy` events, named by CUPTI `Memcpy HtoD (Pageable -> Device)`: the direction
 * and whether host memory was pageable (a copy the driver stages through a pinned buffer, and
 * that cannot overlap compute) or pinned.
 *
 * Synchronizations: CUDA runtime calls that block the host until the device catches up
 * (`cudaDeviceSynchronize`, `cudaStreamSynchronize`, `cudaEventSynchronize`, synchronous
 * `cudaMemcpy`, as the CUDA Runtime API documents them). `.item()`, `.cpu()`, `.tolist()` and
 * printing a CUDA tensor reach them through `aten::_local_scalar_dense` / `aten::copy_`. Their
 * duration on the host is the stall.
 */
import type { CallSite } from "./torch-sites.ts";
import { numberArg, type TorchTrace, type TraceEvent } from "./torch-trace.ts";

/** Copies of one direction. */
export interface CopyFact {
  kind: "HtoD" | "DtoH" | "DtoD" | "other";
  count: number;
  bytes: number;
  ms: number;
  /** Bytes copied from or to pageable host memory (the rest pinned or device memory). */
  pageableBytes: number;
}

/** Host stalls in one synchronizing call. */
export interface SyncFact {
  name: string;
  count: number;
  /** Host time blocked, ms. */
  ms: number;
  /** The Python functions the stalls came from, by time, at most 5. */
  sites: { site: CallSite; count: number; ms: number }[];
}

/** The CUDA runtime calls that block the host until the device has finished the work before. */
export const SYNC_CALLS = new Set([
  "cudaDeviceSynchronize",
  "cudaStreamSynchronize",
  "cudaEventSynchronize",
  "cudaMemcpy",
  "cuCtxSynchronize",
  "cuStreamSynchronize",
  "cuEventSynchronize",
]);

/** Copies by direction, in the order HtoD, DtoH, DtoD, other (kinds with none left out). */
export function copyFacts(trace: TorchTrace): CopyFact[] {
  const kinds: CopyFact["kind"][] = ["HtoD", "DtoH", "DtoD", "other"];
  const out = new Map<CopyFact["kind"], CopyFact>();
  for (const c of trace.copies) {
    const kind = kinds.find((k) => c.name.includes(k)) ?? "other";
    const f = out.get(kind) ?? { kind, count: 0, bytes: 0, ms: 0, pageableBytes: 0 };
    const bytes = numberArg(c, "bytes") ?? 0;
    f.count++;
    f.bytes += bytes;
    f.ms += c.dur / 1000;
    if (/pageable/i.test(c.name)) f.pageableBytes += bytes;
    out.set(kind, f);
  }
  return kinds.flatMap((k) => {
    const f = out.get(k);
    return f ? [f] : [];
  });
}

/** Synchronizing calls by name, longest total stall first. */
export function syncFacts(trace: TorchTrace, siteOf: (e: TraceEvent) => CallSite | null): SyncFact[] {
  const byName = new Map<
    string,
    { count: number; us: number; sites: Map<string, { site: CallSite; count: number; us: number }> }
  >();
  for (const r of trace.runtime) {
    if (!SYNC_CALLS.has(r.name)) continue;
    const s = byName.get(r.name) ?? { count: 0, us: 0, sites: new Map() };
    s.count++;
    s.us += r.dur;
    const site = siteOf(r);
    if (site) {
      const key = `${site.file}:${site.line}:${site.function}`;
      const prev = s.sites.get(key) ?? { site, count: 0, us: 0 };
      prev.count++;
      prev.us += r.dur;
      s.sites.set(key, prev);
    }
    byName.set(r.name, s);
  }
  return [...byName.entries()]
    .map(([name, s]) => ({
      name,
      count: s.count,
      ms: s.us / 1000,
      sites: [...s.sites.values()]
        .sort((a, b) => b.us - a.us)
        .slice(0, 5)
        .map((x) => ({ site: x.site, count: x.count, ms: x.us / 1000 })),
    }))
    .sort((a, b) => b.ms - a.ms);
}
