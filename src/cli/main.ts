/**
 * `perfloop` CLI: parses the command line, loads the config, builds the model client, runs the loop
 * with live progress, and prints where the evidence is. Orchestration only.
 */
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { CONFIG_PATH, ConfigError, loadConfig } from "../core/config/load.ts";
import { applyOverrides } from "../core/config/overrides.ts";
import { type Config, configSchema } from "../core/config/schema.ts";
import { abortOnSignals } from "../core/exec/cancel.ts";
import { SandboxUnavailableError } from "../core/exec/isolation.ts";
import {
  type ChangedLines,
  ChangedLinesError,
  changedLinesBetween,
  changedLinesFromGit,
} from "../core/focus/changed-lines.ts";
import { exportGateTrees, GateRefError, type GateTrees, gateOptionsOf } from "../core/gate/trees.ts";
import { PERFLOOP_VERSION } from "../core/loop/finish.ts";
import { runPerfloop } from "../core/loop/run.ts";
import { InstructionsUnavailableError } from "../core/measure/instructions.ts";
import { resolveStorePath } from "../core/memory/session.ts";
import { computeStats, formatStats } from "../core/memory/stats.ts";
import { MemoryStoreError, openStoreForReading } from "../core/memory/store.ts";
import { modelClientFor } from "../core/optimize/llm/client-for-config.ts";
import { type OptionValues, readCommandLine } from "./command-line.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { HistoryReadError, runHistory } from "./history.ts";
import { InitError, runInit } from "./init.ts";
import { createProgressPrinter } from "./progress.ts";
import { appendRunHistory, readRunHistory } from "./run-history.ts";
import { COMMAND_USAGE, OVERVIEW } from "./usage.ts";

/** Where the CLI reads and writes (injectable for tests). */
export interface CliIo {
  out: NodeJS.WritableStream;
  /** Progress and messages; a TTY gets a live run counter. */
  err: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

/**
 * Runs the CLI.
 * @returns the process exit code (see exit-codes.ts); never throws for user errors.
 */
export async function main(
  argv: string[],
  io: CliIo = { out: process.stdout, err: process.stderr, env: process.env },
): Promise<number> {
  if (argv.length === 0) {
    io.err.write(`${OVERVIEW}\n`);
    return EXIT.usage;
  }
  const line = readCommandLine(argv);
  if (line.kind === "version") {
    io.out.write(`perfloop ${PERFLOOP_VERSION}\n`);
    return EXIT.ok;
  }
  if (line.kind === "help") {
    io.out.write(`${line.command ? COMMAND_USAGE[line.command] : OVERVIEW}\n`);
    return EXIT.ok;
  }
  if (line.kind === "error") {
    io.err.write(
      `perfloop: ${line.message}\nRun \`perfloop ${line.command ? `${line.command} ` : ""}--help\` for usage.\n`,
    );
    return EXIT.usage;
  }
  const { command } = line;
  const values = cliValues(line.values);
  const repoDir = path.resolve(line.dir);
  if (command === "stats") return stats(repoDir, values, io);
  if (command === "init") return init(repoDir, values, io);
  if (command === "history") return history(repoDir, values, io);
  let config: Config;
  try {
    config = applyOverrides(await loadConfig(repoDir, values.config), {
      rounds: values.rounds,
      strategy: values.strategy,
      model: values.model,
      baseUrl: values["base-url"],
      apiKeyEnv: values["api-key-env"],
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
  let outDir: string;
  try {
    outDir = values.out ? path.resolve(values.out) : await defaultOutDir(repoDir);
  } catch (error) {
    if (!(error instanceof OutDirError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
  // The gate compares two commits, exported from git into trees of their own (docs/gate.md).
  let trees: GateTrees | null = null;
  if (command === "gate") {
    try {
      trees = await exportGateTrees(repoDir, values.base ?? "", values.head ?? "HEAD");
    } catch (error) {
      if (!(error instanceof GateRefError)) throw error;
      io.err.write(`perfloop: ${error.message}\n`);
      return EXIT.usage;
    }
  }
  let changedLines: ChangedLines | undefined;
  try {
    // A gate measures the head as committed: its changed lines are those of the commits, not of
    // the working tree (which changedLinesFromGit reads, for optimize and profile).
    if (trees)
      changedLines = await changedLinesBetween(repoDir, trees.mergeBase ?? trees.base.sha, trees.head.sha);
    else if (values.base) changedLines = await changedLinesFromGit(repoDir, values.base);
  } catch (error) {
    if (!(error instanceof ChangedLinesError)) throw error;
    io.err.write(`perfloop: --base ${values.base}: ${error.message}\n`);
    return EXIT.usage;
  }
  // --history FILE: the run's line is appended there, the trend drawn from what it holds.
  const pastRuns = values.history
    ? await readRunHistory(values.history, trees?.head.sha ?? null, repoDir, io.err)
    : undefined;
  const apiKey = config.model ? io.env[config.model.api_key_env] : undefined;
  const choice = command === "optimize" ? modelClientFor(config, apiKey) : null;
  if (choice?.note) io.err.write(`${choice.note}\n`);
  const model = choice?.client ?? null;

  let results: Awaited<ReturnType<typeof runPerfloop>>;
  // Ctrl-C or SIGTERM: every sandbox is killed, the scratch removed, results.json says "cancelled".
  const controller = new AbortController();
  const stopListening = abortOnSignals(controller, { exitOnSecond: true });
  try {
    results = await runPerfloop({
      repoDir,
      ...(values.config ? { configPath: values.config } : {}),
      outDir,
      mode: command,
      config,
      model,
      apply: values.apply ?? false,
      onEvent: createProgressPrinter(io.err),
      env: io.env,
      signal: controller.signal,
      // The model key is redacted from the evidence whatever its variable is called.
      ...(apiKey ? { secrets: [apiKey] } : {}),
      ...(values.memory ? { memoryPath: path.resolve(values.memory) } : {}),
      ...(changedLines ? { changedLines } : {}),
      ...(pastRuns ? { history: pastRuns } : {}),
      ...(trees ? { gate: gateOptionsOf(trees) } : {}),
    });
  } catch (error) {
    // memory.path leading out of the repository (memory/session.ts resolveStorePath), or no
    // sandbox on this machine (exec/isolation.ts: the message names the fix).
    if (
      !(
        error instanceof ConfigError ||
        error instanceof SandboxUnavailableError ||
        error instanceof InstructionsUnavailableError
      )
    )
      throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  } finally {
    stopListening();
    await trees?.dispose();
  }
  io.err.write(
    `\n${results.status}: ${results.message}\nstopped: ${results.stopReason}\nevidence: ${outDir} (report.md, results.json${results.final?.patchFile ? ", final.patch" : ""})\n`,
  );
  if (values.json) io.out.write(`${JSON.stringify(results, null, 2)}\n`);
  if (values.history && pastRuns)
    await appendRunHistory(path.resolve(values.history), results, pastRuns, io.err);
  const stoppedBy = (controller.signal.reason as { signal?: string } | undefined)?.signal;
  if (results.status === "cancelled" && stoppedBy === "SIGTERM") return EXIT.terminated;
  return exitCodeFor(results.status, command);
}

/**
 * `perfloop init`: writes the config (init.ts), then proves it with `perfloop profile` unless
 * --no-profile, or a placeholder command (nothing found to fill it) would only fail.
 * @returns 0, 2 when a file exists (without --force) or the directory is wrong, 1 when writing
 *   failed, else the profile's exit code.
 */
async function init(repoDir: string, values: CliValues, io: CliIo): Promise<number> {
  let outcome: Awaited<ReturnType<typeof runInit>>;
  try {
    outcome = await runInit(
      { dir: repoDir, force: values.force ?? false, workflows: values.workflows ?? false },
      io,
    );
  } catch (error) {
    if (!(error instanceof InitError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return error.code === "io" ? EXIT.error : EXIT.usage;
  }
  if (values["no-profile"]) {
    io.err.write(
      `\nNext: review ${CONFIG_PATH}; \`perfloop profile ${repoDir}\` measures the baseline with it.\n`,
    );
    return EXIT.ok;
  }
  if (!outcome.testFound || !outcome.benchmarkFound) {
    io.err.write(
      `\nperfloop init: not profiling yet: replace the placeholder ${[outcome.testFound ? "" : "`test`", outcome.benchmarkFound ? "" : "`benchmark.command`"].filter(Boolean).join(" and ")} in ${CONFIG_PATH} (see "To fill in"), then run \`perfloop profile ${repoDir}\`.\n`,
    );
    return EXIT.ok;
  }
  io.err.write(`\nperfloop init: proving the config with \`perfloop profile ${repoDir}\`\n`);
  return main(["profile", repoDir], io);
}

/** `perfloop history` (history.ts): 2 when the history cannot be read. */
async function history(repoDir: string, values: CliValues, io: CliIo): Promise<number> {
  try {
    return await runHistory(
      {
        dir: repoDir,
        file: values.file,
        ref: values.ref,
        svgDir: values.svg,
        json: values.json,
        mermaid: values.mermaid,
      },
      io.out,
      io.err,
    );
  } catch (error) {
    if (!(error instanceof HistoryReadError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
}

/** `--out` left to its default, where it cannot be used; the message names the fix. */
class OutDirError extends Error {
  override name = "OutDirError";
}

/**
 * The default evidence directory, `<repoDir>/.perfloop/<timestamp>` (timestamp: ISO 8601 with `:`
 * and `.` as `-`). A `.perfloop` that is a symbolic link, or that resolves outside repoDir, is
 * refused: a repository (a pull request) could otherwise send the evidence — and whatever perfloop
 * writes there — anywhere on the machine.
 * @throws OutDirError naming the fix (pass --out explicitly, or remove the link).
 */
async function defaultOutDir(repoDir: string): Promise<string> {
  const base = path.join(repoDir, ".perfloop");
  const info = await lstat(base).catch(() => null);
  if (info) {
    const [real, repoReal] = await Promise.all([realpath(base).catch(() => null), realpath(repoDir)]);
    if (info.isSymbolicLink() || real !== path.join(repoReal, ".perfloop")) {
      const what = info.isSymbolicLink()
        ? `is a symbolic link${real ? ` to ${real}` : " that leads nowhere"}`
        : `resolves to ${real}, outside ${repoDir}`;
      throw new OutDirError(
        `${base} ${what}: perfloop will not write its evidence through it. Pass --out DIR explicitly, or remove the link.`,
      );
    }
  }
  return path.join(base, new Date().toISOString().replace(/[:.]/g, "-"));
}

/** The option values main reads, typed (command-line.ts checked which a command may have). */
interface CliValues {
  out?: string;
  config?: string;
  rounds?: string;
  strategy?: string;
  model?: string;
  "base-url"?: string;
  "api-key-env"?: string;
  apply?: boolean;
  base?: string;
  memory?: string;
  head?: string;
  history?: string;
  file?: string;
  ref?: string;
  svg?: string;
  mermaid?: boolean;
  json?: boolean;
  force?: boolean;
  workflows?: boolean;
  "no-profile"?: boolean;
}

function cliValues(values: OptionValues): CliValues {
  return values as CliValues;
}

/**
 * `perfloop stats`: reads the store named by --memory, else by the config's `memory.path`, else the
 * default store of the repository (memory/session.ts `resolveStorePath`, with `io.env`'s
 * XDG_CACHE_HOME and HOME), and prints the figures. Exit 0, or 1 when the store is missing or
 * unreadable (the message says which), 2 for an invalid config.
 */
async function stats(
  repoDir: string,
  values: CliValues,
  io: { out: NodeJS.WritableStream; err: NodeJS.WritableStream; env: NodeJS.ProcessEnv },
): Promise<number> {
  let memory = configSchema.shape.memory.parse(undefined);
  if (!values.memory) {
    try {
      memory = (await loadConfig(repoDir, values.config)).memory;
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      if (!/not found|no such file|ENOENT/i.test(error.message)) {
        io.err.write(`perfloop: ${error.message}\n`);
        return EXIT.usage;
      }
    }
  }
  let file: string;
  try {
    file = values.memory ? path.resolve(values.memory) : resolveStorePath(memory, repoDir, undefined, io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
  try {
    const db = await openStoreForReading(file);
    try {
      const figures = computeStats(db);
      io.out.write(values.json ? `${JSON.stringify(figures, null, 2)}\n` : formatStats(file, figures));
    } finally {
      db.close();
    }
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof MemoryStoreError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.error;
  }
}
