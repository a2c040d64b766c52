/**
 * The frame of a trace run (torch-trace-run.ts, nsys-run.ts): the benchmark once more in `tree`, in
 * the sandbox with the tree read-only and a temporary folder writable for the trace, 3 ×
 * `timeouts.benchmark` (tracers slow programs down), its log in the bundle, the trace read into
 * facts, written to `<folder>/torch_facts.json`. Never one of the timed runs. A failure costs the
 * trace (null, a note and an audit line), never the run; the folder is removed whatever happens.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CancelledError } from "../exec/cancel.ts";
import type { CommandResult } from "../exec/run-command.ts";
import type { TorchFacts } from "../profile/torch-facts.ts";
import { commandLog, type LoopContext, runInTree } from "./context.ts";

/** What differs between trace runs. */
export interface TraceRunSpec {
  /** The tracer's name in the phase, notes and audit log (e.g. "PyTorch trace"). */
  name: string;
  /** The phase's detail line. */
  detail: string;
  /** The run's log, bundle-relative. */
  log: string;
  /** The command line, given the trace folder. */
  command: (dir: string) => string;
  /** The environment, given the trace folder and the tree's environment. */
  env: (dir: string, base: Record<string, string>) => Record<string, string>;
  /** Host paths the run must see read-only (the tracer's hook). */
  readOnly?: string[];
  /** Reads the trace folder after the run: the facts (already kept in the bundle), or null. */
  read: (dir: string, result: CommandResult) => Promise<TorchFacts | null>;
}

/**
 * Runs `spec` on `tree` and writes `<folder>/torch_facts.json` from what `spec.read` returns.
 * @param env environment additions of the tree's state (accepted env knobs).
 * @throws CancelledError when the run is stopped.
 */
export async function traceRun(
  ctx: LoopContext,
  tree: string,
  folder: string,
  env: Record<string, string>,
  spec: TraceRunSpec,
): Promise<TorchFacts | null> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "perfloop-trace-"));
  try {
    ctx.emit({ type: "phase", phase: spec.name, detail: spec.detail });
    const result = await runInTree(ctx, spec.command(dir), tree, {
      env: spec.env(dir, { ...ctx.baseEnv, ...env }),
      access: "ro",
      timeoutMs: ctx.config.timeouts.benchmark * 1000 * 3,
      extra: { writable: [dir], readOnly: spec.readOnly ?? [] },
    });
    await ctx.evidence.text(spec.log, commandLog(result));
    const facts = await spec.read(dir, result);
    if (facts) await ctx.evidence.json(`${folder}/torch_facts.json`, facts);
    return facts;
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    ctx.emit({ type: "note", message: `the ${spec.name} failed: ${(error as Error).message}` });
    await ctx.evidence.audit(`${spec.name} failed`, (error as Error).message);
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
