/**
 * What `perfloop init` detects in a project, as plain data (it is written to test fixtures as JSON
 * and rendered into the explanation and the config). Every finding carries the evidence it came
 * from, so the user can check each guess. Paths are relative to the project directory, with `/`.
 */

/** Languages perfloop init recognises. */
export type Language = "python" | "node" | "go" | "rust";

/** Where a finding came from: a file, and the 1-based line with its text when one line says it. */
export interface Evidence {
  /** Path relative to the project directory, `/`-separated. */
  file: string;
  /** 1-based line number; absent when the file's existence (or name) is the evidence. */
  line?: number;
  /** The line's text, trimmed and cut to 120 characters. */
  text?: string;
}

/** A language found, with the files that show it (at most {@link MAX_EVIDENCE}). */
export interface LanguageFinding {
  language: Language;
  evidence: Evidence[];
  /** Evidence items left out of `evidence` (beyond {@link MAX_EVIDENCE}); absent when none. */
  omitted?: number;
}

/** The test runners recognised. */
export type TestRunner = "pytest" | "unittest" | "npm" | "vitest" | "jest" | "go" | "cargo";

/** A way to run a language's tests. */
export interface TestFinding {
  language: Language;
  runner: TestRunner;
  /** Shell command, run from the project directory. */
  command: string;
  evidence: Evidence[];
  omitted?: number;
}

/** The benchmark kinds recognised. */
export type BenchmarkKind =
  | "hyperfine"
  | "npm-script"
  | "pytest-benchmark"
  | "go-bench"
  | "asv"
  | "vitest-bench"
  | "cargo-bench";

/** An existing benchmark. */
export interface BenchmarkFinding {
  kind: BenchmarkKind;
  /** Shell command for `benchmark.command`, run from the project directory; null when none could be made. */
  command: string | null;
  /**
   * `benchmark.output` for this command: `ignore` for harnesses that print their own timings (which
   * differ on every run), `exact` for a program whose output is its result.
   */
  output: "exact" | "ignore";
  /**
   * Benchmark source files found (project-relative; a directory as a `dir/**` glob), for the
   * explanation and `benchmark.files`.
   */
  files: string[];
  evidence: Evidence[];
  omitted?: number;
  /** Why this benchmark's wall time may not follow the code's speed, or what was guessed; absent when nothing. */
  caveat?: string;
}

/** GPU use found. */
export interface GpuFinding {
  /** `python-import` (torch, cupy, jax, numba.cuda, tensorflow), `cuda-source` (.cu/.cuh), `cmake-cuda`. */
  kind: "python-import" | "cuda-source" | "cmake-cuda";
  /** What was found: the module name (`torch`), `CUDA sources` or `CUDA in CMake`. */
  what: string;
  evidence: Evidence[];
  omitted?: number;
}

/** Something init noticed but could not use: a malformed file, a skipped file, a limit reached. */
export interface InitNote {
  file?: string;
  line?: number;
  message: string;
}

/** Everything detected in one project. */
export interface Detection {
  languages: LanguageFinding[];
  /** Test commands found, one per language at most, in the order languages are listed. */
  tests: TestFinding[];
  /** The `test` command to write: the commands of `tests` joined with ` && `; null when none. */
  test: string | null;
  /** Benchmarks found, best fit first (see detect.ts for the order). */
  benchmarks: BenchmarkFinding[];
  /** The `benchmark.command` to write: the first benchmark that has a command; null when none. */
  benchmark: string | null;
  /**
   * Files the chosen benchmark runs or reads (its harness files, and files its command names) that
   * the patch policy's built-in test and benchmark globs do not already protect: written to
   * `benchmark.files`, so no candidate can make the benchmark do less work.
   */
  benchmarkFiles: string[];
  gpu: GpuFinding[];
  notes: InitNote[];
  /** Files listed by the bounded walk, and whether it stopped at its limit. */
  scanned: { files: number; truncated: boolean };
}

/** Evidence items kept per finding; the rest are counted in `omitted`. */
export const MAX_EVIDENCE = 5;
