/**
 * The Python test command. pytest when anything says the project uses pytest (its configuration
 * in pyproject.toml, pytest.ini, setup.cfg or tox.ini; a conftest.py; a test file importing pytest;
 * pytest declared as a dependency next to test files; or plain `def test_…` functions, which only
 * pytest collects), since pytest also runs unittest tests; else `python3 -m unittest discover` on
 * the directory holding the unittest tests. Both run through `python3 -m` so the project directory
 * is on sys.path, as it is for the benchmark.
 */

import { shellQuote } from "../exec/shell-quote.ts";
import { baseName, type DetectContext, dirName } from "./context.ts";
import { capEvidence, firstLine } from "./evidence.ts";
import { byCodeUnit } from "./files.ts";
import { valueAt } from "./manifests.ts";
import { findPythonDependency } from "./python-deps.ts";
import type { Evidence, TestFinding } from "./types.ts";

/** Python test files read at most (each is small; the cap bounds a huge test tree). */
const MAX_TEST_FILES_READ = 400;

/**
 * Whether `rel` looks like a Python test file: pytest's default names (`test_*.py`, `*_test.py`)
 * or any module under a `test`/`tests` directory (unittest's `test*.py` included).
 */
function isPythonTestFile(rel: string): boolean {
  if (!rel.endsWith(".py")) return false;
  const name = baseName(rel);
  if (name === "__init__.py" || name === "conftest.py") return false;
  return /^test.*\.py$/.test(name) || name.endsWith("_test.py") || /(^|\/)tests?\//.test(rel);
}

/** A Python test file read, with what it shows. */
export interface PythonTestFile {
  file: string;
  text: string;
}

/** The project's Python test files (at most {@link MAX_TEST_FILES_READ}, in path order), read. */
export async function readPythonTestFiles(ctx: DetectContext): Promise<PythonTestFile[]> {
  const out: PythonTestFile[] = [];
  for (const file of ctx.tree.files.filter(isPythonTestFile).slice(0, MAX_TEST_FILES_READ)) {
    const text = await ctx.tree.read(file);
    if (text !== null) out.push({ file, text });
  }
  return out;
}

const IMPORTS_PYTEST = /^\s*(import\s+pytest\b|from\s+pytest\b)/;
const IMPORTS_UNITTEST = /^\s*(import\s+unittest\b|from\s+unittest\b)/;
const TEST_CASE = /^\s*class\s+\w+\s*\([^)]*TestCase[^)]*\)/;
const PLAIN_TEST_FUNCTION = /^def\s+test\w*\s*\(/;

/** Evidence that the project uses pytest; empty when none. */
async function pytestEvidence(ctx: DetectContext, tests: PythonTestFile[]): Promise<Evidence[]> {
  const { tree, pyproject } = ctx;
  const found: Evidence[] = [];
  if (pyproject?.value && valueAt(pyproject.value, "tool", "pytest", "ini_options") !== undefined)
    found.push(
      firstLine(pyproject.file, pyproject.text, /^\s*\[\s*tool\.pytest\.ini_options\s*\]/) ?? {
        file: pyproject.file,
      },
    );
  if (tree.has("pytest.ini")) found.push({ file: "pytest.ini" });
  for (const [file, header] of [
    ["setup.cfg", /^\s*\[\s*tool:pytest\s*\]/],
    ["tox.ini", /^\s*\[\s*pytest\s*\]/],
  ] as const) {
    const text = tree.has(file) ? await tree.read(file) : null;
    const line = text === null ? null : firstLine(file, text, header);
    if (line) found.push(line);
  }
  for (const file of tree.files.filter((f) => baseName(f) === "conftest.py")) found.push({ file });
  for (const t of tests) {
    const line = firstLine(t.file, t.text, IMPORTS_PYTEST);
    if (line) found.push(line);
  }
  if (tests.length > 0) {
    const dependency = await findPythonDependency(ctx, "pytest");
    if (dependency) found.push(dependency);
    for (const t of tests) {
      // Top-level test functions outside a unittest module: only pytest collects them.
      if (firstLine(t.file, t.text, IMPORTS_UNITTEST)) continue;
      const line = firstLine(t.file, t.text, PLAIN_TEST_FUNCTION);
      if (line) found.push(line);
    }
  }
  return found;
}

/** The unittest test files and the line showing each (a TestCase class in a module importing unittest). */
function unittestEvidence(tests: PythonTestFile[]): Evidence[] {
  return tests.flatMap((t) => {
    if (firstLine(t.file, t.text, IMPORTS_UNITTEST) === null) return [];
    const line = firstLine(t.file, t.text, TEST_CASE);
    return line ? [line] : [];
  });
}

/**
 * `python3 -m unittest discover -s <dir>` for the directory holding most unittest files (`-p` when
 * their names do not match unittest's default `test*.py`).
 */
function unittestCommand(files: string[]): { command: string; others: string[] } {
  const byDir = new Map<string, string[]>();
  for (const f of files) byDir.set(dirName(f), [...(byDir.get(dirName(f)) ?? []), f]);
  const dirs = [...byDir.keys()].sort(
    (a, b) => (byDir.get(b)?.length ?? 0) - (byDir.get(a)?.length ?? 0) || byCodeUnit(a, b),
  );
  const dir = dirs[0] ?? ".";
  const names = (byDir.get(dir) ?? []).map(baseName);
  const pattern = names.every((n) => /^test.*\.py$/.test(n))
    ? ""
    : names.every((n) => n.endsWith("_test.py"))
      ? ` -p ${shellQuote("*_test.py")}`
      : ` -p ${shellQuote("*.py")}`;
  return { command: `python3 -m unittest discover -s ${shellQuote(dir)}${pattern}`, others: dirs.slice(1) };
}

/** The Python test command with its evidence; null when no Python tests were found. */
export async function detectPythonTests(
  ctx: DetectContext,
  tests: PythonTestFile[],
): Promise<TestFinding | null> {
  const pytest = await pytestEvidence(ctx, tests);
  if (pytest.length > 0)
    return { language: "python", runner: "pytest", command: "python3 -m pytest -q", ...capEvidence(pytest) };
  const unittest = unittestEvidence(tests);
  if (unittest.length === 0) return null;
  const { command, others } = unittestCommand(unittest.map((e) => e.file));
  if (others.length > 0)
    ctx.notes.push({
      message: `unittest tests were also found in ${others.join(", ")}: the test command runs only the directory with the most; add the others to \`test\` (… && python3 -m unittest discover -s <dir>)`,
    });
  return { language: "python", runner: "unittest", command, ...capEvidence(unittest) };
}
