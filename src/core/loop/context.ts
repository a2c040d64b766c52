/**
 * What every step of the loop shares, and the one way user commands (setup, tests, benchmark runs)
 * are started: sandboxed, timed out, logged to the evidence.
 */
import path from "node:path";
import type { Config } from "../config/schema.ts";
import { capText, STREAM_CEILING_BYTES } from "../evidence/cap.ts";
import type { EvidenceWriter } from "../evidence/writer.ts";
import type { Isolation, Mounts } from "../exec/isolation.ts";
import type { Lock } from "../exec/lock.ts";
import { type CommandResult, describeOutcome, runCommand } from "../exec/run-command.ts";
import type { ChangedLines } from "../focus/changed-lines.ts";
import type { InstructionCounter } from "../measure/instructions.ts";
import { type Measurement, measure } from "../measure/protocol.ts";
import type { BenchSide } from "../measure/run-once.ts";
import type { PatchPolicy } from "../patch/policy.ts";
import { treeDigest } from "../sandbox/tree-digest.ts";
import type { LoopEventHandler } from "./events.ts";
import { DEPENDENCY_DIRS, dependencyBinds, type Workspace } from "./workspace.ts";

/** Shared state of one perfloop run. */
export interface LoopContext {
  config: Config;
  /** The user's directory (never written by the loop). */
  repoDir: string;
  /** The config file's path relative to repoDir (protected by the patch policy). */
  configPath: string;
  workspace: Workspace;
  evidence: EvidenceWriter;
  isolation: Isolation;
  /** The allow-listed environment every user command starts from. */
  baseEnv: Record<string, string>;
  emit: LoopEventHandler;
  /** Epoch ms after which no new round starts (timeouts.total). */
  deadline: number;
  /** Seed of the bootstrap, recorded so the CIs can be recomputed exactly. */
  seed: number;
  /** Aborted on SIGINT/SIGTERM or at `timeouts.total`: every command's sandbox is killed. */
  signal?: AbortSignal | undefined;
  /** Measurements that ended early (a failing or hanging run, a stop), with the runs they had:
   *  written to perf_raw.json as `incomplete`, so no measured run is lost. */
  incomplete: Array<{ label: string; reason: string; measurement: Measurement }>;
  /** The instruction counter of `benchmark.measure: instructions`, probed at the start. */
  counter?: InstructionCounter | undefined;
  /**
   * Runs `task` when no other exclusive task runs (src/core/exec/lock.ts): every command of the
   * agents' sessions goes through it, so concurrent sessions never measure or test at once.
   */
  exclusive: Lock;
  /** The pull request's changed lines, when the run belongs to one (src/core/loop/focus.ts). */
  changedLines?: ChangedLines | undefined;
}

/** The patch policy of this run's config (src/core/patch/policy.ts). */
export function patchPolicyOf(ctx: LoopContext): PatchPolicy {
  return {
    paths: ctx.config.paths,
    protect: ctx.config.protect,
    maxFiles: ctx.config.limits.max_files,
    maxChangedLines: ctx.config.limits.max_changed_lines,
    maxFileBytes: ctx.config.limits.max_file_bytes,
    benchmarkFiles: ctx.config.benchmark.files,
    configPath: ctx.configPath,
  };
}

/** What a command in `tree` sees: the tree (read-write or read-only) and the dependency folders. */
export function mountsFor(
  ctx: LoopContext,
  tree: string,
  access: "rw" | "ro",
  extra: Partial<Mounts> = {},
): Mounts {
  return {
    writable: [...(access === "rw" ? [tree] : []), ...(extra.writable ?? [])],
    readOnly: [...(access === "ro" ? [tree] : []), ...(extra.readOnly ?? [])],
    binds: [...dependencyBinds(ctx.workspace, tree), ...(extra.binds ?? [])],
  };
}

/**
 * Runs the config's `setup` or `test` command in `cwd` and writes `logName` into the evidence.
 * @returns the command result; never throws for a failing command.
 */
export async function runStep(
  ctx: LoopContext,
  step: "setup" | "test",
  cwd: string,
  env: Record<string, string>,
  logName: string,
): Promise<CommandResult> {
  const command = ctx.config[step] ?? "true";
  await ctx.evidence.audit(`run ${step}`, `${command} (in ${path.basename(cwd)})`);
  const result = await runInTree(ctx, command, cwd, {
    env,
    access: "rw",
    timeoutMs: ctx.config.timeouts[step] * 1000,
  });
  await ctx.evidence.text(logName, commandLog(result));
  await ctx.evidence.audit(`${step} finished`, describeOutcome(result));
  return result;
}

/**
 * Runs one user command in `tree` the one way the loop runs them: in the run's sandbox, with the
 * run's output cap and stop signal, the tree read-write (set-up, tests) or read-only (the
 * benchmark, as in the timed runs), the dependency folders bound, plus `extra` mounts (a profile or
 * capture folder).
 * @param env the whole environment (start from `ctx.baseEnv`).
 * @returns the result; a failing command is a result, not an exception.
 * @throws CancelledError when the run is stopped.
 */
export function runInTree(
  ctx: LoopContext,
  command: string,
  tree: string,
  opts: { env: Record<string, string>; access: "rw" | "ro"; timeoutMs: number; extra?: Partial<Mounts> },
): Promise<CommandResult> {
  return runCommand(command, {
    cwd: tree,
    env: opts.env,
    timeoutMs: opts.timeoutMs,
    outputLimit: ctx.config.sandbox.output_limit,
    isolation: ctx.isolation,
    mounts: mountsFor(ctx, tree, opts.access, opts.extra),
    signal: ctx.signal,
  });
}

/**
 * The text of a command log: the command, how it ended, then both streams, each cut to at most
 * `STREAM_CEILING_BYTES` (1 MiB, src/core/evidence/cap.ts) whatever `sandbox.output_limit` allowed.
 */
export function commandLog(result: CommandResult): string {
  const stdout = capText(result.stdout, STREAM_CEILING_BYTES);
  const stderr = capText(result.stderr, STREAM_CEILING_BYTES);
  const cut = result.truncated || stdout !== result.stdout || stderr !== result.stderr;
  return [
    `$ ${result.command}`,
    `# ${describeOutcome(result)} in ${(result.durationMs / 1000).toFixed(2)} s${cut ? " (output truncated)" : ""}`,
    "## stdout",
    stdout,
    "## stderr",
    stderr,
  ].join("\n");
}

/** A tree under measurement changed while it was measured: the measurement cannot be trusted. */
export class TreeChangedError extends Error {
  override name = "TreeChangedError";
}

/**
 * Measures one or two sides with the config's repetitions (or `repetitions`: the quick screens),
 * emitting a progress event per run. The
 * sides' trees are mounted read-only, and their digests are compared before and after, so a
 * measurement of a tree that changed (possible only without a sandbox) is never used.
 * @throws MeasurementError when a run fails (see protocol.ts); TreeChangedError when a tree changed;
 *   CancelledError (MeasurementStoppedError) when the run was stopped.
 */
export async function measureSides(
  ctx: LoopContext,
  sides: [BenchSide] | [BenchSide, BenchSide],
  label: string,
  repetitions: { warmup: number; runs: number } = ctx.config.repetitions,
): Promise<Measurement> {
  const trees = [...new Set(sides.map((s) => s.cwd))];
  const digest = (tree: string) => treeDigest(tree, { metadataOnly: DEPENDENCY_DIRS });
  const before = await Promise.all(trees.map(digest));
  const measurement = await measureOnce(ctx, sides, label, repetitions).catch((error: unknown) => {
    const partial = (error as { partial?: Measurement | null }).partial;
    if (partial) ctx.incomplete.push({ label, reason: (error as Error).message, measurement: partial });
    throw error;
  });
  const after = await Promise.all(trees.map(digest));
  const changed = trees.filter((_, i) => before[i] !== after[i]);
  if (changed.length > 0) {
    await ctx.evidence.audit("tree changed", `${label}: ${changed.join(", ")}`);
    throw new TreeChangedError(
      `${changed.map((t) => path.basename(t)).join(" and ")} changed during the ${label} measurement (its files' digest differs before and after), so its timings are not used`,
    );
  }
  return measurement;
}

function measureOnce(
  ctx: LoopContext,
  sides: [BenchSide] | [BenchSide, BenchSide],
  label: string,
  repetitions: { warmup: number; runs: number },
): Promise<Measurement> {
  return measure(sides, {
    warmup: repetitions.warmup,
    runs: repetitions.runs,
    isolation: ctx.isolation,
    signal: ctx.signal,
    counter: ctx.counter,
    timeoutMs: ctx.config.timeouts.benchmark * 1000,
    outputLimit: ctx.config.sandbox.output_limit,
    metric: ctx.config.benchmark.metric,
    sampleIntervalMs: 100,
    onRun: (record, done, total) => ctx.emit({ type: "run", label, done, total, wallMs: record.wallMs }),
  });
}

/** A benchmark side for a tree and an environment. */
export function side(
  ctx: LoopContext,
  label: "A" | "B",
  cwd: string,
  env: Record<string, string>,
): BenchSide {
  return {
    label,
    cwd,
    env: { ...ctx.baseEnv, ...env },
    command: ctx.config.benchmark.command,
    mounts: mountsFor(ctx, cwd, "ro"),
  };
}
