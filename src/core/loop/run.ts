/**
 * `runPerfloop`: the whole loop of DESIGN.md, orchestrated. It only sequences the steps; each step
 * lives in its own module. Whatever happens, the bundle ends with a results.json (status "error" and
 * the message when perfloop itself failed) and the user's tree is untouched unless `apply` is set
 * and the improvement was verified. In optimize mode the run's memory (docs/memory.md) is opened after
 * the baseline, feeds the rounds, and is told the results at the end; it never fails the run.
 */
import type OpenAI from "openai";
import { CONFIG_PATH } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import type { Results, ResultsRequest } from "../evidence/results-schema.ts";
import { createEvidenceWriter } from "../evidence/writer.ts";
import { buildChildEnv } from "../exec/env.ts";
import { resolveIsolation } from "../exec/isolation.ts";
import { collectEnvSnapshot } from "../measure/env-snapshot.ts";
import { memoryForRun } from "../memory/for-run.ts";
import { type MemorySession, resolveStorePath } from "../memory/session.ts";
import { prepareBaseline } from "./baseline.ts";
import type { LoopContext } from "./context.ts";
import type { LoopEventHandler } from "./events.ts";
import { finish } from "./finish.ts";
import { newRecordings } from "./recordings.ts";
import { optimizeRounds } from "./rounds.ts";
import { createWorkspace, disposeWorkspace, type Workspace } from "./workspace.ts";

/** What to run. */
export interface PerfloopOptions {
  /** The directory to optimize (holds the code, the tests, the benchmark). */
  repoDir: string;
  /** The evidence bundle directory. */
  outDir: string;
  mode: "optimize" | "profile";
  config: Config;
  /** Who asked (the App and the Action fill this in; the CLI leaves the default). */
  request?: ResultsRequest;
  /** An OpenAI-compatible client; null = no model, knob tuning only. */
  model: OpenAI | null;
  onEvent?: LoopEventHandler;
  /** Bootstrap seed (recorded in results for exact recomputation). Default 1. */
  seed?: number;
  /** Write the verified best state back into repoDir. Default false: only final.patch is written. */
  apply?: boolean;
  /** Where the config was read from, relative to repoDir (candidates may never edit it). Default
   *  `.github/perfloop.yml`. */
  configPath?: string;
  /** The parent environment the allow-list is applied to. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The memory store file, overriding the config's `memory.path` (the CLI's `--memory`; the Action
   * points it into the runner's cache). Relative paths are resolved against `repoDir`.
   */
  memoryPath?: string;
}

/**
 * Runs the loop and writes the evidence bundle into `outDir`.
 * @returns the validated results (also written as results.json).
 * @throws only when the bundle directory itself cannot be written; every other failure is recorded
 *   in results.json with status "error" and returned.
 */
export async function runPerfloop(options: PerfloopOptions): Promise<Results> {
  const startedAt = new Date();
  const emit: LoopEventHandler = options.onEvent ?? (() => undefined);
  const evidence = await createEvidenceWriter(options.outDir);
  await evidence.audit("start", `${options.mode} ${options.repoDir}`);
  const recordings = newRecordings();

  emit({ type: "phase", phase: "environment", detail: "snapshot of CPU, memory, OS and GPUs" });
  const [snapshot, isolation] = await Promise.all([
    collectEnvSnapshot(),
    resolveIsolation(options.config.sandbox.network),
  ]);
  await evidence.json("env_snapshot.json", { ...snapshot, isolation: isolation.description });
  const done = { options, startedAt, recordings, environment: snapshot.summary };
  if (!isolation.networkOff && options.config.sandbox.network === "off")
    emit({ type: "note", message: isolation.description });

  const memoryConfig = options.config.memory;
  const storeFile = memoryConfig.enabled
    ? resolveStorePath(memoryConfig, options.repoDir, options.memoryPath)
    : null;
  // The store (and SQLite's side files) is never copied into the trees candidates are built in.
  const storeFiles = storeFile ? ["", "-journal", "-wal", "-shm"].map((s) => storeFile + s) : [];
  const baseCtx = {
    config: options.config,
    repoDir: options.repoDir,
    configPath: options.configPath ?? CONFIG_PATH,
    evidence,
    isolation,
    baseEnv: buildChildEnv(options.env ?? process.env, options.config.sandbox.env),
    emit,
    deadline: startedAt.getTime() + options.config.timeouts.total * 1000,
    seed: options.seed ?? 1,
  };
  let workspace: Workspace;
  try {
    workspace = await createWorkspace(options.repoDir, [options.outDir, ...storeFiles]);
  } catch (error) {
    // No scratch copy, no run: say why in results.json (the user's tree was only read).
    const none = { root: "", baseline: options.repoDir, best: options.repoDir };
    await evidence.audit("error", (error as Error).stack ?? String(error));
    return await finish(
      { ...baseCtx, workspace: none },
      {
        ...done,
        status: "error",
        message: `cannot copy ${options.repoDir} into a scratch workspace: ${(error as Error).message}`,
      },
    );
  }
  const ctx: LoopContext = {
    ...baseCtx,
    workspace,
  };
  let memory: MemorySession | null = null;
  try {
    const baseline = await prepareBaseline(ctx);
    if (!baseline.ok)
      return await finish(ctx, { ...done, status: "baseline-failed", message: baseline.message });
    recordings.baseline = baseline;
    if (options.mode === "profile") {
      return await finish(ctx, {
        ...done,
        status: "no-improvement",
        message: "profile only: measured and classified, nothing changed",
      });
    }
    if (storeFile) {
      memory = await memoryForRun({
        config: options.config,
        repoDir: options.repoDir,
        file: storeFile,
        request: options.request,
        model: options.model,
        hardware: snapshot.summary,
        verdicts: baseline.verdicts,
        hotSpots: baseline.hotSpots,
        startedAt,
        seed: ctx.seed,
      });
      for (const note of memory.summary().notes) emit({ type: "note", message: note });
    }
    const outcome = await optimizeRounds(ctx, baseline, options.model, recordings, memory);
    if (memory) recordings.memory = memory.summary();
    const results = await finish(ctx, { ...done, ...outcome });
    memory?.finishRun(results);
    return results;
  } catch (error) {
    await evidence.audit("error", (error as Error).stack ?? String(error));
    if (memory) recordings.memory = memory.summary();
    const results = await finish(ctx, {
      ...done,
      status: "error",
      message: `perfloop failed: ${(error as Error).message}`,
    });
    memory?.finishRun(results);
    return results;
  } finally {
    memory?.close();
    await disposeWorkspace(workspace);
  }
}
