/**
 * Bottleneck classifier: turns a `SignalSummary` into the verdicts of docs/design.md ("Bottleneck
 * categories and thresholds"), each with its rule, the numbers that fired it, a confidence, the share of run time
 * it explains and the Amdahl bound. Rules are plain threshold tests on the summary; every threshold
 * is an exported constant with its source (`thresholds.ts`). The host rules live here, the GPU
 * rules in `gpu-rules.ts`, remedies in `remedies.ts`.
 *
 * Contention: time the tree spent runnable but not running (run-queue delay, from schedstat) is
 * contention, never waiting. The rules read CPU / uncontended wall (`RuleContext.cpw`): the wall
 * time without the share lost to run-queue delay, so a CPU-bound program on a busy machine stays
 * CPU-bound, and only the time the tree was blocked (sleeping, reading, waiting for a child or a
 * lock) can make it "waiting". Shares are of that uncontended wall time; every verdict carries the
 * contention share and its numbers separately (`withContention`).
 */
import type { SignalSummary, Verdict } from "../types.ts";
import { gpuRules, throttledRule } from "./gpu-rules.ts";
import * as T from "./thresholds.ts";
import { torchRules, withTorchHost } from "./torch-rules.ts";
import { makeVerdict, margin, type RuleContext, round, sampleFactor } from "./verdict.ts";

/** The thresholds, re-exported so callers and tests can name them from the classifier. */
export * from "./thresholds.ts";
export { amdahlBound } from "./verdict.ts";

type Ctx = RuleContext;

const mb = (bytesPerS: number): number => round(bytesPerS / 1e6, 1);

/** `cpuPerUncontendedWall` (the value the rules test) when contention was measured, else nothing. */
function uncontended(ctx: Ctx): Record<string, number> {
  return ctx.s.contention ? { cpuPerUncontendedWall: round(ctx.cpw, 2) } : {};
}

/**
 * The contention numbers added to every verdict when the run-queue delay was measured:
 * `contentionPct` (share of wall time lost to run-queue delay, %), `runQueueMs` (per run, median),
 * `demandCores` ((CPU + delay) / wall), and where read `stealMs`, `procsRunning` (mean) and
 * `loadavg1`. At or above CONTENTION_NOTABLE_SHARE the rule also says it in words, with the source.
 */
export function withContention(s: SignalSummary, v: Verdict): Verdict {
  const c = s.contention;
  if (!c) return v;
  const numbers: Record<string, number> = {
    ...v.numbers,
    contentionPct: round(100 * c.share, 1),
    runQueueMs: round(c.runQueueMs, 1),
    demandCores: round(c.demandCores, 2),
  };
  if (c.stealMs !== null) numbers.stealMs = round(c.stealMs, 1);
  if (c.procsRunningMean !== null) numbers.procsRunning = round(c.procsRunningMean, 2);
  if (c.loadavg1 !== null) numbers.loadavg1 = round(c.loadavg1, 2);
  const rule =
    c.share >= T.CONTENTION_NOTABLE_SHARE
      ? `${v.rule}. Contention: ${round(100 * c.share, 1)}% of the wall time the tree was runnable but ` +
        "waiting for a CPU (run-queue delay, /proc/<pid>/task/<tid>/schedstat field 2): counted as " +
        "contention, not as waiting, and left out of the CPU / wall the rules test"
      : v.rule;
  return { ...v, rule, numbers };
}

/**
 * CPU rules on cpw = CPU time / uncontended wall time (average busy cores of the tree while it was
 * not waiting for a CPU; = CPU / wall when no contention was measured).
 * - cpu-single-thread: SINGLE_THREAD_MIN ≤ cpw ≤ SINGLE_THREAD_MAX. Per-core busy is reported but is
 *   no gate (the scheduler migrates one thread between cores, and the counters are machine-wide);
 *   machine-wide load well above cpw lowers the confidence. Share = min(1, cpw).
 * - cpu-parallel: cpw ≥ PARALLEL_MIN; saturated when the tree (cpw) or the machine (Σ per-core busy)
 *   keeps ≥ SATURATED_CORE_FRACTION × cores busy. Share = min(1, cpw) = the whole run (the CPU work
 *   spans it), so the bound is the cap; `parallelHeadroom` = cores / cpw is the useful number.
 */
function cpuRules(ctx: Ctx): Verdict[] {
  const { s, cpw } = ctx;
  const busy = s.coreBusyPct;
  const maxCore = busy.length ? Math.max(...busy) : 0;
  const machineCores = busy.reduce((a, b) => a + b, 0) / 100;
  const base = {
    cpuPerWall: round(ctx.measuredCpw, 2),
    ...uncontended(ctx),
    wallMs: round(s.wallMs, 1),
    cpuMs: round(s.cpuMs, 1),
    cores: s.cores,
  };
  const lo = T.SINGLE_THREAD_MIN_CPU_PER_WALL;
  const hi = T.SINGLE_THREAD_MAX_CPU_PER_WALL;
  if (cpw >= lo && cpw <= hi) {
    const inside = Math.min(cpw - lo, hi - cpw);
    const otherLoad = machineCores - cpw > T.OTHER_LOAD_CORES;
    const conf =
      margin(inside, 0, T.SINGLE_THREAD_FULL_MARGIN) * ctx.hostF * (otherLoad ? T.OTHER_LOAD_FACTOR : 1);
    const rule =
      `${ctx.cpwName} between ${lo} and ${hi}: about one core busy for the whole run` +
      (otherLoad ? "; other load kept more cores busy machine-wide, so confidence is lowered" : "");
    const numbers = { ...base, maxCoreBusyPct: round(maxCore, 1), machineBusyCores: round(machineCores, 2) };
    return [makeVerdict(ctx, "cpu-single-thread", rule, numbers, conf, Math.min(1, cpw))];
  }
  if (cpw >= T.PARALLEL_MIN_CPU_PER_WALL) {
    const limit = T.SATURATED_CORE_FRACTION * s.cores;
    const byTree = cpw >= limit;
    const byMachine = machineCores >= limit;
    const headroom = s.cores / cpw;
    const rule =
      `${ctx.cpwName} ≥ ${T.PARALLEL_MIN_CPU_PER_WALL}: several cores busy; cores saturated when the tree ` +
      `or the whole machine keeps ≥ ${T.SATURATED_CORE_FRACTION} × ${s.cores} cores busy: ` +
      (byTree
        ? "saturated by the tree"
        : byMachine
          ? "saturated, partly by other load on the machine"
          : "not saturated");
    const extra = byTree
      ? []
      : byMachine
        ? ["other load competes for the cores: measure on a quieter machine before parallelizing further"]
        : [`use the idle cores: ${round(headroom, 1)}× the current parallelism is available`];
    const numbers = {
      ...base,
      machineBusyCores: round(machineCores, 2),
      saturated: byTree || byMachine ? 1 : 0,
      parallelHeadroom: round(headroom, 2),
    };
    const conf = margin(cpw, T.PARALLEL_MIN_CPU_PER_WALL, T.PARALLEL_MIN_CPU_PER_WALL + 0.5) * ctx.hostF;
    return [makeVerdict(ctx, "cpu-parallel", rule, numbers, conf, Math.min(1, cpw), extra)];
  }
  return [];
}

/**
 * - waiting: cpw < WAITING_MAX, I/O rate < IO_RATE, major faults < MAJOR_FAULTS_PER_RUN and the GPU
 *   not busy (util < GPU_IDLE_UTIL_PCT or no GPU). Share = 1 − cpw (the time off CPU).
 * - disk-io: cpw < DISK_MAX and (I/O rate ≥ IO_RATE or major faults ≥ MAJOR_FAULTS_PER_RUN).
 *   Share = 1 − cpw. Confidence: the weaker of the CPU margin and the I/O margin (log scale, full
 *   at 10× the threshold).
 */
function waitingAndDisk(ctx: Ctx): Verdict[] {
  const { s, cpw, ioRate } = ctx;
  const out: Verdict[] = [];
  const idle = 1 - Math.min(1, cpw);
  const faults = s.majorFaults;
  const numbers = {
    cpuPerWall: round(ctx.measuredCpw, 2),
    ...uncontended(ctx),
    ioMBPerS: mb(ioRate),
    readBytes: s.readBytes,
    writeBytes: s.writeBytes,
    majorFaults: faults,
  };
  const gpuBusy = (s.gpu?.utilGpuPct ?? 0) >= T.GPU_IDLE_UTIL_PCT;
  const heavyIo = ioRate >= T.IO_RATE_BYTES_PER_S;
  const manyFaults = faults >= T.MAJOR_FAULTS_PER_RUN;
  if (cpw < T.WAITING_MAX_CPU_PER_WALL && !heavyIo && !manyFaults && !gpuBusy) {
    const rule =
      `${ctx.cpwName} < ${T.WAITING_MAX_CPU_PER_WALL}, storage I/O < ${mb(T.IO_RATE_BYTES_PER_S)} MB/s, ` +
      `major faults < ${T.MAJOR_FAULTS_PER_RUN} per run and GPU utilization < ${T.GPU_IDLE_UTIL_PCT}% (or no GPU): ` +
      "the tree mostly waited (sleeps, locks, network, child processes)";
    const conf = margin(cpw, T.WAITING_MAX_CPU_PER_WALL, T.WAITING_MAX_CPU_PER_WALL - 0.3) * ctx.hostF;
    out.push(makeVerdict(ctx, "waiting", rule, numbers, conf, idle));
  }
  if (cpw < T.DISK_MAX_CPU_PER_WALL && (heavyIo || manyFaults)) {
    const rule =
      `${ctx.cpwName} < ${T.DISK_MAX_CPU_PER_WALL} and (storage I/O ≥ ${mb(T.IO_RATE_BYTES_PER_S)} MB/s ` +
      `or major faults ≥ ${T.MAJOR_FAULTS_PER_RUN} per run): the time off CPU is mostly spent on storage`;
    const ioPart = Math.max(
      margin(Math.log10(Math.max(ioRate, 1) / T.IO_RATE_BYTES_PER_S), 0, 1),
      margin(Math.log10(Math.max(faults, 1) / T.MAJOR_FAULTS_PER_RUN), 0, 1),
    );
    const cpuPart = margin(cpw, T.DISK_MAX_CPU_PER_WALL, T.DISK_MAX_CPU_PER_WALL - 0.4);
    out.push(makeVerdict(ctx, "disk-io", rule, numbers, Math.min(ioPart, cpuPart) * ctx.hostF, idle));
  }
  return out;
}

/**
 * host-memory: peak RSS ≥ RSS_NEAR_LIMIT_FRAC × memory, or major faults ≥ MAJOR_FAULTS_PER_RUN, or
 * RSS growth ≥ RSS_GROWTH_FRAC_OF_PEAK × peak and ≥ RSS_GROWTH_MIN_BYTES. Share: with many major
 * faults, 1 − cpw (the time off CPU, an upper bound on paging waits); otherwise 0 — capacity and
 * growth are real problems but not a share of run time these signals measure.
 */
function hostMemory(ctx: Ctx): Verdict[] {
  const { s, cpw } = ctx;
  const peakFrac = s.memTotalBytes > 0 ? s.peakRssBytes / s.memTotalBytes : 0;
  const growthFrac = s.peakRssBytes > 0 ? s.rssGrowthBytes / s.peakRssBytes : 0;
  const nearLimit = peakFrac >= T.RSS_NEAR_LIMIT_FRAC;
  const faults = s.majorFaults >= T.MAJOR_FAULTS_PER_RUN;
  const growth = growthFrac >= T.RSS_GROWTH_FRAC_OF_PEAK && s.rssGrowthBytes >= T.RSS_GROWTH_MIN_BYTES;
  if (!nearLimit && !faults && !growth) return [];
  const why: string[] = [];
  const conf: number[] = [];
  if (nearLimit) {
    why.push(`peak RSS ≥ ${T.RSS_NEAR_LIMIT_FRAC * 100}% of memory`);
    conf.push(margin(peakFrac, T.RSS_NEAR_LIMIT_FRAC, 0.95));
  }
  if (faults) {
    why.push(`major faults ≥ ${T.MAJOR_FAULTS_PER_RUN} per run`);
    conf.push(margin(Math.log10(s.majorFaults / T.MAJOR_FAULTS_PER_RUN), 0, 1));
  }
  if (growth) {
    why.push(
      `RSS grew ≥ ${T.RSS_GROWTH_FRAC_OF_PEAK * 100}% of its peak and ≥ ${T.RSS_GROWTH_MIN_BYTES / 2 ** 20} MiB ` +
        "from the first quarter of the run to its end",
    );
    conf.push(margin(growthFrac, T.RSS_GROWTH_FRAC_OF_PEAK, 0.9));
  }
  const rule = `${why.join("; ")}. Share: ${faults ? "the time off CPU (an upper bound on paging waits)" : "0% — memory capacity and growth are not a share of run time these signals can measure"}`;
  const numbers = {
    peakRssBytes: s.peakRssBytes,
    memTotalBytes: s.memTotalBytes,
    peakRssFracOfTotal: round(peakFrac, 3),
    rssGrowthBytes: s.rssGrowthBytes,
    rssGrowthFracOfPeak: round(growthFrac, 3),
    majorFaults: s.majorFaults,
  };
  const share = faults ? 1 - Math.min(1, cpw) : 0;
  return [makeVerdict(ctx, "host-memory", rule, numbers, Math.max(...conf) * ctx.hostF, share)];
}

/**
 * Every bottleneck category of docs/design.md ("Bottleneck categories and thresholds") whose rule fires on `s` (thresholds in `thresholds.ts`;
 * each rule, its share and its confidence are documented at its function): throttled,
 * cpu-single-thread | cpu-parallel, waiting, disk-io, host-memory, gpu-starved,
 * gpu-launch-bound | gpu-compute, gpu-memory, and from a PyTorch trace (torch-rules.ts) gpu-transfer,
 * gpu-sync, gpu-bandwidth and trace-based gpu-starved / gpu-launch-bound / gpu-compute, which
 * replace the nvidia-smi verdict of the same category. Confidence is 0.5 at a threshold rising to 1 well past
 * it, × a sample-count factor (fewer than 10 expected samples lowers it). Sorted: `throttled` first whatever its share (it
 * invalidates the other verdicts' numbers), then by sharePct descending, then confidence descending.
 * Several verdicts may fire at once (e.g. a growing RSS in a CPU-bound loop). Returns [] when no rule
 * fires — the caller reports "no clear bottleneck" rather than a guess. Rules read CPU / uncontended
 * wall (module comment); every verdict gets the contention numbers (`withContention`). Throws RangeError when
 * wallMs is not a positive finite number or cpuMs is negative or not finite.
 */
export function classify(s: SignalSummary): Verdict[] {
  if (!(Number.isFinite(s.wallMs) && s.wallMs > 0))
    throw new RangeError(`classify: wallMs must be > 0, got ${s.wallMs}`);
  if (!(Number.isFinite(s.cpuMs) && s.cpuMs >= 0))
    throw new RangeError(`classify: cpuMs must be ≥ 0, got ${s.cpuMs}`);
  const measuredCpw = s.cpuMs / s.wallMs;
  const share = s.contention && Number.isFinite(s.contention.share) ? s.contention.share : 0;
  const contention = Math.min(Math.max(share, 0), 0.999);
  const ctx: Ctx = {
    s,
    cpw: measuredCpw / (1 - contention),
    measuredCpw,
    contention,
    cpwName: s.contention ? "CPU time / wall time without run-queue delay" : "CPU time / wall time",
    ioRate: (s.readBytes + s.writeBytes) / (s.wallMs / 1000),
    hostF: sampleFactor(s.wallMs / T.SAMPLE_PERIOD_MS),
  };
  // A trace with GPU events sees kernels and gaps; nvidia-smi's means only guess at them, so its
  // rules replace nvidia-smi's time rules (starved, launch-bound, compute) whether or not they
  // fired. Memory capacity and throttling stay nvidia-smi's.
  const traced = torchRules(ctx);
  const tracedCategories = new Set<string>(traced.map((v) => v.category));
  if (s.torch?.gpu)
    for (const c of ["gpu-starved", "gpu-launch-bound", "gpu-compute"]) tracedCategories.add(c);
  const all = [
    ...throttledRule(ctx),
    ...cpuRules(ctx).map((v) => withTorchHost(v, s.torch)),
    ...waitingAndDisk(ctx),
    ...hostMemory(ctx),
    ...gpuRules(ctx).filter((v) => !tracedCategories.has(v.category)),
    ...traced,
  ].map((v) => withContention(s, v));
  return all.sort(
    (a, b) =>
      Number(b.category === "throttled") - Number(a.category === "throttled") ||
      b.sharePct - a.sharePct ||
      b.confidence - a.confidence,
  );
}
