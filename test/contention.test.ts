import { describe, expect, it } from "vitest";
import {
  CONTENTION_NOTABLE_SHARE,
  classify,
  HEAVY_CONTENTION_SHARE,
  SINGLE_THREAD_MAX_CPU_PER_WALL,
  SINGLE_THREAD_MIN_CPU_PER_WALL,
  WAITING_MAX_CPU_PER_WALL,
} from "../src/core/analyze/classify.ts";
import {
  type ContendedRun,
  contentionMismatch,
  contentionReport,
  heavyContention,
  sideContention,
} from "../src/core/analyze/contention.ts";
import { summarizeSignals } from "../src/core/analyze/signals.ts";
import { parseConfigText } from "../src/core/config/load.ts";
import { compareMeasurement } from "../src/core/loop/compare.ts";
import { contentionShare, runContention } from "../src/core/measure/contention.ts";
import type { Measurement } from "../src/core/measure/protocol.ts";
import type { RunRecord } from "../src/core/measure/run-once.ts";
import { compareSamples } from "../src/core/measure/stats.ts";
import { learningCategory } from "../src/core/memory/learn.ts";
import { renderPerfSummary } from "../src/core/report/perf-summary.ts";
import { renderReport } from "../src/core/report/report.ts";
import type { ProcSample, SignalSummary } from "../src/core/types.ts";
import { type ContentionFixture, contentionInput, readContention } from "./fixtures/proc/load-contention.ts";
import { improved, variant } from "./report-helpers.ts";

const recorded = (name: ContentionFixture): SignalSummary => summarizeSignals(contentionInput(name));
const runsOf = (name: ContentionFixture, side: "A" | "B" = "A"): RunRecord[] =>
  readContention(name).runs.map((r) => ({ ...r, side }));

describe("classify: run-queue delay is contention, never waiting (recorded `perfloop profile` runs)", () => {
  it("the CPU-bound example under one busy process per core → cpu-single-thread with its contention share", () => {
    const s = recorded("textstats-under-load");
    // What the recording is: CPU / wall below the waiting threshold, half the wall in a run queue.
    expect(s.cpuMs / s.wallMs).toBeLessThan(WAITING_MAX_CPU_PER_WALL);
    expect(s.contention?.share).toBeGreaterThan(0.4);
    const v = classify(s);
    expect(v.map((x) => x.category)).toEqual(["cpu-single-thread"]);
    const top = v[0];
    expect(top?.numbers.cpuPerWall).toBeLessThan(WAITING_MAX_CPU_PER_WALL);
    expect(top?.numbers.cpuPerUncontendedWall).toBeGreaterThanOrEqual(SINGLE_THREAD_MIN_CPU_PER_WALL);
    expect(top?.numbers.cpuPerUncontendedWall).toBeLessThanOrEqual(SINGLE_THREAD_MAX_CPU_PER_WALL);
    expect(top?.numbers.contentionPct).toBeGreaterThan(40);
    expect(top?.numbers.runQueueMs).toBeGreaterThan(0);
    expect(top?.numbers.loadavg1).toBeGreaterThan(0);
    expect(top?.rule).toMatch(
      /Contention: [\d.]+% of the wall time the tree was runnable but waiting for a CPU/,
    );
    expect(top?.rule).toContain("schedstat field 2");
    expect(top?.rule).toContain("not as waiting");
  });

  it("the same runs without their run-queue reading would be called waiting (issue 11's misreading)", () => {
    const s = recorded("textstats-under-load");
    expect(classify({ ...s, contention: null }).map((x) => x.category)).toEqual(["waiting"]);
  });

  it("the example with no added load → the same verdict, without contention", () => {
    const v = classify(recorded("textstats-idle"));
    expect(v.map((x) => x.category)).toEqual(["cpu-single-thread"]);
    expect(v[0]?.numbers.contentionPct).toBeLessThan(100 * CONTENTION_NOTABLE_SHARE);
    expect(v[0]?.rule).not.toContain("Contention:");
  });

  it("a sleep-bound program is still waiting, idle and under load: it sleeps, it does not queue", () => {
    for (const name of ["waiting-idle", "waiting-under-load"] as const) {
      const s = recorded(name);
      expect(s.contention?.share, name).toBeLessThan(CONTENTION_NOTABLE_SHARE);
      const v = classify(s);
      expect(
        v.map((x) => x.category),
        name,
      ).toEqual(["waiting"]);
      expect(v[0]?.sharePct, name).toBeGreaterThan(95);
    }
  });

  it("recordings without schedstat readings (older traces) classify as before: no contention numbers", () => {
    const s = recorded("textstats-idle");
    const v = classify({ ...s, contention: null });
    expect(v[0]?.numbers.contentionPct).toBeUndefined();
    expect(v[0]?.numbers.cpuPerUncontendedWall).toBeUndefined();
    expect(v[0]?.rule).toMatch(/^CPU time \/ wall time between/);
  });
});

describe("memory does not learn a verdict made under heavy contention", () => {
  it("files the contended baseline's outcomes as uncategorized, with a note; the idle one under its verdict", () => {
    const loaded = learningCategory(classify(recorded("textstats-under-load")));
    expect(loaded.category).toBe("uncategorized");
    expect(loaded.note).toMatch(/heavy CPU contention/);
    expect(loaded.note).toContain(`limit ${Math.round(100 * HEAVY_CONTENTION_SHARE)}%`);
    expect(loaded.note).toContain("cpu-single-thread");
    const idle = learningCategory(classify(recorded("textstats-idle")));
    expect(idle).toEqual({ category: "cpu-single-thread", note: null });
    expect(heavyContention(classify(recorded("waiting-under-load")))).toBeNull();
    expect(learningCategory([])).toEqual({ category: "uncategorized", note: null });
  });
});

// max_cv as in the example's own config (examples/textstats/.github/perfloop.yml): the spread alone
// does not make these comparisons inconclusive, so what does is the contention.
const CONFIG = parseConfigText(
  "test: 'true'\nbenchmark:\n  command: python3 -m textstats corpus.txt\nstatistics:\n  max_cv: 40%\n",
);

function measurementOf(a: RunRecord[], b: RunRecord[]): Measurement {
  return {
    runs: [...a, ...b],
    gpu: { available: false, reason: "no GPU", fields: [], samples: [] },
    stdout: {},
    durationMs: 0,
  };
}

describe("an A/B whose sides saw clearly different contention is compromised", () => {
  it("a claim that contention worked against stands: B twice as fast although B waited more for a CPU", () => {
    // Recorded idle runs as A; B = the same runs twice as fast, with far more run-queue delay (a fast
    // side carries a larger share of a busy machine's fixed start-up waits).
    const a = runsOf("textstats-idle", "A");
    const b = runsOf("textstats-idle", "B").map((r) => ({
      ...r,
      wallMs: r.wallMs / 2,
      cpuMs: r.cpuMs / 2,
      userMs: r.userMs / 2,
      contention: r.contention && {
        ...r.contention,
        runQueueMs: (0.3 * r.wallMs) / 2,
        runQueueShare: 0.3,
        contentionShare: 0.3,
      },
    }));
    const [wall] = compareMeasurement(measurementOf(a, b), CONFIG);
    expect(wall?.verdict, wall?.reason).toBe("faster");
    expect(wall?.reason).toMatch(/contention worked against this claim, which stands/);
    // The other way round — A delayed, B not — the same gain could be contention's doing.
    const [reverse] = compareMeasurement(
      measurementOf(
        a.map((r) => ({
          ...r,
          contention: r.contention && { ...r.contention, runQueueShare: 0.6, contentionShare: 0.6 },
        })),
        b.map((r) => ({
          ...r,
          contention: r.contention && { ...r.contention, runQueueShare: 0.01, contentionShare: 0.01 },
        })),
      ),
      CONFIG,
    );
    expect(reverse?.verdict, reverse?.reason).toBe("inconclusive");
  });

  it("A measured idle, B under load (the same code): inconclusive, never 'slower'", () => {
    const a = runsOf("textstats-idle", "A");
    const b = runsOf("textstats-under-load", "B");
    // The wall times alone would make a claim.
    const naive = compareSamples(
      a.map((r) => r.wallMs),
      b.map((r) => r.wallMs),
      { metric: "wall time", unit: "ms", direction: "lower", maxCvPct: 40 },
    );
    expect(naive.verdict).toBe("slower");
    const comparisons = compareMeasurement(measurementOf(a, b), CONFIG);
    expect(comparisons.map((c) => c.metric)).toEqual(["wall time", "CPU time", "peak RSS"]);
    // Contention moves times (wall and CPU: caches, SMT, clocks), not the peak RSS.
    expect(comparisons[2]?.reason).not.toMatch(/compromised/);
    for (const c of comparisons.slice(0, 2)) {
      expect(c.verdict, c.metric).toBe("inconclusive");
      expect(c.reason, c.metric).toMatch(
        /^inconclusive: measurement compromised: A and B saw clearly different CPU/,
      );
    }
    expect(comparisons[0]?.reason).toMatch(
      /3\.3% of A's wall time and 50\.9% of B's .*limits 5% and p < 0\.01/,
    );
  });

  it("does not fire when both sides come from one recording (idle, or under steady load)", () => {
    for (const name of ["textstats-idle", "textstats-under-load", "waiting-under-load"] as const) {
      const runs = readContention(name).runs;
      const even = runs.filter((_, i) => i % 2 === 0);
      const odd = runs.filter((_, i) => i % 2 === 1);
      expect(contentionMismatch(even, odd), name).toBeNull();
    }
  });

  it("is not judged without readings on both sides", () => {
    const old = runsOf("textstats-idle").map((r) => ({
      ...r,
      contention: null,
      procSamples: r.procSamples.map((s) => ({ ...s, runQueueMs: null })),
    }));
    expect(contentionMismatch(old, runsOf("textstats-under-load"))).toBeNull();
    expect(sideContention(old)).toBeNull();
  });
});

/** A hand-made run for arithmetic checks (not a recording): `cores` cores, one sample. */
function run(wallMs: number, cpuMs: number, runQueueMs: number, stealMs = 0, cores = 2): ContendedRun {
  const sample: ProcSample = {
    tMs: wallMs,
    procs: 1,
    cpuMs,
    rssBytes: 0,
    majorFaults: 0,
    readBytes: 0,
    writeBytes: 0,
    coreBusyPct: new Array<number>(cores).fill(100),
    runQueueMs,
    procsRunning: 3,
    stealMs,
    loadavg1: 2,
  };
  return { wallMs, cpuMs, procSamples: [sample] };
}

describe("contention arithmetic", () => {
  it("one thread: the share is delay / wall; several: delay / (CPU + delay)", () => {
    expect(contentionShare(1000, 500, 450)).toBeCloseTo(0.45, 12);
    // 4 busy threads on 2 cores for 1 s: 2 s on CPU, 2 s queued → half of their demand waited.
    expect(contentionShare(1000, 2000, 2000)).toBeCloseTo(0.5, 12);
    expect(contentionShare(0, 0, 0)).toBe(0);
    const c = runContention(run(1000, 500, 450).procSamples, 1000, 500);
    expect(c).toEqual({
      runQueueMs: 450,
      runQueueShare: 0.45,
      contentionShare: 0.45,
      stealMs: 0,
      procsRunningMean: 3,
      loadavg1: 2,
    });
  });

  // Five runs per side, each a little different (no ties): the least n at which p can reach 0.01.
  const five = (f: (i: number) => ContendedRun): ContendedRun[] => [0, 1, 2, 3, 4].map(f);

  it("a side whose own threads outnumber the cores is not called compromised for its queueing", () => {
    const single = five((i) => run(1000, 990, 5 + i));
    const threads = five((i) => run(1000, 2000, 2000 + i)); // demand 4 cores on 2
    expect(sideContention(threads)?.demandCores).toBe(4);
    expect(contentionMismatch(single, threads)).toBeNull();
    const contended = five((i) => run(1000, 500, 450 + i)); // demand 0.95: others' load
    expect(contentionMismatch(single, contended)).toMatch(/0\.7% of A's wall time and 45\.2% of B's/);
  });

  it("a difference must be systematic: not with too few runs, nor when the sides overlap", () => {
    const single = five((i) => run(1000, 990, 5 + i));
    const contended = five((i) => run(1000, 500, 450 + i));
    // Two runs per side cannot reach p < 0.01, however far apart.
    expect(contentionMismatch(single.slice(0, 2), contended.slice(0, 2))).toBeNull();
    // Medians 0.7% and 44% apart, but the runs of the two sides overlap (chance, not systematic).
    const mixedA = [5, 6, 7, 450, 460].map((q) => run(1000, 500, q));
    const mixedB = [8, 9, 440, 445, 455].map((q) => run(1000, 500, q));
    expect([sideContention(mixedA)?.sharePct, sideContention(mixedB)?.sharePct]).toEqual([0.7, 44]);
    expect(contentionMismatch(mixedA, mixedB)).toBeNull();
  });

  it("different steal time on the two sides compromises the comparison too", () => {
    const quiet = five((i) => run(1000, 990, 5, i));
    const stolen = five((i) => run(1000, 990, 5, 400 + i)); // 400 ms of 2 × 1000 ms: 20%
    expect(sideContention(stolen)?.stealPct).toBe(20.1);
    expect(contentionMismatch(quiet, stolen)).toMatch(/clearly different steal time: 0.1% and 20.1%/);
  });
});

describe("the report shows how contended baseline, A and B were", () => {
  const report = contentionReport(runsOf("textstats-under-load"), {
    a: runsOf("textstats-idle"),
    b: runsOf("textstats-under-load"),
  });
  const withContention = variant((r) => {
    r.contention = report;
  });

  it("results.json's optional field validates and the report and perf_summary.md show each side", () => {
    expect(withContention.contention?.baseline?.sharePct).toBeGreaterThan(40);
    const base = withContention.contention?.baseline?.sharePct.toFixed(1);
    const a = withContention.contention?.final?.a?.sharePct.toFixed(1);
    const md = renderReport(withContention);
    expect(md).toContain("**Contention** (share of wall time the measured process tree was runnable");
    expect(md).toContain(`baseline ${base}% (run-queue delay`);
    expect(md).toContain(`final A (baseline) ${a}%`);
    expect(md).toContain(`final B (best) ${base}%`);
    const summary = renderPerfSummary(withContention);
    expect(summary).toMatch(new RegExp(`## Baseline[\\s\\S]*Contention \\(.*\\): ${base}%`));
    expect(summary).toMatch(new RegExp(`## Final[\\s\\S]*Contention \\(.*\\): A ${a}%.*; B ${base}%`));
  });

  it("results without the field (older bundles) render without a contention line", () => {
    expect(improved.contention).toBeUndefined();
    expect(renderReport(improved)).not.toContain("**Contention**");
    expect(renderPerfSummary(improved)).not.toContain("Contention (share");
  });
});
