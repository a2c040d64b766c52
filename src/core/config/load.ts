/**
 * Reading and validating `.github/perfloop.yml`: YAML parse errors and schema errors both become a
 * {@link ConfigError} whose message names the key, what was found and what is expected.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseYaml, YAMLParseError } from "yaml";
import type { z } from "zod";
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
    result.error.issues.map((issue) => describeIssue(issue, raw)),
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

/**
 * Reads `<repoDir>/.github/perfloop.yml` (or `configPath`, relative to repoDir).
 * @throws ConfigError when the file is missing (with the path it looked at) or invalid.
 */
export async function loadConfig(repoDir: string, configPath = CONFIG_PATH): Promise<Config> {
  const file = path.resolve(repoDir, configPath);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ConfigError(
      configPath,
      [
        `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? error}. Create it (see README.md, "Configuration").`,
      ],
      { cause: error },
    );
  }
  return parseConfigText(text, configPath);
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const key = issue.path.length > 0 ? issue.path.join(".") : "(top level)";
  if (issue.code === "unrecognized_keys") {
    const where = issue.path.length > 0 ? `in \`${key}\`` : "at the top level";
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")} ${where}: remove or rename (keys are listed in README.md, "Configuration")`;
  }
  const found = valueAt(raw, issue.path);
  const foundText = found === undefined ? "nothing" : JSON.stringify(found);
  return `\`${key}\`: found ${foundText}, expected ${expected(issue)}`;
}

function expected(issue: z.core.$ZodIssue): string {
  if (issue.code === "invalid_union") {
    // A knob is either {env} or {literal}: say that rather than zod's generic union message.
    return "one of the allowed shapes (a knob needs `name`, `values` and either `env` or `literal: {file, pattern}`)";
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
