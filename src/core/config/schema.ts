/**
 * The schema of `.github/perfloop.yml`, the one config file the CLI, the Action and the App read.
 * Keys are snake_case exactly as written in the file; unknown keys are errors (strict objects), so a
 * typo never silently falls back to a default. Defaults are documented in README.md ("Configuration").
 */
import { z } from "zod";
import { BOTTLENECK_CATEGORIES } from "../types.ts";

/** A percentage: `5`, `5%` or `"12.5%"`; parsed to a number of percent. */
const percent = z
  .union([z.number(), z.string().regex(/^\s*-?\d+(\.\d+)?\s*%\s*$/, 'a percentage like "5%"')])
  .transform((v) => (typeof v === "number" ? v : Number.parseFloat(v)));

const command = z.string().trim().min(1, "a shell command (non-empty string)");

/** The program's own metric, read from its standard output. */
const metricSchema = z.strictObject({
  /** Regular expression with one capture group holding the number, matched against each stdout line. */
  pattern: z.string().refine(isRegex, "a valid regular expression with one capture group"),
  name: z.string().default("metric"),
  unit: z.string().default(""),
  direction: z.enum(["lower", "higher"]),
});

const benchmarkSchema = z.strictObject({
  command,
  metric: metricSchema.optional(),
  /** How the candidate's benchmark stdout must match the baseline's (correctness gate). */
  output: z.enum(["exact", "numeric", "ignore"]).default("exact"),
  /** Relative tolerance for `output: numeric`. */
  tolerance: z.number().nonnegative().default(1e-9),
  /** Extra benchmark files a candidate may never edit (besides the built-in globs). */
  files: z.array(z.string()).default([]),
});

const knobBase = {
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "a name of letters, digits, '_', '.', '-'"),
  values: z.array(z.union([z.string(), z.number()])).min(1, "at least one value to try"),
  /** Bottleneck categories this knob is expected to help; it is tried first for those verdicts. */
  helps: z.array(z.enum(BOTTLENECK_CATEGORIES)).default([]),
};

const knobSchema = z.union([
  z.strictObject({
    ...knobBase,
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "an environment variable name"),
  }),
  z.strictObject({
    ...knobBase,
    literal: z.strictObject({
      file: z.string().min(1),
      /** Regular expression whose first capture group is the literal to replace. */
      pattern: z.string().refine(isRegex, "a valid regular expression with one capture group"),
    }),
  }),
]);

const timeoutsSchema = z.strictObject({
  setup: z.number().positive().default(600),
  test: z.number().positive().default(600),
  benchmark: z.number().positive().default(300),
  /** Wall-clock budget of the whole optimize run, s. */
  total: z.number().positive().default(3600),
});

const repetitionsSchema = z.strictObject({
  warmup: z.number().int().min(0).default(1),
  // 5 is the least n per side at which an exact two-sided Mann–Whitney p can fall below 0.01
  // (2 / C(10,5) = 0.0079); with fewer runs no improvement could ever be claimed.
  runs: z
    .number()
    .int()
    .min(5, "at least 5 (below that no p-value can reach alpha = 0.01)")
    .max(200)
    .default(10),
});

const statisticsSchema = z.strictObject({
  alpha: z.number().gt(0).lt(1).default(0.01),
  confidence: z.number().gt(0).lt(1).default(0.95),
  max_cv: percent.refine((v) => v > 0, "a percentage above 0").default(10),
  bootstrap: z.number().int().min(1000).default(10000),
});

const modelSchema = z.strictObject({
  name: z.string().min(1).default("gpt-4.1"),
  base_url: z.url().optional(),
  api_key_env: z.string().default("OPENAI_API_KEY"),
  max_turns: z.number().int().positive().default(12),
  max_tokens: z.number().int().positive().default(200_000),
  /** Wall-clock budget of one agent session, s. */
  timeout: z.number().positive().default(600),
  temperature: z.number().min(0).max(2).optional(),
});

const sandboxSchema = z.strictObject({
  /** `off`: run user commands in a user+network namespace where the kernel allows it. */
  network: z.enum(["off", "on"]).default("off"),
  /** Extra environment variable names passed to user commands (secret-looking names stay refused). */
  env: z.array(z.string()).default([]),
  /** Captured bytes per stream and command; the rest is cut in the middle. */
  output_limit: z.number().int().positive().default(1_000_000),
});

const limitsSchema = z.strictObject({
  max_files: z.number().int().positive().default(10),
  max_changed_lines: z.number().int().positive().default(400),
  max_file_bytes: z.number().int().positive().default(200_000),
});

/**
 * perfloop's memory across runs (docs/memory.md). On GitHub Actions the runner's checkout is fresh
 * each time: point `path` at a directory kept by the runner's cache (actions/cache) or outside the
 * checkout, or the next run starts from nothing.
 */
const memorySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** The SQLite file; relative to the repository directory, or absolute. */
  path: z.string().trim().min(1).default(".perfloop/memory.sqlite"),
  /** Entries older than this are forgotten, days. */
  max_age_days: z.number().positive().default(180),
  /** Each table of the store keeps at most this many rows (the newest). */
  max_entries: z.number().int().positive().default(2000),
  /** Embedding model of the configured endpoint for retrieval; null = lexical (BM25) only. */
  embedding_model: z.string().trim().min(1).nullable().default("text-embedding-3-small"),
});

/** The whole `.github/perfloop.yml`. */
export const configSchema = z.strictObject({
  version: z.literal(1).default(1),
  setup: command.optional(),
  test: command,
  benchmark: benchmarkSchema,
  paths: z.array(z.string()).min(1, "at least one glob of files perfloop may edit").default(["**/*"]),
  protect: z.array(z.string()).default([]),
  strategy: z.enum(["auto", "llm", "tune"]).default("auto"),
  rounds: z.number().int().min(1).max(50).default(5),
  min_improvement: percent
    .refine((v) => v >= 0 && v < 100, "a percentage from 0 up to (not including) 100")
    .default(5),
  target: percent.refine((v) => v > 0, "a percentage above 0").optional(),
  timeouts: timeoutsSchema.default(() => timeoutsSchema.parse({})),
  repetitions: repetitionsSchema.default(() => repetitionsSchema.parse({})),
  statistics: statisticsSchema.default(() => statisticsSchema.parse({})),
  model: modelSchema.optional(),
  tune: z.array(knobSchema).default([]),
  sandbox: sandboxSchema.default(() => sandboxSchema.parse({})),
  limits: limitsSchema.default(() => limitsSchema.parse({})),
  memory: memorySchema.default(() => memorySchema.parse({})),
  /** Settings of the GitHub App (label, workflow, bots, forks…): opaque to the core and validated by
   *  the App itself (docs/github-app.md), so the CLI and the Action accept a file that has them. */
  app: z.record(z.string(), z.unknown()).optional(),
});

/** A validated config, defaults filled in. */
export type Config = z.infer<typeof configSchema>;
/** One tunable knob: an environment variable or a literal in a file. */
export type Knob = Config["tune"][number];
/** The model endpoint settings. */
export type ModelConfig = z.infer<typeof modelSchema>;
/** The memory settings. */
export type MemoryConfig = z.infer<typeof memorySchema>;
/** The program metric read from stdout. */
export type MetricConfig = z.infer<typeof metricSchema>;

/** Parses a model section with every default (used when a model is given only on the command line). */
export function defaultModelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return modelSchema.parse(overrides);
}

/** A valid JavaScript regular expression with at least one capture group. */
function isRegex(source: string): boolean {
  try {
    // The empty alternative always matches, so the match's length tells the number of groups.
    return (new RegExp(`${source}|`).exec("")?.length ?? 0) > 1;
  } catch {
    return false;
  }
}
