/**
 * The rules read from a PyTorch trace (src/core/analyze/torch-rules.ts). Real traces first
 * (test/fixtures/torch/README.md); then small traces built here in Kineto's event layout — named as
 * constructed — for the patterns the real ones do not show (launch-bound, sync-bound,
 * transfer-bound, the roofline).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { classify } from "../src/core/analyze/classify.ts";
import { peaksOf, ridgeFp32 } from "../src/core/analyze/gpu-peaks.ts";
import { summarizeSignals } from "../src/core/analyze/signals.ts";
import { type TorchFacts, torchFacts } from "../src/core/profile/torch-facts.ts";
import { parseTorchTrace } from "../src/core/profile/torch-trace.ts";
import type { SignalSummary, Verdict } from "../src/core/types.ts";
import { traceInput } from "./fixtures/traces/load-trace.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/torch");
const EXAMPLE = path.resolve(import.meta.dirname, "../examples/mlpeval");

function real(name: string): TorchFacts {
  const text = gunzipSync(readFileSync(path.join(FIXTURES, name)))
    .toString("utf8")
    .replaceAll("/tmp/mlpeval-rec", EXAMPLE);
  return torchFacts(parseTorchTrace(text, name), EXAMPLE, name);
}

/** The host side of a single-threaded run recorded on this machine, with `torch` as its trace. */
const withTrace = (torch: TorchFacts): SignalSummary => ({
  ...summarizeSignals(traceInput("cpu-single")),
  torch,
});
const find = (vs: Verdict[], category: string): Verdict | undefined =>
  vs.find((v) => v.category === category);

describe("on real traces", () => {
  it("a CPU trace adds the operators, the .item() reads and their Python lines to the CPU verdict", () => {
    const v = find(classify(withTrace(real("mlpeval-cpu-torch1.13.json.gz"))), "cpu-single-thread");
    expect(v?.numbers).toMatchObject({ torchOps: 552, torchScalarReads: 24 });
    expect(v?.rule).toContain("torch.profiler trace: 552 operators");
    const remedies = v?.remedies.join("\n") ?? "";
    expect(remedies).toContain("24 `.item()` reads, most in mlpeval/evaluate.py:26 evaluate_batch");
    expect(remedies).toMatch(
      /aten::addmm [\d.]+% of operator self time \(24 calls, shapes \[\[64\],\[1,64\]/,
    );
    expect(remedies).toMatch(/per-operator overhead, not arithmetic/);
    // No GPU events: no GPU verdict from the trace.
    expect(classify(withTrace(real("mlpeval-cpu-torch1.13.json.gz"))).map((x) => x.category)).toEqual([
      "cpu-single-thread",
    ]);
  });

  it("AlexNet's first step on an A100: gpu-starved by host wait, the host's work named", () => {
    const facts = real("hta-alexnet-a100.json.gz");
    const v = find(classify(withTrace(facts)), "gpu-starved");
    expect(v?.rule).toMatch(/the GPU was idle 99\.\d% of its active span/);
    expect(v?.rule).toContain("HTA's idle-time breakdown");
    expect(v?.numbers.gpuIdlePct).toBeGreaterThan(99);
    expect(v?.remedies.join("\n")).toMatch(/while the GPU waited/);
    expect(v?.remedies.join("\n")).toContain("`num_workers` > 0, `pin_memory=True`");
    // The trace's window, not the recorded host run, is what its share is of.
    expect(v?.sharePct).toBeCloseTo(
      Math.min(100, (100 * (facts.gpu?.idle.hostWaitMs ?? 0)) / facts.windowMs),
      0,
    );
  });

  it("one short step with three syncs is not sync-bound (1.5% of its window)", () => {
    const facts = real("hta-event-sync.json.gz");
    expect(facts.syncMs / facts.windowMs).toBeLessThan(0.1);
    expect(find(classify(withTrace(facts)), "gpu-sync")).toBeUndefined();
  });
});

// ---- constructed traces (Kineto's layout; not recordings) ----

type Ev = Record<string, unknown>;
const x = (
  cat: string,
  name: string,
  ts: number,
  dur: number,
  args: Record<string, unknown> = {},
  tid = 1,
): Ev => ({
  ph: "X",
  cat,
  name,
  pid: 1,
  tid: cat === "kernel" || cat === "gpu_memcpy" ? 7 : tid,
  ts,
  dur,
  args,
});
const A100 = [{ id: 0, name: "NVIDIA A100-SXM4-80GB", totalGlobalMem: 85e9 }];
const facts = (events: Ev[], devices = A100): TorchFacts =>
  torchFacts(
    parseTorchTrace(JSON.stringify({ traceEvents: events, deviceProperties: devices }), "t.json"),
    EXAMPLE,
    "t.json",
  );

/** `n` launches from `site`'s frame: op → cudaLaunchKernel → kernel of `kernelUs`, every `periodUs`. */
function launches(
  n: number,
  periodUs: number,
  kernelUs: number,
  extra: (i: number, t: number) => Ev[] = () => [],
): Ev[] {
  const frame = x(
    "python_function",
    `${EXAMPLE}/mlpeval/evaluate.py(26): evaluate_batch`,
    0,
    n * periodUs + 10,
  );
  const out: Ev[] = [frame];
  for (let i = 0; i < n; i++) {
    const t = i * periodUs;
    out.push(
      x("cpu_op", "aten::add", t, 4),
      x("cuda_runtime", "cudaLaunchKernel", t + 1, 2, { correlation: i }),
    );
    out.push(x("kernel", "elementwise_kernel", t + 3, kernelUs, { correlation: i, device: 0, stream: 7 }));
    out.push(...extra(i, t));
  }
  return out;
}

describe("on constructed traces", () => {
  it("many 2 µs kernels in short gaps → gpu-launch-bound, naming CUDA graphs and the launching line", () => {
    const v = find(classify(withTrace(facts(launches(200, 8, 2)))), "gpu-launch-bound");
    expect(v?.numbers).toMatchObject({ kernelCount: 200, kernelMedianUs: 2, gapMedianUs: 6 });
    const remedies = v?.remedies.join("\n") ?? "";
    expect(remedies).toContain(
      "fuse the 200 launches of elementwise_kernel (aten::add) from mlpeval/evaluate.py:26 evaluate_batch",
    );
    expect(remedies).toContain("CUDA graph");
    expect(find(classify(withTrace(facts(launches(200, 8, 2)))), "gpu-starved")).toBeUndefined();
  });

  it("long kernels back to back → no launch-bound, no starved verdict", () => {
    const vs = classify(withTrace(facts(launches(100, 200, 198))));
    expect(find(vs, "gpu-launch-bound")).toBeUndefined();
    expect(find(vs, "gpu-starved")).toBeUndefined();
  });

  it("a blocking .item() after each kernel → gpu-sync with the Python line, and the stall's share", () => {
    const sync = (i: number, t: number): Ev[] => [
      x("cpu_op", "aten::item", t + 5, 40),
      x("cuda_runtime", "cudaStreamSynchronize", t + 6, 35, { correlation: 10_000 + i }),
    ];
    const f = facts(launches(50, 100, 30, sync));
    const v = find(classify(withTrace(f)), "gpu-sync");
    expect(v?.numbers).toMatchObject({ syncCount: 50, scalarReads: 50 });
    expect(f.syncMs).toBeCloseTo(50 * 0.035, 6);
    // The share is the GPU idle in the gaps where a sync returned, not the whole blocked time.
    expect(v?.sharePct).toBeCloseTo((100 * (f.gpu?.idleAfterSyncMs ?? 0)) / f.windowMs, 0);
    expect(f.gpu?.idleAfterSyncMs).toBeGreaterThan(0);
    // First after the hot-spot hint (none here): the line to change.
    expect(v?.remedies[0]).toContain(
      "remove the per-step sync in mlpeval/evaluate.py:26 evaluate_batch (50 calls",
    );
  });

  it("pageable copies a third of the window → gpu-transfer with pinned memory first", () => {
    const copy = (i: number, t: number): Ev[] => [
      x("gpu_memcpy", "Memcpy HtoD (Pageable -> Device)", t + 40, 40, {
        bytes: 1 << 20,
        correlation: 20_000 + i,
        device: 0,
      }),
    ];
    const v = find(classify(withTrace(facts(launches(20, 120, 20, copy)))), "gpu-transfer");
    expect(v?.numbers).toMatchObject({ pageablePct: 100, HtoDBytes: 20 << 20 });
    expect(v?.remedies[0]).toMatch(/^pinned memory/);
  });

  it("on the roofline: an elementwise chain below the ridge → gpu-bandwidth; a large GEMM above it → gpu-compute", () => {
    const peaks = peaksOf("NVIDIA A100-SXM4-80GB", 85e9);
    expect(peaks?.model).toBe("A100 80GB SXM");
    const ridge = ridgeFp32(peaks as NonNullable<typeof peaks>);
    expect(ridge).toBeCloseTo(19.5e12 / 2039e9, 6);
    const shapes = (dims: number[][]) => ({ "Input Dims": dims, "Input type": dims.map(() => "float") });
    // An add of two 4096×4096 float tensors: 4096² FLOPs over 3 × 64 MiB, far below the ridge.
    const square = [
      [4096, 4096],
      [4096, 4096],
    ];
    const mul = launches(60, 300, 250).map((e) =>
      e.name === "aten::add" ? { ...e, dur: 3, args: { ...shapes(square), flops: 4096 ** 2 } } : e,
    );
    expect(find(classify(withTrace(facts(mul))), "gpu-bandwidth")?.remedies.join("\n")).toContain(
      "`torch.compile`",
    );
    // 4096³ GEMM: 2·4096³ FLOPs over 3·64 MiB ≫ ridge.
    const mm = launches(60, 300, 250).map((e) =>
      e.name === "aten::add"
        ? {
            ...e,
            name: "aten::mm",
            dur: 3,
            args: {
              ...shapes([
                [4096, 4096],
                [4096, 4096],
              ]),
              flops: 2 * 4096 ** 3,
            },
          }
        : e,
    );
    const v = find(classify(withTrace(facts(mm))), "gpu-compute");
    expect(v?.rule).toContain("roofline on the A100 80GB SXM");
    expect(v?.remedies.join("\n")).toContain("torch.autocast(dtype=torch.bfloat16)");
  });

  it("a kernel whose operator recorded shapes but no FLOPs is not placed on the roofline", () => {
    const dims = {
      "Input Dims": [
        [4096, 4096],
        [4096, 4096],
      ],
      "Input type": ["float", "float"],
    };
    const attention = launches(60, 300, 250).map((e) =>
      e.name === "aten::add" ? { ...e, name: "aten::_flash_attention_forward", args: dims } : e,
    );
    const vs = classify(withTrace(facts(attention)));
    expect(find(vs, "gpu-bandwidth")).toBeUndefined();
    expect(find(vs, "gpu-compute")).toBeUndefined();
  });

  it("splits an operator's FLOPs over the kernels of all its children, once", () => {
    // conv2d carries the FLOPs; two child operators launch one kernel each.
    const events: Ev[] = [
      x("cpu_op", "aten::conv2d", 0, 100, { flops: 1000 }),
      x("cpu_op", "aten::cudnn_convolution", 10, 30),
      x("cuda_runtime", "cudaLaunchKernel", 12, 2, { correlation: 1 }),
      x("cpu_op", "aten::add_", 50, 30),
      x("cuda_runtime", "cudaLaunchKernel", 52, 2, { correlation: 2 }),
      x("kernel", "conv_kernel", 20, 30, { correlation: 1, device: 0 }),
      x("kernel", "bias_kernel", 60, 10, { correlation: 2, device: 0 }),
    ];
    const f = facts(events);
    expect(f.kernels.reduce((s, k) => s + (k.flops ?? 0), 0)).toBeCloseTo(1000, 6);
    expect(f.kernels.find((k) => k.name === "conv_kernel")?.flops).toBeCloseTo(750, 6);
  });

  it("device-to-device copies are not host↔device transfers", () => {
    const copy = (i: number, t: number): Ev[] => [
      x("gpu_memcpy", "Memcpy DtoD (Device -> Device)", t + 40, 40, {
        bytes: 1 << 20,
        correlation: 20_000 + i,
        device: 0,
      }),
    ];
    expect(find(classify(withTrace(facts(launches(20, 120, 20, copy)))), "gpu-transfer")).toBeUndefined();
  });

  it("a GPU not in the peaks table gets no roofline verdict, never a guess", () => {
    expect(peaksOf("NVIDIA GeForce GTX 1070", null)).toBeNull();
    const dims = {
      "Input Dims": [
        [4096, 4096],
        [4096, 4096],
      ],
      "Input type": ["float", "float"],
    };
    const mm = launches(60, 300, 250).map((e) =>
      e.name === "aten::add" ? { ...e, args: { ...dims, flops: 2 * 4096 ** 3 } } : e,
    );
    // The same trace on an A100 does give a roofline verdict: only the table decides here.
    expect(find(classify(withTrace(facts(mm))), "gpu-compute")).toBeDefined();
    const vs = classify(
      withTrace(facts(mm, [{ id: 0, name: "NVIDIA GeForce GTX 1070", totalGlobalMem: 8e9 }])),
    );
    expect(find(vs, "gpu-compute")).toBeUndefined();
    expect(find(vs, "gpu-bandwidth")).toBeUndefined();
  });
});
