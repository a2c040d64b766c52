/**
 * The schema of `.github/perfloop.yml`, the one config file the CLI, the Action and the App read.
 * Keys are snake_case exactly as written in the file; unknown keys are errors (strict objects), so a
 * typo never silently falls back to a default. Defaults are documented in README.md ("Configuration").
 */
import { z } from "zod";
import { BOTTLENECK_CATEGORIES } from "../types.ts";
import {
  MAX_BOOTSTRAP,
  MAX_CV_PCT,
  MAX_KNOBS,
  MAX_LIMITS,
  MAX_MEMORY,
  MAX_MODEL,
  MAX_OUTPUT_LIMIT_BYTES,
  MAX_TIMEOUT_S,
  MAX_TOLERANCE,
  MAX_WARMUP,
} from "./bounds.ts";
import { re2Pattern, relativeFile, relativeGlobs } from "./keys.ts";

/**
 * A percentage: `5`, `"5"`, `5%` or `"12.5%"`; parsed to a number of percent. A bare number between
 * 0 and 1 (`0.1`) is refused with a hint: it is almost always a fraction meant as 10 %, and reading
 * it as 0.1 % would silently make a threshold a hundred times stricter. `"0.1%"` says it plainly.
 */
const percent = z
  .union([z.number(), z.string().regex(/^\s*-?\d+(\.\d+)?\s*%?\s*$/, 'a percentage like "5%"')])
  .superRefine((v, ctx) => {
    const bare = typeof v === "number" || !v.includes("%");
    const n = typeof v === "number" ? v : Number.parseFloat(v);
    if (bare && n > 0 && n < 1)
      ctx.addIssue({
        code: "custom",
        message: `a percentage (this looks like a fraction: write ${+(n * 100).toFixed(6)}% for ${+(n * 100).toFixed(6)} percent, or "${n}%" if you mean ${n} percent)`,
      });
  })
  .transform((v) => (typeof v === "number" ? v : Number.parseFloat(v)));

const command = z.string().trim().min(1, "a shell command (non-empty string)");

/** The program's own metric, read from its standard output. */
const metricSchema = z.strictObject({
  /** RE2 regular expression (regex.ts) with one capture group holding the number, matched against each stdout line. */
  pattern: re2Pattern(),
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
  tolerance: z.number().nonnegative().max(MAX_TOLERANCE).default(1e-9),
  /** Extra benchmark files a candidate may never edit (besides the built-in globs). */
  files: relativeGlobs().default([]),
  /**
   * What decides a comparison when no `metric` is declared (README, "Choosing what to measure"):
   * `wall` time of the process tree; `cpu`, its user + system time (unmoved by time spent waiting
   * for a busy machine's CPUs); `instructions`, its instruction count (perf stat, else valgrind: a
   * busy machine cannot move it). A declared `metric` always decides.
   */
  measure: z.enum(["wall", "cpu", "instructions"]).default("wall"),
});

/**
 * A further benchmark the performance gate measures besides `benchmark` (docs/gate.md, "Several
 * benchmarks"): its own command, metric and threshold; the gate's table has one row per benchmark.
 * Only `wall` or `cpu` (an instruction counter is probed for `benchmark` alone). The optimizer
 * works on `benchmark` only.
 */
const extraBenchmarkSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,60}$/, "a name of 1–60 letters, digits, '_', '.', ':', '-'"),
  command,
  metric: metricSchema.optional(),
  measure: z.enum(["wall", "cpu"]).default("wall"),
  /** This benchmark's gate threshold (default `gate.threshold`). */
  threshold: percent.refine((v) => v > 0 && v < 100, "a percentage above 0 and below 100").optional(),
});

/** At most this many further benchmarks: each is a whole interleaved A/B in every gate. */
const MAX_EXTRA_BENCHMARKS = 10;

const knobBase = {
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, "a name of letters, digits, '_', '.', '-'"),
  values: z
    .array(z.union([z.string(), z.number()]))
    .min(1, "at least one value to try")
    .max(MAX_KNOBS.values, `at most ${MAX_KNOBS.values} values (each is one candidate)`),
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
      file: relativeFile("src/settings.py"),
      /** RE2 regular expression (regex.ts) whose first capture group is the literal to replace. */
      pattern: re2Pattern(),
    }),
  }),
]);

const timeoutsSchema = z.strictObject({
  setup: z.number().positive().max(MAX_TIMEOUT_S).default(600),
  test: z.number().positive().max(MAX_TIMEOUT_S).default(600),
  benchmark: z.number().positive().max(MAX_TIMEOUT_S).default(300),
  /** Wall-clock budget of the whole optimize run, s. */
  total: z.number().positive().max(MAX_TIMEOUT_S).default(3600),
});

const repetitionsSchema = z.strictObject({
  warmup: z.number().int().min(0).max(MAX_WARMUP).default(1),
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
  max_cv: percent
    .refine((v) => v > 0 && v <= MAX_CV_PCT, `a percentage above 0 and at most ${MAX_CV_PCT}%`)
    .default(10),
  bootstrap: z.number().int().min(1000).max(MAX_BOOTSTRAP).default(10000),
});

const modelSchema = z.strictObject({
  name: z.string().min(1).default("gpt-4.1"),
  base_url: z.url().optional(),
  api_key_env: z.string().default("OPENAI_API_KEY"),
  /** Model calls of one session (each may carry several tool calls). */
  max_turns: z.number().int().positive().max(MAX_MODEL.turns).default(30),
  /** Tokens (prompt + completion) of the whole run, every session together. */
  max_tokens: z.number().int().positive().max(MAX_MODEL.tokens).default(2_000_000),
  /** Tokens of one session. */
  session_tokens: z.number().int().positive().max(MAX_MODEL.tokens).default(300_000),
  /** Wall-clock budget of one agent session, s (model calls and tools together). */
  timeout: z.number().positive().max(MAX_TIMEOUT_S).default(900),
  /** Wall time the execution tools (run_tests, run_benchmark, profile) of one session may use, s. */
  tool_time: z.number().positive().max(MAX_TIMEOUT_S).default(300),
  /** Independent sessions (candidates) a round; each is steered to a different idea. */
  candidates: z.number().int().min(1).max(MAX_MODEL.candidates).default(3),
  /** Runs a side of the quick screen (run_benchmark, and the screen of every candidate). */
  screen_runs: z.number().int().min(1).max(MAX_MODEL.screenRuns).default(3),
  /** Estimated prompt size, tokens, past which old tool outputs are compacted (4 characters a token). */
  context_tokens: z.number().int().min(4000).max(MAX_MODEL.tokens).default(60_000),
  /** Price per million tokens, USD, for the cost estimate; default: a known model's list price, else none. */
  price: z.strictObject({ input: z.number().nonnegative(), output: z.number().nonnegative() }).optional(),
  temperature: z.number().min(0).max(2).optional(),
});

/** A size in bytes: a number, or a string such as "512 MiB", "2 GiB", "1.5 GB" (0 = no limit). */
const bytes = z
  .union([
    z.number().int().nonnegative(),
    z.string().regex(/^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*$/, 'a size such as "2 GiB"'),
  ])
  .transform((v) => (typeof v === "number" ? v : parseBytes(v)));

/**
 * Per-command resource limits (README, "Safety"), applied with rlimits (prlimit) inside the sandbox:
 * `processes` (RLIMIT_NPROC, threads count too), `memory` (RLIMIT_DATA: a process's writable private
 * memory, bytes; "auto" = half the machine's RAM), `file_size` (RLIMIT_FSIZE, bytes), `open_files`
 * (RLIMIT_NOFILE), and `tmp`: the size of each private tmpfs (/tmp, /var/tmp, $HOME, /dev/shm).
 * 0 turns one limit off.
 */
const resourceLimitsSchema = z.strictObject({
  processes: z.number().int().nonnegative().max(1_000_000).default(4096),
  memory: z.union([z.literal("auto"), bytes]).default("auto"),
  file_size: bytes.default(4 * 2 ** 30),
  open_files: z.number().int().nonnegative().max(1_048_576).default(65_536),
  tmp: bytes.default(2 * 2 ** 30),
});

const sandboxSchema = z.strictObject({
  /**
   * `bwrap`: every user command in its own namespaces (bubblewrap); `none`: no isolation at all, only
   * when written in so many words (the report and the PR comment then say so in their first lines).
   */
  isolation: z.enum(["bwrap", "none"]).default("bwrap"),
  /** `off`: commands get a network namespace of their own with only loopback. */
  network: z.enum(["off", "on"]).default("off"),
  /** Extra environment variable names passed to user commands (no wildcards; secret-looking names
   *  stay refused). */
  env: z
    .array(
      z
        .string()
        .regex(
          /^[A-Za-z_][A-Za-z0-9_]*$/,
          "an exact environment variable name (wildcards are refused: list each variable)",
        ),
    )
    .default([]),
  /** Absolute host paths (toolchains, datasets) shown read-only to commands, besides /usr and the
   *  toolchains on PATH. */
  read_only: z.array(z.string().regex(/^\/./, "an absolute path other than /")).max(64).default([]),
  limits: resourceLimitsSchema.default(() => resourceLimitsSchema.parse({})),
  /** Captured bytes per stream and command; the rest is cut in the middle. */
  output_limit: z.number().int().positive().max(MAX_OUTPUT_LIMIT_BYTES).default(1_000_000),
});

const limitsSchema = z.strictObject({
  max_files: z.number().int().positive().max(MAX_LIMITS.files).default(10),
  max_changed_lines: z.number().int().positive().max(MAX_LIMITS.changedLines).default(400),
  max_file_bytes: z.number().int().positive().max(MAX_LIMITS.fileBytes).default(200_000),
});

/**
 * perfloop's memory across runs (docs/memory.md). On GitHub Actions the runner's home directory (and
 * so the default store) may not outlive the job: keep the store with actions/cache and name it with
 * the Action's `memory-path` input (or `memory.path`, inside the checkout), or the next run starts
 * from nothing.
 */
/**
 * The performance gate (docs/gate.md): a head fails only when its slowdown's whole confidence
 * interval lies past `threshold`. 10 % by default, CodSpeed's default threshold; a smaller one needs
 * quieter runners or more `repetitions.runs` to be conclusive.
 */
const gateSchema = z.strictObject({
  threshold: percent.refine((v) => v > 0 && v < 100, "a percentage above 0 and below 100").default(10),
});

/**
 * The profiling run's PyTorch trace (README, "GPU programs"). `torch: auto` records a
 * `torch.profiler` trace, in a profiling run of its own, when a profiled Python process imported
 * torch; `off` never does. `torch_step` names the program's step function (`package.module:function`
 * or `package.module:Class.method`, as imported: not `__main__`) to bound the trace to a window of
 * steps: `torch_skip` warm-up calls unrecorded, then `torch_steps` recorded. Without it the trace
 * runs from the import of torch to exit.
 */
const profileSchema = z.strictObject({
  torch: z.enum(["auto", "off"]).default("auto"),
  /** What records the trace: `torch` (the hook above) or `nsys` (Nsight Systems, for any CUDA program,
   *  when `nsys` is on the runner's PATH; no operators or Python lines). */
  tool: z.enum(["torch", "nsys"]).default("torch"),
  torch_step: z
    .string()
    .regex(
      /^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)?$/,
      'the step function as "package.module:function" or "package.module:Class.method"',
    )
    .optional(),
  torch_steps: z.number().int().min(1).max(1000).default(5),
  torch_skip: z.number().int().min(0).max(1000).default(1),
});

const memorySchema = z.strictObject({
  enabled: z.boolean().default(true),
  /**
   * The SQLite file, relative to the repository and inside it. Unset (the default): the user's cache
   * directory, outside every repository (memory/session.ts `defaultStorePath`).
   */
  path: relativeFile(".perfloop-memory/memory.sqlite").optional(),
  /** Entries older than this are forgotten, days. */
  max_age_days: z.number().positive().max(MAX_MEMORY.ageDays).default(180),
  /** Each table of the store keeps at most this many rows (the newest). */
  max_entries: z.number().int().positive().max(MAX_MEMORY.entries).default(2000),
  /** Embedding model of the configured endpoint for retrieval; null = lexical (BM25) only. */
  embedding_model: z.string().trim().min(1).nullable().default("text-embedding-3-small"),
});

/** The whole `.github/perfloop.yml`. */
export const configSchema = z.strictObject({
  version: z.literal(1).default(1),
  setup: command.optional(),
  test: command,
  benchmark: benchmarkSchema,
  paths: relativeGlobs().min(1, "at least one glob of files perfloop may edit").default(["**/*"]),
  protect: relativeGlobs().default([]),
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
  tune: z.array(knobSchema).max(MAX_KNOBS.knobs, `at most ${MAX_KNOBS.knobs} knobs`).default([]),
  sandbox: sandboxSchema.default(() => sandboxSchema.parse({})),
  gate: gateSchema.default(() => gateSchema.parse({})),
  benchmarks: z
    .array(extraBenchmarkSchema)
    .max(MAX_EXTRA_BENCHMARKS, `at most ${MAX_EXTRA_BENCHMARKS} (each is a whole A/B in every gate)`)
    .refine((list) => new Set(list.map((b) => b.name)).size === list.length, "names must be unique")
    .default([]),
  limits: limitsSchema.default(() => limitsSchema.parse({})),
  memory: memorySchema.default(() => memorySchema.parse({})),
  profile: profileSchema.default(() => profileSchema.parse({})),
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
/** The sandbox settings. */
export type SandboxConfig = z.infer<typeof sandboxSchema>;
/** The per-command resource limits. */
export type ResourceLimitsConfig = z.infer<typeof resourceLimitsSchema>;
/** The memory settings. */
export type MemoryConfig = z.infer<typeof memorySchema>;
/** The profiling run's PyTorch trace settings. */
export type ProfileConfig = z.infer<typeof profileSchema>;
/** The program metric read from stdout. */
export type MetricConfig = z.infer<typeof metricSchema>;

/** Parses a model section with every default (used when a model is given only on the command line). */
export function defaultModelConfig(overrides: Partial<ModelConfig> = {}): ModelConfig {
  return modelSchema.parse(overrides);
}

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
};

/** "2 GiB" → 2147483648 (bytes; a bare number is bytes). */
function parseBytes(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(text);
  return Math.round(Number(match?.[1] ?? 0) * (UNITS[match?.[2] || "B"] ?? 1));
}
