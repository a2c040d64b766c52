/**
 * Reading and validating `.github/perfloop.yml`: YAML parse errors and schema errors both become a
 * {@link ConfigError} whose message names the key, what was found and what is expected. The config
 * may come from a pull request: it is read like any repository file perfloop reads itself
 * (src/core/fs/inside.ts), and its path keys must not leave the repository through symbolic links
 * ({@link checkConfigPaths}).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { RepositoryPathError, readInside, realInsideSync, relativePathProblem } from "../fs/inside.ts";
import { type Config, configSchema } from "./schema.ts";

/** Where perfloop looks for its config inside a repository. */
export const CONFIG_PATH = ".github/perfloop.yml";

/** A config that cannot be read or is invalid. `problems` holds one line per offending key. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: string[];
  constructor(source: string, problems: string[], options?: { cause?: unknown }) {
    // A problem of several lines (a YAML error's snippet) keeps its lines, indented under its item.
    super(
      `${source} is invalid:\n${problems.map((p) => `  - ${p.replace(/\n/g, "\n    ")}`).join("\n")}`,
      options,
    );
    this.problems = problems;
  }
}

/**
 * Validates an already-parsed config object (e.g. from Probot's config loader).
 * @param source name used in messages, e.g. ".github/perfloop.yml".
 * @throws ConfigError listing every problem as `key: found X, expected Y`.
 */
export function parseConfig(raw: unknown, source = CONFIG_PATH): Config {
  if (raw === null || raw === undefined)
    throw new ConfigError(source, ["the file is empty: it needs at least `test` and `benchmark.command`"]);
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;
  throw new ConfigError(
    source,
    result.error.issues.flatMap((issue) => describeIssue(issue, raw)),
  );
}

/**
 * Parses YAML text and validates it.
 * @throws ConfigError on YAML syntax errors (line, column and a snippet with a caret: see
 *   {@link yamlSyntaxProblem}) or schema problems.
 */
export function parseConfigText(text: string, source = CONFIG_PATH): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const problem =
      yamlSyntaxProblem(error, text) ?? `YAML syntax error: ${(error as Error).message.split("\n")[0]}`;
    throw new ConfigError(source, [problem], { cause: error });
  }
  return parseConfig(raw, source);
}

/** The parts of the `yaml` package's YAMLParseError read here (`linePos` is 1-based). */
interface YamlErrorLike {
  name: string;
  message: string;
  linePos?: [{ line: number; col: number }, { line: number; col: number }?];
}

/**
 * A YAML syntax error in words a person can act on: "YAML syntax error at line 4, column 1: <the
 * parser's reason>", then the line before, the offending line and a caret under the column, each
 * numbered:
 * ```
 *      3 |   command: [python, bench.py
 *    > 4 | paths: ["src/**"]
 *        | ^
 * ```
 * The snippet is cut from `text` when given, else from the parser's own message (the `yaml`
 * package appends the lines and caret to it, as Probot's config loader keeps in `cause`). Tabs and
 * control characters show as spaces, so the caret stays under its column; long lines are clipped
 * around it.
 * @returns null when `error` is not a YAMLParseError (name and `message` checked, `linePos` used when set).
 */
export function yamlSyntaxProblem(error: unknown, text?: string): string | null {
  const e = error as YamlErrorLike | null;
  if (e === null || typeof e !== "object" || e.name !== "YAMLParseError" || typeof e.message !== "string")
    return null;
  const pos = e.linePos?.[0];
  let reason = (e.message.split(/ at line \d+, column \d+/)[0] ?? e.message).split("\n")[0]?.trim() ?? "";
  const hint = YAML_HINTS[(e as { code?: string }).code ?? ""];
  if (hint) reason = `${reason} (${hint})`;
  if (!pos) return `YAML syntax error: ${reason}`;
  const snippet =
    text !== undefined ? sourceSnippet(text, pos.line, pos.col) : messageSnippet(e.message, pos.line);
  const shown = snippet ? `\n${numbered(snippet, pos.line)}` : "";
  return `YAML syntax error at line ${pos.line}, column ${pos.col}: ${reason}${shown}`;
}

/** What to do about the commonest YAML errors, by the `yaml` package's error `code`. */
const YAML_HINTS: Record<string, string> = {
  TAB_AS_INDENT: "indent with spaces: YAML does not allow tabs there",
  DUPLICATE_KEY: "a key appears twice in the same mapping: keep one",
  MISSING_CHAR: "a quote or bracket opened earlier is not closed",
  BAD_INDENT: "check the indentation, and that every [ or { opened above is closed",
  BLOCK_AS_IMPLICIT_KEY:
    "a value cannot hold another `key: value` on the same line: quote it, or move it to its own indented line",
};

/** Snippet lines ending at the error's line, as shown, and the caret's 0-based index in the last one. */
interface Snippet {
  lines: string[];
  caret: number;
}

/** Tabs, control and bidi characters as spaces (one each, so columns stay where they were). */
function visible(line: string): string {
  return line.replace(/[\t\p{Cc}\u202A-\u202E\u2066-\u2069]/gu, " ");
}

/** The line before `line` (when there is one) and `line` itself, clipped to 100 characters around `col`. */
function sourceSnippet(text: string, line: number, col: number): Snippet {
  const clip = Math.max(0, col - 60);
  const show = (l: string) => {
    const cut = clip > 0 ? `…${visible(l).slice(clip + 1)}` : visible(l);
    return cut.length > 100 ? `${cut.slice(0, 99)}…` : cut;
  };
  const lines = text.split(/\r?\n|\r/).slice(Math.max(0, line - 2), line);
  return { lines: lines.map(show), caret: col - 1 - clip };
}

/**
 * The lines and caret the `yaml` package put into its message ("…:\n\n<lines>\n<caret>\n"; it
 * clips long lines itself and places its caret accordingly), at most two lines; null without them.
 */
function messageSnippet(message: string, line: number): Snippet | null {
  const at = message.indexOf(":\n\n");
  if (at < 0) return null;
  const lines = message
    .slice(at + 3)
    .replace(/\n+$/, "")
    .split("\n");
  const caret = lines.pop()?.indexOf("^") ?? -1;
  if (caret < 0 || lines.length === 0) return null;
  return { lines: lines.slice(-Math.min(2, line)).map(visible), caret };
}

/** The snippet's lines numbered (the error's line marked ">"), a caret line under them, indented. */
function numbered(snippet: Snippet, line: number): string {
  const width = String(line).length;
  const rows = snippet.lines.map((l, k) => {
    const n = line - snippet.lines.length + 1 + k;
    return `${n === line ? ">" : " "} ${String(n).padStart(width)} | ${l}`.trimEnd();
  });
  rows.push(`  ${" ".repeat(width)} | ${" ".repeat(snippet.caret)}^`);
  return rows.map((r) => `    ${r}`).join("\n");
}

/** The largest config file read, bytes (1 MiB; the bundled example's is under 1 KiB). */
const MAX_CONFIG_BYTES = 1 << 20;

/**
 * Reads `<repoDir>/.github/perfloop.yml` (or `configPath`, relative to repoDir), validates it and
 * checks its path keys against the repository ({@link checkConfigPaths}). A config path inside the
 * repository is read like every repository file perfloop reads (src/core/fs/inside.ts: no link out,
 * only a regular file of at most 1 MiB); one the user names outside it (`--config ../x.yml`, or an
 * absolute path) is read as given.
 * @throws ConfigError when the file is missing (with the path it looked at), refused, or invalid.
 */
export async function loadConfig(repoDir: string, configPath = CONFIG_PATH): Promise<Config> {
  const file = path.resolve(repoDir, configPath);
  let text: string | null;
  try {
    text =
      relativePathProblem(configPath) === null
        ? await readInside(repoDir, configPath, { maxBytes: MAX_CONFIG_BYTES })
        : await readFile(file, "utf8");
    if (text === null) throw Object.assign(new Error(`ENOENT: ${file}`), { code: "ENOENT" });
  } catch (error) {
    const why =
      error instanceof RepositoryPathError
        ? `${error.message}; the config must be a regular file inside the repository`
        : `${(error as NodeJS.ErrnoException).code ?? error}. Create it (see README.md, "Configuration")`;
    throw new ConfigError(configPath, [`cannot read ${file}: ${why}.`], { cause: error });
  }
  const config = parseConfigText(text, configPath);
  checkConfigPaths(config, repoDir, configPath);
  return config;
}

/**
 * Checks the config's file keys against the repository at `repoDir`: each knob's `literal.file` and
 * `memory.path` (when set) must stay inside realpath(repoDir) once symbolic links are followed (for
 * a path that does not exist yet: the real path of its nearest existing ancestor; a dangling link
 * counts as leaving). The schema has already refused absolute paths, `~` and `..` (keys.ts). Call it
 * wherever a config meets its repository (loadConfig does).
 * @param source the config's name in messages.
 * @throws ConfigError with one line per offending key, naming it: `tune.0.literal.file`, `memory.path`.
 */
export function checkConfigPaths(config: Config, repoDir: string, source = CONFIG_PATH): void {
  const keys: Array<[string, string]> = config.tune.flatMap(
    (knob, i): Array<[string, string]> =>
      "literal" in knob ? [[`tune.${i}.literal.file`, knob.literal.file]] : [],
  );
  if (config.memory.path !== undefined) keys.push(["memory.path", config.memory.path]);
  const problems = keys
    .filter(([, rel]) => realInsideSync(repoDir, rel) === null)
    .map(([key, rel]) => leavesRepository(key, rel));
  if (problems.length > 0) throw new ConfigError(source, problems);
}

/**
 * The problem line of a path key that leaves the repository through a symbolic link:
 * "`<key>`: found "<rel>", expected a path that stays inside the repository; …".
 */
export function leavesRepository(key: string, rel: string): string {
  return `\`${key}\`: found ${JSON.stringify(rel)}, expected a path that stays inside the repository; this one leads outside it through a symbolic link (or the repository does not exist): name a file inside the repository, or remove the link`;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string[] {
  const key = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") {
    const where = issue.path.length > 0 ? `in \`${key}\`` : "at the top level";
    return [
      `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")} ${where}: remove or rename (keys are listed in README.md, "Configuration")`,
    ];
  }
  if (issue.code === "invalid_union") {
    const meant = intendedBranch(issue, raw);
    if (meant)
      return meant.flatMap((inner) =>
        describeIssue({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue, raw),
      );
  }
  const found = valueAt(raw, issue.path);
  const foundText = found === undefined ? "nothing" : JSON.stringify(found);
  return [`\`${key}\`: found ${foundText}, expected ${expected(issue)}`];
}

/**
 * The issues of the one union branch the user evidently meant: the only branch with no unknown key
 * and no missing key at its own level (a knob with `literal:` meant the literal shape). Null when
 * no branch or several qualify.
 */
function intendedBranch(
  issue: Extract<z.core.$ZodIssue, { code: "invalid_union" }>,
  raw: unknown,
): z.core.$ZodIssue[] | null {
  const here = valueAt(raw, issue.path);
  const candidates = (issue.errors ?? []).filter(
    (branch) =>
      branch.length > 0 &&
      !branch.some(
        (inner) =>
          (inner.code === "unrecognized_keys" && inner.path.length === 0) ||
          (inner.code === "invalid_type" &&
            inner.path.length === 1 &&
            valueAt(here, inner.path) === undefined),
      ),
  );
  return candidates.length === 1 ? (candidates[0] ?? null) : null;
}

function expected(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_union") {
    // A knob is either {env} or {literal}: say that rather than zod's generic union message.
    return "one of the allowed shapes (a knob needs `name`, `values` and either `env` or `literal: {file, pattern}`)";
  }
  if ((issue.code === "too_big" || issue.code === "too_small") && /^Too (big|small)/.test(issue.message)) {
    const big = issue.code === "too_big";
    const bound = big ? issue.maximum : issue.minimum;
    const words = big ? (issue.inclusive ? "at most" : "below") : issue.inclusive ? "at least" : "above";
    const unit = issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : "";
    return `${words} ${String(bound)}${unit}`;
  }
  return issue.message
    .replace(/^Invalid input: expected /, "")
    .replace(/, received \w+$/, "")
    .replace(/^Invalid (\w+)/, (_m, what: string) => `a valid ${what.toLowerCase()}`);
}

function valueAt(raw: unknown, keyPath: PropertyKey[]): unknown {
  let value: unknown = raw;
  for (const key of keyPath) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
