/**
 * Reading and validating `.github/perfloop.yml`: YAML parse errors and schema errors both become a
 * {@link ConfigError} whose message names the key, what was found and what is expected. The config
 * may come from a pull request: it is read like any repository file perfloop reads itself
 * (src/core/fs/inside.ts), and its path keys must not leave the repository through symbolic links
 * ({@link checkConfigPaths}).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
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
    super(`${source} is invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`, options);
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
 * @throws ConfigError on YAML syntax errors (with line and column) or schema problems.
 */
export function parseConfigText(text: string, source = CONFIG_PATH): Config {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos
        ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}`
        : "";
    throw new ConfigError(source, [`YAML syntax error${where}: ${(error as Error).message.split("\n")[0]}`], {
      cause: error,
    });
  }
  return parseConfig(raw, source);
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
