/**
 * `runPerfloop`: the whole loop of docs/design.md ("The loop"), orchestrated. It only sequences the steps; each step
 * lives in its own module. Whatever happens, the bundle ends with a results.json (status "error" and
 * the message when perfloop itself failed) and the user's tree is untouched unless `apply` is set
 * and the improvement was verified. In optimize mode the run's memory (docs/memory.md) is opened after
 * the baseline, feeds the rounds, and is told the results at the end; it never fails the run.
 */

import path from "node:path";
import type OpenAI from "openai";
import { CONFIG_PATH } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { createRedactor } from "../evidence/redact.ts";
import type { Results, ResultsRequest } from "../evidence/results-schema.ts";
import { createEvidenceWriter, type EvidenceWriter } from "../evidence/writer.ts";
import { buildChildEnv } from "../exec/env.ts";
import { resolveIsolation } from "../exec/isolation.ts";
import { createLock } from "../exec/lock.ts";
import type { ChangedLines } from "../focus/changed-lines.ts";
import { gateSkipReason } from "../gate/verdict.ts";
import { collectEnvSnapshot } from "../measure/env-snapshot.ts";
import { probeInstructionCounter } from "../measure/instructions.ts";
import { memoryForRun } from "../memory/for-run.ts";
import { type MemorySession, resolveStorePath } from "../memory/session.ts";
import { treeDigest } from "../sandbox/tree-digest.ts";
import { prepareBaseline } from "./baseline.ts";
import { captureBaseline } from "./behaviour.ts";
import type { LoopContext } from "./context.ts";
import type { LoopEventHandler } from "./events.ts";
import { finish } from "./finish.ts";
import { applyFocus } from "./focus.ts";
import { type GateOptions, runGate } from "./gate.ts";
import { newRecordings } from "./recordings.ts";
import { optimizeRounds } from "./rounds.ts";
import { createRunStop, finalReserveMs, stopOf } from "./stop.ts";
import type { RunHistory } from "./trend.ts";
import {
  createGateWorkspace,
  createWorkspace,
  DEPENDENCY_DIRS,
  disposeWorkspace,
  type Workspace,
} from "./workspace.ts";

/** What to run. */
export interface PerfloopOptions {
  /** The directory to optimize (holds the code, the tests, the benchmark). */
  repoDir: string;
  /** The evidence bundle directory. */
  outDir: string;
  mode: "optimize" | "profile" | "gate";
  config: Config;
  /**
   * Mode gate (docs/gate.md): the two commits and their exported trees (src/core/gate/trees.ts).
   * `repoDir` still names the user's repository: its config, dependency folders and evidence.
   */
  gate?: GateOptions & {
    trees: { base: string; head: string };
    /** Files that differ between base and head (project-relative): none under `paths` = skip. */
    changedFiles: string[];
  };
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
  /**
   * Secret values to redact from the evidence besides those of `env`'s secret-named variables (the
   * Action's API key and token, which `env` no longer holds). See src/core/evidence/redact.ts.
   */
  secrets?: string[];
  /**
   * The bundle's writer, for a caller that reads the in-memory copies afterwards (the Action: job
   * summary, restore before upload). Its `dir` must be `outDir`. Default: one made here, redacting
   * `env`'s secret values, `secrets` and the well-known token formats.
   */
  evidence?: EvidenceWriter;
  /**
   * Lines the pull request changed (docs/agent.md, "Focus on the pull request"): the Action reads them from
   * GitHub, the CLI from `git diff` against `--base`. Hot spots in them are ranked first, the model
   * is told which they are, and the report gives their share of the profile. Absent = no PR.
   */
  changedLines?: ChangedLines;
  /**
   * The repository's performance history and the commit this run measures (docs/gate.md,
   * "History"): the run writes its history line, and the trend when earlier commits are there.
   */
  history?: RunHistory;
  /** Aborting it (the CLI and the Action do on SIGINT/SIGTERM) kills every command of the run and
   *  ends it with status `cancelled`; see src/core/loop/stop.ts. */
  signal?: AbortSignal;
}

/**
 * Runs the loop and writes the evidence bundle into `outDir`.
 * @returns the validated results (also written as results.json).
 * @throws SandboxUnavailableError (before anything is run or written) when the sandbox cannot be
 *   made here and the config does not say `sandbox.isolation: none`; InstructionsUnavailableError
 *   when `benchmark.measure: instructions` has no working counter; otherwise only when the bundle
 *   directory itself cannot be written: every other failure is recorded in results.json with status
 *   "error" (or "cancelled" / "timeout") and returned.
 */
export async function runPerfloop(options: PerfloopOptions): Promise<Results> {
  const startedAt = new Date();
  const emit: LoopEventHandler = options.onEvent ?? (() => undefined);
  const memoryConfig = options.config.memory;
  const storeFile = memoryConfig.enabled
    ? resolveStorePath(memoryConfig, options.repoDir, options.memoryPath)
    : null;
  // The store (and SQLite's side files) is never copied into the trees candidates are built in.
  const storeFiles = storeFile ? ["", "-journal", "-wal", "-shm"].map((s) => storeFile + s) : [];
  const isolation = await resolveIsolation(options.config.sandbox, {
    env: options.env ?? process.env,
    hide: [options.repoDir, options.outDir, ...(storeFile ? [path.dirname(storeFile)] : [])],
  });
  const baseEnv = buildChildEnv(options.env ?? process.env, options.config.sandbox.env);
  // measure: instructions needs a counter that works in the sandbox: found now, or refused now.
  const counter =
    options.config.benchmark.measure === "instructions" && !options.config.benchmark.metric
      ? await probeInstructionCounter(isolation, isolation.env(baseEnv))
      : undefined;
  const notCopied = [options.outDir, ...storeFiles];
  // perfloop's own files (the evidence, the memory store, .perfloop/) are left out of the digest.
  const notDigested = [...notCopied, path.join(options.repoDir, ".perfloop")];
  const userTreeBefore = await treeDigest(options.repoDir, {
    exclude: notDigested,
    metadataOnly: DEPENDENCY_DIRS,
  });
  const stop = createRunStop(options.signal, options.config.timeouts.total * 1000);
  const stopAt = Date.now() + options.config.timeouts.total * 1000;
  const evidence =
    options.evidence ??
    (await createEvidenceWriter(options.outDir, {
      redactor: createRedactor({ env: options.env ?? process.env, secrets: options.secrets ?? [] }),
    }));
  await evidence.audit("start", `${options.mode} ${options.repoDir}`);
  const recordings = newRecordings();

  emit({ type: "phase", phase: "environment", detail: "snapshot of CPU, memory, OS and GPUs" });
  const snapshot = await collectEnvSnapshot();
  await evidence.json("env_snapshot.json", {
    ...snapshot,
    isolation: isolation.description,
    sandbox: { toolchains: isolation.view?.toolchains ?? [], hidden: isolation.view?.hidden ?? [] },
  });
  await evidence.audit("sandbox", isolation.description);
  const done = { options, startedAt, recordings, environment: snapshot.summary, userTreeBefore, notDigested };
  if (isolation.warning) emit({ type: "note", message: isolation.warning });
  const hidden = isolation.view?.hidden ?? [];
  if (hidden.length > 0)
    emit({
      type: "note",
      message: `not visible in the sandbox: ${hidden
        .slice(0, 4)
        .map((h) => `${h.path} (${h.why})`)
        .join("; ")}${hidden.length > 4 ? ` and ${hidden.length - 4} more (env_snapshot.json)` : ""}`,
    });
  const baseCtx = {
    config: options.config,
    repoDir: options.repoDir,
    configPath: options.configPath ?? CONFIG_PATH,
    evidence,
    isolation,
    baseEnv,
    counter,
    emit,
    deadline: startedAt.getTime() + options.config.timeouts.total * 1000,
    seed: options.seed ?? 1,
    signal: stop.signal,
    incomplete: [],
    exclusive: createLock(),
    changedLines: options.changedLines,
  };
  // No scratch copy (the user's tree is only read): for a run that ends before it measures.
  const none: Workspace = {
    root: "",
    baseline: options.repoDir,
    best: options.repoDir,
    dependencies: [],
    dependencyMode: "link",
    droppedLinks: [],
  };
  // A gate whose change touches no file under `paths` answers before the trees are copied.
  const skip = options.gate ? gateSkipReason(options.gate.changedFiles, options.config.paths) : null;
  if (skip) {
    stop.dispose();
    return await finish({ ...baseCtx, workspace: none }, { ...done, status: "passed", message: skip });
  }
  let workspace: Workspace;
  try {
    const dependencyMode = isolation.mode === "bwrap" ? "mount" : "link";
    workspace = options.gate
      ? await createGateWorkspace(options.repoDir, options.gate.trees, dependencyMode)
      : await createWorkspace(options.repoDir, notCopied, dependencyMode);
  } catch (error) {
    stop.dispose();
    // No scratch copy, no run: say why in results.json (the user's tree was only read).
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
  if (workspace.droppedLinks.length > 0) {
    const list = workspace.droppedLinks.slice(0, 10).join(", ");
    emit({
      type: "note",
      message: `not copied: ${workspace.droppedLinks.length} symbolic link(s) leading out of the repository (${list})`,
    });
    await evidence.audit("links dropped", workspace.droppedLinks.join(", "));
  }
  const ctx: LoopContext = {
    ...baseCtx,
    workspace,
  };
  let memory: MemorySession | null = null;
  // A step that ended because the run was stopped reports the stop, not its own failure.
  const end = (outcome: { status: Results["status"]; message: string }) => {
    const stopped = stop.request();
    return finish(ctx, { ...done, ...(stopped ?? outcome) });
  };
  try {
    const baseline = await prepareBaseline(ctx);
    if (!baseline.ok) return await end({ status: "baseline-failed", message: baseline.message });
    recordings.baseline = baseline;
    if (options.changedLines) baseline.focus = await applyFocus(ctx, baseline, options.changedLines);
    // timeouts.total is a hard stop: no round starts when what is left could not hold the final A/B.
    ctx.deadline = Math.min(ctx.deadline, stopAt - finalReserveMs(baseline, options.config));
    if (options.mode === "profile")
      return await end({
        status: "no-improvement",
        message: "profile only: measured and classified, nothing changed",
      });
    if (options.mode === "gate") {
      if (!options.gate) throw new Error("mode gate needs options.gate (the two trees)");
      const outcome = await runGate(ctx, baseline, options.gate, recordings);
      if (outcome.gate) recordings.gate = outcome.gate;
      return await end(outcome);
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
    baseline.behaviour = await captureBaseline(ctx, baseline.hotSpots);
    const outcome = await optimizeRounds(ctx, baseline, options.model, recordings, memory);
    if (memory) recordings.memory = memory.summary();
    const results = await end(outcome);
    // A stopped run says nothing about the strategies: memory learns only from finished runs.
    if (!stop.request()) memory?.finishRun(results);
    return results;
  } catch (error) {
    const stopped = stopOf(error) ?? stop.request();
    await evidence.audit(stopped ? stopped.status : "error", (error as Error).stack ?? String(error));
    if (memory) recordings.memory = memory.summary();
    const results = await end({ status: "error", message: `perfloop failed: ${(error as Error).message}` });
    if (!stopped) memory?.finishRun(results);
    return results;
  } finally {
    stop.dispose();
    memory?.close();
    await disposeWorkspace(workspace);
  }
}
