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
  const byThread = new Map<string, TraceEvent[]>();
  for (const p of trace.python) {
    if (site(p.name) === null) continue; // only the repository's frames can answer
    const key = `${p.pid}/${p.tid}`;
    const list = byThread.get(key) ?? [];
    list.push(p);
    byThread.set(key, list);
  }
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
    const frames = byThread.get(`${e.pid}/${e.tid}`);
    if (frames) {
      const inner = innermostEnclosing(frames, e);
      if (inner) return site(inner.name);
    }
    return fromStack(e);
  };
}

/**
 * The innermost of `frames` (sorted by start; properly nested, as one thread's frames are) that
 * encloses `e`'s start: the latest-starting frame with start ≤ e.ts < end, found by binary search
 * for the last frame starting at or before e.ts and walking back over the frames that ended.
 * Walks at most the nesting depth plus the closed siblings in between.
 */
export function innermostEnclosing(frames: readonly TraceEvent[], e: TraceEvent): TraceEvent | null {
  let lo = 0;
  let hi = frames.length - 1;
  let last = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((frames[mid] as TraceEvent).ts <= e.ts) {
      last = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  for (let i = last, walked = 0; i >= 0 && walked < 10_000; i--, walked++) {
    const f = frames[i] as TraceEvent;
    if (endOf(f) >= e.ts) return f;
  }
  return null;
}
