/**
 * compareMeasurement's wall-time / CPU-time cross-check (issue 11, item 3), on constructed
 * measurements: a "faster" wall time whose CPU time did not fall with it is flagged, never rejected.
 */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { compareMeasurement, crossCheckWallTime } from "../src/core/loop/compare.ts";
import type { Measurement } from "../src/core/measure/protocol.ts";
import type { RunRecord } from "../src/core/measure/run-once.ts";
import { createRng } from "../src/core/measure/stats.ts";

/** n seeded values center · (1 + cv · N(0, 1)) (Box–Muller on `createRng`). */
function noisy(seed: number, n: number, center: number, cv: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    return center * (1 + cv * z);
  });
}

function run(
  side: "A" | "B",
  order: number,
  wallMs: number,
  cpuMs: number,
  metric: number | null = null,
): RunRecord {
  return {
    side,
    order,
    warmup: false,
    startMs: order * 200,
    wallMs,
    userMs: cpuMs,
    sysMs: 0,
    cpuMs,
    maxRssBytes: 50 * 2 ** 20 + order, // distinct values: no ties in peak RSS
    majorFaults: 0,
    exitCode: 0,
    signal: null,
    timedOut: false,
    metric,
    stdoutSha256: "",
    stdoutBytes: 0,
    accounting: "rusage (wait4)",
    procSamples: [],
    contention: null, // no sampler: no contention reading, so no contention check
  };
}

/** 20 runs a side, AB BA …: wall and CPU times of each side drawn around the given medians (CV 2%). */
function measurement(
  wall: [number, number],
  cpu: [number, number],
  metric: [number, number] | null = null,
): Measurement {
  const n = 20;
  const values = (seed: number, center: number) => noisy(seed, n, center, 0.02);
  const aw = values(1, wall[0]);
  const bw = values(2, wall[1]);
  const ac = values(3, cpu[0]);
  const bc = values(4, cpu[1]);
  const am = metric ? values(5, metric[0]) : [];
  const bm = metric ? values(6, metric[1]) : [];
  const runs: RunRecord[] = [];
  for (let i = 0; i < n; i++) {
    const pair = [
      run("A", 0, aw[i] as number, ac[i] as number, metric ? (am[i] as number) : null),
      run("B", 0, bw[i] as number, bc[i] as number, metric ? (bm[i] as number) : null),
    ];
    if (i % 2 === 1) pair.reverse();
    for (const r of pair) runs.push({ ...r, order: runs.length, maxRssBytes: r.maxRssBytes + runs.length });
  }
  return {
    runs,
    gpu: { available: false, reason: "none", fields: [], samples: [] },
    stdout: {},
    durationMs: 0,
  };
}

const config = parseConfig({ test: "true", benchmark: { command: "true" } });

describe("wall time cross-checked against CPU time", () => {
  it("faster wall time with unchanged CPU time: still 'faster', flagged in crossCheck and the reason", () => {
    const [wall, cpu] = compareMeasurement(measurement([1000, 700], [400, 400]), config);
    expect(wall?.metric).toBe("wall time");
    expect(wall?.verdict).toBe("faster");
    expect(cpu?.verdict).toBe("no significant change");
    expect(wall?.crossCheck).toMatch(
      /^CPU time did not fall with wall time \([+−]\d\.\d%, no significant change\)/,
    );
    expect(wall?.reason).toContain(`; cross-check: ${wall?.crossCheck}`);
    expect(cpu?.crossCheck).toBeUndefined();
  });

  it("faster wall time with CPU time that rose (parallelism): flagged as moving the other way", () => {
    const [wall, cpu] = compareMeasurement(measurement([1000, 600], [900, 1300]), config);
    expect(wall?.verdict).toBe("faster");
    expect(cpu?.verdict).toBe("slower");
    expect(wall?.crossCheck).toMatch(/^CPU time rose \(\+4\d\.\d%, slower\) while wall time fell 4\d\.\d%/);
  });

  it("faster wall time with CPU time that fell too: no flag", () => {
    const [wall, cpu] = compareMeasurement(measurement([1000, 700], [900, 620]), config);
    expect(wall?.verdict).toBe("faster");
    expect(cpu?.verdict).toBe("faster");
    expect(wall?.crossCheck).toBeUndefined();
    expect(wall?.reason).not.toContain("cross-check");
  });

  it("only a 'faster' wall time is cross-checked, and only when wall time is the primary metric", () => {
    const [same] = compareMeasurement(measurement([1000, 1000], [400, 300]), config);
    expect(same?.verdict).not.toBe("faster");
    expect(same?.crossCheck).toBeUndefined();
    const withMetric = parseConfig({
      test: "true",
      benchmark: {
        command: "true",
        metric: { name: "latency", pattern: "latency (\\S+)", unit: "ms", direction: "lower" },
      },
    });
    const comparisons = compareMeasurement(measurement([1000, 700], [400, 400], [50, 30]), withMetric);
    expect(comparisons.map((c) => c.metric)).toEqual(["latency", "wall time", "CPU time", "peak RSS"]);
    expect(comparisons.every((c) => c.crossCheck === undefined)).toBe(true);
  });

  it("crossCheckWallTime leaves an empty list and a list without CPU time alone", () => {
    expect(crossCheckWallTime([])).toEqual([]);
    const [wall] = compareMeasurement(measurement([1000, 700], [400, 400]), config);
    if (!wall) throw new Error("no comparison");
    const alone = { ...wall, crossCheck: undefined, reason: "x" };
    delete alone.crossCheck;
    expect(crossCheckWallTime([alone])[0]).toEqual(alone);
  });
});
