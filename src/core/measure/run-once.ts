/**
 * One timed run of the benchmark command: the rusage wrapper gives wall, CPU and peak RSS from the
 * kernel; the `/proc` sampler watches the process tree at 10 Hz while it runs.
 */
import { createHash } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { MetricConfig } from "../config/schema.ts";
import type { Isolation } from "../exec/isolation.ts";
import { type CommandResult, runCommand } from "../exec/run-command.ts";
import type { ProcSample } from "../types.ts";
import { startProcSampler } from "./proc-sampler.ts";

const RUSAGE_WRAPPER = fileURLToPath(new URL("./rusage.py", import.meta.url));

let python: Promise<string> | undefined;

/**
 * The real python3 executable, resolved once: version-manager shims (pyenv, asdf) are shell scripts
 * that cost ~130 ms per start, which would be paid on every run. Falls back to "python3".
 */
export function resolvePython(): Promise<string> {
  python ??= execa("python3", ["-c", "import sys; print(sys.executable)"], {
    reject: false,
    timeout: 10_000,
  }).then((r) => (r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : "python3"));
  return python;
}

/** One side of a measurement: a command in a tree with an environment. */
export interface BenchSide {
  /** "A" = the reference (baseline or current best), "B" = the candidate. */
  label: "A" | "B";
  cwd: string;
  env: Record<string, string>;
  command: string;
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
  /** sha256 of stdout, to show the output is deterministic. */
  stdoutSha256: string;
  /** Where the whole-run numbers came from. */
  accounting: "rusage (wait4)" | "perfloop wall clock only";
  procSamples: ProcSample[];
}

/** Settings shared by every run of a measurement. */
export interface RunContext {
  isolation: Isolation;
  timeoutMs: number;
  outputLimit: number;
  metric?: MetricConfig | undefined;
  /** Sample the process tree at this interval, ms; 0 turns the sampler off (benchmarks of the sampler). */
  sampleIntervalMs: number;
  /** A scratch directory for the wrapper's output files. */
  scratchDir: string;
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
  const accountingFile = path.join(ctx.scratchDir, `run-${position.order}.json`);
  let sampler: ReturnType<typeof startProcSampler> | undefined;
  const result = await runCommand(side.command, {
    cwd: side.cwd,
    env: side.env,
    timeoutMs: ctx.timeoutMs,
    outputLimit: ctx.outputLimit,
    isolation: ctx.isolation,
    // -S -E: the wrapper needs only the standard library and must not run the user's site hooks.
    wrapper: [await resolvePython(), "-S", "-E", RUSAGE_WRAPPER, accountingFile, "--"],
    onSpawn: (pid) => {
      if (ctx.sampleIntervalMs > 0) sampler = startProcSampler(pid, { intervalMs: ctx.sampleIntervalMs });
    },
  });
  const procSamples = sampler ? await sampler.stop() : [];
  const accounting = await readAccounting(accountingFile);
  const record: RunRecord = {
    side: side.label,
    ...position,
    wallMs: accounting?.wallMs ?? result.durationMs,
    userMs: accounting?.userMs ?? 0,
    sysMs: accounting?.sysMs ?? 0,
    cpuMs: (accounting?.userMs ?? 0) + (accounting?.sysMs ?? 0),
    maxRssBytes: accounting?.maxRssBytes ?? Math.max(0, ...procSamples.map((s) => s.rssBytes)),
    majorFaults: accounting?.majorFaults ?? 0,
    exitCode: accounting ? accounting.exitCode : result.exitCode,
    signal: accounting ? accounting.signal : result.signal,
    timedOut: result.timedOut,
    metric: ctx.metric ? readMetric(result.stdout, ctx.metric.pattern) : null,
    stdoutSha256: createHash("sha256").update(result.stdout).digest("hex"),
    accounting: accounting ? "rusage (wait4)" : "perfloop wall clock only",
    procSamples,
  };
  return { record, result };
}

/**
 * The program metric: the first capture group of the LAST stdout line matching `pattern`.
 * @returns null when no line matches or the capture is not a number.
 */
export function readMetric(stdout: string, pattern: string): number | null {
  const regex = new RegExp(pattern);
  let value: number | null = null;
  for (const line of stdout.split("\n")) {
    const match = regex.exec(line);
    if (match?.[1] !== undefined) {
      const parsed = Number.parseFloat(match[1]);
      if (Number.isFinite(parsed)) value = parsed;
    }
  }
  return value;
}

interface Accounting {
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssBytes: number;
  majorFaults: number;
  exitCode: number | null;
  signal: string | null;
}

async function readAccounting(file: string): Promise<Accounting | null> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Accounting;
    await rm(file, { force: true });
    return parsed;
  } catch {
    return null; // killed before the wrapper wrote it (timeout) or python3 missing
  }
}
