/**
 * The GPU rules of the classifier: throttled, gpu-starved, gpu-launch-bound, gpu-compute and
 * gpu-memory, read from the `GpuSignals` of the summary (nvidia-smi means over samples). Thresholds
 * and their sources are in `thresholds.ts`; utilization.gpu means "a kernel was running" (NVML), so
 * it is read together with power / limit.
 */
import type { Verdict } from "../types.ts";
import { remediesFor } from "./remedies.ts";
import * as T from "./thresholds.ts";
import { makeVerdict, margin, type RuleContext, round, sampleFactor } from "./verdict.ts";

/**
 * throttled: any of THROTTLE_REASONS was active in at least one sample (sw_power_cap alone never
 * counts). Share 0% and Amdahl bound 1× by definition — the flag says the timings are suspect, not
 * that some code is slow; `classify` sorts it first. Confidence 1 for a hardware flag (the driver's
 * own statement), 0.8 for sw_thermal_slowdown alone (perfloop's choice: milder clock reduction).
 */
export function throttledRule({ s }: RuleContext): Verdict[] {
  const flags = (s.gpu?.slowdown ?? []).filter((r) => T.THROTTLE_REASONS.includes(r));
  if (flags.length === 0) return [];
  const numbers: Record<string, number> = { gpuSamples: s.gpu?.samples ?? 0 };
  for (const r of flags) numbers[r] = 1;
  const rule =
    `GPU reported ${flags.join(", ")} during the measurement (any of ${T.THROTTLE_REASONS.join(", ")}; ` +
    "sw_power_cap alone is not counted). Share 0% and bound 1×: no code change is indicated, " +
    "the timings themselves are suspect.";
  const confidence = flags.some((r) => r.startsWith("hw_")) ? 1 : 0.8;
  return [
    {
      category: "throttled",
      rule,
      numbers,
      confidence,
      sharePct: 0,
      amdahlBound: 1,
      remedies: remediesFor("throttled", [], []),
    },
  ];
}

/**
 * GPU rules, all confidences × `sampleFactor(gpu samples)`:
 * - gpu-starved: GPU_USED_MIN_UTIL_PCT ≤ util < GPU_IDLE_UTIL_PCT and CPU / wall ≥
 *   HOST_BUSY_CPU_PER_WALL. Share = 1 − util/100 (the time the GPU sat idle).
 * - gpu-launch-bound: util ≥ GPU_BUSY_UTIL_PCT and power / limit < LAUNCH_BOUND_MAX_POWER_FRAC.
 *   Share = util/100.
 * - gpu-compute: util ≥ GPU_BUSY_UTIL_PCT and power / limit ≥ COMPUTE_MIN_POWER_FRAC. Share = util/100.
 * - gpu-memory: peak memory.used / total ≥ GPU_MEM_FULL_FRAC. Share 0% (capacity, not time).
 * A field nvidia-smi did not report (null) silences the rules that need it. [] without a GPU.
 */
export function gpuRules(ctx: RuleContext): Verdict[] {
  const g = ctx.s.gpu;
  if (!g) return [];
  const out: Verdict[] = [];
  const f = sampleFactor(g.samples);
  const util = g.utilGpuPct;
  const power = g.powerFrac;
  const numbers: Record<string, number> = { gpuSamples: g.samples, cpuPerWall: round(ctx.measuredCpw, 2) };
  if (util !== null) numbers.utilGpuPct = round(util, 1);
  if (power !== null) numbers.powerFrac = round(power, 3);
  if (g.memUsedFrac !== null) numbers.memUsedFrac = round(g.memUsedFrac, 3);
  const used = util !== null && util >= T.GPU_USED_MIN_UTIL_PCT;
  if (used && util < T.GPU_IDLE_UTIL_PCT && ctx.cpw >= T.HOST_BUSY_CPU_PER_WALL) {
    const rule =
      `GPU utilization between ${T.GPU_USED_MIN_UTIL_PCT}% and ${T.GPU_IDLE_UTIL_PCT}% while ${ctx.cpwName} ≥ ` +
      `${T.HOST_BUSY_CPU_PER_WALL}: the GPU waits for the host`;
    const conf = Math.min(
      margin(util, T.GPU_IDLE_UTIL_PCT, 10),
      margin(ctx.cpw, T.HOST_BUSY_CPU_PER_WALL, 1),
    );
    out.push(makeVerdict(ctx, "gpu-starved", rule, numbers, conf * f, 1 - util / 100));
  }
  if (util !== null && power !== null && util >= T.GPU_BUSY_UTIL_PCT) {
    const busy = margin(util, T.GPU_BUSY_UTIL_PCT, 95);
    if (power < T.LAUNCH_BOUND_MAX_POWER_FRAC) {
      const rule =
        `GPU utilization ≥ ${T.GPU_BUSY_UTIL_PCT}% but mean power < ${T.LAUNCH_BOUND_MAX_POWER_FRAC} × limit: ` +
        "kernels are running (what utilization.gpu measures) but the chip draws little power, i.e. small kernels";
      const conf = Math.min(busy, margin(power, T.LAUNCH_BOUND_MAX_POWER_FRAC, 0.25));
      out.push(makeVerdict(ctx, "gpu-launch-bound", rule, numbers, conf * f, util / 100));
    } else if (power >= T.COMPUTE_MIN_POWER_FRAC) {
      const rule = `GPU utilization ≥ ${T.GPU_BUSY_UTIL_PCT}% and mean power ≥ ${T.COMPUTE_MIN_POWER_FRAC} × limit`;
      const conf = Math.min(busy, margin(power, T.COMPUTE_MIN_POWER_FRAC, 0.9));
      out.push(makeVerdict(ctx, "gpu-compute", rule, numbers, conf * f, util / 100));
    }
  }
  if (g.memUsedFrac !== null && g.memUsedFrac >= T.GPU_MEM_FULL_FRAC) {
    const rule =
      `peak memory.used ≥ ${T.GPU_MEM_FULL_FRAC} × memory.total. Share 0%: memory capacity is not a share of run ` +
      "time; it limits batch size and model size";
    const conf = margin(g.memUsedFrac, T.GPU_MEM_FULL_FRAC, 0.98);
    out.push(makeVerdict(ctx, "gpu-memory", rule, numbers, conf * f, 0));
  }
  return out;
}
