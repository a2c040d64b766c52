/**
 * The CLI's help texts: one short overview, and one page per command (`perfloop <command> --help`).
 * Options are listed with the commands that take them (command-line.ts refuses the others).
 */

/** The commands the CLI knows, in the order the overview lists them. */
export const COMMAND_NAMES = ["optimize", "profile", "gate", "init", "history", "stats"] as const;
/** One of {@link COMMAND_NAMES}. */
export type CommandName = (typeof COMMAND_NAMES)[number];

const EXIT_CODES = `Exit codes: 0 improved (or profiled, or the gate passed), 1 perfloop error, 2 usage/config error,
3 no significant improvement, 4 inconclusive, 5 set-up/tests/benchmark fail on the unmodified code,
6 the gate's head regressed.`;

const DIR = `  dir            the project (default: .); its config is <dir>/.github/perfloop.yml
  --config PATH  config file relative to dir (default: .github/perfloop.yml)`;

const OUT = `  --out DIR      evidence bundle directory (default: <dir>/.perfloop/<timestamp>; refused when
                 <dir>/.perfloop is a symbolic link)`;

const BASE = `  --base REF     focus on what this branch changed since REF (e.g. origin/main): hot spots in the
                 changed lines first, the model told which they are, their share of the profile
                 in the report (git diff from the merge base to the working tree)`;

const MEMORY = `  --memory PATH  the memory store, anywhere (default: memory.path of the config, inside dir; else
                 $XDG_CACHE_HOME/perfloop/<dir name>-<hash>/memory.sqlite, ~/.cache without it)`;

/** `perfloop --help`: the commands, one line each. */
export const OVERVIEW = `usage: perfloop <command> [dir] [options]

commands:
  optimize   measure, explain and speed up the project; the verified result in <out>/final.patch
  profile    measure and explain only: the bottleneck verdict and the hot spots, no changes
  gate       did this branch make things slower? base against head, interleaved, with a CI
  init       detect the project and write a commented .github/perfloop.yml (then profile it)
  history    the performance trend per benchmark and machine, with its change points
  stats      what the memory store learned: success rate, improvement slope, reuse, rollbacks

Run \`perfloop <command> --help\` for a command's options; \`perfloop --version\` for the version.
${EXIT_CODES}`;

/** `perfloop <command> --help`. */
export const COMMAND_USAGE: Record<CommandName, string> = {
  optimize: `usage: perfloop optimize [dir] [--out DIR] [--rounds N] [--strategy auto|llm|tune]
                         [--model NAME] [--base-url URL] [--api-key-env VAR] [--apply] [--json]
                         [--memory PATH] [--base REF] [--config PATH] [--history FILE]

Measures the project's benchmark, profiles it, decides why it is slow, has a model rewrite the hot
code (or tunes the knobs the config declares), verifies every candidate and keeps only significant
improvements. Nothing in dir changes unless --apply is given.

${DIR}
${OUT}
  --rounds N     override \`rounds\`
  --strategy S   override \`strategy\`
  --model NAME   enable LLM rewrites with this model (OpenAI-compatible endpoint)
  --base-url URL endpoint, e.g. http://localhost:11434/v1 for Ollama
  --api-key-env VAR  variable holding the API key (default OPENAI_API_KEY)
  --apply        write the verified best state into dir (default: only <out>/final.patch)
${BASE}
${MEMORY}
  --json         print results.json to stdout
  --history FILE append this run's result to a JSON-lines history, and draw the trend in the report
                 when FILE already holds earlier commits (perfloop history reads it)

${EXIT_CODES}`,
  profile: `usage: perfloop profile [dir] [--out DIR] [--json] [--base REF] [--config PATH] [--history FILE]

Set-up, tests, the baseline measurement with hardware signals, a profile, and the bottleneck
verdict with its hot spots; no candidate is made.

${DIR}
${OUT}
${BASE}
  --json         print results.json to stdout
  --history FILE append this run's result to a JSON-lines history, and draw the trend in the report
                 when FILE already holds earlier commits (perfloop history reads it)

Exit codes: 0 profiled, 1 perfloop error, 2 usage/config error, 5 set-up/tests/benchmark fail.`,
  gate: `usage: perfloop gate [dir] --base REF [--head REF] [--out DIR] [--json] [--config PATH]
                     [--history FILE]

The performance gate (docs/gate.md): exports both commits from git, runs set-up and tests on each,
then an interleaved A/B of the base (A) against the head (B) with the configured metric. The head
fails only when the whole confidence interval of its slowdown lies past \`gate.threshold\` (10% by
default); an interval that straddles it is inconclusive, never a regression.

${DIR}
  --base REF     the commit to compare against, e.g. origin/main (required)
  --head REF     the commit under test (default: HEAD; uncommitted changes are not included)
${OUT}
  --json         print results.json to stdout
  --history FILE append this run's result to a JSON-lines history, and draw the trend in the report
                 when FILE already holds earlier commits (perfloop history reads it)

Exit codes: 0 passed, 1 perfloop error, 2 usage/config error, 4 inconclusive, 5 set-up, tests or
benchmark fail on the base or the head, 6 the head regressed.`,
  init: `usage: perfloop init [dir] [--force] [--workflows] [--no-profile]

Detects the project (language, test command, existing benchmarks, GPU use), explains what it
guessed, writes a commented .github/perfloop.yml, and runs \`perfloop profile\` once to prove it.

  dir            the project (default: .)
  --force        overwrite files that exist (refused otherwise)
  --workflows    also write .github/workflows/perfloop.yml (the Action on pull requests, the
                 scheduled scan and the App's dispatch)
  --no-profile   write the files only

Exit codes: 0 written (and profiled), 1 perfloop error, 2 usage error or a file exists, 5 the new
config's set-up, tests or benchmark fail.`,
  history: `usage: perfloop history [dir] [--file PATH | --ref REF] [--svg DIR] [--json | --mermaid]

The performance history (docs/gate.md, "History"): one series per benchmark, metric and machine,
oldest first, with its change points — steps whose medians' 95% intervals do not overlap. Results
from different machines are never compared.

  dir            a clone of the repository (default: .)
  --file PATH    read this JSON-lines file (what \`--history\` of gate, optimize and profile writes)
  --ref REF      read history.jsonl at REF (default: origin/perfloop-data, where the Action keeps it)
  --svg DIR      also write one SVG chart per series into DIR
  --json         print the series as JSON
  --mermaid      print mermaid xychart-beta blocks (GitHub renders them)

Exit codes: 0 printed, 1 no record, 2 the history cannot be read.`,
  stats: `usage: perfloop stats [dir] [--memory PATH] [--json] [--config PATH]

Prints, per repository in the memory store: success rate, improvement slope over runs, memory
reuse rate and rollbacks (docs/memory.md).

${DIR}
${MEMORY}
  --json         print the figures as JSON

Exit codes: 0 printed, 1 the store is missing or unreadable, 2 usage/config error.`,
};
