/**
 * The PyTorch trace run (README, "GPU programs"): when the profiling run saw a Python process import
 * torch (and `profile.torch` is `auto`), the benchmark runs once more, in the sandbox, with
 * `torch.profiler` on and cProfile off (profile/python/_perfloop_torch.py says why), never as one of
 * the timed runs. The trace goes to the bundle as a Chrome/Perfetto trace JSON (open it in
 * https://ui.perfetto.dev or chrome://tracing), its facts to `torch_facts.json`; the facts feed the
 * GPU rules (analyze/torch-rules.ts).
 *
 * Bounds: a trace file over TRACE_READ is not read (a note names profile.torch_step, the fix); a
 * trace over MAX_KEPT_TRACE_BYTES is kept cut to its first events by time (a valid trace, marked
 * `perfloopNote`), under the bundle's 4 MiB text ceiling; the facts are always computed from the
 * whole trace. At most MAX_TRACES processes' traces are kept (the largest); the facts are those of
 * the process with the most events. A trace that cannot be read costs itself, not the others.
 */
import { readdir } from "node:fs/promises";
import { readInside } from "../fs/inside.ts";
import { SITECUSTOMIZE_DIR, torchTraceEnv } from "../profile/python.ts";
import { type TorchFacts, torchFacts } from "../profile/torch-facts.ts";
import { parseTorchTrace } from "../profile/torch-trace.ts";
import type { LoopContext } from "./context.ts";
import { traceRun } from "./trace-run.ts";

/** A kept trace is cut above this many bytes (3.5 MiB, under the 4 MiB text ceiling of cap.ts). */
export const MAX_KEPT_TRACE_BYTES = 3.5 * 2 ** 20;
/**
 * A trace file larger than this is not read, bytes (128 MiB): it is parsed whole, and a Kineto trace
 * takes several times its size in memory. Bound the window with profile.torch_step instead.
 */
export const TRACE_READ = { maxBytes: 128 * 2 ** 20 } as const;
/** At most this many processes' traces are kept. */
export const MAX_TRACES = 4;

/**
 * Records and reads the PyTorch trace of the benchmark in `tree`; writes `<folder>/torch-trace.log`,
 * `<folder>/torch-<pid>.pt.trace.json` and `<folder>/torch_facts.json`. A failure costs the trace
 * (null and a note), never the run.
 * @param env environment additions of the tree's state (accepted env knobs).
 * @throws CancelledError when the run is stopped.
 */
export async function traceTorch(
  ctx: LoopContext,
  tree: string,
  folder: string,
  env: Record<string, string> = {},
): Promise<TorchFacts | null> {
  const log = `${folder}/torch-trace.log`;
  return traceRun(ctx, tree, folder, env, {
    name: "PyTorch trace",
    detail: "torch.profiler in a run of its own (cProfile off)",
    log,
    command: () => ctx.config.benchmark.command,
    env: (dir, base) => torchTraceEnv(base, dir, ctx.config.profile),
    readOnly: [SITECUSTOMIZE_DIR],
    read: async (dir) => {
      const names = (await readdir(dir)).filter((n) => /^torch-\d+(-\d+)?\.json$/.test(n));
      if (names.length === 0) {
        note(ctx, `the PyTorch trace run wrote no trace (see ${log})`);
        return null;
      }
      // Each file alone: one broken trace (a killed child's) costs that trace, not the others. The
      // text is dropped after reading and read again for the few kept: one in memory at a time.
      const read: { name: string; kept: string; size: number; facts: TorchFacts }[] = [];
      for (const name of names) {
        const kept = `${folder}/${name.replace(/\.json$/, ".pt.trace.json")}`;
        try {
          const trace = parseTorchTrace((await readInside(dir, name, TRACE_READ)) ?? "", name);
          const size = trace.ops.length + trace.kernels.length + trace.runtime.length;
          read.push({ name, kept, size, facts: torchFacts(trace, tree, kept) });
        } catch (error) {
          note(ctx, `PyTorch trace ${name} left out: ${(error as Error).message}${stepHint(ctx)}`);
        }
      }
      read.sort((a, b) => b.size - a.size);
      for (const r of read.slice(0, MAX_TRACES))
        await ctx.evidence.text(r.kept, boundedTrace((await readInside(dir, r.name, TRACE_READ)) ?? ""));
      if (read.length > MAX_TRACES)
        note(
          ctx,
          `${read.length - MAX_TRACES} of ${read.length} PyTorch traces (the smallest) are not in ${folder}/`,
        );
      return read[0]?.facts ?? null;
    },
  });
}

/** The fix for a trace too large to read, unless a step window is already set. */
function stepHint(ctx: LoopContext): string {
  return ctx.config.profile.torch_step
    ? ""
    : " (a long run makes a large trace: name the program's step function in profile.torch_step to trace a window of steps)";
}

function note(ctx: LoopContext, message: string): void {
  ctx.emit({ type: "note", message });
}

/**
 * `text` when it fits MAX_KEPT_TRACE_BYTES; else the same trace with its complete events cut to the
 * earliest that fit (metadata events kept), marked with `perfloopNote` saying how many were kept
 * and up to when. Always valid JSON when `text` is.
 */
export function boundedTrace(text: string): string {
  if (Buffer.byteLength(text) <= MAX_KEPT_TRACE_BYTES) return text;
  const doc = JSON.parse(text) as Record<string, unknown> | unknown[];
  const root: Record<string, unknown> = Array.isArray(doc) ? { traceEvents: doc } : doc;
  const events = Array.isArray(root.traceEvents) ? (root.traceEvents as Record<string, unknown>[]) : [];
  const ts = (e: Record<string, unknown>): number =>
    typeof e.ts === "number" ? e.ts : Number.NEGATIVE_INFINITY;
  const sorted = [...events].sort((a, b) => ts(a) - ts(b));
  const { traceEvents: _, ...rest } = root;
  let budget = MAX_KEPT_TRACE_BYTES - Buffer.byteLength(JSON.stringify(rest)) - 512;
  const kept: Record<string, unknown>[] = [];
  for (const e of sorted) {
    const size = Buffer.byteLength(JSON.stringify(e)) + 1;
    if (size > budget) break;
    budget -= size;
    kept.push(e);
  }
  const until = kept.length ? ts(kept[kept.length - 1] as Record<string, unknown>) : 0;
  const first = sorted.find((e) => Number.isFinite(ts(e)));
  const span = first ? (until - ts(first)) / 1000 : 0;
  return JSON.stringify({
    ...rest,
    perfloopNote: `cut to fit the bundle: ${kept.length} of ${events.length} events, the first ${span.toFixed(1)} ms; perfloop's facts (torch_facts.json) are of the whole trace`,
    traceEvents: kept,
  });
}
