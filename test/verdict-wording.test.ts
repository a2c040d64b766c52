/**
 * How the verdicts of issue 11, item 3 read downstream, on constructed samples and fixtures: the
 * reflection's diagnosis of an inconclusive comparison (noise vs. an interval too wide, with the runs
 * that would settle it), the report's flags (runs a side, CPU cross-check), and results.json keeping
 * both fields.
 */
import { describe, expect, it } from "vitest";
import { parseResults } from "../src/core/evidence/results-schema.ts";
import { compareSamples, createRng, RUNS_NEEDED_CAP } from "../src/core/measure/stats.ts";
import { type ReflectionInput, reflect } from "../src/core/reflect/reflection.ts";
import {
  comparisonCells,
  comparisonWords,
  headline,
  runsNeededWords,
  verdictCell,
} from "../src/core/report/comparison.ts";
import { renderReport } from "../src/core/report/report.ts";
import type { Comparison } from "../src/core/types.ts";
import { tableAfter, variant } from "./report-helpers.ts";

/** n seeded values center · (1 + cv · N(0, 1)) (Box–Muller on `createRng`). */
function noisy(seed: number, n: number, center: number, cv: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    return center * (1 + cv * z);
  });
}

const wall = { metric: "wall time", unit: "ms", direction: "lower" } as const;
/** The good patch: about −25%, n = 10 a side, CV ≈ 27% on both sides. */
const wide = (maxCvPct: number) =>
  compareSamples(noisy(505, 10, 100, 0.28), noisy(506, 10, 75, 0.28), { ...wall, maxCvPct });

const round: ReflectionInput = {
  round: 3,
  strategy: "llm",
  description: "LLM rewrite of lib/parse.py",
  gate: "performance",
  reason: "",
  comparison: null,
  files: ["lib/parse.py"],
  knob: null,
  testLog: null,
  hotSpots: [],
  minImprovementPct: 5,
};
const reflectOn = (c: Comparison) => reflect({ ...round, reason: c.reason, comparison: c });

describe("the reflection of an inconclusive comparison", () => {
  it("an interval too wide: says so, with the runs a side that would settle it", () => {
    const c = wide(40);
    expect(c.verdict).toBe("inconclusive");
    const r = reflectOn(c);
    expect(r.likelyCause).toMatch(
      /^the A\/B measurement could not settle the change: measured 2\d\.\d% better \(ratio 0\.7\d\d, CI 0\.5\d\d…1\.0\d\d, p = 0\.\d+\), an interval too wide to tell a 5% change from none$/,
    );
    expect(r.whatToChange).toBe(
      `nothing proven about the change; about ${c.runsNeeded} runs a side (repetitions.runs) would settle it`,
    );
  });

  it("noise above max_cv: names the side, and says more runs do not lower a CV", () => {
    const c = wide(10);
    const r = reflectOn(c);
    expect(r.likelyCause).toMatch(
      /^the measurement was too noisy or compromised to judge the change \(baseline CV 2\d\.\d% > 10% limit; candidate CV 2\d\.\d% > 10% limit\)$/,
    );
    expect(r.whatToChange).toBe(
      `nothing proven about the change; reduce noise (a quieter machine) before judging it: more runs do not lower a CV, though at this noise about ${c.runsNeeded} runs a side would settle the interval`,
    );
    const quietA = compareSamples(noisy(21, 20, 100, 0.02), noisy(22, 20, 60, 0.3), wall);
    expect(reflectOn(quietA).likelyCause).toMatch(/\(candidate CV \d+\.\d% > 10% limit\)$/);
  });

  it("'no significant change' with a narrow interval: the change is smaller than the minimum", () => {
    const c = compareSamples(noisy(5, 30, 100, 0.004), noisy(6, 30, 99, 0.004), wall);
    expect(c.verdict).toBe("no significant change");
    expect(reflectOn(c).likelyCause).toMatch(
      /^the change did not beat the current best: measured 1\.\d% better .*; the confidence interval lies within ±5%: whatever it changed is smaller than the 5% minimum$/,
    );
  });
});

describe("the report's flags", () => {
  it("an inconclusive comparison shows the runs a side that would settle it", () => {
    const c = wide(40);
    const n = c.runsNeeded as number;
    expect(runsNeededWords(c)).toBe(`about ${n} runs a side would settle it`);
    expect(headline(c)).toBe(`inconclusive (about ${n} runs a side would settle it)`);
    expect(verdictCell(c)).toBe(`❔ inconclusive · ≈${n} runs a side`);
    expect(comparisonCells(c).at(-1)).toBe(`❔ inconclusive · ≈${n} runs a side`);
    expect(comparisonWords(c)).toMatch(new RegExp(`, n = 10\\+10; about ${n} runs a side would settle it$`));
    const capped = { ...c, runsNeeded: RUNS_NEEDED_CAP };
    expect(verdictCell(capped)).toBe(`❔ inconclusive · ${RUNS_NEEDED_CAP}+ runs a side`);
    expect(headline(capped)).toBe(`inconclusive (${RUNS_NEEDED_CAP}+ runs a side would be needed)`);
  });

  it("no flag where there is none: the plain verdict, as before", () => {
    const c = compareSamples(noisy(5, 30, 100, 0.01), noisy(6, 30, 100, 0.01), wall);
    expect(c.pValue).toBeGreaterThan(0.01);
    expect(verdictCell(c)).toBe("➖ no significant change");
    expect(headline(c)).toBe("no significant change");
    expect(comparisonWords(c)).toMatch(/n = 30\+30$/);
  });

  it("a real difference below the minimum (p < α, CI inside ±5%) is labelled as such, not as 'no significant change'", () => {
    const c = compareSamples(noisy(5, 30, 100, 0.004), noisy(6, 30, 99, 0.004), wall);
    expect(c.verdict).toBe("no significant change");
    expect(c.pValue).toBeLessThan(0.01);
    expect(verdictCell(c)).toBe("➖ real, below the 5% minimum");
  });

  it("a faster wall time with the CPU cross-check: flagged in the table, the title and results.json", () => {
    const flag =
      "CPU time did not fall with wall time (+0.4%, no significant change): the gain is less waiting (I/O, sleep, locks), more parallelism, or different contention on the two sides, not less computation";
    const results = variant((r) => {
      const primary = r.final?.primary;
      if (!r.final || !primary) throw new Error("fixture has no final");
      primary.crossCheck = flag;
      primary.reason = `${primary.reason}; cross-check: ${flag}`;
      r.final.comparisons[0] = primary;
    });
    expect(results.final?.primary.crossCheck).toBe(flag); // the schema keeps the field
    const md = renderReport(results);
    expect(md.split("\n")[0]).toMatch(
      /^## perfloop · improved: \*\*1\.84× faster\*\* \(wall time −45\.7%, .*, n = 10\+10; ⚠ CPU time did not fall with wall time \(\+0\.4%, no significant change\)\)$/,
    );
    const rows = tableAfter(md, "### Before / after");
    expect(rows[1]?.[7]).toBe("✅ faster · ⚠ CPU cross-check");
  });

  it("results.json keeps runsNeeded, and refuses one that is not a positive integer", () => {
    const c = wide(40);
    const results = variant((r) => {
      if (!r.final) throw new Error("fixture has no final");
      r.status = "inconclusive";
      r.final.primary = c;
      r.final.comparisons = [c];
    });
    expect(results.final?.primary.runsNeeded).toBe(c.runsNeeded);
    const bad = structuredClone(results) as unknown as { final: { primary: { runsNeeded: number } } };
    bad.final.primary.runsNeeded = 2.5;
    expect(() => parseResults(bad)).toThrow();
  });
});
