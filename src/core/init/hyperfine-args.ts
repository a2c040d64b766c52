/**
 * Reads a hyperfine call's arguments (hyperfine 1.x options) to recover the command it benchmarks:
 * the first positional argument, with `{param}` placeholders filled from `-L`/`-P`. hyperfine times
 * whole process runs of that command, which is exactly what perfloop measures, so the command can
 * be used as it is. What cannot be carried over (several commands, --prepare, --setup) becomes a
 * caveat for the user.
 */
import type { ShellToken } from "./shell-words.ts";

/** Options that take one value (hyperfine 1.18 `--help`). */
const ONE_VALUE = new Set([
  "-w",
  "--warmup",
  "-m",
  "--min-runs",
  "-M",
  "--max-runs",
  "-r",
  "--runs",
  "-s",
  "--setup",
  "-p",
  "--prepare",
  "--conclude",
  "-c",
  "--cleanup",
  "-D",
  "--parameter-step-size",
  "-S",
  "--shell",
  "--style",
  "--sort",
  "-u",
  "--time-unit",
  "--export-asciidoc",
  "--export-csv",
  "--export-json",
  "--export-markdown",
  "--export-orgmode",
  "-n",
  "--command-name",
  "--output",
  "--input",
  "--reference",
  "--min-benchmarking-time",
]);
/** Options that take two values: a parameter name and its list. */
const TWO_VALUES = new Set(["-L", "--parameter-list"]);
/** Options that take three values: a parameter name, its minimum and maximum. */
const THREE_VALUES = new Set(["-P", "--parameter-scan"]);

/** What a hyperfine call benchmarks. */
interface HyperfineCall {
  /** The commands benchmarked, in order, placeholders filled with each parameter's first value. */
  commands: string[];
  /** `--setup` (once before all runs) when given: a candidate for the config's `setup`. */
  setup: string | null;
  /** Things the user should know: several commands, --prepare, unfilled placeholders, variables. */
  caveats: string[];
}

/**
 * Parses the arguments after `hyperfine` (up to the first control operator).
 * @param args the tokens following the `hyperfine` word.
 */
export function parseHyperfineArgs(args: readonly ShellToken[]): HyperfineCall {
  const commands: string[] = [];
  const params = new Map<string, string>();
  const caveats: string[] = [];
  let setup: string | null = null;
  let prepare: string | null = null;
  const words: string[] = [];
  for (const t of args) {
    if (t.operator) break;
    words.push(t.value);
  }
  for (let i = 0; i < words.length; i++) {
    const word = words[i] ?? "";
    const [flag, inline] = word.startsWith("--") && word.includes("=") ? splitOnce(word, "=") : [word, null];
    const value = (k: number) => words[i + k] ?? "";
    if (ONE_VALUE.has(flag)) {
      const v = inline ?? value(1);
      if (flag === "-s" || flag === "--setup") setup = v;
      if (flag === "-p" || flag === "--prepare") prepare = v;
      if (inline === null) i += 1;
    } else if (TWO_VALUES.has(flag)) {
      params.set(value(1), value(2).split(",")[0] ?? "");
      i += 2;
    } else if (THREE_VALUES.has(flag)) {
      params.set(value(1), value(2));
      i += 3;
    } else if (/^-[A-Za-z]./.test(word) && ONE_VALUE.has(word.slice(0, 2))) {
      // A short option with its value attached (`-w3`): nothing more to skip.
    } else if (word.startsWith("-") && word !== "-") {
      // A flag without a value (--show-output, -i, -N…).
    } else {
      commands.push(word);
    }
  }
  const filled = commands.map((c) =>
    c.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (m, name: string) => params.get(name) ?? m),
  );
  if (params.size > 0)
    caveats.push(
      `hyperfine varies ${[...params.keys()].map((p) => `{${p}}`).join(", ")}; the first value is used (${[...params].map(([k, v]) => `${k}=${v}`).join(", ")})`,
    );
  if (filled.length > 1)
    caveats.push(
      `hyperfine compares ${filled.length} commands here; the first is used (the others: ${filled.slice(1).join(" | ")})`,
    );
  if (prepare !== null)
    caveats.push(
      `hyperfine runs --prepare ${JSON.stringify(prepare)} before each run; perfloop does not: fold it into the command if it matters`,
    );
  if (setup !== null)
    caveats.push(
      `hyperfine runs --setup ${JSON.stringify(setup)} once first: consider it as the config's \`setup\``,
    );
  if (filled.some((c) => /\{[A-Za-z_][A-Za-z0-9_]*\}/.test(c)))
    caveats.push("the command still holds a {placeholder} hyperfine fills in: replace it");
  return { commands: filled, setup, caveats };
}

function splitOnce(word: string, sep: string): [string, string] {
  const i = word.indexOf(sep);
  return [word.slice(0, i), word.slice(i + 1)];
}
