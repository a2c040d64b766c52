/**
 * The App's view of `.github/perfloop.yml`. The App validates only what it acts on: the `app:`
 * section (label, workflow, bots, forks, drafts, staleness), strictly, here. Every other key is
 * passed through to the runner unvalidated: the runner validates the whole file with the core
 * schema and reports its problems on the pull request, so a config the runner accepts (a newer
 * perfloop's key, say) is never refused by an older App. The core schema takes `app` as an opaque
 * section, so the CLI and the Action accept the same file.
 * The file is read from the default branch through Probot's config loader (docs/design.md, "GitHub behaviour").
 */

import { z } from "zod";
import { CONFIG_PATH, ConfigError, yamlSyntaxProblem } from "../core/config/load.ts";
import { suggest } from "../core/config/suggest.ts";

/** Default label that starts a run when added to a pull request. */
export const DEFAULT_LABEL = "perfloop:optimize";

/**
 * The `app:` section. Keys: `label` (GitHub label names are at most 50 characters), `workflow`
 * (file name under .github/workflows), `allow_bots` (bot logins allowed to trigger, e.g.
 * "renovate[bot]"), `allow_forks` (run fork PRs' code on the runner), `draft` (follow-up PRs as
 * drafts), `stale_after_hours` (a check run still active after this long no longer blocks new runs;
 * GitHub itself marks check runs stale after 14 days), `gate` (opt-in: dispatch the performance
 * gate, docs/gate.md, on every push to a pull request; off by default, as it uses the GPU runner
 * on every push).
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
  gate: z.boolean().default(false),
});

/** The validated `app:` section, defaults filled in. */
export type AppConfig = z.infer<typeof appConfigSchema>;

/**
 * Both halves of the file. `core`: every key but `app:`, exactly as read and NOT validated by the
 * App: the runner validates it (it may be a newer perfloop that knows keys this App does not) and
 * reports its problems on the pull request. Publishing reads its patch policy leniently
 * (src/publish/policy-config.ts). `app`: the validated `app:` section, defaults filled in.
 */
export interface RepoConfig {
  core: Record<string, unknown>;
  app: AppConfig;
}

/** The `app:` section's defaults (used where the file cannot be read but a default is harmless). */
export function defaultAppConfig(): AppConfig {
  return appConfigSchema.parse({});
}

/**
 * Splits the parsed file: `app:` validated with {@link appConfigSchema} (the only keys the App
 * acts on: label, workflow, allow_bots, allow_forks, draft, stale_after_hours, gate), everything else
 * passed through unvalidated to the runner as `core`.
 * @throws ConfigError for a missing file, a file that is not a mapping of keys, or an invalid
 *   `app:` section, one line per offending key in perfloop's words (`app.label`: found …, expected …).
 */
export function splitConfig(raw: unknown): RepoConfig {
  if (raw === null || raw === undefined) {
    throw new ConfigError(CONFIG_PATH, [
      `${CONFIG_PATH} was not found on the default branch: add it (it needs at least \`test\` and \`benchmark.command\`)`,
    ]);
  }
  if (typeof raw !== "object" || Array.isArray(raw))
    throw new ConfigError(CONFIG_PATH, [
      `the file must be a YAML mapping of keys (like \`test: pytest -q\`), not ${describeValue(raw)}`,
    ]);
  const { app: rawApp, ...core } = raw as Record<string, unknown>;
  const app = appConfigSchema.safeParse(rawApp ?? {});
  if (!app.success)
    throw new ConfigError(
      CONFIG_PATH,
      app.error.issues.map((issue) => describeAppIssue(issue, rawApp)),
    );
  return { core, app: app.data };
}

/**
 * Reads the file with `read` (Probot's `context.config("perfloop.yml")`, which returns null when the
 * file is missing and throws on YAML errors) and splits it ({@link splitConfig}).
 * @throws ConfigError for a missing file, a YAML error (line, column and a snippet with a caret,
 *   from the `yaml` package's error that Probot's loader keeps as `cause`; the loader's error is
 *   this error's `cause`) or an invalid `app:` section.
 * @throws the loader's error unchanged when it is an API failure (it has an HTTP `status`).
 */
export async function loadRepoConfig(read: () => Promise<unknown>): Promise<RepoConfig> {
  let raw: unknown;
  try {
    raw = await read();
  } catch (error) {
    if ((error as { status?: number }).status !== undefined) throw error; // API failure, not the file
    const yaml = yamlSyntaxProblem((error as { cause?: unknown }).cause) ?? yamlSyntaxProblem(error);
    const loader = (error as Error).message.replace(/^\[[^\]]+\]\s*/, "");
    throw new ConfigError(CONFIG_PATH, [yaml ?? `the file cannot be parsed: ${loader}`], { cause: error });
  }
  return splitConfig(raw);
}

/** What each `app:` key expects, in words (shown after "expected"). */
const APP_EXPECTS: Record<string, string> = {
  "": "a mapping of the keys label, workflow, allow_bots, allow_forks, draft, stale_after_hours, gate",
  label: "a label name of 1 to 50 characters, like perfloop:optimize",
  workflow: "a workflow file name in .github/workflows, like perfloop.yml",
  allow_bots: "a list of bot logins, like [renovate[bot]]",
  "allow_bots.*": "a bot login like renovate[bot]",
  allow_forks: "true or false",
  draft: "true or false",
  stale_after_hours: "a number of hours above 0 and at most 336 (14 days)",
  gate: "true or false",
};

/** The `app:` keys, for unknown-key messages. */
const APP_KEYS = Object.keys(appConfigSchema.shape);

/** One line per issue of the `app:` section: the key, what was found, what is expected. */
function describeAppIssue(issue: z.core.$ZodIssue, rawApp: unknown): string {
  const key = ["app", ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    const names = issue.keys.map((k) => {
      const near = suggest(k, APP_KEYS);
      return `\`${k}\`${near ? ` (did you mean \`${near}\`?)` : ""}`;
    });
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${names.join(", ")} in \`${key}\`: the keys are ${APP_KEYS.join(", ")}`;
  }
  let found: unknown = rawApp;
  for (const part of issue.path)
    found =
      found !== null && typeof found === "object" ? (found as Record<PropertyKey, unknown>)[part] : undefined;
  const pattern = issue.path.map((p) => (typeof p === "number" ? "*" : String(p))).join(".");
  const expected = APP_EXPECTS[pattern] ?? issue.message;
  return `\`${key}\`: found ${describeValue(found)}, expected ${expected}`;
}

/** A found value in a message: JSON, clipped; "nothing" when absent. */
function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
