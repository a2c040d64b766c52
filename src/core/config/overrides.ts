/**
 * Per-run overrides of a validated config: what the CLI's flags and the Action's inputs (and through
 * them the App's `/optimize --rounds 3 --target 20% --strategy llm`) may change for one run. Shared so
 * that every front end checks the same ranges and says the same words.
 */
import { z } from "zod";
import { ConfigError } from "./load.ts";
import { type Config, defaultModelConfig } from "./schema.ts";

/** Builds a schema that parses a string (or number) with `parse`, or reports `expected`. */
function overrideOf<T>(expected: string, parse: (text: string) => T | undefined) {
  return z.union([z.string(), z.number()]).transform((raw, ctx): T => {
    const value = parse(String(raw).trim());
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: expected, input: raw });
      return z.NEVER;
    }
    return value;
  });
}

/**
 * One schema per override, each taking what the user typed (a string) or a number: `rounds` an
 * integer from 1 to 50 (the config's own range), `target` a percentage above 0 and below 100 (`20`,
 * `20%`, `12.5%`), `strategy` auto/llm/tune, `baseUrl` a URL, `apiKeyEnv` a variable name.
 * The issue message of each is what is expected, for "found X, expected Y" messages.
 */
export const overrideSchemas = {
  rounds: overrideOf("an integer from 1 to 50", (t) => {
    const n = /^\d+$/.test(t) ? Number(t) : Number.NaN;
    return n >= 1 && n <= 50 ? n : undefined;
  }),
  target: overrideOf("a percentage above 0 and below 100, like 20 or 20%", (t) => {
    const pct = /^\d+(\.\d+)?\s*%?$/.test(t) ? Number.parseFloat(t) : Number.NaN;
    return pct > 0 && pct < 100 ? pct : undefined;
  }),
  strategy: overrideOf("auto, llm or tune", (t) =>
    t === "auto" || t === "llm" || t === "tune" ? t : undefined,
  ),
  baseUrl: overrideOf("a URL like http://host:port/v1", (t) =>
    /^https?:\/\//.test(t) && URL.canParse(t) ? t : undefined,
  ),
  apiKeyEnv: overrideOf("an environment variable name", (t) =>
    /^[A-Za-z_][A-Za-z0-9_]*$/.test(t) ? t : undefined,
  ),
} as const;

/**
 * Values given for one run; `undefined` keeps the config's value. Strings are checked with
 * {@link overrideSchemas}, so a front end can pass what the user typed.
 */
export interface RunOverrides {
  rounds?: string | number | undefined;
  target?: string | number | undefined;
  strategy?: string | undefined;
  /** Model name; enables LLM rewrites with the config's other model settings or their defaults. */
  model?: string | undefined;
  baseUrl?: string | undefined;
  apiKeyEnv?: string | undefined;
}

/** How each override is named in messages: `--rounds` for the CLI, ``input `rounds` `` for the Action. */
export type OverrideNamer = (key: "rounds" | "target" | "strategy" | "base-url" | "api-key-env") => string;

/**
 * Returns a copy of `config` with `overrides` applied.
 * @throws ConfigError with one line per offending override: `<name>: found X, expected Y`.
 */
export function applyOverrides(
  config: Config,
  overrides: RunOverrides,
  name: OverrideNamer = (key) => `--${key}`,
): Config {
  const next: Config = { ...config };
  const problems: string[] = [];
  const check = <T>(
    key: Parameters<OverrideNamer>[0],
    schema: z.ZodType<T, string | number>,
    raw: string | number | undefined,
  ): T | undefined => {
    if (raw === undefined) return undefined;
    const result = schema.safeParse(raw);
    if (result.success) return result.data;
    problems.push(`${name(key)}: found ${JSON.stringify(raw)}, expected ${result.error.issues[0]?.message}`);
    return undefined;
  };
  const rounds = check("rounds", overrideSchemas.rounds, overrides.rounds);
  const target = check("target", overrideSchemas.target, overrides.target);
  const strategy = check("strategy", overrideSchemas.strategy, overrides.strategy);
  const baseUrl = check("base-url", overrideSchemas.baseUrl, overrides.baseUrl);
  const apiKeyEnv = check("api-key-env", overrideSchemas.apiKeyEnv, overrides.apiKeyEnv);
  if (problems.length > 0) throw new ConfigError("overrides", problems);
  if (rounds !== undefined) next.rounds = rounds;
  if (target !== undefined) next.target = target;
  if (strategy !== undefined) next.strategy = strategy;
  if (overrides.model || baseUrl || apiKeyEnv) {
    next.model = defaultModelConfig({
      ...config.model,
      ...(overrides.model ? { name: overrides.model } : {}),
      ...(baseUrl ? { base_url: baseUrl } : {}),
      ...(apiKeyEnv ? { api_key_env: apiKeyEnv } : {}),
    });
  }
  return next;
}
