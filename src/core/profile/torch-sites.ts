/**
 * Python call sites of trace events: for an operator, a CUDA runtime call or a kernel's launch, the
 * innermost Python function of the repository that was running when it happened. Two sources, as
 * traces carry them: `python_function` events (Kineto with `with_stack`: frames named
 * `file(line): function`, nested on the thread that ran them) and an operator's `args["Call
 * stack"]` (`frame;frame;…`, innermost first: older Kineto traces and perfloop's legacy recorder).
 * Lines are the function's first line, as PyTorch's stack records give them.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { repoPathResolver } from "./hotspots.ts";
import { endOf, type TorchTrace, type TraceEvent } from "./torch-trace.ts";

/** A function of the repository: path relative to its root (POSIX), 1-based line, name. */
export interface CallSite {
  file: string;
  line: number;
  function: string;
}

const FRAME = /^(.*)\((\d+)\): (.+)$/;

/**
 * A frame name (`path/to/file.py(12): function`) as a call site of the repository under `root`, or
 * null for frames outside it (the standard library, site-packages, `<built-in …>`). A relative path
 * is taken from `root` (the benchmark runs there) only when that file exists: some distributions
 * compile their packages with relative file names (Debian's torch: `torch/nn/modules/linear.py`).
 */
export function frameSite(
  frame: string,
  toRepo: (file: string) => string | null,
  root: string,
): CallSite | null {
  const m = FRAME.exec(frame.trim());
  if (!m?.[1] || !m[3]) return null;
  if (m[1].startsWith("<")) return null;
  const absolute = path.resolve(root, m[1]);
  if (!path.isAbsolute(m[1]) && !existsSync(absolute)) return null;
  const file = toRepo(absolute);
  return file === null ? null : { file, line: Number(m[2]), function: m[3] };
}

/** `file:line function`, the way reports name a call site. */
export const siteText = (s: CallSite): string => `${s.file}:${s.line} ${s.function}`;

/**
 * Returns a function giving each event's call site (null when no frame of the repository encloses
 * it). Build once per trace: it indexes the Python frames per thread. Queries for events of a
 * thread with no Python frames fall back to the event's own `Call stack`, then to the enclosing
 * operator's (`opOf`).
 * @param root the profiled tree (repository root).
 */
export function siteResolver(trace: TorchTrace, root: string): (e: TraceEvent) => CallSite | null {
  const toRepo = repoPathResolver(root);
  const frameCache = new Map<string, CallSite | null>();
  const site = (frame: string): CallSite | null => {
    if (!frameCache.has(frame)) frameCache.set(frame, frameSite(frame, toRepo, root));
    return frameCache.get(frame) ?? null;
  };
  const byThread = new Map<string, (e: TraceEvent) => TraceEvent | null>();
  for (const [key, frames] of byThreadOf(trace.python.filter((p) => site(p.name) !== null)))
    byThread.set(key, nestingIndex(frames)); // only the repository's frames can answer
  const fromStack = (e: TraceEvent): CallSite | null => {
    const stack = e.args["Call stack"];
    if (typeof stack !== "string") return null;
    for (const frame of stack.split(";")) {
      const s = site(frame);
      if (s) return s;
    }
    return null;
  };
  return (e) => {
    const inner = byThread.get(`${e.pid}/${e.tid}`)?.(e);
    return inner ? site(inner.name) : fromStack(e);
  };
}

/**
 * An index of one thread's properly nested events (sorted by start, longer first on ties, as
 * parseTorchTrace sorts them): `enclosing(e)` is the innermost event with start ≤ e.ts < end, or
 * null. One stack sweep gives each event its parent; a query is a binary search for the last event
 * starting at or before e.ts, then a climb through parents past those that ended — at most the
 * nesting depth, however many closed siblings lie in between.
 */
export function nestingIndex(events: readonly TraceEvent[]): (e: TraceEvent) => TraceEvent | null {
  const parent = new Int32Array(events.length).fill(-1);
  const stack: number[] = [];
  for (let i = 0; i < events.length; i++) {
    const ev = events[i] as TraceEvent;
    while (stack.length && endOf(events[stack[stack.length - 1] as number] as TraceEvent) <= ev.ts)
      stack.pop();
    parent[i] = stack.length ? (stack[stack.length - 1] as number) : -1;
    stack.push(i);
  }
  return (e) => {
    let lo = 0;
    let hi = events.length - 1;
    let i = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if ((events[mid] as TraceEvent).ts <= e.ts) {
        i = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    while (i >= 0 && endOf(events[i] as TraceEvent) <= e.ts) i = parent[i] as number;
    return i >= 0 ? (events[i] as TraceEvent) : null;
  };
}

/** `events` grouped by thread (`pid/tid`), each group in the order given. */
export function byThreadOf(events: readonly TraceEvent[]): Map<string, TraceEvent[]> {
  const out = new Map<string, TraceEvent[]>();
  for (const e of events) {
    const key = `${e.pid}/${e.tid}`;
    const list = out.get(key);
    if (list) list.push(e);
    else out.set(key, [e]);
  }
  return out;
}
