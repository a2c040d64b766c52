/**
 * The rules read from a PyTorch trace (`SignalSummary.torch`, profile/torch-facts.ts): what the
 * nvidia-smi means cannot tell apart. Thresholds and sources in torch-thresholds.ts; shares are of
 * the traced window. Each verdict's remedies start with the kernels and Python functions to change,
 * then name PyTorch's own tools for the category.
 *
 * - gpu-launch-bound: many short kernels, the GPU idle in short gaps between them;
 * - gpu-starved: the GPU idle in long gaps while the host runs (HTA's host wait);
 * - gpu-transfer: host↔device copies take a large share of the window;
 * - gpu-sync: the host blocks in synchronizing calls (`.item()`, `.cpu()`, `synchronize`);
 * - gpu-bandwidth / gpu-compute: on the roofline, where the trace recorded FLOPs or shapes and the
 *   GPU is in the peaks table (gpu-peaks.ts).
 *
 * On a CPU-only trace none fires; `withTorchHost` adds the operators, their Python call sites and
 * the per-operator overhead to the CPU verdicts instead.
 */

import type { TorchFacts } from "../profile/torch-facts.ts";
import { siteText } from "../profile/torch-sites.ts";
import type { Verdict } from "../types.ts";
import { peaksOf, ridgeFp32 } from "./gpu-peaks.ts";
import * as T from "./torch-thresholds.ts";
import { makeVerdict, margin, type RuleContext, round } from "./verdict.ts";

const ms = (x: number): string => `${round(x, x < 10 ? 2 : 1)} ms`;
const us = (x: number): string => `${round(x, 1)} µs`;
/** How a rule names the trace it read. */
const source = (t: TorchFacts): string =>
  t.recorder === "nsys" ? "Nsight Systems trace" : "torch.profiler trace";
/** A trace's name (untrusted: kernel templates, NVTX text) on one line, at most 80 characters. */
const shortName = (name: string): string => {
  const line = name.replace(/\s+/g, " ").trim();
  return line.length > 80 ? `${line.slice(0, 79)}…` : line;
};

/** The verdicts the trace supports; [] without a trace or without GPU events in it. */
export function torchRules(ctx: RuleContext): Verdict[] {
  const t = ctx.s.torch;
  if (!t || !(t.windowMs > 0)) return [];
  return [...idleRules(ctx, t), ...transferRule(ctx, t), ...syncRule(ctx, t), ...rooflineRules(ctx, t)];
}

function idleRules(ctx: RuleContext, t: TorchFacts): Verdict[] {
  const g = t.gpu;
  if (!g || g.idlePct < T.TRACE_IDLE_MIN_PCT) return [];
  const numbers = {
    kernelCount: g.kernelCount,
    kernelMedianUs: round(g.kernelMedianUs, 1),
    gapMedianUs: round(g.gapMedianUs, 1),
    gpuIdlePct: round(g.idlePct, 1),
    gpuIdleMs: round(g.idleMs, 1),
    hostWaitMs: round(g.idle.hostWaitMs, 1),
    launchMedianUs: round(g.launchMedianUs, 1),
    traceWindowMs: round(t.windowMs, 1),
  };
  const topKernel = t.kernels[0];
  const where = topKernel?.site ? ` from ${siteText(topKernel.site)}` : "";
  if (
    g.kernelCount >= T.LAUNCH_MIN_KERNELS &&
    g.kernelMedianUs < T.SHORT_KERNEL_US &&
    g.gapMedianUs < T.LAUNCH_GAP_US
  ) {
    const rule =
      `${source(t)}: ${g.kernelCount} kernels with a median of ${us(g.kernelMedianUs)} (< ${T.SHORT_KERNEL_US} µs) ` +
      `and the GPU idle ${round(g.idlePct, 1)}% of its active span (≥ ${T.TRACE_IDLE_MIN_PCT}%) in gaps of a median ` +
      `${us(g.gapMedianUs)} (< ${T.LAUNCH_GAP_US} µs): the host launches as fast as it can and each kernel is too short ` +
      'to cover its launch (NVIDIA, "Getting Started with CUDA Graphs")';
    const conf = Math.min(
      margin(g.idlePct, T.TRACE_IDLE_MIN_PCT, 80),
      margin(g.kernelMedianUs, T.SHORT_KERNEL_US, 2),
    );
    const extra = [
      ...(topKernel
        ? [
            `fuse the ${topKernel.calls} launches of ${shortName(topKernel.name)} (${topKernel.op ?? "?"})${where}`,
          ]
        : []),
      'capture the step in a CUDA graph (`torch.cuda.graphs`, or `torch.compile(mode="reduce-overhead")`)',
      "bigger batches: fewer, longer kernels",
    ];
    return [makeVerdict(ctx, "gpu-launch-bound", rule, numbers, conf, g.idleMs / t.windowMs, extra)];
  }
  const hostWaitFrac = g.idleMs > 0 ? g.idle.hostWaitMs / g.idleMs : 0;
  if (hostWaitFrac < T.HOST_WAIT_MIN_FRAC) return [];
  const host = g.hostDuringIdle.slice(0, 3).map((h) => `${shortName(h.name)} (${ms(h.ms)})`);
  const gap = g.gaps[0];
  const rule =
    `${source(t)}: the GPU was idle ${round(g.idlePct, 1)}% of its active span (≥ ${T.TRACE_IDLE_MIN_PCT}%), ` +
    `${round(100 * hostWaitFrac, 0)}% of it host wait (≥ ${100 * T.HOST_WAIT_MIN_FRAC}%: the launch after the gap ` +
    "started after the GPU went idle; HTA's idle-time breakdown): the GPU waits for the host";
  const extra = [
    ...(host.length
      ? [`the host ran ${host.join(", ")} while the GPU waited: speed it up or overlap it`]
      : []),
    ...(gap?.site
      ? [`the longest gap (${ms(gap.durMs)}) ended with a launch from ${siteText(gap.site)}`]
      : []),
    "DataLoader: `num_workers` > 0, `pin_memory=True`, `persistent_workers=True`, prefetching",
    "move host-side preprocessing onto the GPU; bigger batches",
  ];
  const conf = Math.min(
    margin(g.idlePct, T.TRACE_IDLE_MIN_PCT, 80),
    margin(hostWaitFrac, T.HOST_WAIT_MIN_FRAC, 0.9),
  );
  return [makeVerdict(ctx, "gpu-starved", rule, numbers, conf, g.idle.hostWaitMs / t.windowMs, extra)];
}

/** gpu-transfer: host↔device copies (HtoD, DtoH; not device-to-device) ≥ TRANSFER_MIN_SHARE. */
function transferRule(ctx: RuleContext, t: TorchFacts): Verdict[] {
  const hostDevice = t.copies.filter((c) => c.kind === "HtoD" || c.kind === "DtoH");
  const copyMs = hostDevice.reduce((s, c) => s + c.ms, 0);
  const share = copyMs / t.windowMs;
  if (share < T.TRANSFER_MIN_SHARE) return [];
  const bytes = hostDevice.reduce((s, c) => s + c.bytes, 0);
  const pageable = hostDevice.reduce((s, c) => s + c.pageableBytes, 0);
  const numbers: Record<string, number> = {
    copyMs: round(copyMs, 1),
    copyBytes: bytes,
    pageablePct: round(bytes ? (100 * pageable) / bytes : 0, 1),
  };
  for (const c of hostDevice) numbers[`${c.kind}Bytes`] = c.bytes;
  const rule =
    `${source(t)}: host↔device copies took ${ms(copyMs)}, ${round(100 * share, 1)}% of the traced window ` +
    `(≥ ${100 * T.TRANSFER_MIN_SHARE}%; HTA counts them as non-compute GPU time); ${round(numbers.pageablePct ?? 0, 0)}% of the bytes from pageable memory`;
  const extra = [
    ...(pageable > 0
      ? [
          "pinned memory (`pin_memory=True`, `tensor.pin_memory()`) and `.to(device, non_blocking=True)` so copies overlap compute",
        ]
      : []),
    "keep tensors on the GPU between steps: move the data once, not per step",
  ];
  return [
    makeVerdict(ctx, "gpu-transfer", rule, numbers, margin(share, T.TRANSFER_MIN_SHARE, 0.4), share, extra),
  ];
}

/**
 * gpu-sync: the host blocked ≥ SYNC_MIN_SHARE of the window in ≥ SYNC_MIN_CALLS synchronizing
 * calls. Share: with GPU events, the GPU's idle time in the gaps during which a sync returned (after
 * a sync the device is empty until the host launches again; that is what removing the syncs can
 * win, not the whole blocked time, during which the GPU may be busy); without, the blocked time.
 */
function syncRule(ctx: RuleContext, t: TorchFacts): Verdict[] {
  const count = t.syncs.reduce((s, x) => s + x.count, 0);
  const blocked = t.syncMs / t.windowMs;
  if (blocked < T.SYNC_MIN_SHARE || count < T.SYNC_MIN_CALLS) return [];
  const top = t.syncs[0];
  const site = top?.sites[0];
  const idleAfter = t.gpu ? t.gpu.idleAfterSyncMs : null;
  const rule =
    `${source(t)}: the host was blocked ${ms(t.syncMs)} (${round(100 * blocked, 1)}% of the traced window, ≥ ` +
    `${100 * T.SYNC_MIN_SHARE}%) in ${count} synchronizing CUDA calls (≥ ${T.SYNC_MIN_CALLS}), most in ${top?.name}` +
    (idleAfter === null
      ? ""
      : `; the GPU sat idle ${ms(idleAfter)} in the gaps where those calls returned (the share: what removing them can win)`);
  const extra = [
    ...(site
      ? [
          `remove the per-step sync in ${siteText(site.site)} (${site.count} calls, ${ms(site.ms)}): \`.item()\`, \`.cpu()\`, \`.tolist()\`, printing a tensor or \`torch.cuda.synchronize()\``,
        ]
      : []),
    ...(t.scalarReads.count
      ? [
          `${t.scalarReads.count} \`.item()\` reads in the window: accumulate on the GPU and read once per epoch`,
        ]
      : []),
    "`non_blocking=True` copies and CUDA events instead of blocking reads",
  ];
  const numbers: Record<string, number> = {
    syncCount: count,
    syncMs: round(t.syncMs, 1),
    scalarReads: t.scalarReads.count,
  };
  if (idleAfter !== null) numbers.gpuIdleAfterSyncMs = round(idleAfter, 1);
  const share = idleAfter === null ? blocked : idleAfter / t.windowMs;
  return [makeVerdict(ctx, "gpu-sync", rule, numbers, margin(blocked, T.SYNC_MIN_SHARE, 0.4), share, extra)];
}

function rooflineRules(ctx: RuleContext, t: TorchFacts): Verdict[] {
  const peaks = peaksOf(t.device, t.deviceMemBytes);
  const g = t.gpu;
  if (!peaks || !g || g.kernelMs <= 0) return [];
  const ridge = ridgeFp32(peaks);
  let memMs = 0;
  let compMs = 0;
  // Only kernels whose operators recorded both FLOPs (`with_flops`: matmuls, convolutions, add, mul)
  // and shapes with types: a kernel without FLOPs is unknown, not intensity 0.
  const placed = t.kernels.filter((k) => k.flops !== null && k.bytes !== null && k.bytes > 0);
  for (const k of placed) {
    if ((k.flops ?? 0) / (k.bytes ?? 1) < ridge) memMs += k.totalMs;
    else compMs += k.totalMs;
  }
  const known = (memMs + compMs) / g.kernelMs;
  if (known < T.ROOFLINE_MIN_KERNEL_SHARE) return [];
  const memory = memMs >= compMs;
  const chosen = t.kernels.filter((k) => k.bytes && (k.flops ?? 0) / k.bytes < ridge === memory);
  const top = chosen[0];
  if (!top?.bytes) return [];
  const secs = top.totalMs / 1000;
  const gbps = top.bytes / secs / 1e9;
  const tflops = (top.flops ?? 0) / secs / 1e12;
  const numbers = {
    ridgeFlopPerByte: round(ridge, 1),
    peakGBps: peaks.memBytesPerS / 1e9,
    peakFp32Tflops: peaks.fp32Flops / 1e12,
    peakTensor16Tflops: peaks.tensor16Flops / 1e12,
    topKernelGBps: round(gbps, 1),
    topKernelTflops: round(tflops, 2),
    kernelSharePct: round((100 * (memory ? memMs : compMs)) / g.kernelMs, 1),
  };
  const where = top.site ? ` from ${siteText(top.site)}` : "";
  const name = `${shortName(top.name)} (${top.op ?? "?"})${where}`;
  const base =
    `roofline on the ${peaks.model} (ridge ${round(ridge, 1)} FLOP/byte = FP32 peak / memory bandwidth, datasheet): ` +
    `kernels below the ridge take ${round((100 * memMs) / g.kernelMs, 1)}% of kernel time, above it ` +
    `${round((100 * compMs) / g.kernelMs, 1)}% (FLOPs from \`with_flops\`, bytes estimated from the recorded shapes and types; kernels without them are not placed)`;
  const share = (memory ? memMs : compMs) / t.windowMs;
  const conf = margin((memory ? memMs : compMs) / g.kernelMs, T.ROOFLINE_MIN_KERNEL_SHARE, 0.8);
  if (memory)
    return [
      makeVerdict(ctx, "gpu-bandwidth", `${base}: memory-bandwidth-bound`, numbers, conf, share, [
        `fuse the elementwise chain around ${name} (≈ ${round(gbps, 0)} GB/s of ${peaks.memBytesPerS / 1e9} GB/s peak): \`torch.compile\``,
        "bf16/fp16 tensors halve the bytes moved",
      ]),
    ];
  return [
    makeVerdict(ctx, "gpu-compute", `${base}: compute-bound`, numbers, conf, share, [
      `${name} reaches ≈ ${round(tflops, 1)} TFLOP/s; tensor cores give up to ${peaks.tensor16Flops / 1e12} (bf16) vs ${peaks.fp32Flops / 1e12} (FP32): \`torch.autocast(dtype=torch.bfloat16)\` or \`torch.backends.cuda.matmul.allow_tf32 = True\``,
    ]),
  ];
}

/**
 * A CPU verdict (cpu-single-thread, cpu-parallel) with the trace's operator facts added: the
 * operators' count and median self time in `numbers`, and remedies naming the busiest operators
 * and `.item()` reads with their Python call sites, and per-operator overhead when the median self
 * time is under OP_OVERHEAD_MEDIAN_US. Other verdicts, and any verdict without a trace, unchanged.
 */
export function withTorchHost(v: Verdict, t: TorchFacts | null | undefined): Verdict {
  if (!t || t.opCount === 0 || (v.category !== "cpu-single-thread" && v.category !== "cpu-parallel"))
    return v;
  const numbers = {
    ...v.numbers,
    torchOps: t.opCount,
    torchTopLevelOps: t.topLevelOps,
    torchOpMedianSelfUs: round(t.opMedianSelfUs, 1),
    torchScalarReads: t.scalarReads.count,
  };
  const ops = t.operators.slice(0, 3).map((o) => {
    const shapes = o.shapes
      ? `, shapes ${o.shapes.length > 60 ? `${o.shapes.slice(0, 59)}…` : o.shapes}`
      : "";
    return `${o.name} ${round(o.selfPct, 1)}% of operator self time (${o.calls} calls${shapes})${o.site ? ` from ${siteText(o.site)}` : ""}`;
  });
  const remedies: string[] = [];
  if (t.opMedianSelfUs < T.OP_OVERHEAD_MEDIAN_US)
    remedies.push(
      `${t.topLevelOps} PyTorch operators with a median self time of ${us(t.opMedianSelfUs)} (< ${T.OP_OVERHEAD_MEDIAN_US} µs): per-operator overhead, not arithmetic, is the work — bigger batches, fewer and fused operators (\`torch.compile\`)`,
    );
  const read = t.scalarReads.sites[0];
  if (t.scalarReads.count > 0)
    remedies.push(
      `${t.scalarReads.count} \`.item()\` reads${read ? `, most in ${siteText(read.site)}` : ""}: one host read per call, and on a GPU each waits for the device — accumulate in tensors and read once`,
    );
  if (ops.length) remedies.push(`busiest operators: ${ops.join("; ")}`);
  const rule = `${v.rule}. torch.profiler trace: ${t.opCount} operators, median top-level self time ${us(t.opMedianSelfUs)}`;
  return { ...v, rule, numbers, remedies: [...v.remedies.slice(0, 1), ...remedies, ...v.remedies.slice(1)] };
}
