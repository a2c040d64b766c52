/**
 * `perfloop` CLI: parses the command line, loads the config, builds the model client, runs the loop
 * with live progress, and prints where the evidence is. Orchestration only.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../core/config/load.ts";
import { type Config, defaultModelConfig } from "../core/config/schema.ts";
import { PERFLOOP_VERSION } from "../core/loop/finish.ts";
import { runPerfloop } from "../core/loop/run.ts";
import { createModelClient } from "../core/optimize/llm/agent.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { createProgressPrinter } from "./progress.ts";

const USAGE = `usage:
  perfloop optimize [dir] [--out DIR] [--rounds N] [--strategy auto|llm|tune]
                          [--model NAME] [--base-url URL] [--api-key-env VAR] [--apply] [--json]
  perfloop profile [dir] [--out DIR] [--json]

  dir            the project to optimize (default: .); its config is <dir>/.github/perfloop.yml
  --out DIR      evidence bundle directory (default: <dir>/.perfloop/<timestamp>)
  --config PATH  config file relative to dir (default: .github/perfloop.yml)
  --rounds N     override \`rounds\`
  --strategy S   override \`strategy\`
  --model NAME   enable LLM rewrites with this model (OpenAI-compatible endpoint)
  --base-url URL endpoint, e.g. http://localhost:11434/v1 for Ollama
  --api-key-env VAR  variable holding the API key (default OPENAI_API_KEY)
  --apply        write the verified best state into dir (default: only <out>/final.patch)
  --json         print results.json to stdout
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
  if ((command !== "optimize" && command !== "profile") || extra.length > 0) {
    io.err.write(`perfloop: unknown command "${[command, ...extra].join(" ")}"\n\n${USAGE}\n`);
    return EXIT.usage;
  }

  const repoDir = path.resolve(dirArg ?? ".");
  let config: Config;
  try {
    config = withOverrides(await loadConfig(repoDir, args.values.config), args.values);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err.write(`perfloop: ${error.message}\n`);
    return EXIT.usage;
  }
  const outDir = path.resolve(
    args.values.out ?? path.join(repoDir, ".perfloop", new Date().toISOString().replace(/[:.]/g, "-")),
  );
  const model = command === "optimize" ? modelClient(config, io.env, io.err) : null;

  const results = await runPerfloop({
    repoDir,
    outDir,
    mode: command,
    config,
    model,
    apply: args.values.apply ?? false,
    onEvent: createProgressPrinter(io.err),
    env: io.env,
  });
  io.err.write(
    `\n${results.status}: ${results.message}\nstopped: ${results.stopReason}\nevidence: ${outDir} (report.md, results.json${results.final?.patchFile ? ", final.patch" : ""})\n`,
  );
  if (args.values.json) io.out.write(`${JSON.stringify(results, null, 2)}\n`);
  return exitCodeFor(results.status, command);
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
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
  });
}

function withOverrides(config: Config, values: ReturnType<typeof parse>["values"]): Config {
  const next: Config = { ...config };
  if (values.rounds !== undefined) {
    const rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50)
      throw new ConfigError("--rounds", [
        `found ${JSON.stringify(values.rounds)}, expected an integer from 1 to 50`,
      ]);
    next.rounds = rounds;
  }
  if (values.strategy !== undefined) {
    if (values.strategy !== "auto" && values.strategy !== "llm" && values.strategy !== "tune")
      throw new ConfigError("--strategy", [
        `found ${JSON.stringify(values.strategy)}, expected auto, llm or tune`,
      ]);
    next.strategy = values.strategy;
  }
  if (values.model !== undefined || values["base-url"] !== undefined || values["api-key-env"] !== undefined) {
    next.model = defaultModelConfig({
      ...config.model,
      ...(values.model ? { name: values.model } : {}),
      ...(values["base-url"] ? { base_url: values["base-url"] } : {}),
      ...(values["api-key-env"] ? { api_key_env: values["api-key-env"] } : {}),
    });
  }
  return next;
}

function modelClient(config: Config, env: NodeJS.ProcessEnv, err: NodeJS.WritableStream) {
  if (config.strategy === "tune") return null;
  if (!config.model) {
    err.write(
      "LLM rewrites are off (knob tuning only): add `model:` to .github/perfloop.yml or pass --model NAME, and export OPENAI_API_KEY (or the variable named by model.api_key_env).\n",
    );
    return null;
  }
  const apiKey = env[config.model.api_key_env];
  if (!apiKey && !config.model.base_url) {
    err.write(
      `LLM rewrites are off: ${config.model.api_key_env} is not set. Export it, or point --base-url at a local endpoint (vLLM, Ollama) that needs no key.\n`,
    );
    return null;
  }
  // Local endpoints (Ollama, vLLM) accept any key; the SDK insists on a non-empty one.
  return createModelClient({
    apiKey: apiKey || "no-key-needed",
    baseURL: config.model.base_url,
    timeoutMs: 120_000,
  });
}
