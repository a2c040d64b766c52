/**
 * Reads a PyTorch profiler trace: the Chrome/Perfetto trace JSON that `torch.profiler`'s
 * `export_chrome_trace` writes (Kineto's layout: `{"traceEvents": [...], "deviceProperties": [...]}`),
 * the layout perfloop's hook writes for a torch built without Kineto (`"perfloopRecorder":
 * "legacy"`, profile/python/_perfloop_torch.py), and the legacy profiler's own export (a bare array
 * of events with `pid: "CPU functions"` and no category). Only complete events (`ph: "X"`) are kept,
 * sorted into the kinds the analysis reads; flow, counter and metadata events are skipped.
 */
import { z } from "zod";

/** One complete ("X") event: times in µs from the trace's own origin; `pid`/`tid` as strings. */
export interface TraceEvent {
  name: string;
  pid: string;
  tid: string;
  /** Start, µs. */
  ts: number;
  /** Duration, µs (≥ 0). */
  dur: number;
  args: Record<string, unknown>;
}

/** A GPU the trace describes (`deviceProperties`). */
export interface TraceDevice {
  id: number;
  name: string;
  /** Device memory, bytes, or null when not given. */
  totalGlobalMem: number | null;
}

/** A parsed trace, events by kind (each list sorted by start). */
export interface TorchTrace {
  /** `kineto` (a real torch.profiler export), `legacy` (CPU operators of the autograd profiler) or
   *  `nsys` (an Nsight Systems export, profile/nsys-export.ts). */
  recorder: "kineto" | "legacy" | "nsys";
  devices: TraceDevice[];
  /** Framework operators (`cpu_op`; legacy events). */
  ops: TraceEvent[];
  /** Python frames (`python_function`, with `with_stack`); name `file(line): function`. */
  python: TraceEvent[];
  /** CUDA runtime and driver calls on the host (`cuda_runtime`, `cuda_driver`). */
  runtime: TraceEvent[];
  /** GPU kernels (`kernel`). */
  kernels: TraceEvent[];
  /** GPU copies (`gpu_memcpy`); `args.bytes`, name `Memcpy HtoD (Pageable -> Device)`. */
  copies: TraceEvent[];
  /** GPU memsets (`gpu_memset`). */
  memsets: TraceEvent[];
  /** User annotations (`user_annotation`: `record_function` ranges, DataLoader's `__next__`). */
  annotations: TraceEvent[];
}

/** Thrown when a file is not a PyTorch trace perfloop can read. */
export class TorchTraceError extends Error {
  override name = "TorchTraceError";
}

const eventSchema = z.looseObject({
  ph: z.string().optional(),
  cat: z.string().optional(),
  name: z.string().optional(),
  pid: z.union([z.string(), z.number()]).optional(),
  tid: z.union([z.string(), z.number()]).optional(),
  ts: z.union([z.number(), z.string()]).optional(),
  dur: z.union([z.number(), z.string()]).optional(),
  args: z.record(z.string(), z.unknown()).optional(),
});

const deviceSchema = z.looseObject({
  id: z.number().optional(),
  name: z.string().optional(),
  totalGlobalMem: z.number().optional(),
});

const KIND_OF: Record<string, keyof Omit<TorchTrace, "recorder" | "devices">> = {
  cpu_op: "ops",
  operator: "ops", // torch 1.8's category name
  python_function: "python",
  cuda_runtime: "runtime",
  cuda_driver: "runtime",
  runtime: "runtime", // torch 1.8
  kernel: "kernels",
  Kernel: "kernels",
  gpu_memcpy: "copies",
  Memcpy: "copies",
  gpu_memset: "memsets",
  Memset: "memsets",
  user_annotation: "annotations",
};

const num = (v: number | string | undefined): number => (typeof v === "number" ? v : Number(v));

/**
 * Parses trace JSON text.
 * @param file the trace's name, for messages.
 * @throws TorchTraceError when the text is not JSON, or holds neither `traceEvents` nor an event
 *   array, or no complete event at all.
 */
export function parseTorchTrace(text: string, file: string): TorchTrace {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new TorchTraceError(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const root = Array.isArray(doc) ? { traceEvents: doc } : (doc as Record<string, unknown> | null);
  const raw = root && typeof root === "object" ? root.traceEvents : undefined;
  if (!Array.isArray(raw))
    throw new TorchTraceError(`${file} has no "traceEvents" array: not a torch.profiler trace`);
  const trace = emptyTrace(
    root?.perfloopRecorder === "nsys"
      ? "nsys"
      : root?.perfloopRecorder === "legacy" || Array.isArray(doc)
        ? "legacy"
        : "kineto",
    readDevices(root?.deviceProperties),
  );
  let complete = 0;
  for (const item of raw) {
    const parsed = eventSchema.safeParse(item);
    if (!parsed.success) continue;
    const e = parsed.data;
    if (e.ph !== "X" || typeof e.name !== "string") continue;
    const ts = num(e.ts);
    const dur = num(e.dur ?? 0);
    if (!Number.isFinite(ts) || !Number.isFinite(dur)) continue;
    complete++;
    // The legacy export has no category: every event is a CPU operator.
    const kind = e.cat === undefined ? (e.pid === "CPU functions" ? "ops" : undefined) : KIND_OF[e.cat];
    if (!kind) continue;
    trace[kind].push({
      name: e.name,
      pid: String(e.pid ?? ""),
      tid: String(e.tid ?? ""),
      ts,
      dur: Math.max(0, dur),
      args: e.args ?? {},
    });
  }
  if (complete === 0) throw new TorchTraceError(`${file} holds no complete ("ph": "X") event`);
  for (const list of [
    trace.ops,
    trace.python,
    trace.runtime,
    trace.kernels,
    trace.copies,
    trace.memsets,
    trace.annotations,
  ])
    list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  return trace;
}

function readDevices(value: unknown): TraceDevice[] {
  if (!Array.isArray(value)) return [];
  const out: TraceDevice[] = [];
  for (const item of value) {
    const d = deviceSchema.safeParse(item);
    if (!d.success || d.data.name === undefined) continue;
    out.push({
      id: d.data.id ?? out.length,
      name: d.data.name,
      totalGlobalMem: d.data.totalGlobalMem ?? null,
    });
  }
  return out;
}

/** A trace with no events yet. */
export function emptyTrace(recorder: TorchTrace["recorder"], devices: TraceDevice[]): TorchTrace {
  return {
    recorder,
    devices,
    ops: [],
    python: [],
    runtime: [],
    kernels: [],
    copies: [],
    memsets: [],
    annotations: [],
  };
}

/** The event's end, µs. */
export const endOf = (e: TraceEvent): number => e.ts + e.dur;

/** A numeric arg (`args[key]`) or null. */
export function numberArg(e: TraceEvent, key: string): number | null {
  const v = e.args[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

const CATEGORY: Record<keyof Omit<TorchTrace, "recorder" | "devices">, string> = {
  ops: "cpu_op",
  python: "python_function",
  runtime: "cuda_runtime",
  kernels: "kernel",
  copies: "gpu_memcpy",
  memsets: "gpu_memset",
  annotations: "user_annotation",
};

/**
 * `trace` as Chrome/Perfetto trace JSON in Kineto's layout (the reverse of parseTorchTrace), for
 * keeping a trace read from elsewhere (an nsys export) in the bundle. GPU events go to pid
 * `GPU <device>`, so the viewer shows the device as a track of its own.
 */
export function toChromeTrace(trace: TorchTrace): string {
  const events: unknown[] = [];
  for (const [kind, cat] of Object.entries(CATEGORY) as [keyof typeof CATEGORY, string][]) {
    const gpu = kind === "kernels" || kind === "copies" || kind === "memsets";
    for (const e of trace[kind])
      events.push({
        ph: "X",
        cat,
        name: e.name,
        pid: gpu ? `GPU ${numberArg(e, "device") ?? 0}` : e.pid,
        tid: e.tid,
        ts: e.ts,
        dur: e.dur,
        args: e.args,
      });
  }
  return JSON.stringify({
    schemaVersion: 1,
    perfloopRecorder: trace.recorder,
    deviceProperties: trace.devices.map((d) => ({
      id: d.id,
      name: d.name,
      totalGlobalMem: d.totalGlobalMem,
    })),
    traceEvents: events,
  });
}

/**
 * The key linking GPU work to the host call that launched it: the CUPTI `correlation` id, scoped
 * by `args.process` where a trace holds several processes (an nsys export of torchrun or DDP, whose
 * ids repeat across processes); a Kineto trace is one process. "" when the event has no id.
 */
export function launchKey(e: TraceEvent): string {
  const c = numberArg(e, "correlation");
  if (c === null) return "";
  const p = e.args.process;
  return `${typeof p === "number" ? p : ""}/${c}`;
}

/** The host runtime calls of `trace` by launchKey. */
export function launchIndex(trace: TorchTrace): Map<string, TraceEvent> {
  const out = new Map<string, TraceEvent>();
  for (const r of trace.runtime) {
    const key = launchKey(r);
    if (key) out.set(key, r);
  }
  return out;
}
