/**
 * The quick screen's words (src/core/loop/screen.ts `describeScreen`): always labelled a screen, the
 * change against the runs' spread, "spread unknown" with too few runs, and an output difference.
 */
import { describe, expect, it } from "vitest";
import { describeScreen, type ScreenResult } from "../src/core/loop/screen.ts";

const measured = (overrides: Partial<ScreenResult>): ScreenResult => ({
  status: "measured",
  metric: "wall time",
  unit: "ms",
  runs: 3,
  a: { median: 200, cvPct: 2 },
  b: { median: 150, cvPct: 3 },
  ratio: 0.75,
  changePct: 25,
  withinNoise: false,
  spreadKnown: true,
  outputDifference: null,
  error: null,
  ms: 1500,
  ...overrides,
});

describe("describeScreen", () => {
  it("labels a screen as such and sets the change against the spread", () => {
    expect(describeScreen(measured({}))).toBe(
      "screen (3 runs a side, interleaved; not the verdict): wall time median A 200.0 ms, B 150.0 ms, B/A 0.750 (25.0% better), outside the runs' spread (CV A 2.0%, B 3.0%); output matches the baseline's",
    );
    expect(
      describeScreen(
        measured({ ratio: 1.02, changePct: -2, withinNoise: true, b: { median: 204, cvPct: 3 } }),
      ),
    ).toMatch(
      /2\.0% worse\), within the runs' spread \(CV A 2\.0%, B 3\.0%\): a screen cannot tell them apart/,
    );
  });

  it("says the spread is unknown with fewer than 3 runs a side, and shows an output difference", () => {
    const text = describeScreen(
      measured({ runs: 1, spreadKnown: false, outputDifference: "benchmark output differs at line 2" }),
    );
    expect(text).toMatch(/spread unknown \(fewer than 3 runs a side\)/);
    expect(text).toMatch(/; OUTPUT DIFFERS: benchmark output differs at line 2$/);
  });

  it("says why a screen failed", () => {
    expect(
      describeScreen(measured({ status: "failed", error: "benchmark run on side B failed: exit code 1" })),
    ).toBe("screen failed: benchmark run on side B failed: exit code 1");
  });
});
