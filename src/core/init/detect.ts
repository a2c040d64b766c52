/**
 * Detection of a project for `perfloop init`: reads files only (never runs anything) through the
 * bounded listing of files.ts, and returns what it found with the evidence for each guess.
 */
import picomatch from "picomatch";
import { BENCHMARK_GLOBS, TEST_GLOBS } from "../patch/policy.ts";
import { type DetectContext, loadContext } from "./context.ts";
import { scanProject } from "./files.ts";
import { detectCargoBenchmarks, detectCargoTests, detectGoBenchmarks, detectGoTests } from "./go-rust.ts";
import { detectGpu } from "./gpu.ts";
import { detectHyperfine } from "./hyperfine.ts";
import { detectLanguages } from "./languages.ts";
import { detectNodeBenchmarks, detectNodeTests, namedFiles } from "./node.ts";
import { detectAsv, detectPytestBenchmark } from "./python-bench.ts";
import { detectPythonTests, readPythonTestFiles } from "./python-tests.ts";
import type { BenchmarkFinding, BenchmarkKind, Detection } from "./types.ts";

/**
 * Which benchmark is preferred when several are found. hyperfine's command is already a whole
 * process run (perfloop's unit of measurement); a project's own bench script comes next; then the
 * harnesses whose command does fixed work (pytest-benchmark with fixed rounds, Go with fixed
 * iterations, asv --quick); last the time-budgeted ones (vitest bench, cargo bench).
 */
const KIND_ORDER: readonly BenchmarkKind[] = [
  "hyperfine",
  "npm-script",
  "pytest-benchmark",
  "go-bench",
  "asv",
  "vitest-bench",
  "cargo-bench",
];

/**
 * Detects languages, test commands, benchmarks and GPU use in the project at `dir`.
 * @param dir the project directory (must exist; runInit checks).
 * @returns the detection; malformed files, skipped files and limits reached are in `notes`.
 */
export async function detectProject(dir: string): Promise<Detection> {
  const tree = await scanProject(dir);
  const ctx = await loadContext(tree);
  const languages = detectLanguages(ctx);
  const python = languages.some((l) => l.language === "python");
  const pyTests = python ? await readPythonTestFiles(ctx) : [];
  const tests = [
    python ? await detectPythonTests(ctx, pyTests) : null,
    detectNodeTests(ctx),
    await detectGoTests(ctx),
    detectCargoTests(ctx),
  ].filter((t) => t !== null);
  const benchmarks = [
    ...(await detectHyperfine(ctx)),
    ...detectNodeBenchmarks(ctx),
    python ? await detectPytestBenchmark(ctx, pyTests) : null,
    await detectGoBenchmarks(ctx),
    await detectAsv(ctx),
    detectCargoBenchmarks(ctx),
  ]
    .filter((b) => b !== null)
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  const chosen = benchmarks.find((b) => b.command !== null) ?? null;
  const gpu = await detectGpu(ctx);
  return {
    languages,
    tests,
    test: tests.length > 0 ? tests.map((t) => t.command).join(" && ") : null,
    benchmarks,
    benchmark: chosen?.command ?? null,
    benchmarkFiles: chosen ? unprotectedFiles(chosen, ctx) : [],
    gpu,
    notes: ctx.notes,
    scanned: { files: tree.files.length, truncated: tree.truncated },
  };
}

/** Test and benchmark files the patch policy protects without being told (matched like policy.ts). */
const builtIn = picomatch([...TEST_GLOBS, ...BENCHMARK_GLOBS], { dot: true, nocase: true });

/**
 * The files of `finding` and the listed files its command names (`python3 run.py corpus.txt`: both
 * the driver and its input), less those the built-in globs already protect; sorted.
 */
function unprotectedFiles(finding: BenchmarkFinding, ctx: DetectContext): string[] {
  const named = namedFiles(ctx, finding.command ?? "");
  return [...new Set([...finding.files, ...named])].filter((f) => !builtIn(f)).sort();
}
