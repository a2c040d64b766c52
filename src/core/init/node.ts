/**
 * Node projects (a package.json at the top): the test command — `npm test` when the test script is
 * real (npm init's default, which only fails with "no test specified", is not), else vitest or jest
 * when a dependency — and the benchmarks: a `bench`/`benchmark` script, and vitest bench (`*.bench.*`
 * files, or `vitest bench` in a script).
 */
import { baseName, type DetectContext } from "./context.ts";
import { capEvidence, firstLine } from "./evidence.ts";
import { tableOf, valueAt } from "./manifests.ts";
import { shellWords } from "./shell-words.ts";
import type { BenchmarkFinding, Evidence, TestFinding } from "./types.ts";

/** The scripts of the root package.json (string values only); empty when there is none. */
export function packageScripts(ctx: DetectContext): Record<string, string> {
  const scripts = tableOf(valueAt(ctx.packageJson?.value, "scripts"));
  return Object.fromEntries(
    Object.entries(scripts).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
}

/** Where package.json names `key` as a JSON key (first occurrence). */
function keyLine(ctx: DetectContext, key: string): Evidence {
  const pkg = ctx.packageJson;
  if (!pkg) return { file: "package.json" };
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return firstLine(pkg.file, pkg.text, new RegExp(`"${escaped}"\\s*:`)) ?? { file: pkg.file };
}

/** Whether package.json declares `name` in dependencies or devDependencies, with where. */
function dependency(ctx: DetectContext, name: string): Evidence | null {
  const doc = ctx.packageJson?.value;
  const declared = ["dependencies", "devDependencies"].some((k) =>
    Object.hasOwn(tableOf(valueAt(doc, k)), name),
  );
  return declared ? keyLine(ctx, name) : null;
}

/** The listed project files a shell command names as words (`./x` read as `x`), in order, once each. */
export function namedFiles(ctx: DetectContext, command: string): string[] {
  const words = shellWords(command)
    .filter((t) => !t.operator)
    .map((t) => t.value.replace(/^\.\//, ""));
  return [...new Set(words.filter((w) => w !== "" && ctx.tree.has(w)))];
}

/** npm init's placeholder test script: it fails on purpose, it tests nothing. */
const NO_TEST = /no test specified/i;

/** The Node test command; null when the project has no package.json or no tests found in it. */
export function detectNodeTests(ctx: DetectContext): TestFinding | null {
  if (!ctx.packageJson?.value) return null;
  const test = packageScripts(ctx).test;
  if (test !== undefined && test.trim() !== "" && !NO_TEST.test(test))
    return { language: "node", runner: "npm", command: "npm test", evidence: [keyLine(ctx, "test")] };
  if (test !== undefined && NO_TEST.test(test)) {
    const at = keyLine(ctx, "test");
    ctx.notes.push({
      file: at.file,
      ...(at.line ? { line: at.line } : {}),
      message: 'the `test` script is npm\'s placeholder ("no test specified"): not used',
    });
  }
  const vitest = dependency(ctx, "vitest");
  if (vitest) return { language: "node", runner: "vitest", command: "npx vitest run", evidence: [vitest] };
  const jest = dependency(ctx, "jest");
  if (jest) return { language: "node", runner: "jest", command: "npx jest", evidence: [jest] };
  return null;
}

/** Script names taken as the project's own benchmark. */
const BENCH_SCRIPTS = ["bench", "benchmark", "benchmarks"];

/** vitest bench files: `*.bench.*` / `*.benchmark.*` with a JavaScript or TypeScript extension. */
const BENCH_FILE = /\.(bench|benchmark)\.(c|m)?(j|t)sx?$/;

/**
 * tinybench, under vitest bench, runs each benchmark until both its time (500 ms) and iteration
 * (10) minimums are met, so a fast benchmark takes the same wall time whatever the code's speed.
 */
const VITEST_BENCH_CAVEAT =
  "vitest bench runs each benchmark for at least 500 ms (and 10 iterations), so the wall time follows the code only for benchmarks slower than 50 ms an iteration: for faster ones give bench() the options { time: 0, iterations: N, warmupTime: 0 } so each does fixed work";

/** The Node benchmarks: vitest bench first (when present), then a plain bench script. */
export function detectNodeBenchmarks(ctx: DetectContext): BenchmarkFinding[] {
  if (!ctx.packageJson?.value) return [];
  const scripts = packageScripts(ctx);
  const found: BenchmarkFinding[] = [];
  const benchFiles = ctx.tree.files.filter((f) => BENCH_FILE.test(baseName(f)));
  const vitestScript = Object.keys(scripts).find((name) => /\bvitest\s+bench\b/.test(scripts[name] ?? ""));
  if (benchFiles.length > 0 || vitestScript !== undefined) {
    // `vitest bench` watches for changes unless told to run once (or CI is set).
    const command =
      vitestScript === undefined
        ? "npx vitest bench --run"
        : `npm run ${vitestScript}${/--run\b/.test(scripts[vitestScript] ?? "") ? "" : " -- --run"}`;
    const uses = dependency(ctx, "vitest");
    found.push({
      kind: "vitest-bench",
      command,
      output: "ignore",
      files: benchFiles,
      ...capEvidence([
        ...(vitestScript !== undefined ? [keyLine(ctx, vitestScript)] : []),
        ...benchFiles.map((file) => ({ file })),
      ]),
      caveat: uses
        ? VITEST_BENCH_CAVEAT
        : `${VITEST_BENCH_CAVEAT}; vitest is not a dependency in package.json`,
    });
  }
  for (const name of BENCH_SCRIPTS) {
    const body = scripts[name];
    if (body === undefined || name === vitestScript || /\bhyperfine\b/.test(body)) continue;
    found.push({
      kind: "npm-script",
      command: `npm run --silent ${name}`,
      output: "exact",
      // The script's driver and inputs (`node perf/run.js data.csv`): no candidate may edit them.
      files: namedFiles(ctx, body),
      evidence: [keyLine(ctx, name)],
    });
  }
  return found;
}
