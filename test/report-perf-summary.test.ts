import { describe, expect, it } from "vitest";
import { renderPerfSummary } from "../src/core/report/perf-summary.ts";
import { baselineFailed, fencesBalanced, improved, tableAfter } from "./report-helpers.ts";

describe("renderPerfSummary", () => {
  const md = renderPerfSummary(improved);

  it("states the protocol", () => {
    for (const words of ["warm-up", "ABBA", "Mann–Whitney U", "bootstrap", "median(B) / median(A)"]) {
      expect(md).toContain(words);
    }
  });

  it("gives baseline stats, every round and the final comparisons", () => {
    const base = tableAfter(md, "## Baseline");
    expect(base[0]).toEqual(["measure", "n", "median", "IQR (q1 … q3)", "CV", "min … max"]);
    expect(base[1]?.slice(0, 3)).toEqual(["wall time", "10", "1.85 s"]);
    expect(base[1]?.[4]).toBe("1.1%");
    expect(base.map((r) => r[0])).toEqual(["measure", "wall time", "CPU time", "peak RSS"]);
    const rounds = tableAfter(md, "## Rounds");
    expect(rounds).toHaveLength(1 + improved.rounds.length);
    expect(rounds[2]).toEqual([
      "2",
      "tune",
      "rejected",
      "performance",
      "wall time",
      "1.33 s",
      "1.29 s",
      "−2.8%",
      "−4.5% … −0.3%",
      "0.0039",
      "10+10",
      "➖ no significant change",
    ]);
    expect(tableAfter(md, "## Final")[1]?.slice(0, 4)).toEqual(["wall time", "1.85 s", "1.00 s", "−45.7%"]);
    expect(md).toContain(`- wall time: ${improved.final?.primary.reason}`);
  });

  it("says when there is no baseline", () => {
    const out = renderPerfSummary(baselineFailed);
    expect(out).toContain("No baseline measurement: tests failed on the unmodified code");
    expect(out).toContain("No optimization rounds ran.");
    expect(fencesBalanced(out)).toBe(true);
  });
});
