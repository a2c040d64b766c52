/**
 * Python benchmark harnesses: pytest-benchmark (declared as a dependency, or tests taking the
 * `benchmark` fixture) and asv (`asv.conf.json`). perfloop times one whole process run, so each
 * command is chosen to do a fixed amount of work: a harness that calibrates its rounds to fill a
 * time budget would take the same wall time however fast the code became.
 */

import { shellQuote } from "../exec/shell-quote.ts";
import { baseName, type DetectContext, dirName } from "./context.ts";
import { capEvidence, firstLine, lineAt } from "./evidence.ts";
import { findPythonDependency } from "./python-deps.ts";
import type { PythonTestFile } from "./python-tests.ts";
import type { BenchmarkFinding, Evidence } from "./types.ts";

/** A test function taking the `benchmark` fixture (the signature may span lines). */
const BENCHMARK_FIXTURE = /^[ \t]*(?:async[ \t]+)?def[ \t]+test\w*[ \t]*\(([^)]*)\)/gm;

/** Rounds every pytest-benchmark benchmark runs (fixed, see {@link PYTEST_BENCHMARK_FLAGS}). */
const PYTEST_BENCHMARK_ROUNDS = 20;

/**
 * pytest-benchmark's defaults calibrate rounds to fill `--benchmark-max-time` (1 s) each, so the
 * process's wall time would not follow the code. With max-time 0 the rounds are exactly
 * `--benchmark-min-rounds` (pytest-benchmark fixture.py: rounds = max(ceil(max_time / duration),
 * min_rounds)), and with min-time 0 a round is one call of any function slower than the timer's
 * calibration floor (about 10 timer ticks), so the work is fixed. `--benchmark-only` skips the
 * other tests: they are the `test` command's job.
 */
const PYTEST_BENCHMARK_FLAGS = `--benchmark-only --benchmark-min-time=0 --benchmark-max-time=0 --benchmark-min-rounds=${PYTEST_BENCHMARK_ROUNDS} -q`;

/** Where each test file uses the `benchmark` fixture. */
function fixtureUses(tests: PythonTestFile[]): Evidence[] {
  return tests.flatMap((t) =>
    [...t.text.matchAll(BENCHMARK_FIXTURE)]
      .filter((m) => /(^|[\s,(])benchmark\s*(?:[:=,]|$)/.test((m[1] ?? "").trim()))
      .map((m) => lineAt(t.file, t.text, m.index ?? 0)),
  );
}

/** The pytest paths to run: the files when few, else their directories. */
function pytestTargets(files: string[]): string[] {
  if (files.length <= 4) return files;
  return [...new Set(files.map(dirName))];
}

/** pytest-benchmark, when declared or used; null when neither. */
export async function detectPytestBenchmark(
  ctx: DetectContext,
  tests: PythonTestFile[],
): Promise<BenchmarkFinding | null> {
  const dependency = await findPythonDependency(ctx, "pytest-benchmark");
  const uses = fixtureUses(tests);
  if (!dependency && uses.length === 0) return null;
  const files = [...new Set(uses.map((e) => e.file))];
  const evidence = capEvidence([...(dependency ? [dependency] : []), ...uses]);
  if (files.length === 0)
    return {
      kind: "pytest-benchmark",
      command: null,
      output: "ignore",
      files,
      ...evidence,
      caveat:
        "pytest-benchmark is a dependency, but no test takes the `benchmark` fixture: there is nothing to run",
    };
  const command = `python3 -m pytest ${pytestTargets(files).map(shellQuote).join(" ")} ${PYTEST_BENCHMARK_FLAGS}`;
  return {
    kind: "pytest-benchmark",
    command,
    output: "ignore",
    files,
    ...evidence,
    caveat: [
      `each benchmark runs exactly ${PYTEST_BENCHMARK_ROUNDS} rounds (max-time 0), so the wall time follows the code's speed; raise --benchmark-min-rounds when pytest's own start-up (about a second) outweighs the benchmarks`,
      ...(dependency
        ? []
        : ["pytest-benchmark is not declared as a dependency: install it where perfloop runs"]),
    ].join("; "),
  };
}

/** asv, when an `asv.conf.json` is found (the shallowest); null otherwise. */
export async function detectAsv(ctx: DetectContext): Promise<BenchmarkFinding | null> {
  const conf = ctx.tree.files
    .filter((f) => baseName(f) === "asv.conf.json")
    .sort((a, b) => a.split("/").length - b.split("/").length)[0];
  if (conf === undefined) return null;
  const dir = dirName(conf);
  // asv.conf.json allows // comments, which JSON.parse refuses: read the one key needed by a line scan.
  const text = (await ctx.tree.read(conf)) ?? "";
  const benchDirLine = firstLine(conf, text, /^\s*"benchmark_dir"\s*:/);
  const benchDir = /"benchmark_dir"\s*:\s*"([^"]+)"/.exec(benchDirLine?.text ?? "")?.[1] ?? "benchmarks";
  const prefix = dir === "." ? "" : `${dir}/`;
  const under = `${prefix}${benchDir.replace(/^\.\//, "").replace(/\/$/, "")}/`;
  // The whole benchmark directory, as a glob: asv imports every module in it.
  const files = ctx.tree.files.some((f) => f.startsWith(under)) ? [`${under}**`] : [];
  // `asv machine --yes` records the machine without a prompt (each sandboxed command gets a fresh
  // $HOME, so it runs every time); `--python=same` uses the installed environment instead of
  // building one, `--quick` runs each benchmark once (fixed work), `--dry-run` saves no results.
  const run = "asv machine --yes > /dev/null && asv run --python=same --quick --show-stderr --dry-run";
  return {
    kind: "asv",
    command: dir === "." ? run : `cd ${shellQuote(dir)} && ${run}`,
    output: "ignore",
    files,
    ...capEvidence([{ file: conf }, ...(benchDirLine ? [benchDirLine] : [])]),
    caveat:
      "asv --quick runs each benchmark once, in the current Python environment (asv must be installed there)",
  };
}
