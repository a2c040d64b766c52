/**
 * Reads the command line: `perfloop <command> [dir] [options]`, each command with its own options
 * (node:util parseArgs, strict). A mistake gets one line naming it, a "did you mean" when a known
 * name is close, and where the help is — never the whole usage (that is for --help).
 */
import { parseArgs } from "node:util";
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
  const first = argv.find((a) => !a.startsWith("-"));
  if (first === undefined) {
    if (argv.includes("--version") || argv.includes("-v")) return { kind: "version" };
    if (argv.length === 0 || argv.includes("--help") || argv.includes("-h"))
      return { kind: "help", command: null };
    return {
      kind: "error",
      message: `${describeUnknown(argv[0] ?? "", ["--help", "--version"])}`,
      command: null,
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
  const rest = [...argv];
  rest.splice(argv.indexOf(first), 1);
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
  return { kind: "run", command, dir, values: parsed.values as OptionValues };
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

/**
 * The known word nearest to `word` by edit distance (insertions, deletions, substitutions and
 * transpositions of neighbours: optimal string alignment), when it is at most 2 and less than half
 * of the word's length; null otherwise.
 */
export function suggest(word: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= 2 && bestDistance * 2 < word.length ? best : null;
}

/** Optimal string alignment distance between `a` and `b` (characters, O(|a|·|b|)). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number) => rows[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, at(i - 2, j - 2) + 1);
      (rows[i] as number[])[j] = d;
    }
  return at(a.length, b.length);
}
