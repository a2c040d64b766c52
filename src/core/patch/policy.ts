// The patch policy of docs/design.md ("Patch policy"): which files a candidate
// may touch and how much it may change. Violations are returned, never thrown: they reject the
// candidate with a reason that is shown to the model and written to the report.

import { realpath } from "node:fs/promises";
import { diffLines } from "diff";
import picomatch from "picomatch";
import { CONFIG_PATH } from "../config/load.ts";
import type { Patch } from "./parse.ts";
import { lexicalViolations, normalize, realRelative } from "./paths.ts";

/** What a violation broke. "invalid-path": empty, backslash, NUL or control characters in a path. */
export type PolicyRule =
  | "absolute-path"
  | "parent-traversal"
  | "invalid-path"
  | "symlink-escape"
  | "outside-paths"
  | "protected"
  | "tests"
  | "benchmark"
  | "github-dir"
  | "config"
  | "lockfile"
  | "size";

/**
 * What a candidate may touch. Globs are picomatch globs relative to the repository root (`dot`
 * on). `paths`: editable globs (empty: nothing is editable). `protect`: globs never to touch.
 * `maxFiles`: distinct paths touched (move source and destination both count). `maxChangedLines`:
 * added + removed lines over the whole patch, from a line diff of before/after. `maxFileBytes`: UTF-8
 * size of any file after the patch. `benchmarkFiles`: extra benchmark globs (from the config's
 * benchmark command). `configPath`: the perfloop config, default `.github/perfloop.yml`.
 */
export type PatchPolicy = {
  paths: string[];
  protect: string[];
  maxFiles: number;
  maxChangedLines: number;
  maxFileBytes: number;
  benchmarkFiles?: string[];
  configPath?: string;
};

/** One broken rule. `path` is as written in the patch, or "(patch)" for whole-patch size caps. */
export type PolicyViolation = { path: string; rule: PolicyRule; message: string };

/** A file operation to judge: AppliedChange of apply.ts fits; `before`/`after` null when absent or unknown. */
export type PolicyChange = {
  path: string;
  moveTo?: string;
  kind: "add" | "delete" | "update";
  before: string | null;
  after: string | null;
};

/** Test files and test-runner configuration (docs/design.md, "Patch policy"), matched case-insensitively. */
export const TEST_GLOBS: readonly string[] = [
  "**/test/**",
  "**/tests/**",
  "**/__tests__/**",
  "**/test_*.py",
  "**/*_test.py",
  "**/*_test.go",
  "**/*.test.*",
  "**/*.spec.*",
  "**/conftest.py",
  // Test-runner configuration: editing it can switch the correctness gate off (skip tests, change
  // the test script) without touching a test file.
  "**/package.json",
  "**/pytest.ini",
  "**/pyproject.toml",
  "**/setup.cfg",
  "**/tox.ini",
  "**/noxfile.py",
  "**/vitest.config.*",
  "**/vitest.workspace.*",
  "**/jest.config.*",
  "**/.mocharc*",
  "**/karma.conf.*",
];

/** Benchmark files, matched case-insensitively; PatchPolicy.benchmarkFiles adds to these. */
export const BENCHMARK_GLOBS: readonly string[] = [
  "**/bench/**",
  "**/benchmark/**",
  "**/benchmarks/**",
  "**/*bench*.*",
];

/** Lock files of common package managers, matched by file name at any depth. */
export const LOCK_FILES: readonly string[] = [
  "package-lock.json",
  "npm-shrinkwrap.json",
  "yarn.lock",
  "pnpm-lock.yaml",
  "bun.lock",
  "bun.lockb",
  "poetry.lock",
  "Pipfile.lock",
  "uv.lock",
  "pdm.lock",
  "Cargo.lock",
  "go.sum",
  "composer.lock",
  "Gemfile.lock",
];

type Matcher = { glob: string; test: (p: string) => boolean };
type Rule = { rule: PolicyRule; matchers: Matcher[]; says: (p: string, glob: string) => string };

/** picomatch matchers for `globs` (dotfiles included). */
function compile(globs: readonly string[], nocase: boolean): Matcher[] {
  return globs.map((glob) => ({ glob, test: picomatch(glob, { dot: true, nocase }) }));
}

/** The built-in forbidden sets of docs/design.md, "Patch policy", plus `.git` and the policy's `protect`. */
function forbiddenRules(policy: PatchPolicy): Rule[] {
  const config = policy.configPath ?? CONFIG_PATH;
  const configGlobs = [config, config.replace(/\.yml$/, ".yaml"), config.replace(/\.yaml$/, ".yml")];
  return [
    {
      rule: "tests",
      matchers: compile(TEST_GLOBS, true),
      says: (p, g) =>
        `${p} is a test file or test-runner configuration (matches ${g}); tests are never modified: the faster code must pass them unchanged.`,
    },
    {
      rule: "benchmark",
      matchers: compile([...BENCHMARK_GLOBS, ...(policy.benchmarkFiles ?? [])], true),
      says: (p, g) =>
        `${p} is a benchmark file (matches ${g}); the benchmark is the measuring stick and must not change: optimize the code it measures.`,
    },
    {
      rule: "github-dir",
      matchers: compile([".github/**"], true),
      says: (p) => `${p} is under .github/; workflows and repository settings are off limits.`,
    },
    {
      rule: "config",
      matchers: compile([...new Set(configGlobs)], true),
      says: (p) => `${p} is the perfloop config; a candidate may not change how it is measured.`,
    },
    {
      rule: "lockfile",
      matchers: compile(
        LOCK_FILES.map((name) => `**/${name}`),
        true,
      ),
      says: (p) => `${p} is a lock file; dependency changes are not allowed, only changes to the code.`,
    },
    {
      rule: "protected",
      matchers: compile(["**/.git", "**/.git/**"], true),
      says: (p) => `${p} is inside git's own .git directory, which is off limits.`,
    },
    {
      rule: "protected",
      matchers: compile(policy.protect, true),
      says: (p, g) => `${p} matches the protected glob ${g} (the config's \`protect\`); leave it unchanged.`,
    },
  ];
}

/** Rule violations for one target path (a change's path or its move destination). */
async function checkPath(
  root: string,
  rootReal: string | null,
  p: string,
  allowed: Matcher[],
  rules: Rule[],
  allowedGlobs: string[],
): Promise<PolicyViolation[]> {
  const lexical = lexicalViolations(p);
  if (lexical.length > 0) return lexical;
  const norm = normalize(p);
  const out: PolicyViolation[] = [];
  let real: string | null = null;
  try {
    real = rootReal === null ? null : await realRelative(root, rootReal, norm);
  } catch {
    real = null;
  }
  if (real === null) {
    out.push({
      path: p,
      rule: "symlink-escape",
      message: `${p} resolves through a symbolic link to a location outside the repository (or cannot be resolved); edit files at their real location inside the repository.`,
    });
  }
  const candidates = real === null || real === norm ? [norm] : [norm, real];
  const label = (c: string) => (c === norm ? p : `${p} (really ${c}, through a symbolic link)`);
  if (!candidates.every((c) => allowed.some((m) => m.test(c)))) {
    const list = allowedGlobs.length > 0 ? allowedGlobs.join(", ") : "none configured";
    out.push({
      path: p,
      rule: "outside-paths",
      message: `${p} is outside the editable paths (${list}); change only files matching those globs.`,
    });
  }
  const seen = new Set<PolicyRule>();
  for (const rule of rules) {
    if (seen.has(rule.rule)) continue;
    for (const c of candidates) {
      const hit = rule.matchers.find((m) => m.test(c));
      if (hit === undefined) continue;
      out.push({ path: p, rule: rule.rule, message: rule.says(label(c), hit.glob) });
      seen.add(rule.rule);
      break;
    }
  }
  return out;
}

/** Added + removed lines between two texts (null = empty); bounded diff, falls back to both sizes. */
function changedLines(before: string | null, after: string | null): number {
  const a = before ?? "";
  const b = after ?? "";
  if (a === b) return 0;
  const changes = diffLines(a, b, { maxEditLength: 20_000 });
  const lines = (s: string) => (s === "" ? 0 : s.split("\n").length - (s.endsWith("\n") ? 1 : 0));
  if (changes === undefined) return lines(a) + lines(b);
  return changes.reduce((n, c) => n + (c.added || c.removed ? c.count : 0), 0);
}

/**
 * Checks file operations against `policy` for the repository at `root`: paths (absolute, `..`,
 * backslash/NUL, symlinks whose real path leaves realpath(root), checked on the nearest existing
 * ancestor), allowed/forbidden globs (tests, benchmarks, `.github/**`, the perfloop config, lock
 * files, `.git`, `protect`) on both the written and the real path, and the size caps. Source of the
 * rules: docs/design.md, "Patch policy". Reads only file metadata, never contents. Returns every
 * violation (empty: allowed); does not throw for any patch content.
 */
export async function checkPatchPolicy(
  root: string,
  changes: PolicyChange[],
  policy: PatchPolicy,
): Promise<PolicyViolation[]> {
  const rootReal = await realpath(root).catch(() => null);
  const allowed = compile(policy.paths, false);
  const rules = forbiddenRules(policy);
  const out: PolicyViolation[] = [];
  const touched = new Set<string>();
  const checked = new Set<string>();
  for (const change of changes) {
    for (const p of change.moveTo === undefined ? [change.path] : [change.path, change.moveTo]) {
      touched.add(normalize(p));
      if (checked.has(p)) continue;
      checked.add(p);
      out.push(...(await checkPath(root, rootReal, p, allowed, rules, policy.paths)));
    }
  }
  if (touched.size > policy.maxFiles) {
    out.push({
      path: "(patch)",
      rule: "size",
      message: `The patch touches ${touched.size} files; at most ${policy.maxFiles} are allowed. Make a smaller, focused change.`,
    });
  }
  let lines = 0;
  for (const change of changes) {
    const target = change.moveTo ?? change.path;
    const bytes = change.after === null ? 0 : Buffer.byteLength(change.after, "utf8");
    if (bytes > policy.maxFileBytes) {
      out.push({
        path: target,
        rule: "size",
        message: `${target} would be ${bytes} bytes; files larger than ${policy.maxFileBytes} bytes are not allowed.`,
      });
      continue;
    }
    lines += changedLines(change.before, change.after);
  }
  if (lines > policy.maxChangedLines) {
    out.push({
      path: "(patch)",
      rule: "size",
      message: `The patch changes ${lines} lines (added + removed); at most ${policy.maxChangedLines} are allowed. Make a smaller change.`,
    });
  }
  return out;
}

/**
 * The operations of a parsed patch before anything is read: `before` null, `after` the content of
 * added files (null otherwise). Check these first, so that hostile paths are rejected before
 * computePatchedFiles (apply.ts) reads them; then check the computed changes for the size caps.
 */
export function changesFromPatch(patch: Patch): PolicyChange[] {
  return patch.files.map((f) => {
    if (f.kind === "add") return { path: f.path, kind: f.kind, before: null, after: f.content };
    if (f.kind === "delete") return { path: f.path, kind: f.kind, before: null, after: null };
    const change: PolicyChange = { path: f.path, kind: f.kind, before: null, after: null };
    if (f.moveTo !== undefined) change.moveTo = f.moveTo;
    return change;
  });
}
