/**
 * The performance gate's rule (src/core/gate/verdict.ts, docs/gate.md) on comparisons: a regression
 * needs the whole CI past the threshold, an interval straddling it is inconclusive, noise claims
 * nothing, equal sides pass.
 */
import { describe, expect, it } from "vitest";
import { gateDecision, gateSkipReason } from "../src/core/gate/verdict.ts";
import { compareSamples } from "../src/core/measure/stats.ts";

const wall = { metric: "wall time", unit: "ms", direction: "lower" } as const;
const steady = (center: number, n = 10) =>
  Array.from({ length: n }, (_, i) => center * (1 + ((i % 5) - 2) / 500));

describe("the gate's rule", () => {
  it("a head 30% slower with a tight interval regresses past a 10% threshold", () => {
    const d = gateDecision(compareSamples(steady(100), steady(130), wall), 10);
    expect(d.verdict).toBe("regressed");
    expect(d.ciPct[0]).toBeGreaterThan(10);
    expect(d.reason).toMatch(/whole interval lies past the \+10% threshold/);
  });

  it("equal sides (A/A) pass: a slowdown of the threshold is ruled out", () => {
    const d = gateDecision(compareSamples(steady(100), steady(100), wall), 10);
    expect(d.verdict).toBe("passed");
    expect(d.ciPct[1]).toBeLessThan(10);
  });

  it("a faster head passes", () => {
    expect(gateDecision(compareSamples(steady(100), steady(70), wall), 10).verdict).toBe("passed");
  });

  it("a slowdown near the threshold whose interval straddles it is inconclusive, never a regression", () => {
    const a = [100, 92, 108, 97, 103, 95, 105, 99, 101, 100];
    const b = a.map((x, i) => x * 1.1 * (1 + (i % 2 ? 0.06 : -0.06)));
    const d = gateDecision(compareSamples(a, b, { ...wall, maxCvPct: 50 }), 10);
    expect(d.ciPct[0]).toBeLessThan(10);
    expect(d.ciPct[1]).toBeGreaterThan(10);
    expect(d.verdict).toBe("inconclusive");
    expect(d.reason).toMatch(/neither a pass nor a regression/);
  });

  it("a small slowdown whose interval ends inside the threshold passes, though the comparison itself is inconclusive", () => {
    // +4% with some spread: the A/B cannot tell it from the 5% minimum, but it rules out +10%.
    const a = [100, 97, 103, 99, 101, 98, 102, 100, 96, 104];
    const c = compareSamples(
      a,
      a.map((x, i) => x * 1.04 * (1 + (i % 2 ? 0.01 : -0.01))),
      { ...wall, maxCvPct: 50 },
    );
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toMatch(/CV A/); // what the gate once matched to mean "noise"
    expect(c.untrusted).toBeUndefined();
    const d = gateDecision(c, 10);
    expect(d.ciPct[1]).toBeLessThan(10);
    expect(d.verdict).toBe("passed");
  });

  it("noise above max_cv claims nothing, even for a large median change", () => {
    const a = [100, 60, 140, 80, 120, 70, 130, 90, 110, 100];
    const c = compareSamples(
      a,
      a.map((x) => x * 1.5),
      { ...wall, maxCvPct: 5 },
    );
    expect(c.untrusted).toMatch(/CV .*% > 5% limit/);
    expect(gateDecision(c, 10).verdict).toBe("inconclusive");
  });

  it("refuses a threshold that is not a positive percentage", () => {
    expect(() => gateDecision(compareSamples(steady(1), steady(1), wall), 0)).toThrow(RangeError);
  });
});

describe("when the gate skips", () => {
  it("skips only when no changed file is under `paths`", () => {
    expect(gateSkipReason(["src/a.py", "README.md"], ["src/**"])).toBeNull();
    expect(gateSkipReason(["README.md", "docs/x.md"], ["src/**"])).toMatch(
      /^skipped: no file under `paths` \(src\/\*\*\) changed .*README\.md, docs\/x\.md/,
    );
    expect(gateSkipReason([], ["**/*"])).toMatch(/same files/);
    expect(gateSkipReason([".github/perfloop.yml"], ["**/*"])).toBeNull();
  });
});
