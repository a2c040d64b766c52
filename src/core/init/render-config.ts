/**
 * The `.github/perfloop.yml` that `perfloop init` writes: commented YAML, each key with what it does
 * and why it has this value, using the detected test and benchmark commands. What was not found
 * gets a placeholder command that fails with a message naming the key to fill in, so `perfloop
 * profile` stops loudly instead of measuring nothing. Strings are written as JSON strings, which are
 * valid YAML double-quoted scalars, so no command can break the file's syntax.
 */
import { CONFIG_PATH } from "../config/load.ts";
import { formatEvidence } from "./explain.ts";
import type { BenchmarkFinding, Detection, Evidence } from "./types.ts";

/** A shell command that fails, telling the user to replace `key` (single quotes: nothing is expanded). */
function placeholderCommand(key: string, what: string): string {
  return `echo 'perfloop: ${what} was found by perfloop init: replace ${key} in ${CONFIG_PATH} (README.md, Configuration)' >&2; exit 1`;
}

/** The placeholder written for `test` when no test command was found. */
export const TEST_PLACEHOLDER = placeholderCommand("test", "no test command");
/** The placeholder written for `benchmark.command` when no benchmark was found. */
export const BENCHMARK_PLACEHOLDER = placeholderCommand("benchmark.command", "no benchmark command");

const q = (s: string) => JSON.stringify(s);

/** "<indent># <label>, found in <file:line  text>" for the first evidence item (the label alone without one). */
function foundIn(label: string, items: { evidence: Evidence[] }, indent: string): string {
  const first = items.evidence[0];
  return `${indent}# ${label}${first ? `, found in ${formatEvidence(first)}` : ""}`;
}

function testSection(d: Detection): string[] {
  const head = [
    "# The correctness gate: it must pass on the unmodified code and on every candidate, so a faster",
    "# candidate that breaks behaviour is rejected.",
  ];
  if (d.test === null)
    return [
      ...head,
      "# PLACEHOLDER: no test command was found. Replace it with the command that runs your tests;",
      "# until then it fails on purpose.",
      `test: ${q(TEST_PLACEHOLDER)}`,
    ];
  return [...head, ...d.tests.map((t) => foundIn(t.runner, t, "")), `test: ${q(d.test)}`];
}

function outputComment(b: BenchmarkFinding | null): string {
  if (b?.output === "ignore")
    return "  # The harness prints its own timings, which differ on every run: stdout is not compared\n  # (the tests are the correctness gate). Use `exact` when the program's output is its result.";
  return "  # The candidate's stdout must equal the baseline's (a second correctness gate). If the program\n  # prints timings, print them to stderr or set `numeric` or `ignore`.";
}

function benchmarkSection(d: Detection): string[] {
  const chosen = d.benchmarks.find((b) => b.command !== null && b.command === d.benchmark) ?? null;
  const lines = [
    "# What perfloop measures: one run = one whole process run of `command`; its wall time is the",
    "# default metric, compared baseline against candidate in interleaved runs.",
    "benchmark:",
  ];
  if (chosen === null)
    lines.push(
      "  # PLACEHOLDER: no benchmark was found. Replace it with a command that runs your workload once",
      "  # (e.g. `python3 -m mypkg data.txt`); until then it fails on purpose, so `perfloop profile` stops.",
      `  command: ${q(BENCHMARK_PLACEHOLDER)}`,
    );
  else
    lines.push(
      foundIn(chosen.kind, chosen, "  "),
      ...(chosen.caveat ? wrap(`Note: ${chosen.caveat}`, "  # ") : []),
      `  command: ${q(chosen.command ?? "")}`,
    );
  lines.push(outputComment(chosen), `  output: ${chosen?.output ?? "exact"}`);
  lines.push(
    "  # What decides without a metric: wall time is what users feel. On a shared, noisy runner `cpu`",
    '  # (user + system time) or `instructions` resist the noise (README, "Choosing what to measure").',
    "  measure: wall",
  );
  if (d.benchmarkFiles.length > 0)
    lines.push(
      "  # Files the benchmark runs or reads that no candidate may edit (the built-in globs already",
      "  # protect tests and files named *bench*): a candidate must not make the benchmark do less.",
      `  files: [${d.benchmarkFiles.map(q).join(", ")}]`,
    );
  if (d.gpu.length > 0)
    lines.push(
      `  # GPU code was found (${d.gpu.map((g) => g.what).join(", ")}): GPU work is asynchronous, so the`,
      "  # process's wall time can hide or misplace it. Time the GPU work in the program with",
      "  # synchronisation (CUDA events, torch.cuda.synchronize()), print it to stdout, and read it here:",
      "  # metric:",
      '  #   pattern: "gpu_ms=([0-9.]+)"   # RE2; the first capture group is the number',
      "  #   name: gpu_time",
      "  #   unit: ms",
      "  #   direction: lower",
    );
  else
    lines.push(
      "  # A number the program prints can decide instead (`metric: {pattern, name, unit, direction}`).",
    );
  return lines;
}

/**
 * With torch imported: the PyTorch trace, commented out (README, "GPU programs"): perfloop records
 * one by itself; a long program should bound it to a window of steps. [] without torch.
 */
function torchSection(d: Detection): string[] {
  const torch = d.gpu.find((g) => g.kind === "python-import" && g.what === "torch");
  if (!torch) return [];
  const where = torch.evidence[0]
    ? ` (${torch.evidence[0].file}${torch.evidence[0].line ? `:${torch.evidence[0].line}` : ""})`
    : "";
  return [
    `# PyTorch is imported${where}: perfloop records a torch.profiler trace of the benchmark in a`,
    "# profiling run of its own, for kernel, operator and sync facts. For a long run, trace a window",
    "# of steps: name the function one step runs, as imported (not in __main__).",
    "# profile:",
    "#   torch_step: mypkg.train:train_step",
    "#   torch_skip: 1",
    "#   torch_steps: 5",
    "",
  ];
}

/** `text` as comment lines of at most ~100 characters. */
function wrap(text: string, prefix: string): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line !== "" && prefix.length + line.length + word.length + 1 > 100) {
      out.push(`${prefix}${line}`);
      line = "";
    }
    line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") out.push(`${prefix}${line}`);
  return out;
}

/** The config text for `d` (ends with a newline). */
export function renderConfig(d: Detection): string {
  return [
    "# perfloop config, written by `perfloop init` from what it found in this project (every key:",
    '# README.md, "Configuration"). Review it, then run `perfloop profile` to measure the baseline.',
    "version: 1",
    "",
    "# Run once, before anything else, in perfloop's scratch copy (no network there by default):",
    "# building or generating input data. Nothing was needed that init could see.",
    "# setup: make build",
    "",
    ...testSection(d),
    "",
    ...benchmarkSection(d),
    "",
    "# Files a candidate may edit. Tests, benchmarks, lock files, .github/ and this file are never",
    '# editable whatever this says; narrow it to your source directories (e.g. ["src/**"]).',
    'paths: ["**/*"]',
    "",
    "# Candidates to try at most; each costs a test run and an A/B measurement.",
    "rounds: 5",
    "# The smallest change claimed either way: below 5% a real gain is hard to tell from noise.",
    "min_improvement: 5%",
    "",
    "repetitions:",
    "  # Unmeasured runs first per side (caches, JIT, page cache).",
    "  warmup: 1",
    "  # Measured runs per side: with 10 a p-value can fall well below alpha = 0.01 (5 is the floor).",
    "  runs: 10",
    "",
    ...torchSection(d),
    "# LLM rewrites (optional; without a model perfloop tunes the knobs declared under `tune`):",
    "# model:",
    "#   name: gpt-4.1",
    "#   api_key_env: OPENAI_API_KEY",
    "",
  ].join("\n");
}
