import { describe, expect, it } from "vitest";
import { classify } from "../src/core/analyze/classify.ts";
import { MAX_HOT_SPOT_ROWS, renderFeedbackReport } from "../src/core/analyze/feedback-report.ts";
import { summarizeSignals } from "../src/core/analyze/signals.ts";
import type { GpuTrace, HotSpot } from "../src/core/types.ts";
import { traceInput } from "./fixtures/traces/load-trace.ts";

const hot: HotSpot[] = [
  {
    file: "src/words.py",
    line: 7,
    function: "count_words",
    selfPct: 64.2,
    cumulativePct: 80.5,
    calls: 12000,
  },
  { file: "src/node|pipe.js", line: 3, function: "main", selfPct: 1.5, cumulativePct: 99.1, calls: null },
];

describe("renderFeedbackReport", () => {
  it("shows the verdict with rule, numbers, confidence, share, Amdahl bound and remedies", () => {
    const s = summarizeSignals(traceInput("cpu-single", [], hot));
    const verdicts = classify(s);
    const md = renderFeedbackReport(s, verdicts);
    const v = verdicts[0];
    if (!v) throw new Error("expected a verdict");
    expect(md).toContain("# Bottleneck verdict");
    expect(md).toContain("`cpu-single-thread`");
    expect(md).toContain(v.rule);
    expect(md).toContain(`${v.sharePct.toFixed(1)}%`);
    expect(md).toContain(v.confidence.toFixed(2));
    expect(md).toContain(`${v.amdahlBound.toFixed(2)}×`);
    expect(md).toContain(`| \`cpuPerWall\``);
    expect(md).toContain(String(v.numbers.cpuPerWall));
    expect(md).toContain("1. rewrite count_words in src/words.py:7 (64.2% self, 80.5% cumulative)");
  });

  it("has a signals table with wall, CPU, cpu/wall, per-core busy, RSS and I/O", () => {
    const s = summarizeSignals(traceInput("disk-io"));
    const md = renderFeedbackReport(s, classify(s));
    expect(md).toContain(`${s.wallMs.toFixed(1)} ms`);
    expect(md).toContain(`${s.cpuMs.toFixed(1)} ms`);
    expect(md).toContain((s.cpuMs / s.wallMs).toFixed(2));
    expect(md).toContain(`cpu0 ${(s.coreBusyPct[0] ?? 0).toFixed(1)}%`);
    expect(md).toContain(`${(s.peakRssBytes / 2 ** 20).toFixed(1)} MiB`);
    expect(md).toContain(`${(s.writeBytes / 2 ** 20).toFixed(1)} MiB`);
    expect(md).toContain(`${((s.readBytes + s.writeBytes) / (s.wallMs / 1000) / 1e6).toFixed(1)} MB/s`);
    expect(md).toContain("none seen");
    expect(md).toContain("`disk-io`");
  });

  it("renders GPU signals and the cap of the Amdahl bound", () => {
    const gpu: GpuTrace = {
      available: true,
      fields: [],
      samples: [
        {
          tMs: 0,
          index: 0,
          utilGpuPct: 100,
          utilMemPct: null,
          memUsedMiB: 20392,
          memTotalMiB: 32510,
          powerW: 66,
          powerLimitW: 300,
          tempC: null,
          smClockMHz: null,
          smClockMaxMHz: null,
          slowdown: ["sw_power_cap"],
        },
      ],
    };
    const s = summarizeSignals(traceInput("sleep", [gpu]));
    const md = renderFeedbackReport(s, classify(s));
    expect(md).toContain("100.0%");
    expect(md).toContain("0.220");
    expect(md).toContain("sw_power_cap");
    expect(md).toContain("`gpu-launch-bound`");
    const capped = renderFeedbackReport(
      summarizeSignals(traceInput("sleep")),
      classify(summarizeSignals(traceInput("sleep"))),
    );
    expect(capped).toContain("100× (the cap: share ≥ 99%)");
  });

  it("has the hot-spot table, escaping pipes, and caps its rows", () => {
    const s = summarizeSignals(traceInput("cpu-single", [], hot));
    const md = renderFeedbackReport(s, []);
    expect(md).toContain("No clear bottleneck");
    expect(md).toMatch(/\| src\/words\.py:7 +\| count_words +\| +64\.2 \| +80\.5 \| +12000 \|/);
    expect(md).toContain("src/node\\|pipe.js:3");
    expect(md).toMatch(/\| +— \|/);
    const many = Array.from(
      { length: MAX_HOT_SPOT_ROWS + 3 },
      (_, i) => ({ ...hot[0], line: i + 1 }) as HotSpot,
    );
    expect(renderFeedbackReport({ ...s, hotSpots: many }, [])).toContain("(3 more not shown.)");
  });

  it("keeps Python's <module> literal instead of letting it open raw HTML", () => {
    const spot: HotSpot = {
      file: "leak.py",
      line: 1,
      function: "<module>",
      selfPct: 90,
      cumulativePct: 100,
      calls: 1,
    };
    const s = summarizeSignals(traceInput("cpu-single", [], [spot]));
    const md = renderFeedbackReport(s, classify(s));
    expect(md).not.toContain("<module>");
    expect(md).toContain("1. rewrite &lt;module> in leak.py:1");
    expect(md).toMatch(/\| leak\.py:1 +\| &lt;module> \|/);
  });

  it("says so when profiling gave no hot spots", () => {
    const s = summarizeSignals(traceInput("sleep"));
    expect(renderFeedbackReport(s, classify(s))).toContain("No hot spots");
  });
});
