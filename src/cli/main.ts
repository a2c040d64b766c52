/**
 * `perfloop` CLI: parses the command line, loads the config, builds the model client, runs the loop
 * with live progress, and prints where the evidence is. Orchestration only.
 */
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../core/config/load.ts";
import { applyOverrides } from "../core/config/overrides.ts";
import { type Config, configSchema } from "../core/config/schema.ts";
import { abortOnSignals } from "../core/exec/cancel.ts";
import { SandboxUnavailableError } from "../core/exec/isolation.ts";
import { type ChangedLines, ChangedLinesError, changedLinesFromGit } from "../core/focus/changed-lines.ts";
import { PERFLOOP_VERSION } from "../core/loop/finish.ts";
import { runPerfloop } from "../core/loop/run.ts";
import { InstructionsUnavailableError } from "../core/measure/instructions.ts";
import { resolveStorePath } from "../core/memory/session.ts";
import { computeStats, formatStats } from "../core/memory/stats.ts";
import { MemoryStoreError, openStoreForReading } from "../core/memory/store.ts";
import { modelClientFor } from "../core/optimize/llm/client-for-config.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { createProgressPrinter } from "./progress.ts";

const USAGE = `usage:
  perfloop optimize [dir] [--out DIR] [--rounds N] [--strategy auto|llm|tune]
                          [--model NAME] [--base-url URL] [--api-key-env VAR] [--apply] [--json]
                          [--memory PATH] [--base REF]
  perfloop profile [dir] [--out DIR] [--json] [--base REF]
  perfloop stats [dir] [--memory PATH] [--json]

  dir            the project to optimize (default: .); its config is <dir>/.github/perfloop.yml
  --out DIR      evidence bundle directory (default: <dir>/.perfloop/<timestamp>; refused when
                 <dir>/.perfloop is a symbolic link)
  --config PATH  config file relative to dir (default: .github/perfloop.yml)
  --rounds N     override \`rounds\`
  --strategy S   override \`strategy\`
  --model NAME   enable LLM rewrites with this model (OpenAI-compatible endpoint)
  --base-url URL endpoint, e.g. http://localhost:11434/v1 for Ollama
  --api-key-env VAR  variable holding the API key (default OPENAI_API_KEY)
  --apply        write the verified best state into dir (default: only <out>/final.patch)
  --base REF     focus on what this branch changed since REF (e.g. origin/main): hot spots in the
                 changed lines first, the model told which they are, their share of the profile
                 in the report (git diff from the merge base to the working tree)
  --memory PATH  the memory store, anywhere (default: memory.path of the config, inside dir; else
                 $XDG_CACHE_HOME/perfloop/<dir name>-<hash>/memory.sqlite, ~/.cache without it)
  --json         print results.json (stats: the figures) to stdout
stats prints, per repository in the memory store: success rate, improvement slope over runs,
memory reuse rate and rollbacks (docs/memory.md).
Exit codes: 0 improved (or profiled), 1 perfloop error, 2 usage/config error, 3 no significant
improvement, 4 inconclusive, 5 set-up/tests/benchmark fail on the unmodified code.`;

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
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    io.err.write(`perfloop: ${(error as Error).message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (args.values.version) {
    io.out.write(`perfloop ${PERFLOOP_VERSION}\n`);
    return EXIT.ok;
  }
  const [command, dirArg, ...extra] = args.positionals;
  if (args.values.help || !command) {
    (args.values.help ? io.out : io.err).write(`${USAGE}\n`);
    return args.values.help ? EXIT.ok : EXIT.usage;
  }
  if ((command !== "optimize" && command !== "profile" && command !== "stats") || extra.length > 0) {
    io.err.write(`perfloop: unknown command "${[command, ...extra].join(" ")}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }

  const repoDir = path.resolve(dirArg ?? ".");
  if (command === "stats") return stats(repoDir, args.values, io);
  let config: Config;
  try {
    config = applyOverrides(await loadConfig(repoDir, args.values.config), {
      rounds: args.values.rounds,
      strategy: args.values.strategy,
      model: args.values.model,
      baseUrl: args.values["base-url"],
      apiKeyEnv: args.values["api-key-env"],
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
  let outDir: string;
  try {
    outDir = args.values.out ? path.resolve(args.values.out) : await defaultOutDir(repoDir);
  } catch (error) {
    if (!(error instanceof OutDirError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
  let changedLines: ChangedLines | undefined;
  try {
    if (args.values.base) changedLines = await changedLinesFromGit(repoDir, args.values.base);
  } catch (error) {
    if (!(error instanceof ChangedLinesError)) throw error;
    io.err.write(`perfloop: --base ${args.values.base}: ${error.message}\n`);
    return EXIT.usage;
  }
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
      ...(args.values.config ? { configPath: args.values.config } : {}),
      outDir,
      mode: command,
      config,
      model,
      apply: args.values.apply ?? false,
      onEvent: createProgressPrinter(io.err),
      env: io.env,
      signal: controller.signal,
      // The model key is redacted from the evidence whatever its variable is called.
      ...(apiKey ? { secrets: [apiKey] } : {}),
      ...(args.values.memory ? { memoryPath: path.resolve(args.values.memory) } : {}),
      ...(changedLines ? { changedLines } : {}),
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
  }
  io.err.write(
    `\n${results.status}: ${results.message}\nstopped: ${results.stopReason}\nevidence: ${outDir} (report.md, results.json${results.final?.patchFile ? ", final.patch" : ""})\n`,
  );
  if (args.values.json) io.out.write(`${JSON.stringify(results, null, 2)}\n`);
  const stoppedBy = (controller.signal.reason as { signal?: string } | undefined)?.signal;
  if (results.status === "cancelled" && stoppedBy === "SIGTERM") return EXIT.terminated;
  return exitCodeFor(results.status, command);
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

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string" },
      config: { type: "string" },
      rounds: { type: "string" },
      strategy: { type: "string" },
      model: { type: "string" },
      "base-url": { type: "string" },
      "api-key-env": { type: "string" },
      apply: { type: "boolean" },
      base: { type: "string" },
      memory: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
}

/**
 * `perfloop stats`: reads the store named by --memory, else by the config's `memory.path`, else the
 * default store of the repository (memory/session.ts `resolveStorePath`, with `io.env`'s
 * XDG_CACHE_HOME and HOME), and prints the figures. Exit 0, or 1 when the store is missing or
 * unreadable (the message says which), 2 for an invalid config.
 */
async function stats(
  repoDir: string,
  values: ReturnType<typeof parse>["values"],
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
