import { describe, expect, it } from "vitest";
import { AMDAHL_CAP, amdahlBound, classify } from "../src/core/analyze/classify.ts";
import { summarizeSignals } from "../src/core/analyze/signals.ts";
import type {
  BottleneckCategory,
  GpuSample,
  GpuSlowdownReason,
  GpuTrace,
  SignalSummary,
} from "../src/core/types.ts";
import { type TraceName, traceInput } from "./fixtures/traces/load-trace.ts";

const cats = (s: SignalSummary): BottleneckCategory[] => classify(s).map((v) => v.category);
const recorded = (name: TraceName): SignalSummary => summarizeSignals(traceInput(name));

/**
 * One nvidia-smi reading as a GPU trace. The numbers passed in are copied from real `nvidia-smi`
 * outputs published in GitHub issues (source named at each use); each is a single snapshot, so
 * the trace has one sample. They were not recorded by perfloop.
 */
function snapshot(
  util: number,
  powerW: number | null,
  limitW: number | null,
  usedMiB: number,
  totalMiB: number,
  slowdown: GpuSlowdownReason[] = [],
): GpuTrace {
  const sample: GpuSample = {
    tMs: 0,
    index: 0,
    utilGpuPct: util,
    utilMemPct: null,
    memUsedMiB: usedMiB,
    memTotalMiB: totalMiB,
    powerW,
    powerLimitW: limitW,
    tempC: null,
    smClockMHz: null,
    smClockMaxMHz: null,
    slowdown,
  };
  return { available: true, fields: [], samples: [sample] };
}

/**
 * Composite input: the host side of a trace recorded on this machine plus a published GPU snapshot.
 * Not one real run — it tests that the GPU rules combine with real host signals as designed.
 */
const withGpu = (host: TraceName, gpu: GpuTrace): SignalSummary => summarizeSignals(traceInput(host, [gpu]));

describe("classify: host categories on recorded traces", () => {
  it("single-threaded CPU loop → cpu-single-thread only", () => {
    const v = classify(recorded("cpu-single"));
    expect(v.map((x) => x.category)).toEqual(["cpu-single-thread"]);
    expect(v[0]?.sharePct).toBeGreaterThan(90);
    expect(v[0]?.confidence).toBeGreaterThan(0.8);
    expect(v[0]?.rule).toContain("0.8");
    expect(v[0]?.rule).toContain("1.3");
  });

  it("two CPU-bound processes → cpu-parallel, never single-thread; cores saturated on this 2-core machine", () => {
    const v = classify(recorded("cpu-parallel"));
    expect(v.map((x) => x.category)).toEqual(["cpu-parallel"]);
    expect(v[0]?.numbers.cpuPerWall).toBeGreaterThanOrEqual(1.5);
    expect(v[0]?.numbers.saturated).toBe(1);
    expect(v[0]?.rule).toMatch(/saturated/);
  });

  it("sleep and a loop of 100 ms sleeps → waiting only", () => {
    for (const name of ["sleep", "waiting"] as const) {
      const v = classify(recorded(name));
      expect(
        v.map((x) => x.category),
        name,
      ).toEqual(["waiting"]);
      expect(v[0]?.sharePct, name).toBeGreaterThan(95);
    }
  });

  it("fsync'd writes and uncached reads → disk-io, not waiting, not CPU", () => {
    const v = classify(recorded("disk-io"));
    expect(v.map((x) => x.category)).toEqual(["disk-io"]);
    const d = v[0];
    expect(d?.numbers.ioMBPerS).toBeGreaterThan(10);
    // share = 1 − cpu/wall, and the Amdahl bound follows from the reported share.
    expect(d?.sharePct).toBeCloseTo(100 * (1 - (d?.numbers.cpuPerWall ?? 0)), -0.5);
    expect(d?.amdahlBound).toBeCloseTo(1 / (1 - (d?.sharePct ?? 0) / 100), 2);
  });

  it("a growing loop → host-memory (growth) next to cpu-single-thread, which explains the time", () => {
    const v = classify(recorded("mem-growth"));
    expect(v.map((x) => x.category)).toEqual(["cpu-single-thread", "host-memory"]);
    const m = v[1];
    expect(m?.numbers.rssGrowthBytes).toBeGreaterThan(256 * 2 ** 20);
    expect(m?.sharePct).toBe(0);
    expect(m?.amdahlBound).toBe(1);
  });

  it("no recorded host trace is called GPU-anything", () => {
    for (const name of ["cpu-single", "cpu-parallel", "disk-io", "mem-growth", "waiting", "sleep"] as const) {
      expect(
        cats(recorded(name)).some((c) => c.startsWith("gpu") || c === "throttled"),
        name,
      ).toBe(false);
    }
  });
});

describe("classify: GPU categories on published nvidia-smi numbers", () => {
  it("100% util at 66 W / 300 W → gpu-launch-bound (zai-org/GLM-130B#32, Tesla V100-SXM2 GPU 1)", () => {
    const v = classify(withGpu("sleep", snapshot(100, 66, 300, 20392, 32510)));
    expect(v.map((x) => x.category)).toContain("gpu-launch-bound");
    expect(v.map((x) => x.category)).not.toContain("gpu-compute");
    expect(v.map((x) => x.category)).not.toContain("waiting"); // GPU busy: not "waiting"
    const lb = v.find((x) => x.category === "gpu-launch-bound");
    expect(lb?.numbers.powerFrac).toBe(0.22);
    expect(lb?.confidence).toBeLessThanOrEqual(0.5); // one sample only
  });

  it("100% util at 101 W / 100 W → gpu-compute (xstead/ethereum-miner-monitor#5, GTX 1070 GPU 0)", () => {
    const v = cats(withGpu("sleep", snapshot(100, 101, 100, 2518, 8119)));
    expect(v).toContain("gpu-compute");
    expect(v).not.toContain("gpu-launch-bound");
    expect(v).not.toContain("gpu-memory");
  });

  it("100% util at 353 W / 500 W → gpu-compute, just past 0.7 (CHTC/templates-GPUs#24, A100 GPU 0)", () => {
    expect(cats(withGpu("sleep", snapshot(100, 353, 500, 7488, 81920)))).toContain("gpu-compute");
  });

  it("96% util at 278 W / 400 W → neither launch-bound nor compute (InternLM/InternLM#248, A100 GPU 1)", () => {
    // powerFrac 0.695 lies in the documented gap between 0.5 and 0.7; memory 0.856 < 0.9.
    const v = cats(withGpu("sleep", snapshot(96, 278, 400, 70148, 81920)));
    expect(v.filter((c) => c.startsWith("gpu"))).toEqual([]);
  });

  it("3% util with a busy host → gpu-starved (YanjieZe/3D-Diffusion-Policy#125, RTX 4090 GPU 0)", () => {
    const v = cats(withGpu("cpu-single", snapshot(3, 162, 450, 19809, 24564)));
    expect(v).toContain("gpu-starved");
    expect(v).toContain("cpu-single-thread");
  });

  it("3% util with an idle host → not gpu-starved (the host is not what the GPU waits for)", () => {
    expect(cats(withGpu("sleep", snapshot(3, 162, 450, 19809, 24564)))).not.toContain("gpu-starved");
  });

  it("0% util on a GPU machine running CPU-only work → not gpu-starved (wilicc/gpu-burn#114, H100 GPU 0)", () => {
    const v = cats(withGpu("cpu-single", snapshot(0, 145, 700, 72790, 81559)));
    expect(v).toEqual(["cpu-single-thread"]);
  });

  it("7865 MiB / 7951 MiB used, power not given → gpu-memory (edvardHua/PoseEstimationForMobile#90)", () => {
    const v = classify(withGpu("sleep", snapshot(20, null, null, 7865, 7951)));
    const m = v.find((x) => x.category === "gpu-memory");
    expect(m?.numbers.memUsedFrac).toBe(0.989);
    expect(m?.numbers.powerFrac).toBeUndefined();
    expect(v.map((x) => x.category)).not.toContain("gpu-launch-bound");
  });
});

describe("classify: throttled (flags constructed, not recorded: no published trace with HW slowdown at hand)", () => {
  it("fires on a hardware/thermal slowdown flag and sorts first even at share 0", () => {
    const v = classify(withGpu("cpu-single", snapshot(100, 101, 100, 2518, 8119, ["hw_thermal_slowdown"])));
    expect(v[0]?.category).toBe("throttled");
    expect(v[0]?.sharePct).toBe(0);
    expect(v[0]?.amdahlBound).toBe(1);
    expect(v[0]?.remedies.join(" ")).toMatch(/re-run/);
  });

  it("does not fire on sw_power_cap alone (normal under load on datacenter GPUs)", () => {
    expect(cats(withGpu("sleep", snapshot(100, 101, 100, 2518, 8119, ["sw_power_cap"])))).not.toContain(
      "throttled",
    );
  });
});

describe("Amdahl bound and ordering", () => {
  it("is 1 / (1 − share), capped at AMDAHL_CAP", () => {
    expect(amdahlBound(0)).toBe(1);
    expect(amdahlBound(0.5)).toBe(2);
    expect(amdahlBound(0.75)).toBe(4);
    expect(amdahlBound(0.9)).toBeCloseTo(10, 10);
    expect(amdahlBound(0.995)).toBe(AMDAHL_CAP);
    expect(amdahlBound(1)).toBe(AMDAHL_CAP);
    expect(() => amdahlBound(1.2)).toThrow(RangeError);
    expect(() => amdahlBound(Number.NaN)).toThrow(RangeError);
  });

  it("sorts by share descending, then confidence", () => {
    const v = classify(withGpu("cpu-single", snapshot(3, 162, 450, 7865, 7951)));
    expect(v.map((x) => x.category)).toEqual(["cpu-single-thread", "gpu-starved", "gpu-memory"]);
    for (let i = 1; i < v.length; i++) {
      const [a, b] = [v[i - 1], v[i]];
      expect((a?.sharePct ?? 0) > (b?.sharePct ?? 0) || (a?.confidence ?? 0) >= (b?.confidence ?? 0)).toBe(
        true,
      );
    }
  });

  it("returns [] when no rule fires (1.4 cores busy: between single-thread and parallel)", () => {
    const s = recorded("cpu-single");
    expect(classify({ ...s, cpuMs: s.wallMs * 1.4 })).toEqual([]);
  });

  it("rejects a zero wall time", () => {
    expect(() => classify({ ...recorded("sleep"), wallMs: 0 })).toThrow(RangeError);
  });
});

describe("remedies", () => {
  it("name the top hot spot by self time for CPU work", () => {
    const input = traceInput(
      "cpu-single",
      [],
      [
        {
          file: "src/stats.py",
          line: 12,
          function: "count_words",
          selfPct: 71.25,
          cumulativePct: 88,
          calls: 1,
        },
        { file: "src/io.py", line: 3, function: "load", selfPct: 5, cumulativePct: 95, calls: 1 },
      ],
    );
    const r = classify(summarizeSignals(input))[0]?.remedies ?? [];
    expect(r[0]).toBe("rewrite count_words in src/stats.py:12 (71.3% self, 88% cumulative)");
    expect(r).toContain("better algorithm");
  });

  it("name the top hot spot by cumulative time for waiting", () => {
    const input = traceInput(
      "waiting",
      [],
      [
        { file: "app.py", line: 40, function: "poll", selfPct: 0.5, cumulativePct: 97, calls: 30 },
        { file: "app.py", line: 9, function: "parse", selfPct: 2, cumulativePct: 2, calls: 30 },
      ],
    );
    const r = classify(summarizeSignals(input))[0]?.remedies ?? [];
    expect(r[0]).toContain("poll in app.py:40 (97% cumulative");
    expect(r).toContain("remove sleeps/polls/serial round trips");
  });
});
