/**
 * Upper bounds of the config's numeric keys. The config may come from a pull request, so every
 * number has a ceiling that keeps perfloop itself alive and its budgets finite; each bound is far
 * above any sensible value, and its reason is given here. README.md, "Configuration".
 */

/**
 * Seconds any one timeout may be: one day. Node's timers hold at most 2^31 − 1 ms (24.8 days; a
 * longer delay fires at once, with a TimeoutOverflowWarning), and a self-hosted Actions job runs at
 * most 5 days: a day per command or per run is already more than a job can use.
 */
export const MAX_TIMEOUT_S = 86_400;

/**
 * Bytes of output kept per stream and command (`sandbox.output_limit`): 64 MiB. Both streams of a
 * command are held in perfloop's memory (and the benchmark's by every measured run), and a Node
 * string cannot exceed ~512 MiB: an output_limit of 3e9 used to crash perfloop.
 */
export const MAX_OUTPUT_LIMIT_BYTES = 64 * 2 ** 20;

/**
 * Bootstrap resamples (`statistics.bootstrap`): 10^6, a hundred times the default. Each resample
 * redraws both sides and takes their medians, so the time of every comparison grows with it.
 */
export const MAX_BOOTSTRAP = 1_000_000;

/** Warm-up runs per side (`repetitions.warmup`): 100; warm-up is never counted, only paid for. */
export const MAX_WARMUP = 100;

/**
 * `benchmark.tolerance` (relative): at most 1. Above 1 every two numbers of the same sign compare
 * equal, which is `benchmark.output: ignore` for numbers; say that instead.
 */
export const MAX_TOLERANCE = 1;

/** `statistics.max_cv`, %: 1000 (anything above 100% already lets every run through). */
export const MAX_CV_PCT = 1000;

/** Size caps of one candidate (`limits.*`): files, changed lines, bytes of one file (10 MB). */
export const MAX_LIMITS = { files: 1000, changedLines: 100_000, fileBytes: 10_000_000 } as const;

/**
 * The model's budget (`model.*`): 200 turns and 10^8 tokens per run; every turn is a paid request
 * holding the whole conversation, so larger numbers only mean a larger bill. At most 8 candidates a
 * round (each is a session with its own checks; more only multiplies cost) and 20 screen runs a side
 * (a screen that needs more is the full A/B's job).
 */
export const MAX_MODEL = { turns: 200, tokens: 100_000_000, candidates: 8, screenRuns: 20 } as const;

/**
 * The memory store (`memory.*`): 100,000 rows per table (every run reads whole tables for retrieval)
 * and 36,500 days of age (a century; the bound only keeps the date arithmetic finite).
 */
export const MAX_MEMORY = { entries: 100_000, ageDays: 36_500 } as const;

/**
 * Knobs (`tune`): 100 knobs and 100 values per knob. Each value is one candidate — a test run plus
 * an A/B measurement — and `rounds` allows at most 50 of them per run.
 */
export const MAX_KNOBS = { knobs: 100, values: 100 } as const;

/** Globs per list (`paths`, `protect`, `benchmark.files`): 1000. */
export const MAX_GLOBS = 1000;
