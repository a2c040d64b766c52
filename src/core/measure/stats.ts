/**
 * Hand-written statistics for the A/B measurement protocol (docs/design.md, "Measurement protocol"):
 * per-side summaries, the Mann–Whitney U test, a seeded percentile bootstrap of the ratio of
 * medians, the verdict rule that turns them into "faster" / "slower" / "no significant change" /
 * "inconclusive", and the run count that would settle an inconclusive one. No stats library: every formula is here, with its source.
 */
import { formatPct as signedPct } from "../report/format.ts";
import type { Comparison, ComparisonVerdict, SampleStats } from "../types.ts";
import { mannWhitneyU } from "./mann-whitney.ts";
import { estimateRunsNeeded, runsText } from "./runs-needed.ts";
import { checkSample, need } from "./stats-input.ts";

export { type MannWhitneyResult, MWU_EXACT_MAX_N, mannWhitneyU, normalSf } from "./mann-whitney.ts";
export { estimateRunsNeeded, normalQuantile, RUNS_NEEDED_CAP, type RunsNeededInput } from "./runs-needed.ts";
export { StatsInputError } from "./stats-input.ts";

/** Type-7 quantile of an ascending, non-empty array (see `quantile`). */
function quantileSorted(s: ArrayLike<number>, q: number): number {
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  const x0 = s[lo] as number;
  return lo + 1 < s.length ? x0 + (h - lo) * ((s[lo + 1] as number) - x0) : x0;
}

/**
 * Quantile `q` (0..1) of `xs` by linear interpolation between order statistics — Hyndman & Fan
 * type 7, the default of numpy.quantile and R: h = (n−1)·q, x[⌊h⌋] + (h−⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]).
 * Same unit as `xs`. Throws StatsInputError on an empty/non-finite sample or q outside [0, 1].
 */
export function quantile(xs: readonly number[], q: number): number {
  checkSample(xs, "quantile");
  need(q >= 0 && q <= 1, `quantile: q must be in [0, 1], got ${q}`);
  return quantileSorted(Float64Array.from(xs).sort(), q);
}

/** Median of `xs` (type-7 quantile 0.5: mean of the two middle values when n is even). Throws as `quantile`. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

/**
 * Summary of one side of a measurement (shape: `SampleStats`, same unit as `xs`; cvPct in %).
 * Quartiles are type-7 (numpy default); stdev is the sample standard deviation (divisor n−1, 0 when
 * n = 1); cvPct = stdev / |mean| · 100 (0 when mean is 0). Throws StatsInputError on empty input or
 * non-finite values.
 */
export function summarize(xs: readonly number[]): SampleStats {
  checkSample(xs, "summarize");
  const s = Float64Array.from(xs).sort();
  const n = s.length;
  const mean = s.reduce((t, x) => t + x, 0) / n;
  const ss = s.reduce((t, x) => t + (x - mean) ** 2, 0);
  const stdev = n > 1 ? Math.sqrt(ss / (n - 1)) : 0;
  const q1 = quantileSorted(s, 0.25);
  const q3 = quantileSorted(s, 0.75);
  const cvPct = mean === 0 ? 0 : (stdev / Math.abs(mean)) * 100;
  const min = s[0] as number;
  const max = s[n - 1] as number;
  return { n, median: quantileSorted(s, 0.5), q1, q3, iqr: q3 - q1, mean, stdev, cvPct, min, max };
}

/**
 * Seeded PRNG (mulberry32, Tommy Ettinger's 32-bit generator): returns a function giving uniform
 * floats in [0, 1). The same seed gives the same stream; the seed is taken modulo 2^32.
 */
export function createRng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), t | 1);
    r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

/** Moves the k-th smallest (0-based) of x into x[k], smaller before, larger after (Hoare/Wirth select). */
function selectInPlace(x: Float64Array, k: number): number {
  let lo = 0;
  let hi = x.length - 1;
  while (hi > lo) {
    const pivot = x[(lo + hi) >> 1] as number;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while ((x[i] as number) < pivot) i++;
      while ((x[j] as number) > pivot) j--;
      if (i <= j) {
        const t = x[i] as number;
        x[i++] = x[j] as number;
        x[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return x[k] as number;
}

/** Median of a scratch typed array (reorders it); same definition as `median`. */
function medianInPlace(x: Float64Array): number {
  const n = x.length;
  const k = (n - 1) >> 1;
  const lo = selectInPlace(x, k);
  if (n % 2 === 1) return lo;
  let hi = Number.POSITIVE_INFINITY;
  for (let i = k + 1; i < n; i++) if ((x[i] as number) < hi) hi = x[i] as number;
  return (lo + hi) / 2;
}

/** Options of `bootstrapRatioCI`. */
export interface BootstrapOptions {
  /** Resamples (integer ≥ 1), default 10,000. */
  iterations?: number;
  /** Two-sided coverage in (0, 1), default 0.95. */
  confidence?: number;
  /** PRNG seed (`createRng`), default 1: the same inputs and seed give the same interval. */
  seed?: number;
}

/**
 * Percentile-bootstrap confidence interval [lo, hi] of median(b) / median(a) (unitless ratio):
 * each iteration resamples a and b independently with replacement (seeded `createRng`), and the
 * interval is the type-7 quantiles (1−c)/2 and (1+c)/2 of the resampled ratios (Efron & Tibshirani
 * 1993, ch. 13). So that no resample can have median 0, every a must be > 0 and every b ≥ 0.
 * Throws StatsInputError otherwise, on empty/non-finite input, or on bad options.
 */
export function bootstrapRatioCI(
  a: readonly number[],
  b: readonly number[],
  opts: BootstrapOptions = {},
): [number, number] {
  const { iterations = 10_000, confidence = 0.95, seed = 1 } = opts;
  checkSample(a, "bootstrapRatioCI(a)");
  checkSample(b, "bootstrapRatioCI(b)");
  need(
    a.every((x) => x > 0),
    "bootstrapRatioCI: every baseline (a) value must be > 0",
  );
  need(
    b.every((x) => x >= 0),
    "bootstrapRatioCI: every candidate (b) value must be ≥ 0",
  );
  need(Number.isInteger(iterations) && iterations >= 1, `bootstrapRatioCI: iterations ${iterations} < 1`);
  need(confidence > 0 && confidence < 1, `bootstrapRatioCI: confidence ${confidence} not in (0, 1)`);
  const rng = createRng(seed);
  const av = Float64Array.from(a);
  const bv = Float64Array.from(b);
  const ra = new Float64Array(av.length);
  const rb = new Float64Array(bv.length);
  const ratios = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    for (let i = 0; i < ra.length; i++) ra[i] = av[Math.floor(rng() * av.length)] as number;
    for (let i = 0; i < rb.length; i++) rb[i] = bv[Math.floor(rng() * bv.length)] as number;
    ratios[it] = medianInPlace(rb) / medianInPlace(ra);
  }
  ratios.sort();
  const tail = (1 - confidence) / 2;
  return [quantileSorted(ratios, tail), quantileSorted(ratios, 1 - tail)];
}

/** Fewest decimals from `from` (at most 12) at which rounding keeps each x's side (<, =, >) of each limit. */
function honestDecimals(xs: readonly number[], limits: readonly number[], from: number): number {
  let d = from;
  const keeps = (x: number, t: number) => Math.sign(+x.toFixed(d) - t) === Math.sign(x - t);
  while (d < 12 && !xs.every((x) => limits.every((t) => keeps(x, t)))) d++;
  return d;
}

/**
 * A p-value for prose: 2 significant digits ("0.0079"), exponent form below 1e-4 ("3.2e-6"); more
 * digits when needed so the text keeps p's side of `alpha` (never "p = 0.01 < 0.01").
 */
export function formatP(p: number, alpha?: number): string {
  for (let d = 2; d < 12; d++) {
    const s = p < 1e-4 ? p.toExponential(d - 1) : String(+p.toPrecision(d));
    if (alpha === undefined || Math.sign(+s - alpha) === Math.sign(p - alpha)) return s;
  }
  return String(p);
}

/** Options of `compareSamples`. Percentages are in %; alpha and confidence are fractions. */
export interface CompareOptions {
  metric: string;
  unit: string;
  /** Which way is better for the metric: "lower" (wall time) or "higher" (throughput). */
  direction: "lower" | "higher";
  /** Significance level of the Mann–Whitney test, default 0.01 (docs/design.md, "Verdict rules"). */
  alpha?: number;
  /**
   * `min_improvement`, %, default 5 (docs/design.md, "Verdict rules"): the whole CI must clear it to claim "faster", and
   * the CI must lie within ±it of 1 to say "no significant change".
   */
  minImprovementPct?: number;
  /** CV of either side above which the comparison is "inconclusive", %, default 10 (docs/design.md, "Verdict rules": `max_cv`). */
  maxCvPct?: number;
  /** Bootstrap CI coverage, default 0.95 (docs/design.md, "Statistics"); bootstrap seed, default 1; iterations, default 10,000. */
  confidence?: number;
  seed?: number;
  iterations?: number;
  /** Why the measurement cannot be trusted (e.g. "GPU reported thermal slowdown"): makes it "inconclusive". */
  compromised?: string;
}

/**
 * A/B comparison of one metric, `base` = A (baseline), `cand` = B (shape: `Comparison`;
 * ratio = median(B) / median(A); improvementPct = (1 − ratio)·100 for "lower", (ratio − 1)·100 for
 * "higher"; m = minImprovementPct / 100). Rules of docs/design.md, "Verdict rules" ("no significant
 * change only when the CI is narrow enough to exclude min_improvement either way; a significant
 * slowdown is slower; a wide CI is inconclusive with the runs that would settle it"), in order:
 * 1. "inconclusive" if EITHER side's cvPct > maxCvPct, or `compromised` is set (a non-empty string).
 *    Ratio, CI and p are still reported. More runs do not lower a CV, so when the numbers alone
 *    would also be inconclusive (rule 5) the reason says so and `runsNeeded` is the run count that
 *    would settle the CI at this noise (not set when compromised: that measurement is redone, not
 *    extended).
 * 2. "faster" if p < alpha and the whole CI clears the minimum on the better side (lower:
 *    ci[1] ≤ 1 − m; higher: ci[0] ≥ 1 + m). "faster" means *better in the metric's direction*, also
 *    for "higher". The burden is on the claim: the CI's worst case must still be an improvement.
 * 3. "slower" if p < alpha, the whole CI lies on the worse side of 1 (lower: ci[0] > 1; higher:
 *    ci[1] < 1) and the point estimate is worse by at least the minimum (lower: ratio ≥ 1 + m;
 *    higher: ratio ≤ 1 − m).
 *    A lighter burden than "faster" on purpose: a slowdown label ships nothing (the candidate is
 *    rejected either way), so "it is worse (Mann–Whitney and the CI agree) and by a material amount"
 *    is enough — the 27% slowdown with p = 0.0089 and a CI that did not clear +5% is "slower".
 *    A significant slowdown smaller than the minimum falls to rule 4 or 5, so a trivial +0.5% is
 *    not shouted as "slower" while a 0.5% gain is not claimed either.
 * 4. "no significant change" if the CI lies inside (1 − m, 1 + m): narrow enough to exclude a change
 *    of min_improvement either way (an equivalence test in the sense of Schuirmann's TOST, 1987, with
 *    the bootstrap CI as the interval). A significant but smaller-than-minimum difference is said so
 *    in the reason. With m = 0 the band is empty and this verdict is never given.
 * 5. otherwise "inconclusive": the CI is too wide for any of the above; `runsNeeded` =
 *    `estimateRunsNeeded` (runs per side that would settle it) and the reason ends "about N runs a
 *    side would settle it".
 * `reason` states the rule that decided, with its numbers. Throws StatsInputError on
 * empty/non-finite samples, a value of A ≤ 0 or of B < 0 (see `bootstrapRatioCI`), or options out of
 * range.
 */
export function compareSamples(
  base: readonly number[],
  cand: readonly number[],
  opts: CompareOptions,
): Comparison {
  const { metric, unit, direction, alpha = 0.01, minImprovementPct: minPct = 5, maxCvPct = 10 } = opts;
  const { confidence = 0.95, seed = 1, iterations = 10_000, compromised } = opts;
  need(alpha > 0 && alpha < 1, `compareSamples: alpha ${alpha} not in (0, 1)`);
  need(minPct >= 0 && minPct < 100, `compareSamples: minImprovementPct ${minPct} not in [0, 100)`);
  need(maxCvPct > 0, `compareSamples: maxCvPct ${maxCvPct} not > 0`);
  const a = summarize(base);
  const b = summarize(cand);
  const ci = bootstrapRatioCI(base, cand, { iterations, confidence, seed });
  const pValue = mannWhitneyU(base, cand).p;
  const ratio = b.median / a.median;
  const lower = direction === "lower";
  const improvementPct = lower ? (1 - ratio) * 100 : (ratio - 1) * 100;
  const bandLo = (100 - minPct) / 100;
  const bandHi = (100 + minPct) / 100;
  const limit = lower ? bandLo : bandHi;
  const significant = pValue < alpha;
  const clears = lower ? ci[1] <= limit : ci[0] >= limit;
  const offOne = lower ? ci[0] > 1 : ci[1] < 1;
  const looksBetter = lower ? ratio <= bandLo : ratio >= bandHi;
  const looksWorse = lower ? ratio >= bandHi : ratio <= bandLo;
  const withinBand = ci[0] > bandLo && ci[1] < bandHi;

  // Shown as the change of the metric in % (as the report's tables show it), with enough decimals
  // that no bound appears on the wrong side of 0 or of the minimum.
  const pcts = [...ci, ratio].map((r) => (r - 1) * 100);
  const d = honestDecimals(pcts, [0, -minPct, minPct], 1);
  const ciText = `${+(confidence * 100).toFixed(2)}% CI ${signedPct(pcts[0] ?? 0, d)} … ${signedPct(pcts[1] ?? 0, d)}`;
  const pText = `p = ${formatP(pValue, alpha)} ${significant ? "<" : "≥"} ${alpha}`;
  const bound = `${lower ? "upper bound ≤" : "lower bound ≥"} ${signedPct((limit - 1) * 100, d)}`;
  const band = `(${signedPct(-minPct, d)}, ${signedPct(minPct, d)})`;
  const tail = `${direction} is better; median change ${signedPct(pcts[2] ?? 0, d)}`;
  const cvOf = (s: SampleStats) => s.cvPct.toFixed(honestDecimals([s.cvPct], [maxCvPct], 1));
  const cvs = `CV A ${cvOf(a)}%, B ${cvOf(b)}%`;
  const moved = `B measured ${Math.abs(improvementPct).toFixed(1)}% ${improvementPct >= 0 ? "better" : "worse"}`;

  let verdict: ComparisonVerdict;
  let reason: string;
  let runsNeeded: number | undefined;
  if (significant && clears) {
    verdict = "faster";
    reason = `B is ${improvementPct.toFixed(1)}% better: ${pText} and the ${ciText} clears the ${minPct}% minimum (${bound}) (${tail})`;
  } else if (significant && offOne && looksWorse) {
    verdict = "slower";
    reason = `B is ${(-improvementPct).toFixed(1)}% worse: ${pText}, the ${ciText} lies wholly on the worse side of 0% and the median is worse by at least the ${minPct}% minimum (${tail})`;
  } else if (withinBand) {
    verdict = "no significant change";
    const small = significant
      ? `; ${pText}: a real difference, but smaller than the ${minPct}% minimum`
      : `; ${pText}`;
    reason = `no significant change: the ${ciText} lies within ${band}, which excludes a change of ${minPct}% either way${small} (${tail})`;
  } else {
    verdict = "inconclusive";
    runsNeeded = estimateRunsNeeded({
      direction,
      ratio,
      ci,
      cvPctA: a.cvPct,
      cvPctB: b.cvPct,
      nA: a.n,
      nB: b.n,
      confidence,
      alpha,
      minImprovementPct: minPct,
    });
    const why = looksBetter
      ? clears
        ? `clears the ${minPct}% minimum, but the difference is not significant`
        : `does not clear the ${minPct}% minimum (needs ${bound}) and is too wide to exclude a change of ${minPct}% either way`
      : looksWorse
        ? offOne
          ? "lies on the worse side of 0%, but the difference is not significant"
          : `reaches the better side of 0%, so the slowdown is not established, and is too wide to exclude a change of ${minPct}% either way`
        : `reaches outside ${band}, so it cannot exclude a change of ${minPct}% either way`;
    reason = `inconclusive: ${moved} (${pText}), but the ${ciText} ${why}; ${runsText(runsNeeded)} (${cvs}; n = ${a.n}+${b.n}; ${tail})`;
  }

  const doubts: string[] = [];
  if (a.cvPct > maxCvPct) doubts.push(`baseline CV ${cvOf(a)}% > ${maxCvPct}% limit`);
  if (b.cvPct > maxCvPct) doubts.push(`candidate CV ${cvOf(b)}% > ${maxCvPct}% limit`);
  if (compromised) doubts.push(`measurement compromised: ${compromised}`);
  if (doubts.length > 0) {
    const numbersAlone = verdict;
    verdict = "inconclusive";
    reason = `inconclusive: ${doubts.join("; ")} (observed ${ciText}, ${pText}, ${tail}; no claim made)`;
    if (compromised) runsNeeded = undefined;
    else if (numbersAlone === "inconclusive" && runsNeeded !== undefined)
      reason += `; more runs do not lower a CV (quiet the machine, or raise statistics.max_cv), and at this noise ${runsText(runsNeeded)}`;
  }
  return {
    metric,
    unit,
    direction,
    a,
    b,
    ratio,
    ci,
    confidence,
    pValue,
    alpha,
    minImprovementPct: minPct,
    improvementPct,
    verdict,
    reason,
    ...(doubts.length > 0 ? { untrusted: doubts.join("; ") } : {}),
    ...(runsNeeded !== undefined ? { runsNeeded } : {}),
  };
}
