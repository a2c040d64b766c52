/**
 * What every step of the loop shares, and the one way user commands (setup, tests, benchmark runs)
 * are started: sandboxed, timed out, logged to the evidence.
 */
import path from "node:path";
import type { Config } from "../config/schema.ts";
import type { EvidenceWriter } from "../evidence/writer.ts";
import type { Isolation } from "../exec/isolation.ts";
import { type CommandResult, describeOutcome, runCommand } from "../exec/run-command.ts";
import { type Measurement, measure } from "../measure/protocol.ts";
import type { BenchSide } from "../measure/run-once.ts";
import type { LoopEventHandler } from "./events.ts";
import type { Workspace } from "./workspace.ts";

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
  const result = await runCommand(command, {
    cwd,
    env,
    timeoutMs: ctx.config.timeouts[step] * 1000,
    outputLimit: ctx.config.sandbox.output_limit,
    isolation: ctx.isolation,
  });
  await ctx.evidence.text(logName, commandLog(result));
  await ctx.evidence.audit(`${step} finished`, describeOutcome(result));
  return result;
}

/** The text of a command log: the command, how it ended, then both streams. */
export function commandLog(result: CommandResult): string {
  return [
    `$ ${result.command}`,
    `# ${describeOutcome(result)} in ${(result.durationMs / 1000).toFixed(2)} s${result.truncated ? " (output truncated)" : ""}`,
    "## stdout",
    result.stdout,
    "## stderr",
    result.stderr,
  ].join("\n");
}

/**
 * Measures one or two sides with the config's repetitions, emitting a progress event per run.
 * @throws MeasurementError when a run fails (see protocol.ts).
 */
export function measureSides(
  ctx: LoopContext,
  sides: [BenchSide] | [BenchSide, BenchSide],
  label: string,
): Promise<Measurement> {
  return measure(sides, {
    warmup: ctx.config.repetitions.warmup,
    runs: ctx.config.repetitions.runs,
    isolation: ctx.isolation,
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
  return { label, cwd, env: { ...ctx.baseEnv, ...env }, command: ctx.config.benchmark.command };
}
