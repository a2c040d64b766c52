/**
 * Framework operators of a PyTorch trace (`cpu_op` events): self time (the operator's duration
 * minus its nested operators' on the same thread), calls, the most frequent input shapes, FLOPs
 * (`with_flops`), and the Python call site; plus the `.item()`-style host reads of tensor values.
 */
import { median } from "../measure/stats.ts";
import { byThreadOf, type CallSite, nestingIndex } from "./torch-sites.ts";
import { endOf, numberArg, type TorchTrace, type TraceEvent } from "./torch-trace.ts";

/** One operator name, summed over its calls. */
export interface OperatorFact {
  name: string;
  calls: number;
  /** Self time, ms, and its share of all operators' self time, %. */
  selfMs: number;
  selfPct: number;
  /** Time with nested operators, ms (the sum of every call's duration: a call nested in a call of
   *  the same name counts in both). */
  totalMs: number;
  /** The most frequent `Input Dims` (compact JSON, e.g. `[[256,64],[64]]`), null when not recorded. */
  shapes: string | null;
  /** The call site of most of its self time, null when none of the repository is known. */
  site: CallSite | null;
}

/** `.item()`-style reads: one host read of a tensor value each (a device sync on CUDA). */
export interface ScalarReads {
  count: number;
  /** Call sites by count, at most 5. */
  sites: { site: CallSite; count: number }[];
}

/** What the kernel facts need of the operator that launched a kernel. */
export interface OpInfo {
  name: string;
  /** Names this operator call (thread, start, name). */
  key: string;
  site: CallSite | null;
  /** `args.flops` of the operator or its nearest enclosing operator that has them, or null; and
   *  the key of the call that carries them (several launching children share one owner's FLOPs). */
  flops: number | null;
  flopsKey: string | null;
  /** Bytes of the inputs (`Input Dims` × `Input type` sizes) of the same operator, or null when
   *  not recorded. */
  inputBytes: number | null;
  /** Bytes of the largest input, or null. */
  largestInputBytes: number | null;
}

/** The operator facts of a trace. */
export interface OperatorSummary {
  top: OperatorFact[];
  topLevel: number;
  /** Median self time of top-level operators, µs (0 without operators). */
  medianSelfUs: number;
  /** Sum of top-level operator durations, ms. */
  hostMs: number;
  scalarReads: ScalarReads;
  /** The operator running on `e`'s thread when `e` started (a CUDA runtime call: the operator that
   *  launched it), or null. */
  opOf: (e: TraceEvent) => OpInfo | null;
}

/**
 * `Tensor.item()` is `aten::item`, which calls `aten::_local_scalar_dense`; other reads
 * (`bool(t)`, `int(t)`) call the latter directly. Nesting cannot tell them apart in traces with 1 µs
 * resolution, so `aten::item` is counted when the trace has it, else `aten::_local_scalar_dense`.
 */
const SCALAR_READS = ["aten::item", "aten::_local_scalar_dense"];

/** Bytes per element of PyTorch's `Input type` names (c10 ScalarType names as the profiler writes them). */
const DTYPE_BYTES: Record<string, number> = {
  double: 8,
  float: 4,
  "c10::Half": 2,
  "c10::BFloat16": 2,
  long: 8,
  "long int": 8,
  int: 4,
  short: 2,
  "signed char": 1,
  "unsigned char": 1,
  bool: 1,
  "c10::complex<float>": 8,
  "c10::complex<double>": 16,
};

/** Input bytes and largest input bytes from `Input Dims` and `Input type`; nulls when absent. */
function inputBytes(e: TraceEvent): { total: number | null; largest: number | null } {
  const dims = e.args["Input Dims"];
  const types = e.args["Input type"];
  if (!Array.isArray(dims) || !Array.isArray(types)) return { total: null, largest: null };
  let total = 0;
  let largest = 0;
  for (const [i, d] of dims.entries()) {
    const size = DTYPE_BYTES[String(types[i])];
    if (!Array.isArray(d) || d.length === 0 || size === undefined) continue;
    const numel = d.reduce((n: number, x: unknown) => n * (typeof x === "number" ? x : 0), 1);
    total += numel * size;
    largest = Math.max(largest, numel * size);
  }
  return { total, largest };
}

/**
 * Operator facts: per thread, a stack sweep over the operators (sorted by start, longer first)
 * gives each its parent, so self = duration − children's durations.
 * @param siteOf the call-site resolver (torch-sites.ts).
 * @param n how many operators to list (by self time).
 */
export function operatorFacts(
  trace: TorchTrace,
  siteOf: (e: TraceEvent) => CallSite | null,
  n: number,
): OperatorSummary {
  const selfUs = new Map<TraceEvent, number>();
  const topLevelSelf: number[] = [];
  let hostUs = 0;
  const threads = byThreadOf(trace.ops);
  const indexes = new Map([...threads].map(([key, ops]) => [key, nestingIndex(ops)]));
  const topLevel = new Set<TraceEvent>();
  const parentOf = new Map<TraceEvent, TraceEvent>();
  for (const ops of threads.values()) {
    const stack: TraceEvent[] = [];
    for (const op of ops) {
      while (stack.length && endOf(stack[stack.length - 1] as TraceEvent) <= op.ts) stack.pop();
      const parent = stack[stack.length - 1];
      if (parent) parentOf.set(op, parent);
      if (parent) selfUs.set(parent, (selfUs.get(parent) ?? parent.dur) - op.dur);
      else {
        topLevel.add(op);
        hostUs += op.dur;
      }
      selfUs.set(op, selfUs.get(op) ?? op.dur);
      stack.push(op);
    }
  }
  const readName = trace.ops.some((o) => o.name === SCALAR_READS[0]) ? SCALAR_READS[0] : SCALAR_READS[1];
  const byName = new Map<
    string,
    {
      calls: number;
      self: number;
      total: number;
      shapes: Map<string, number>;
      sites: Map<string, [CallSite, number]>;
    }
  >();
  const reads = new Map<string, { site: CallSite; count: number }>();
  let readCount = 0;
  let allSelf = 0;
  for (const op of trace.ops) {
    const self = Math.max(0, selfUs.get(op) ?? 0);
    allSelf += self;
    if (topLevel.has(op)) topLevelSelf.push(self);
    const s = byName.get(op.name) ?? { calls: 0, self: 0, total: 0, shapes: new Map(), sites: new Map() };
    s.calls++;
    s.self += self;
    s.total += op.dur;
    const dims = op.args["Input Dims"];
    if (Array.isArray(dims)) {
      const key = JSON.stringify(dims);
      s.shapes.set(key, (s.shapes.get(key) ?? 0) + 1);
    }
    const site = siteOf(op);
    if (site) {
      const key = `${site.file}:${site.line}:${site.function}`;
      const prev = s.sites.get(key);
      s.sites.set(key, [site, (prev?.[1] ?? 0) + self]);
    }
    byName.set(op.name, s);
    if (op.name === readName) {
      readCount++;
      if (site) {
        const key = `${site.file}:${site.line}:${site.function}`;
        reads.set(key, { site, count: (reads.get(key)?.count ?? 0) + 1 });
      }
    }
  }
  const top = [...byName.entries()]
    .map(([name, s]) => ({
      name,
      calls: s.calls,
      selfMs: s.self / 1000,
      selfPct: allSelf > 0 ? (100 * s.self) / allSelf : 0,
      totalMs: s.total / 1000,
      shapes: mostFrequent(s.shapes),
      site: [...s.sites.values()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
    }))
    .sort((a, b) => b.selfMs - a.selfMs || a.name.localeCompare(b.name))
    .slice(0, n);
  return {
    top,
    topLevel: topLevel.size,
    medianSelfUs: topLevelSelf.length ? median(topLevelSelf) : 0,
    hostMs: hostUs / 1000,
    scalarReads: {
      count: readCount,
      sites: [...reads.values()].sort((a, b) => b.count - a.count).slice(0, 5),
    },
    opOf: (e) => {
      const op = indexes.get(`${e.pid}/${e.tid}`)?.(e) ?? null;
      if (!op) return null;
      let owner: TraceEvent | undefined = op;
      while (owner && numberArg(owner, "flops") === null) owner = parentOf.get(owner);
      const bytes = inputBytes(op);
      return {
        name: op.name,
        key: `${op.pid}/${op.tid}/${op.ts}/${op.name}`,
        site: siteOf(op),
        flops: owner ? numberArg(owner, "flops") : null,
        flopsKey: owner ? `${owner.pid}/${owner.tid}/${owner.ts}/${owner.name}` : null,
        inputBytes: bytes.total,
        largestInputBytes: bytes.largest,
      };
    },
  };
}

function mostFrequent(counts: Map<string, number>): string | null {
  let best: string | null = null;
  let bestN = 0;
  for (const [k, c] of counts) if (c > bestN) [best, bestN] = [k, c];
  return best;
}
