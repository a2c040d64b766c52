/**
 * One timed run of the benchmark command: the measurement's runner (runner.py) starts it and gives
 * wall, CPU and peak RSS from the kernel; the `/proc` sampler watches its process tree at 10 Hz.
 */
import { compilePattern, lastLineGroup } from "../config/regex.ts";
import type { MetricConfig } from "../config/schema.ts";
import type { Isolation, Mounts } from "../exec/isolation.ts";
import type { CommandResult } from "../exec/run-command.ts";
import type { ProcSample } from "../types.ts";
import { type RunContention, runContention } from "./contention.ts";
import { counterArgv, type InstructionCounter, parseInstructionCount } from "./instructions.ts";
import { startProcSampler } from "./proc-sampler.ts";
import type { BenchRunner } from "./runner.ts";

/** One side of a measurement: a command in a tree with an environment. */
export interface BenchSide {
  /** "A" = the reference (baseline or current best), "B" = the candidate. */
  label: "A" | "B";
  cwd: string;
  env: Record<string, string>;
  command: string;
  /** What the runs see besides the host view; default: `cwd` read-only (a tree under measurement is
   *  never written: README, "Safety"). */
  mounts?: Mounts;
}

/** Everything recorded about one run (goes to `perf_raw.json` as is). */
export interface RunRecord {
  side: "A" | "B";
  /** Position in the measurement's run order, 0-based (warm-ups included). */
  order: number;
  warmup: boolean;
  /** Start of the run since the measurement started, ms. */
  startMs: number;
  wallMs: number;
  userMs: number;
  sysMs: number;
  /** userMs + sysMs of the whole process tree (kernel rusage of waited-for descendants), ms. */
  cpuMs: number;
  /** Largest single-process peak RSS in the tree (ru_maxrss), bytes. */
  maxRssBytes: number;
  majorFaults: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** The program's own metric from stdout, when configured and found. */
  metric: number | null;
  /**
   * Instructions executed by the whole tree (`benchmark.measure: instructions`; perf stat or
   * valgrind, src/core/measure/instructions.ts); null when not counted or the counter said nothing.
   * Its wall and CPU times then include the counter's slowdown (valgrind: 20–100×).
   */
  instructions?: number | null;
  /** sha256 of the whole stdout (computed by the runner), to show the output is deterministic. */
  stdoutSha256: string;
  /** Size of the whole stdout, bytes (what perfloop keeps may be less: `sandbox.output_limit`). */
  stdoutBytes: number;
  /** Where the whole-run numbers came from. */
  accounting: "rusage (wait4)";
  procSamples: ProcSample[];
  /**
   * How contended the CPUs were during this run (run-queue delay of the tree, steal, procs_running,
   * load average; `measure/contention.ts`); null when the sampler was off. Records written before
   * this field existed lack it: readers treat absent as null.
   */
  contention: RunContention | null;
}

/** Settings shared by every run of a measurement. */
export interface RunContext {
  runner: BenchRunner;
  isolation: Isolation;
  /** Aborting kills the current run; `runOnce` then throws CancelledError. */
  signal?: AbortSignal | undefined;
  timeoutMs: number;
  outputLimit: number;
  metric?: MetricConfig | undefined;
  /** Sample the process tree at this interval, ms; 0 turns the sampler off (benchmarks of the sampler). */
  sampleIntervalMs: number;
  /** Count every run's instructions with this counter (`benchmark.measure: instructions`). */
  counter?: InstructionCounter | undefined;
}

/**
 * Runs the side's command once under the rusage wrapper and the sampler.
 * @returns the record and the raw command result (stdout/stderr for logs and the output gate).
 */
export async function runOnce(
  side: BenchSide,
  ctx: RunContext,
  position: { order: number; warmup: boolean; startMs: number },
): Promise<{ record: RunRecord; result: CommandResult }> {
  let sampler: ReturnType<typeof startProcSampler> | undefined;
  const mounts = side.mounts ?? { writable: [], readOnly: [side.cwd] };
  const group = await ctx.isolation.openCgroup();
  const outcome = await ctx.runner
    .run({
      cgroupProcs: group?.procs ?? [],
      argv: ctx.isolation.wrap(
        [...(ctx.counter ? counterArgv(ctx.counter) : []), "sh", "-c", side.command],
        side.cwd,
        mounts,
      ),
      countFd: ctx.counter !== undefined,
      cwd: side.cwd,
      env: ctx.isolation.env(side.env),
      signal: ctx.signal,
      reapAll: ctx.isolation.mode === "bwrap",
      timeoutMs: ctx.timeoutMs,
      outputLimit: ctx.outputLimit,
      onStart: (pid) => {
        if (ctx.sampleIntervalMs > 0) sampler = startProcSampler(pid, { intervalMs: ctx.sampleIntervalMs });
      },
    })
    .finally(() => group?.dispose());
  const procSamples = sampler ? await sampler.stop() : [];
  const { accounting } = outcome;
  const record: RunRecord = {
    side: side.label,
    ...position,
    wallMs: accounting.wallMs,
    userMs: accounting.userMs,
    sysMs: accounting.sysMs,
    cpuMs: accounting.userMs + accounting.sysMs,
    maxRssBytes: accounting.maxRssBytes,
    majorFaults: accounting.majorFaults,
    exitCode: accounting.exitCode,
    signal: accounting.signal,
    timedOut: outcome.timedOut,
    metric: ctx.metric ? readMetric(outcome.stdout, ctx.metric.pattern) : null,
    ...(ctx.counter
      ? {
          instructions:
            outcome.count && !outcome.count.truncated
              ? parseInstructionCount(ctx.counter.tool, outcome.count.text)
              : null,
        }
      : {}),
    stdoutSha256: accounting.stdoutSha256,
    stdoutBytes: accounting.stdoutBytes,
    accounting: "rusage (wait4)",
    procSamples,
    contention: sampler
      ? runContention(procSamples, accounting.wallMs, accounting.userMs + accounting.sysMs)
      : null,
  };
  const result: CommandResult = {
    command: side.command,
    cwd: side.cwd,
    exitCode: accounting.exitCode,
    signal: accounting.signal,
    timedOut: outcome.timedOut,
    durationMs: accounting.wallMs,
    stdout: outcome.stdout,
    stderr: outcome.stderr,
    truncated: outcome.truncated,
  };
  return { record, result };
}

/**
 * The program metric: the first capture group of the LAST stdout line matching `pattern` whose group
 * is a finite number (Number.parseFloat). `pattern` is RE2 (src/core/config/regex.ts): it comes from
 * the config, so it runs in linear time whatever the program prints.
 * @returns null when no line matches with a number, or the pattern does not compile.
 */
export function readMetric(stdout: string, pattern: string): number | null {
  let regex: ReturnType<typeof compilePattern>;
  try {
    regex = compilePattern(pattern);
  } catch {
    return null; // the schema refuses such a pattern (config/keys.ts); nothing to read
  }
  const group = lastLineGroup(stdout, regex, (g) => Number.isFinite(Number.parseFloat(g)));
  return group === null ? null : Number.parseFloat(group);
}
