import { describe, expect, it } from "vitest";
import { SignalInputError, summarizeGpu, summarizeSignals } from "../src/core/analyze/signals.ts";
import type { GpuSample, GpuTrace, ProcSample } from "../src/core/types.ts";
import { readTrace, traceInput } from "./fixtures/traces/load-trace.ts";

const MiB = 2 ** 20;

/** A hand-made sample for arithmetic checks (not a recording). */
function ps(tMs: number, rssMiB: number, extra: Partial<ProcSample> = {}): ProcSample {
  return {
    tMs,
    procs: 1,
    cpuMs: tMs,
    rssBytes: rssMiB * MiB,
    majorFaults: 0,
    readBytes: 0,
    writeBytes: 0,
    coreBusyPct: [100, 0],
    runQueueMs: null,
    procsRunning: null,
    stealMs: null,
    loadavg1: null,
    ...extra,
  };
}

function gs(extra: Partial<GpuSample>): GpuSample {
  return {
    tMs: 0,
    index: 0,
    utilGpuPct: null,
    utilMemPct: null,
    memUsedMiB: null,
    memTotalMiB: null,
    powerW: null,
    powerLimitW: null,
    tempC: null,
    smClockMHz: null,
    smClockMaxMHz: null,
    slowdown: [],
    ...extra,
  };
}

const trace = (samples: GpuSample[]): GpuTrace => ({ available: true, fields: [], samples });

describe("summarizeSignals arithmetic", () => {
  it("takes medians of wall and CPU over runs and the largest RSS seen", () => {
    const runs = [
      { wallMs: 100, cpuMs: 90, maxRssBytes: 10 * MiB, procSamples: [] },
      { wallMs: 300, cpuMs: 10, maxRssBytes: 20 * MiB, procSamples: [ps(100, 50)] },
      { wallMs: 200, cpuMs: 50, maxRssBytes: 30 * MiB, procSamples: [] },
    ];
    const s = summarizeSignals({ runs, gpu: [], cores: 2, memTotalBytes: 1000 * MiB, hotSpots: [] });
    expect(s.wallMs).toBe(200);
    expect(s.cpuMs).toBe(50);
    expect(s.peakRssBytes).toBe(50 * MiB);
    expect(s.gpu).toBeNull();
  });

  it("measures RSS growth from the first quarter of a run's samples to its end", () => {
    // 8 samples: index ⌊8/4⌋ = 2 holds 30 MiB, the last 100 MiB → 70 MiB.
    const samples = [10, 20, 30, 40, 50, 60, 80, 100].map((r, i) => ps(i * 100, r));
    const s = summarizeSignals({
      runs: [{ wallMs: 800, cpuMs: 800, maxRssBytes: 0, procSamples: samples }],
      gpu: [],
      cores: 2,
      memTotalBytes: 1,
      hotSpots: [],
    });
    expect(s.rssGrowthBytes).toBe(70 * MiB);
  });

  it("keeps counts of children that exited before the last sample (largest cumulative value)", () => {
    const samples = [
      ps(100, 1, { majorFaults: 5, readBytes: 100, writeBytes: 7 }),
      ps(200, 1, { majorFaults: 9, readBytes: 400, writeBytes: 9, procs: 3 }),
      ps(300, 1, { majorFaults: 2, readBytes: 10, writeBytes: 1 }),
    ];
    const s = summarizeSignals({
      runs: [{ wallMs: 300, cpuMs: 300, maxRssBytes: 0, procSamples: samples }],
      gpu: [],
      cores: 2,
      memTotalBytes: 1,
      hotSpots: [],
    });
    expect([s.majorFaults, s.readBytes, s.writeBytes]).toEqual([9, 400, 9]);
  });

  it("averages per-core busy over all samples of all runs", () => {
    const a = [ps(100, 1, { coreBusyPct: [100, 0] }), ps(200, 1, { coreBusyPct: [50, 50] })];
    const b = [ps(100, 1, { coreBusyPct: [0, 30] })];
    const s = summarizeSignals({
      runs: [
        { wallMs: 1, cpuMs: 1, maxRssBytes: 0, procSamples: a },
        { wallMs: 1, cpuMs: 1, maxRssBytes: 0, procSamples: b },
      ],
      gpu: [],
      cores: 2,
      memTotalBytes: 1,
      hotSpots: [],
    });
    expect(s.coreBusyPct[0]).toBeCloseTo(50, 10);
    expect(s.coreBusyPct[1]).toBeCloseTo(80 / 3, 10);
  });

  it("rejects an empty or broken measurement", () => {
    const base = { gpu: [], cores: 1, memTotalBytes: 1, hotSpots: [] };
    expect(() => summarizeSignals({ runs: [], ...base })).toThrow(SignalInputError);
    expect(() =>
      summarizeSignals({
        runs: [{ wallMs: Number.NaN, cpuMs: 1, maxRssBytes: 0, procSamples: [] }],
        ...base,
      }),
    ).toThrow(/wallMs/);
  });
});

describe("summarizeGpu", () => {
  it("averages over reported values only, takes the memory peak and drops sync_boost", () => {
    const g = summarizeGpu([
      trace([
        gs({
          utilGpuPct: 90,
          powerW: 200,
          powerLimitW: 400,
          memUsedMiB: 10,
          memTotalMiB: 100,
          slowdown: ["sync_boost"],
        }),
        gs({ utilGpuPct: null, powerW: 300, powerLimitW: 400, memUsedMiB: 80, memTotalMiB: 100 }),
      ]),
      trace([
        gs({ utilGpuPct: 70, powerW: null, powerLimitW: 400, slowdown: ["sw_power_cap", "hw_slowdown"] }),
      ]),
    ]);
    expect(g).not.toBeNull();
    expect(g?.samples).toBe(3);
    expect(g?.utilGpuPct).toBe(80);
    expect(g?.powerFrac).toBeCloseTo(0.625, 10);
    expect(g?.memUsedFrac).toBe(0.8);
    expect(g?.slowdown).toEqual(["sw_power_cap", "hw_slowdown"]);
  });

  it("is null when no trace has samples, and null fields when nothing was reported", () => {
    expect(summarizeGpu([])).toBeNull();
    expect(summarizeGpu([{ available: false, reason: "no nvidia-smi", fields: [], samples: [] }])).toBeNull();
    const g = summarizeGpu([trace([gs({})])]);
    expect(g).toEqual({ samples: 1, utilGpuPct: null, memUsedFrac: null, powerFrac: null, slowdown: [] });
  });
});

describe("summarizeSignals on recorded traces", () => {
  it("cpu-single: one core's worth of CPU per wall", () => {
    const s = summarizeSignals(traceInput("cpu-single"));
    expect(s.cpuMs / s.wallMs).toBeGreaterThan(0.95);
    expect(s.cpuMs / s.wallMs).toBeLessThan(1.05);
    expect(s.coreBusyPct).toHaveLength(readTrace("cpu-single").machine.cores);
  });

  it("disk-io: the 1 GiB written with fsync and read back after dropping caches shows in /proc io", () => {
    const s = summarizeSignals(traceInput("disk-io"));
    expect(s.writeBytes).toBeGreaterThanOrEqual(1024 * MiB);
    expect(s.readBytes).toBeGreaterThanOrEqual(1024 * MiB);
  });

  it("mem-growth: RSS grows by most of its ~1.4 GiB peak", () => {
    const s = summarizeSignals(traceInput("mem-growth"));
    expect(s.peakRssBytes).toBeGreaterThan(1400 * MiB);
    expect(s.rssGrowthBytes).toBeGreaterThan(0.5 * s.peakRssBytes);
  });

  it("sleep: next to no CPU", () => {
    const s = summarizeSignals(traceInput("sleep"));
    expect(s.wallMs).toBeGreaterThan(2900);
    expect(s.cpuMs).toBeLessThan(50);
  });
});
