/**
 * Whether a Python project declares a dependency, and where: pyproject.toml (PEP 621
 * `project.dependencies` and `optional-dependencies`, PEP 735 `dependency-groups`, Poetry, PDM and
 * uv dev groups, read from the parsed TOML so a commented-out line never counts), requirements files
 * (`requirements*.txt` at the top, `requirements/*.txt`), and setup.py / setup.cfg / Pipfile /
 * tox.ini by a line scan for the name as a whole token (their formats are code or loosely structured).
 */
import type { DetectContext } from "./context.ts";
import { firstLine, lineEvidence, linesOf } from "./evidence.ts";
import { stringsOf, tableOf, valueAt } from "./manifests.ts";
import type { Evidence } from "./types.ts";

/** PEP 503 normalisation: lower case, runs of `-`, `_`, `.` as one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

/** The distribution name at the start of a PEP 508 requirement string; null when there is none. */
export function requirementName(requirement: string): string | null {
  const m = /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)/.exec(requirement);
  return m?.[1] ? normalizeName(m[1]) : null;
}

/** A regular expression matching `name` as a whole token, any of `-`, `_`, `.` between its parts. */
function tokenPattern(name: string): RegExp {
  const parts = normalizeName(name)
    .split("-")
    .map((p) => p.replace(/[^a-z0-9]/g, ""));
  return new RegExp(`(^|[^A-Za-z0-9_.-])${parts.join("[-_.]+")}([^A-Za-z0-9_.-]|$)`, "i");
}

/** Requirement strings and table keys declared in a parsed pyproject.toml. */
function pyprojectNames(doc: unknown): Set<string> {
  const strings: string[] = [
    ...stringsOf(valueAt(doc, "project", "dependencies")),
    ...Object.values(tableOf(valueAt(doc, "project", "optional-dependencies"))).flatMap(stringsOf),
    ...Object.values(tableOf(valueAt(doc, "dependency-groups"))).flatMap(stringsOf),
    ...Object.values(tableOf(valueAt(doc, "tool", "pdm", "dev-dependencies"))).flatMap(stringsOf),
    ...stringsOf(valueAt(doc, "tool", "uv", "dev-dependencies")),
  ];
  const keys: string[] = [
    ...Object.keys(tableOf(valueAt(doc, "tool", "poetry", "dependencies"))),
    ...Object.keys(tableOf(valueAt(doc, "tool", "poetry", "dev-dependencies"))),
    ...Object.values(tableOf(valueAt(doc, "tool", "poetry", "group"))).flatMap((group) =>
      Object.keys(tableOf(valueAt(group, "dependencies"))),
    ),
  ];
  return new Set(
    [...strings.map(requirementName), ...keys.map(normalizeName)].filter((n): n is string => n !== null),
  );
}

/** Requirements files: `requirements*.txt` at the top and anything `.txt` under `requirements/`. */
function requirementFiles(files: readonly string[]): string[] {
  return files.filter((f) => /^requirements[^/]*\.txt$/i.test(f) || /^requirements\/[^/]+\.txt$/i.test(f));
}

/** Top-level files scanned line by line for a dependency name (comments skipped). */
const LOOSE_FILES = ["setup.py", "setup.cfg", "Pipfile", "tox.ini"];

/**
 * Where the project declares `name` (any spelling PEP 503 treats as the same); null when nowhere.
 * The evidence is the first declaring line found, pyproject.toml first.
 */
export async function findPythonDependency(ctx: DetectContext, name: string): Promise<Evidence | null> {
  const wanted = normalizeName(name);
  const token = tokenPattern(name);
  const { pyproject, tree } = ctx;
  if (pyproject?.value && pyprojectNames(pyproject.value).has(wanted)) {
    return firstLine(pyproject.file, pyproject.text, token) ?? { file: pyproject.file };
  }
  for (const file of requirementFiles(tree.files)) {
    const text = await tree.read(file);
    if (text === null) continue;
    const lines = linesOf(text);
    const i = lines.findIndex(
      (line) => !/^\s*-/.test(line) && requirementName(line.replace(/#.*/, "")) === wanted,
    );
    if (i >= 0) return lineEvidence(file, lines, i);
  }
  for (const file of LOOSE_FILES.filter((f) => tree.has(f))) {
    const text = await tree.read(file);
    if (text === null) continue;
    const uncommented = linesOf(text)
      .map((line) => (/^\s*[#;]/.test(line) ? "" : line))
      .join("\n");
    const found = firstLine(file, uncommented, token);
    if (found) return found;
  }
  return null;
}
