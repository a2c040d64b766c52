/**
 * The App's view of `.github/perfloop.yml`: the core keys, validated by the core schema
 * (`parseConfig`), plus an `app:` section only the App reads, validated here. The core schema takes
 * `app` as an opaque section (so the CLI and the Action accept the same file); the App removes it
 * before the core keys are validated and checks it strictly itself.
 * The file is read from the default branch through Probot's config loader (DESIGN.md, "GitHub behaviour").
 */
import { z } from "zod";
import { CONFIG_PATH, ConfigError, parseConfig } from "../core/config/load.ts";
import type { Config } from "../core/config/schema.ts";

/** Default label that starts a run when added to a pull request. */
export const DEFAULT_LABEL = "perfloop:optimize";

/**
 * The `app:` section. Keys: `label` (GitHub label names are at most 50 characters), `workflow`
 * (file name under .github/workflows), `allow_bots` (bot logins allowed to trigger, e.g.
 * "renovate[bot]"), `allow_forks` (run fork PRs' code on the runner), `draft` (follow-up PRs as
 * drafts), `stale_after_hours` (a check run still active after this long no longer blocks new runs;
 * GitHub itself marks check runs stale after 14 days).
 */
export const appConfigSchema = z.strictObject({
  label: z.string().trim().min(1).max(50).default(DEFAULT_LABEL),
  workflow: z
    .string()
    .regex(/^[A-Za-z0-9._-]+\.ya?ml$/, "a workflow file name in .github/workflows, like perfloop.yml")
    .default("perfloop.yml"),
  allow_bots: z
    .array(z.string().regex(/^[A-Za-z0-9-]+(\[bot\])?$/, "a bot login like renovate[bot]"))
    .default([]),
  allow_forks: z.boolean().default(false),
  draft: z.boolean().default(true),
  stale_after_hours: z
    .number()
    .positive()
    .max(24 * 14)
    .default(24),
});

/** The validated `app:` section, defaults filled in. */
export type AppConfig = z.infer<typeof appConfigSchema>;

/** Both halves of the file. */
export interface RepoConfig {
  core: Config;
  app: AppConfig;
}

/** The `app:` section's defaults (used where the file cannot be read but a default is harmless). */
export function defaultAppConfig(): AppConfig {
  return appConfigSchema.parse({});
}

/**
 * Splits and validates the parsed file: `app:` with {@link appConfigSchema}, the rest with the core
 * schema. Problems of both halves are reported together.
 * @throws ConfigError whose `problems` name every offending key (`app.label: found …, expected …`).
 */
export function splitConfig(raw: unknown): RepoConfig {
  if (raw === null || raw === undefined) {
    throw new ConfigError(CONFIG_PATH, [
      `${CONFIG_PATH} was not found on the default branch: add it (it needs at least \`test\` and \`benchmark.command\`)`,
    ]);
  }
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(CONFIG_PATH, ["the file must be a YAML mapping of keys"]);
  const { app: rawApp, ...rest } = raw as Record<string, unknown>;
  const problems: string[] = [];
  const app = appConfigSchema.safeParse(rawApp ?? {});
  if (!app.success) problems.push(...app.error.issues.map((issue) => describeAppIssue(issue, rawApp)));
  let core: Config | null = null;
  try {
    core = parseConfig(rest);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || core === null || !app.success) throw new ConfigError(CONFIG_PATH, problems);
  return { core, app: app.data };
}

/**
 * Reads the file with `read` (Probot's `context.config("perfloop.yml")`, which returns null when the
 * file is missing and throws on YAML errors) and validates it.
 * @throws ConfigError for a missing file, a YAML error (with the loader's error as `cause`) or invalid keys.
 */
export async function loadRepoConfig(read: () => Promise<unknown>): Promise<RepoConfig> {
  let raw: unknown;
  try {
    raw = await read();
  } catch (error) {
    if ((error as { status?: number }).status !== undefined) throw error; // API failure, not the file
    throw new ConfigError(
      CONFIG_PATH,
      [`the file cannot be parsed: ${(error as Error).message.replace(/^\[[^\]]+\]\s*/, "")}`],
      { cause: error },
    );
  }
  return splitConfig(raw);
}

/** One line per issue of the `app:` section, in the core's style: key, what was found, what is expected. */
function describeAppIssue(issue: z.core.$ZodIssue, rawApp: unknown): string {
  const key = ["app", ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`${k}\``).join(", ")} in \`${key}\`: the keys are label, workflow, allow_bots, allow_forks, draft, stale_after_hours`;
  }
  let found: unknown = rawApp;
  for (const part of issue.path)
    found =
      found !== null && typeof found === "object" ? (found as Record<PropertyKey, unknown>)[part] : undefined;
  const foundText = found === undefined ? "nothing" : JSON.stringify(found);
  return `\`${key}\`: found ${foundText}, expected ${issue.message.replace(/^Invalid input: expected /, "").replace(/, received \w+$/, "")}`;
}
