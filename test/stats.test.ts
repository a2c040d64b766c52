import { describe, expect, it } from "vitest";
import {
  bootstrapRatioCI,
  compareSamples,
  createRng,
  estimateRunsNeeded,
  formatP,
  MWU_EXACT_MAX_N,
  mannWhitneyU,
  median,
  normalQuantile,
  normalSf,
  quantile,
  RUNS_NEEDED_CAP,
  StatsInputError,
  summarize,
} from "../src/core/measure/stats.ts";

const oneToTen = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

/** n seeded draws of center · (1 + cv · N(0, 1)) (Box–Muller on `createRng`). */
function noisy(seed: number, n: number, center: number, cv: number): number[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
    return center * (1 + cv * z);
  });
}

describe("summary statistics", () => {
  it("type-7 quantiles match numpy.quantile", () => {
    // numpy.quantile(np.arange(1, 11), [.25, .5, .75, .1]) -> [3.25, 5.5, 7.75, 1.9]
    expect(quantile(oneToTen, 0.25)).toBeCloseTo(3.25, 12);
    expect(quantile(oneToTen, 0.75)).toBeCloseTo(7.75, 12);
    expect(quantile(oneToTen, 0.1)).toBeCloseTo(1.9, 12);
    expect(quantile(oneToTen, 0)).toBe(1);
    expect(quantile(oneToTen, 1)).toBe(10);
    // unsorted input; numpy.quantile([7, 1, 3, 9], [.25, .5, .75]) -> [2.5, 5, 7.5]
    expect([0.25, 0.5, 0.75].map((q) => quantile([7, 1, 3, 9], q))).toEqual([2.5, 5, 7.5]);
    expect(median([3, 1, 2])).toBe(2);
  });

  it("summarize gives numpy's values for 1..10", () => {
    const s = summarize(oneToTen);
    // stdev: Σ(x − 5.5)² = 82.5, / (n − 1) = 9.1667, √ = 3.0276503540974917 (numpy std ddof=1)
    expect(s).toMatchObject({ n: 10, median: 5.5, q1: 3.25, q3: 7.75, iqr: 4.5, mean: 5.5, min: 1, max: 10 });
    expect(s.stdev).toBeCloseTo(3.0276503540974917, 12);
    expect(s.cvPct).toBeCloseTo((3.0276503540974917 / 5.5) * 100, 10);
  });

  it("sample stdev of the textbook set 2,4,4,4,5,5,7,9 is √(32/7)", () => {
    // mean 5, Σ(x − 5)² = 32, population sd = 2, sample sd = √(32/7) = 2.138089935299395
    expect(summarize([2, 4, 4, 4, 5, 5, 7, 9]).stdev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(summarize([42])).toMatchObject({ n: 1, stdev: 0, cvPct: 0, iqr: 0 });
  });

  it("throws StatsInputError on empty input, non-finite values and bad q", () => {
    expect(() => summarize([])).toThrow(StatsInputError);
    expect(() => summarize([1, Number.NaN])).toThrow(/non-finite/);
    expect(() => summarize([1, Number.POSITIVE_INFINITY])).toThrow(StatsInputError);
    expect(() => quantile([1, 2], 1.5)).toThrow(StatsInputError);
    try {
      median([]);
    } catch (e) {
      expect((e as Error).name).toBe("StatsInputError");
    }
  });
});

describe("normalSf", () => {
  it("matches scipy.stats.norm.sf", () => {
    const cases: [number, number][] = [
      [0, 0.5],
      [1, 0.15865525393145707],
      [2, 0.022750131948179195],
      [3, 0.0013498980316300933],
      [5, 2.866515718791933e-7],
      [10, 7.61985302416047e-24],
    ];
    for (const [z, sf] of cases) expect(Math.abs(normalSf(z) / sf - 1)).toBeLessThan(1e-9);
    expect(normalSf(-1)).toBeCloseTo(1 - 0.15865525393145707, 14);
  });
});

describe("mannWhitneyU", () => {
  it("fully separated 5 vs 5: exact two-sided p = 2/252", () => {
    // C(10, 5) = 252 equally likely rank sets; only one gives U = 25 (all b above all a), two-sided ×2.
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.method).toBe("exact");
    expect(r.u).toBe(0);
    expect(r.p).toBeCloseTo(2 / 252, 12);
  });

  it("exact p matches scipy method='exact' for small and n = 50 samples", () => {
    // scipy.stats.mannwhitneyu([19,22,16,29,24], [20,11,17,12], method='exact') -> U=17, p=0.1111111111111111
    const r = mannWhitneyU([19, 22, 16, 29, 24], [20, 11, 17, 12]);
    expect(r).toMatchObject({ u: 17, method: "exact" });
    expect(r.p).toBeCloseTo(0.1111111111111111, 12);
    // a = 0,2,…,98; b = 11,13,…,109 -> U=990, p=0.0735352106256962 (scipy exact)
    const a = Array.from({ length: 50 }, (_, i) => 2 * i);
    const b = Array.from({ length: 50 }, (_, j) => 2 * j + 11);
    const big = mannWhitneyU(a, b);
    expect(big).toMatchObject({ u: 990, method: "exact" });
    expect(big.p).toBeCloseTo(0.0735352106256962, 10);
    expect(MWU_EXACT_MAX_N).toBe(50);
    // unequal sizes 30 vs 45, no ties: a = 0,3,…,87; b = 1,4,…,133 -> U=435, p=0.00900942159347918
    const c = mannWhitneyU(
      Array.from({ length: 30 }, (_, i) => 3 * i),
      Array.from({ length: 45 }, (_, j) => 3 * j + 1),
    );
    expect(c).toMatchObject({ u: 435, method: "exact" });
    expect(c.p).toBeCloseTo(0.00900942159347918, 12);
  });

  it("ties use the normal approximation with tie and continuity correction (scipy 'asymptotic')", () => {
    // a = [1,2,2,3,4], b = [2,3,5,6,7]. Pooled sorted: 1a 2a 2a 2b 3a 3b 4a 5b 6b 7b.
    // Mid-ranks: 1→1; 2,2,2 (positions 2–4)→3; 3,3 (positions 5–6)→5.5; 4→7; 5→8; 6→9; 7→10.
    // R1 = 1 + 3 + 3 + 5.5 + 7 = 19.5; U1 = R1 − 5·6/2 = 4.5; U2 = 25 − 4.5 = 20.5; U = max = 20.5.
    // Tie groups t = 3 and t = 2: Σ(t³ − t) = 24 + 6 = 30.
    // σ² = (5·5/12)·((10 + 1) − 30/(10·9)) = 2.083333·10.666667 = 22.222222; σ = 4.7140452.
    // z = (20.5 − 12.5 − 0.5)/σ = 7.5/4.7140452 = 1.5909903; p = 2·P(Z > z) = 2·0.0558059 = 0.1116118.
    // scipy.stats.mannwhitneyu(a, b, method='asymptotic') -> U=4.5, p=0.11161176829829224
    const r = mannWhitneyU([1, 2, 2, 3, 4], [2, 3, 5, 6, 7]);
    expect(r.method).toBe("normal");
    expect(r.u).toBe(4.5);
    expect(r.p).toBeCloseTo(0.1116, 4);
    expect(r.p).toBeCloseTo(0.11161176829829224, 10);
  });

  it("uses the normal approximation above the exact size limit (scipy 'asymptotic')", () => {
    // no ties: a = 0,3,…,177 (60); b = 31,34,…,193 (55) -> U=1225, p=0.017466219103968242
    const r = mannWhitneyU(
      Array.from({ length: 60 }, (_, i) => 3 * i),
      Array.from({ length: 55 }, (_, j) => 3 * j + 31),
    );
    expect(r).toMatchObject({ u: 1225, method: "normal" });
    expect(r.p).toBeCloseTo(0.017466219103968242, 10);
    // many tie groups: a = 0,3,…,177; b = 31,33,…,139 -> U=1714, p=0.7221818112337881
    const t = mannWhitneyU(
      Array.from({ length: 60 }, (_, i) => 3 * i),
      Array.from({ length: 55 }, (_, j) => 2 * j + 31),
    );
    expect(t).toMatchObject({ u: 1714, method: "normal" });
    expect(t.p).toBeCloseTo(0.7221818112337881, 10);
  });

  it("is symmetric: p(a, b) = p(b, a) and U1 + U2 = n1·n2", () => {
    const a = [1, 2, 2, 3, 4];
    const b = [2, 3, 5, 6, 7, 8];
    const ab = mannWhitneyU(a, b);
    const ba = mannWhitneyU(b, a);
    expect(ab.p).toBeCloseTo(ba.p, 14);
    expect(ab.u + ba.u).toBe(30);
    const x = noisy(3, 12, 10, 0.1);
    const y = noisy(4, 9, 11, 0.1);
    expect(mannWhitneyU(x, y).p).toBeCloseTo(mannWhitneyU(y, x).p, 14);
  });

  it("identical samples give p = 1", () => {
    expect(mannWhitneyU([1, 2, 3, 4, 5], [1, 2, 3, 4, 5]).p).toBe(1);
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5]).p).toBe(1);
  });
});

describe("bootstrapRatioCI", () => {
  const a = noisy(11, 30, 100, 0.03);
  const b = noisy(12, 30, 80, 0.03);

  it("is reproducible for a seed and contains the true ratio for clearly separated samples", () => {
    const ci = bootstrapRatioCI(a, b, { seed: 42 });
    expect(bootstrapRatioCI(a, b, { seed: 42 })).toEqual(ci);
    expect(bootstrapRatioCI(a, b, { seed: 43 })).not.toEqual(ci);
    expect(ci[0]).toBeLessThan(0.8);
    expect(ci[1]).toBeGreaterThan(0.8);
    expect(ci[1] - ci[0]).toBeLessThan(0.05);
    const observed = median(b) / median(a);
    expect(ci[0]).toBeLessThanOrEqual(observed);
    expect(ci[1]).toBeGreaterThanOrEqual(observed);
  });

  it("runs 10,000 iterations on n = 30 per side in well under 100 ms", () => {
    bootstrapRatioCI(a, b); // warm-up (JIT)
    const times = [0, 1, 2].map(() => {
      const t0 = performance.now();
      bootstrapRatioCI(a, b, { iterations: 10_000 });
      return performance.now() - t0;
    });
    expect(Math.min(...times)).toBeLessThan(100);
  });

  it("refuses samples whose ratio of medians could divide by 0, and bad options", () => {
    expect(() => bootstrapRatioCI([0, 1, 2], [1, 2, 3])).toThrow(StatsInputError);
    expect(() => bootstrapRatioCI([1, 2, 3], [-1, 2, 3])).toThrow(StatsInputError);
    expect(() => bootstrapRatioCI([1, 2], [1, 2], { confidence: 1 })).toThrow(StatsInputError);
    expect(() => bootstrapRatioCI([1, 2], [1, 2], { iterations: 0 })).toThrow(StatsInputError);
  });
});

describe("formatting", () => {
  it("formats p-values without contradicting the threshold", () => {
    expect(formatP(0.0079)).toBe("0.0079");
    expect(formatP(3.21e-6)).toBe("3.2e-6");
    expect(formatP(0.00996, 0.01)).toBe("0.00996");
    expect(formatP(0.009999, 0.01)).toBe("0.009999");
  });
});

describe("compareSamples", () => {
  const wall = { metric: "wall", unit: "ms", direction: "lower" } as const;

  it("clearly faster B with low noise -> faster", () => {
    const c = compareSamples(noisy(1, 20, 100, 0.02), noisy(2, 20, 80, 0.02), wall);
    expect(c.verdict).toBe("faster");
    expect(c.improvementPct).toBeGreaterThan(15);
    expect(c.improvementPct).toBeLessThan(25);
    expect(c.ratio).toBeCloseTo(1 - c.improvementPct / 100, 12);
    expect(c.ci[1]).toBeLessThanOrEqual(0.95);
    expect(c.pValue).toBeLessThan(0.01);
    expect(c.reason).toMatch(
      /better: p = .* < 0\.01 and the 95% CI −\d+\.\d+% … −\d+\.\d+% clears the 5% minimum \(upper bound ≤ −5\.0%\)/,
    );
    expect(c).toMatchObject({ metric: "wall", unit: "ms", direction: "lower", confidence: 0.95 });
    expect(c.a.n).toBe(20);
  });

  it("baseline with CV 30% -> inconclusive, with the numbers", () => {
    const c = compareSamples(noisy(3, 20, 100, 0.3), noisy(4, 20, 50, 0.02), wall);
    expect(c.a.cvPct).toBeGreaterThan(20);
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toMatch(/baseline CV \d+\.\d% > 10% limit/);
  });

  it("B only 1% faster -> no significant change, even when p < alpha", () => {
    const c = compareSamples(noisy(5, 30, 100, 0.004), noisy(6, 30, 99, 0.004), wall);
    expect(c.pValue).toBeLessThan(0.01);
    expect(c.ci[1]).toBeLessThan(1);
    expect(c.ci[0]).toBeGreaterThan(0.95);
    expect(c.verdict).toBe("no significant change");
    expect(c.reason).toMatch(
      /^no significant change: the 95% CI −1\.\d% … −0\.\d% lies within \(−5\.0%, \+5\.0%\), which excludes a change of 5% either way; p = .* < 0\.01: a real difference, but smaller than the 5% minimum/,
    );
    expect(c.runsNeeded).toBeUndefined();
  });

  it("identical samples -> p = 1 and no significant change", () => {
    const a = noisy(7, 15, 100, 0.03);
    const c = compareSamples(a, [...a], wall);
    expect(c.pValue).toBeCloseTo(1, 12);
    expect(c.ratio).toBe(1);
    expect(c.verdict).toBe("no significant change");
    expect(c.reason).toMatch(/p = 1 ≥ 0\.01/);
  });

  it("B 20% slower -> slower", () => {
    const c = compareSamples(noisy(8, 20, 100, 0.02), noisy(9, 20, 120, 0.02), wall);
    expect(c.verdict).toBe("slower");
    expect(c.improvementPct).toBeLessThan(-15);
    expect(c.ci[0]).toBeGreaterThan(1);
    expect(c.reason).toMatch(
      /% worse: p = .* < 0\.01, the 95% CI \+\d+\.\d+% … \+\d+\.\d+% lies wholly on the worse side of 0%/,
    );
  });

  it("B 2% slower (significant but under the minimum, CI inside ±5%) -> no significant change, said as such", () => {
    const c = compareSamples(noisy(8, 20, 100, 0.002), noisy(9, 20, 102, 0.002), wall);
    expect(c.pValue).toBeLessThan(0.01);
    expect(c.ci[0]).toBeGreaterThan(1);
    expect(c.ci[1]).toBeLessThan(1.05);
    expect(c.verdict).toBe("no significant change");
    expect(c.reason).toMatch(
      /CI \+\d\.\d% … \+\d\.\d% lies within \(−5\.0%, \+5\.0%\).*a real difference, but smaller than the 5% minimum/,
    );
  });

  it("higher-is-better metric: 'faster' means better, improvementPct = (ratio − 1)·100", () => {
    const tput = { metric: "throughput", unit: "items/s", direction: "higher" } as const;
    const up = compareSamples(noisy(10, 20, 1000, 0.02), noisy(11, 20, 1200, 0.02), tput);
    expect(up.verdict).toBe("faster");
    expect(up.improvementPct).toBeCloseTo((up.ratio - 1) * 100, 12);
    expect(up.improvementPct).toBeGreaterThan(15);
    expect(up.ci[0]).toBeGreaterThanOrEqual(1.05);
    const down = compareSamples(noisy(12, 20, 1000, 0.02), noisy(13, 20, 800, 0.02), tput);
    expect(down.verdict).toBe("slower");
    expect(down.ci[1]).toBeLessThan(1);
  });

  it("compromised measurement -> inconclusive with the stated cause", () => {
    const why = "GPU reported thermal slowdown";
    const c = compareSamples(noisy(1, 20, 100, 0.02), noisy(2, 20, 80, 0.02), { ...wall, compromised: why });
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toContain(`measurement compromised: ${why}`);
    expect(c.improvementPct).toBeGreaterThan(15); // the numbers are still reported
  });

  it("throws StatsInputError on bad options or a non-positive baseline", () => {
    expect(() => compareSamples([1, 2], [1, 2], { ...wall, alpha: 0 })).toThrow(StatsInputError);
    expect(() => compareSamples([1, 2], [1, 2], { ...wall, minImprovementPct: -1 })).toThrow(StatsInputError);
    expect(() => compareSamples([0, 2], [1, 2], wall)).toThrow(StatsInputError);
  });

  it("A/A: 200 seeded draws of n = 10 from one distribution give ≤ 2% faster/slower verdicts", () => {
    const verdicts: Record<string, number> = {};
    for (let k = 0; k < 200; k++) {
      const c = compareSamples(noisy(1000 + 2 * k, 10, 100, 0.02), noisy(1001 + 2 * k, 10, 100, 0.02), {
        ...wall,
        seed: k,
        iterations: 2000,
      });
      verdicts[c.verdict] = (verdicts[c.verdict] ?? 0) + 1;
    }
    expect(((verdicts.faster ?? 0) + (verdicts.slower ?? 0)) / 200).toBeLessThanOrEqual(0.02);
    // CV 2%, n = 10: the CI is narrow enough to exclude ±5%, so the property is tested on
    // conclusive runs, not dodged by "inconclusive".
    expect(verdicts["no significant change"]).toBeGreaterThanOrEqual(180);
  });
});

describe("verdict wording that matches the statistics (issue 11, item 3)", () => {
  const wall = { metric: "wall", unit: "ms", direction: "lower" } as const;

  it("a wide CI (like [0.57, 1.09]) at CV ≈ 28% is inconclusive with a run count, never 'no significant change'", () => {
    // The good patch: about −25% by hand, n = 10 a side, both sides CV ≈ 27%.
    const a = noisy(505, 10, 100, 0.28);
    const b = noisy(506, 10, 75, 0.28);
    const c = compareSamples(a, b, { ...wall, maxCvPct: 40 });
    expect(c.ci[0]).toBeLessThan(0.6);
    expect(c.ci[1]).toBeGreaterThan(1.05);
    expect(c.a.cvPct).toBeGreaterThan(24);
    expect(c.b.cvPct).toBeGreaterThan(24);
    expect(c.verdict).toBe("inconclusive");
    expect(c.runsNeeded).toBeGreaterThan(10);
    expect(c.runsNeeded).toBeLessThan(100);
    expect(c.reason).toMatch(/^inconclusive: B measured 2\d\.\d% better \(p = .* ≥ 0\.01\), but the 95% CI/);
    expect(c.reason).toContain("does not clear the 5% minimum (needs upper bound ≤ −5.0%)");
    expect(c.reason).toContain(`about ${c.runsNeeded} runs a side would settle it`);
    expect(c.reason).toMatch(/CV A 2\d\.\d%, B 2\d\.\d%; n = 10\+10/);
    // With the default max_cv (10%) it is inconclusive for the noise first, and the runs still shown.
    const strict = compareSamples(a, b, wall);
    expect(strict.verdict).toBe("inconclusive");
    expect(strict.reason).toMatch(/baseline CV 2\d\.\d% > 10% limit; candidate CV 2\d\.\d% > 10% limit/);
    expect(strict.reason).toContain(
      `more runs do not lower a CV (quiet the machine, or raise statistics.max_cv), and at this noise about ${c.runsNeeded} runs a side would settle it`,
    );
    expect(strict.runsNeeded).toBe(c.runsNeeded);
  });

  it("a 27% slowdown with p = 0.0089 whose CI does not clear +5% is 'slower'", () => {
    const c = compareSamples(noisy(453, 10, 100, 0.15), noisy(454, 10, 127, 0.15), { ...wall, maxCvPct: 15 });
    expect(c.pValue).toBeCloseTo(0.0089, 4);
    expect(c.ratio).toBeGreaterThan(1.25);
    expect(c.ci[0]).toBeGreaterThan(1);
    expect(c.ci[0]).toBeLessThan(1.05); // the old rule wanted ≥ 1.05 and said "no significant change"
    expect(c.verdict).toBe("slower");
    expect(c.runsNeeded).toBeUndefined();
    expect(c.reason).toMatch(
      /^B is 2\d\.\d% worse: p = 0\.0089 < 0\.01, the 95% CI \+\d\.\d% … \+\d+\.\d% lies wholly on the worse side of 0%/,
    );
  });

  it("a significant slowdown whose CI reaches below 1 is inconclusive, not 'slower'", () => {
    const c = compareSamples(noisy(311, 10, 100, 0.15), noisy(312, 10, 127, 0.15), { ...wall, maxCvPct: 20 });
    expect(c.pValue).toBeLessThan(0.01);
    expect(c.ci[0]).toBeLessThan(1);
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toContain("reaches the better side of 0%, so the slowdown is not established");
    expect(c.runsNeeded).toBeGreaterThan(10);
  });

  it("B's CV above max_cv makes it inconclusive even when A is quiet", () => {
    const c = compareSamples(noisy(21, 20, 100, 0.02), noisy(22, 20, 60, 0.3), wall);
    expect(c.a.cvPct).toBeLessThan(10);
    expect(c.b.cvPct).toBeGreaterThan(20);
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toMatch(/^inconclusive: candidate CV \d+\.\d% > 10% limit \(observed 95% CI/);
    expect(c.reason).not.toContain("baseline CV");
  });

  it("a narrow CI around 1 is 'no significant change'; the same ratio with a wide CI is not", () => {
    const narrow = compareSamples(noisy(31, 20, 100, 0.01), noisy(32, 20, 100, 0.01), wall);
    expect(narrow.ci[0]).toBeGreaterThan(0.95);
    expect(narrow.ci[1]).toBeLessThan(1.05);
    expect(narrow.verdict).toBe("no significant change");
    expect(narrow.reason).toMatch(
      /^no significant change: the 95% CI [−+]\d+\.\d+% … [−+]\d+\.\d+% lies within \(−5\.0%, \+5\.0%\)/,
    );
    const wide = compareSamples(noisy(31, 10, 100, 0.08), noisy(32, 10, 100, 0.08), wall);
    expect(wide.pValue).toBeGreaterThan(0.01);
    expect(wide.ci[1] - wide.ci[0]).toBeGreaterThan(0.1);
    expect(wide.verdict).toBe("inconclusive");
    expect(wide.reason).toMatch(
      /cannot exclude a change of 5% either way; about \d+ runs a side would settle it/,
    );
  });

  it("with min_improvement 0 nothing can be 'no significant change'", () => {
    const c = compareSamples(noisy(31, 20, 100, 0.01), noisy(32, 20, 100, 0.01), {
      ...wall,
      minImprovementPct: 0,
    });
    expect(c.pValue).toBeGreaterThan(0.01);
    expect(c.verdict).toBe("inconclusive");
    expect(c.reason).toContain("exclude a change of 0% either way");
  });

  it("A/A at CV 5%: n = 10 is mostly inconclusive; the estimated runs per side mostly settle it", () => {
    const estimates: number[] = [];
    let settledAt10 = 0;
    for (let k = 0; k < 60; k++) {
      const c = compareSamples(noisy(3000 + 2 * k, 10, 100, 0.05), noisy(3001 + 2 * k, 10, 100, 0.05), {
        ...wall,
        seed: k,
        iterations: 2000,
      });
      if (c.verdict === "no significant change") settledAt10++;
      if (c.runsNeeded !== undefined) estimates.push(c.runsNeeded);
    }
    expect(settledAt10).toBeLessThan(15);
    estimates.sort((x, y) => x - y);
    const n = estimates[estimates.length >> 1] as number;
    expect(n).toBeGreaterThan(10);
    expect(n).toBeLessThan(100);
    const verdicts: Record<string, number> = {};
    for (let k = 0; k < 60; k++) {
      const c = compareSamples(noisy(4000 + 2 * k, n, 100, 0.05), noisy(4001 + 2 * k, n, 100, 0.05), {
        ...wall,
        seed: k,
        iterations: 2000,
      });
      verdicts[c.verdict] = (verdicts[c.verdict] ?? 0) + 1;
    }
    expect(verdicts["no significant change"]).toBeGreaterThanOrEqual(36); // ≥ 60% settled
    expect((verdicts.faster ?? 0) + (verdicts.slower ?? 0)).toBeLessThanOrEqual(2);
  });
});

describe("estimateRunsNeeded", () => {
  const base = {
    direction: "lower",
    ci: [0.99, 1.01],
    cvPctA: 10,
    cvPctB: 10,
    nA: 10,
    nB: 10,
    confidence: 0.95,
    alpha: 0.01,
    minImprovementPct: 5,
  } as const;
  const z = 1.959963984540054; // scipy.stats.norm.ppf(0.975)

  it("normalQuantile matches scipy.stats.norm.ppf", () => {
    expect(normalQuantile(0.975)).toBeCloseTo(z, 10);
    expect(normalQuantile(0.995)).toBeCloseTo(2.5758293035489004, 10);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 10);
    expect(() => normalQuantile(1)).toThrow(StatsInputError);
  });

  it("ratio 1: n = π/2 · z² · (CV_A² + CV_B²) / ln(1.05)² (normal-theory variance of the median)", () => {
    const expected = Math.ceil(((Math.PI / 2) * z * z * (0.01 + 0.01)) / Math.log(1.05) ** 2);
    expect(expected).toBe(51);
    expect(estimateRunsNeeded({ ...base, ratio: 1 })).toBe(expected);
  });

  it("a ratio past the better threshold plans to its distance; the observed CI's width counts when larger", () => {
    const h = Math.log(0.95) - Math.log(0.75);
    const fromCv = Math.ceil(((Math.PI / 2) * z * z * 0.02) / h ** 2);
    expect(estimateRunsNeeded({ ...base, ratio: 0.75 })).toBe(Math.max(fromCv, 11));
    const ci = [0.55, 1.09] as const;
    const fromCi = Math.ceil(10 * ((Math.log(1.09) - Math.log(0.55)) / 2 / h) ** 2);
    expect(estimateRunsNeeded({ ...base, ratio: 0.75, ci, cvPctA: 1, cvPctB: 1 })).toBe(fromCi);
  });

  it("never plans a threshold closer than half the band, floors at n + 1 and the Mann–Whitney minimum, caps at 1000", () => {
    const halfBand = Math.log(1.05) / 2;
    const expected = Math.ceil(((Math.PI / 2) * z * z * 0.02) / halfBand ** 2);
    expect(estimateRunsNeeded({ ...base, ratio: 0.9501 })).toBe(expected);
    expect(estimateRunsNeeded({ ...base, ratio: 1.0499 })).toBe(expected);
    expect(estimateRunsNeeded({ ...base, ratio: 0.5, cvPctA: 0.1, cvPctB: 0.1 })).toBe(11);
    expect(estimateRunsNeeded({ ...base, ratio: 0.5, cvPctA: 0.1, cvPctB: 0.1, nA: 2, nB: 2 })).toBe(5);
    expect(estimateRunsNeeded({ ...base, ratio: 1, cvPctA: 90, cvPctB: 90 })).toBe(RUNS_NEEDED_CAP);
    expect(estimateRunsNeeded({ ...base, ratio: 1, minImprovementPct: 0 })).toBe(RUNS_NEEDED_CAP);
  });

  it("a slowdown plans for the CI to leave 1 (lower) and mirrors for higher-is-better", () => {
    const fromCv = (h: number) => Math.max(11, Math.ceil(((Math.PI / 2) * z * z * 0.02) / h ** 2));
    expect(estimateRunsNeeded({ ...base, ratio: 1.2 })).toBe(fromCv(Math.log(1.2)));
    expect(estimateRunsNeeded({ ...base, direction: "higher", ratio: 1.2 })).toBe(
      fromCv(Math.log(1.2) - Math.log(1.05)),
    );
    expect(estimateRunsNeeded({ ...base, direction: "higher", ratio: 0.8 })).toBe(fromCv(-Math.log(0.8)));
  });
});
