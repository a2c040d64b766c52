/**
 * `profile.tool: nsys` (README, "GPU programs"): the trace run under Nsight Systems instead of
 * perfloop's torch hook, for any CUDA program. The benchmark runs once more, in the sandbox, as
 * `nsys profile --trace=cuda,nvtx --sample=none --cpuctxsw=none --export=sqlite -o <dir>/perfloop
 * sh -c '<benchmark>'`; the SQLite export is read by profile/nsys-export.ts and gives the same facts
 * and rules as a PyTorch trace (without operators or Python lines). The bundle keeps the trace
 * converted to Chrome/Perfetto JSON (the `.nsys-rep` and `.sqlite` are binary: not kept) and
 * `torch_facts.json`. `nsys` must be on the runner's PATH under a directory the sandbox shows
 * (docs/sandbox.md); a missing nsys or export costs the trace with a note, never the run.
 */

import { stat } from "node:fs/promises";
import path from "node:path";
import { shellQuote } from "../exec/shell-quote.ts";
import { readNsysExport } from "../profile/nsys-export.ts";
import { type TorchFacts, torchFacts } from "../profile/torch-facts.ts";
import { toChromeTrace } from "../profile/torch-trace.ts";
import type { LoopContext } from "./context.ts";
import { boundedTrace } from "./torch-trace-run.ts";
import { traceRun } from "./trace-run.ts";

/** The nsys command line that profiles `benchmark` into `<dir>/perfloop.sqlite`. */
export function nsysCommand(benchmark: string, dir: string): string {
  return [
    "nsys profile --trace=cuda,nvtx --sample=none --cpuctxsw=none --export=sqlite --force-overwrite=true",
    `-o ${shellQuote(path.join(dir, "perfloop"))}`,
    `sh -c ${shellQuote(benchmark)}`,
  ].join(" ");
}

/**
 * Records and reads an Nsight Systems trace of the benchmark in `tree`; writes
 * `<folder>/nsys-trace.log`, `<folder>/nsys.trace.json` and `<folder>/torch_facts.json`.
 * @throws CancelledError when the run is stopped.
 */
export async function traceNsys(
  ctx: LoopContext,
  tree: string,
  folder: string,
  env: Record<string, string> = {},
): Promise<TorchFacts | null> {
  const log = `${folder}/nsys-trace.log`;
  return traceRun(ctx, tree, folder, env, {
    name: "Nsight Systems trace",
    detail: "nsys profile in a run of its own",
    log,
    command: (dir) => nsysCommand(ctx.config.benchmark.command, dir),
    env: (_dir, base) => base,
    read: async (dir, result) => {
      const exported = path.join(dir, "perfloop.sqlite");
      if (!(await stat(exported).catch(() => null))) {
        ctx.emit({
          type: "note",
          message:
            result.exitCode === 127
              ? "profile.tool is nsys, but nsys is not on the runner's PATH (install Nsight Systems, or set profile.tool: torch)"
              : `nsys wrote no SQLite export (see ${log})`,
        });
        return null;
      }
      const trace = await readNsysExport(exported);
      const kept = `${folder}/nsys.trace.json`;
      await ctx.evidence.text(kept, boundedTrace(toChromeTrace(trace)));
      return torchFacts(trace, tree, kept);
    },
  });
}
