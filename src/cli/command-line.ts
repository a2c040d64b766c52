/**
 * Reads the command line: `perfloop <command> [dir] [options]`, each command with its own options
 * (node:util parseArgs, strict). A mistake gets one line naming it, a "did you mean" when a known
 * name is close, and where the help is — never the whole usage (that is for --help).
 */

import { parseArgs } from "node:util";
import { suggest } from "../core/config/suggest.ts";
import { COMMAND_NAMES, type CommandName } from "./usage.ts";

type OptionSpec = { type: "string" | "boolean"; short?: string };

const COMMON: Record<string, OptionSpec> = { help: { type: "boolean", short: "h" } };
const CONFIG: Record<string, OptionSpec> = { config: { type: "string" } };
const RUN: Record<string, OptionSpec> = {
  ...CONFIG,
  out: { type: "string" },
  base: { type: "string" },
  json: { type: "boolean" },
  history: { type: "string" },
};

/** The options each command takes (README.md, "CLI"). */
const OPTIONS: Record<CommandName, Record<string, OptionSpec>> = {
  optimize: {
    ...RUN,
    rounds: { type: "string" },
    strategy: { type: "string" },
    model: { type: "string" },
    "base-url": { type: "string" },
    "api-key-env": { type: "string" },
    apply: { type: "boolean" },
    memory: { type: "string" },
  },
  profile: RUN,
  gate: { ...RUN, head: { type: "string" } },
  init: { force: { type: "boolean" }, workflows: { type: "boolean" }, "no-profile": { type: "boolean" } },
  stats: { ...CONFIG, memory: { type: "string" }, json: { type: "boolean" } },
  history: {
    file: { type: "string" },
    ref: { type: "string" },
    svg: { type: "string" },
    json: { type: "boolean" },
    mermaid: { type: "boolean" },
  },
};

/** Option values as parsed: strings or booleans by name. */
export type OptionValues = Partial<Record<string, string | boolean>>;

/** What the command line asks for. */
export type CommandLine =
  | { kind: "version" }
  | { kind: "help"; command: CommandName | null }
  | { kind: "run"; command: CommandName; dir: string; values: OptionValues }
  | { kind: "error"; message: string; command: CommandName | null };

/**
 * Parses `argv` (without `node` and the script).
 * @returns what to do; mistakes are `{ kind: "error" }` with a one-line message (never throws).
 */
export function readCommandLine(argv: readonly string[]): CommandLine {
  const first = argv[0];
  if (first === undefined) return { kind: "help", command: null };
  if (first.startsWith("-")) {
    // The command comes first: an option's value must never be read as the command.
    if (argv.includes("--version") || argv.includes("-v")) return { kind: "version" };
    if (argv.includes("--help") || argv.includes("-h")) return { kind: "help", command: null };
    const command = argv.find(isCommand);
    return {
      kind: "error",
      message: command
        ? `the command comes first: perfloop ${command} ${argv.filter((a) => a !== command).join(" ")}`
        : describeUnknown(first, ["--help", "--version"]),
      command: command ?? null,
    };
  }
  if (!isCommand(first)) {
    const hint = suggest(first, COMMAND_NAMES);
    return {
      kind: "error",
      message: `unknown command "${first}".${hint ? ` Did you mean "${hint}"?` : ""} Commands: ${COMMAND_NAMES.join(", ")}.`,
      command: null,
    };
  }
  const command = first;
  const rest = argv.slice(1);
  const options = { ...COMMON, ...OPTIONS[command] };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: true, strict: true, options });
  } catch (error) {
    return { kind: "error", message: explainParseError(error as Error, Object.keys(options)), command };
  }
  if (parsed.values.help) return { kind: "help", command };
  const [dir = ".", ...extra] = parsed.positionals;
  if (extra.length > 0)
    return {
      kind: "error",
      message: `perfloop ${command} takes one directory; also got ${extra.map((e) => `"${e}"`).join(", ")}.`,
      command,
    };
  const values = parsed.values as OptionValues;
  const conflict = misuse(command, values);
  if (conflict) return { kind: "error", message: conflict, command };
  return { kind: "run", command, dir, values };
}

/** Options that are required, or exclude each other, for `command`; null when all is well. */
function misuse(command: CommandName, values: OptionValues): string | null {
  if (command === "gate" && !values.base)
    return "gate needs --base REF (the commit to compare the head with, e.g. origin/main).";
  const pairs: [string, string][] = [
    ["file", "ref"],
    ["json", "mermaid"],
  ];
  for (const [a, b] of pairs)
    if (command === "history" && values[a] !== undefined && values[b] !== undefined)
      return `--${a} and --${b} exclude each other: give one.`;
  return null;
}

function isCommand(word: string): word is CommandName {
  return (COMMAND_NAMES as readonly string[]).includes(word);
}

/** parseArgs' error in one sentence, with the nearest known option for an unknown one. */
function explainParseError(error: Error, known: string[]): string {
  const unknown = /Unknown option '([^']+)'/.exec(error.message)?.[1];
  if (unknown)
    return describeUnknown(
      unknown,
      known.map((k) => `--${k}`),
    );
  // "Option '--out <value>' argument missing" and the like: parseArgs' words are clear enough.
  return error.message.replace(/\. To specify a positional argument.*$/s, ".");
}

function describeUnknown(option: string, known: string[]): string {
  const hint = suggest(option, known);
  return `unknown option "${option}".${hint ? ` Did you mean "${hint}"?` : ""}`;
}
