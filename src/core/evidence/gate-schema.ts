/**
 * The `gate` record of results.json (mode gate; docs/gate.md): the two commits, the threshold, the
 * decision and its numbers, the functions that grew, and one row per benchmark.
 */
import { z } from "zod";

/** A function whose share of the profile grew from base to head (mode gate, a regressed head). */
const grownSchema = z.object({
  file: z.string(),
  function: z.string(),
  line: z.number().int(),
  /** Self time, % of the profiled time, on base (0 when absent there) and on head. */
  baseSelfPct: z.number(),
  headSelfPct: z.number(),
  /** Whether the pull request changed lines of this function (null without a PR or `--base`). */
  changed: z.boolean().nullable(),
});

/** The performance gate's record (docs/gate.md): the two commits, the threshold, the decision and its numbers. */
export const perfGateSchema = z.object({
  base: z.object({ ref: z.string(), sha: z.string() }),
  head: z.object({ ref: z.string(), sha: z.string() }),
  /** The largest slowdown that passes, %. */
  thresholdPct: z.number(),
  verdict: z.enum(["passed", "regressed", "inconclusive"]),
  reason: z.string(),
  /** Change of the primary metric from base to head, %, and its confidence interval, %. */
  changePct: z.number(),
  ciPct: z.tuple([z.number(), z.number()]),
  /** Functions whose self time grew most (a regressed head only; share × median), largest growth first. */
  grown: z.array(grownSchema),
  /**
   * With further benchmarks (config `benchmarks:`): one row per benchmark, `benchmark` first; the
   * fields above are then the first's, `verdict` and `reason` the gate's as a whole.
   */
  benchmarks: z
    .array(
      z.object({
        name: z.string(),
        command: z.string(),
        metric: z.string(),
        unit: z.string(),
        baseMedian: z.number(),
        headMedian: z.number(),
        thresholdPct: z.number(),
        verdict: z.enum(["passed", "regressed", "inconclusive"]),
        reason: z.string(),
        changePct: z.number(),
        ciPct: z.tuple([z.number(), z.number()]),
      }),
    )
    .optional(),
});
