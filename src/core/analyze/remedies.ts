/**
 * Remedies handed to the optimizer per bottleneck category: the table of docs/design.md
 * ("Remedies"), refined by the profiler's hot spots so that the first remedy names the code to
 * change (function, file:line, its share of profiled time).
 */
import type { BottleneckCategory, HotSpot } from "../types.ts";

/** The remedies per category of docs/design.md, "Remedies", best first. */
export const BASE_REMEDIES: Readonly<Record<BottleneckCategory, readonly string[]>> = {
  "cpu-single-thread": ["better algorithm", "vectorize", "native/GPU kernels", "parallelize"],
  "cpu-parallel": ["less work", "better algorithm", "avoid contention"],
  waiting: ["remove sleeps/polls/serial round trips", "overlap", "batch"],
  "disk-io": ["bigger/fewer reads", "caching", "async", "compression"],
  "host-memory": ["stream", "free", "smaller dtypes"],
  "gpu-starved": ["bigger batches", "overlap host work", "fewer syncs", "data-loader workers"],
  "gpu-launch-bound": ["fuse", "CUDA graphs", "`torch.compile`"],
  "gpu-memory": ["mixed precision", "checkpointing", "smaller batches"],
  "gpu-compute": ["lower precision / tensor cores", "less work"],
  "gpu-transfer": ["pinned memory + `non_blocking=True`", "keep data on the GPU", "fewer, larger copies"],
  "gpu-sync": [
    "remove `.item()` / `.cpu()` / `synchronize()` from the loop",
    "accumulate on the GPU",
    "CUDA events",
  ],
  "gpu-bandwidth": ["fusion (`torch.compile`)", "lower precision (fewer bytes)", "fewer passes over memory"],
  throttled: ["none: the measurement is compromised; re-run"],
};

/**
 * Which hot-spot column points at the code to change, and the verb of the hint. Self time for CPU
 * work (the function's own instructions are the cost); cumulative time where the cost is in what a
 * function calls or waits for (sleeps, reads, allocations, kernel launches happen in callees
 * outside the repository, so the repo function's self time is small).
 */
const HINT: Readonly<Record<BottleneckCategory, { by: "self" | "cumulative"; verb: string } | null>> = {
  "cpu-single-thread": { by: "self", verb: "rewrite" },
  "cpu-parallel": { by: "self", verb: "reduce the work of" },
  waiting: { by: "cumulative", verb: "remove or overlap the waits under" },
  "disk-io": { by: "cumulative", verb: "batch or cache the I/O under" },
  "host-memory": { by: "cumulative", verb: "stream or free what is kept by" },
  "gpu-starved": { by: "self", verb: "speed up or overlap the host work in" },
  "gpu-launch-bound": { by: "cumulative", verb: "fuse the kernels launched from" },
  "gpu-memory": { by: "cumulative", verb: "shrink the tensors held by" },
  "gpu-compute": { by: "cumulative", verb: "reduce the GPU work driven by" },
  "gpu-transfer": { by: "cumulative", verb: "move the copies out of" },
  "gpu-sync": { by: "cumulative", verb: "remove the host syncs in" },
  "gpu-bandwidth": { by: "cumulative", verb: "fuse the memory-bound kernels launched from" },
  throttled: null,
};

const pct = (x: number): string => `${Math.round(x * 10) / 10}%`;

/**
 * The hint sentence for `category` from the top hot spot (highest self % or cumulative %, see
 * HINT), e.g. "rewrite count_words in src/stats.py:12 (71.3% self, 88% cumulative)"; null when
 * there are no hot spots or the category takes none (throttled).
 */
export function hotSpotHint(category: BottleneckCategory, hotSpots: readonly HotSpot[]): string | null {
  const h = HINT[category];
  if (!h || hotSpots.length === 0) return null;
  const key = h.by === "self" ? "selfPct" : "cumulativePct";
  const top = hotSpots.reduce((best, x) => (x[key] > best[key] ? x : best));
  const shares =
    h.by === "self"
      ? `${pct(top.selfPct)} self, ${pct(top.cumulativePct)} cumulative`
      : `${pct(top.cumulativePct)} cumulative, ${pct(top.selfPct)} self`;
  return `${h.verb} ${top.function} in ${top.file}:${top.line} (${shares})`;
}

/**
 * Remedies for a verdict, best first: the hot-spot hint (if any), then `extra` (rule-specific
 * refinements from the classifier), then the category's remedies (docs/design.md, "Remedies").
 */
export function remediesFor(
  category: BottleneckCategory,
  hotSpots: readonly HotSpot[],
  extra: readonly string[],
): string[] {
  const hint = hotSpotHint(category, hotSpots);
  return [...(hint ? [hint] : []), ...extra, ...BASE_REMEDIES[category]];
}
