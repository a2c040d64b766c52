/**
 * How many runs a side would settle an inconclusive comparison (src/core/measure/stats.ts
 * `compareSamples`, rule 5): the estimate, its cap and its wording.
 */
import { normalSf } from "./mann-whitney.ts";
import { need } from "./stats-input.ts";

/**
 * Largest `Comparison.runsNeeded` reported, runs per side: an estimate at the cap means "this many or
 * more" — the observed change sits so close to a decision threshold that no practical number of runs
 * is sure to settle it (`repetitions.runs` itself stops at 200, src/core/config/schema.ts).
 */
export const RUNS_NEEDED_CAP = 1000;

/**
 * Standard normal quantile Φ⁻¹(q) for q in (0, 1) (unitless): bisection on `normalSf` (P(Z > z), A&S
 * 7.1.6 / 7.1.14) to 1e-12 — slow next to a rational approximation, but exact to the precision of
 * `normalSf` and called once per comparison. Throws StatsInputError for q outside (0, 1).
 */
export function normalQuantile(q: number): number {
  need(q > 0 && q < 1, `normalQuantile: q ${q} not in (0, 1)`);
  let lo = -40;
  let hi = 40;
  while (hi - lo > 1e-12) {
    const mid = (lo + hi) / 2;
    if (1 - normalSf(mid) < q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Smallest n per side at which a two-sided exact Mann–Whitney p can fall below `alpha`: with complete
 * separation and no ties p = 2 / C(2n, n) (Mann & Whitney 1947), so n = 5 for alpha = 0.01
 * (2/252 = 0.0079; the same bound as `repetitions.runs` ≥ 5 in src/core/config/schema.ts).
 */
function mwuMinRuns(alpha: number): number {
  let central = 1; // C(2n, n)
  for (let n = 1; n < 200; n++) {
    central *= (2 * n * (2 * n - 1)) / (n * n);
    if (2 / central < alpha) return n;
  }
  return 200;
}

/** What `estimateRunsNeeded` reads (a `Comparison`'s own numbers, plus the rule's settings). */
export interface RunsNeededInput {
  direction: "lower" | "higher";
  /** median(B) / median(A) and its bootstrap CI (unitless). */
  ratio: number;
  ci: readonly [number, number];
  /** CV of each side, % (`SampleStats.cvPct`), and counted runs of each side. */
  cvPctA: number;
  cvPctB: number;
  nA: number;
  nB: number;
  /** CI coverage and Mann–Whitney alpha (fractions); `min_improvement` in %. */
  confidence: number;
  alpha: number;
  minImprovementPct: number;
}

/**
 * Runs per side that would likely settle an inconclusive comparison, assuming the true ratio is the
 * observed one and the noise stays as observed (an integer in [2, RUNS_NEEDED_CAP]).
 *
 * Target half-width h of the CI in log-ratio space (L = ln ratio, m = min_improvement / 100): the
 * distance from L to the threshold that would decide —
 * - L inside (ln(1−m), ln(1+m)): the nearer band edge ("no significant change" needs the whole CI
 *   inside the band);
 * - L beyond the better threshold: the distance to it ("faster" needs the whole CI past it);
 * - L beyond the worse threshold: the distance to 0, i.e. ratio 1 ("slower" needs the CI off 1);
 * and never less than ln(1 + m) / 2, half the band: the observed ratio is itself uncertain, and
 * planning on it as if it were the truth ("observed power", Hoenig & Heisey 2001, The American
 * Statistician 55:19) would chase a threshold the next measurement may put elsewhere; a true change
 * that close to a threshold is not worth settling at any cost.
 *
 * Two estimates of n for that h, the larger wins:
 * - normal theory from the CVs: the asymptotic variance of the sample median, 1 / (4n · f(median)²)
 *   (Cramér 1946, "Mathematical Methods of Statistics"), is π/2 · σ²/n for a normal population
 *   (efficiency 2/π), so Var(ln median) ≈ π/2 · CV²/n and, with the two sides independent,
 *   n = π/2 · z² · (CV_A² + CV_B²) / h², z = Φ⁻¹((1 + confidence)/2) — the usual sample size for a
 *   target CI half-width, n = (z·σ/h)², applied to the log of the ratio of medians;
 * - the observed CI scaled by 1/√n (the bootstrap interval of a √n-consistent statistic, Efron &
 *   Tibshirani 1993): n = n_eff · (h_obs / h)², h_obs = (ln ci[1] − ln ci[0]) / 2, n_eff the harmonic
 *   mean of nA and nB. It covers skewed samples and outliers, where the CV understates the spread of
 *   the median.
 * The result is at least n_eff + 1 (these runs did not settle it), at least the smallest n at which a
 * Mann–Whitney p can reach alpha when the decision is a claim ("faster" / "slower"), and at most
 * RUNS_NEEDED_CAP (also when h = 0: m = 0 and the ratio is exactly 1). At that n the CI is expected
 * to just fit, so it is a scale, not a guarantee: for an A/A at CV 5% the median estimate settles
 * most (≥ 60%) fresh draws (test/stats.test.ts). Throws StatsInputError for confidence or alpha
 * outside (0, 1).
 */
export function estimateRunsNeeded(input: RunsNeededInput): number {
  const { direction, ratio, ci, cvPctA, cvPctB, nA, nB, confidence, alpha, minImprovementPct } = input;
  need(alpha > 0 && alpha < 1, `estimateRunsNeeded: alpha ${alpha} not in (0, 1)`);
  const m = minImprovementPct / 100;
  const L = Math.log(ratio);
  const bandLo = Math.log(1 - m);
  const bandHi = Math.log(1 + m);
  let h: number;
  let claim = true;
  if (L > bandLo && L < bandHi) {
    h = Math.min(L - bandLo, bandHi - L);
    claim = false;
  } else if (L >= bandHi) {
    h = direction === "lower" ? L : L - bandHi; // slower: off ratio 1; faster: past 1 + m
  } else {
    h = direction === "lower" ? bandLo - L : -L; // faster: past 1 − m; slower: off ratio 1
  }
  // The observed ratio is itself uncertain ("observed power", Hoenig & Heisey 2001): never plan to
  // resolve a threshold closer than half the band, ln(1 + m) / 2, or the count chases noise.
  h = Math.max(h, bandHi / 2);
  const z = normalQuantile((1 + confidence) / 2);
  const cvA = cvPctA / 100;
  const cvB = cvPctB / 100;
  const nEff = 2 / (1 / nA + 1 / nB);
  const fromCv = ((Math.PI / 2) * z * z * (cvA * cvA + cvB * cvB)) / (h * h);
  const hObs = (Math.log(ci[1]) - Math.log(ci[0])) / 2;
  const fromCi = Number.isFinite(hObs) ? nEff * (hObs / h) ** 2 : 0;
  const floor = Math.max(Math.floor(nEff) + 1, claim ? mwuMinRuns(alpha) : 2);
  const n = Math.max(Math.ceil(fromCv), Math.ceil(fromCi), floor);
  return Number.isFinite(n) && h > 0 ? Math.min(n, RUNS_NEEDED_CAP) : RUNS_NEEDED_CAP;
}

/** "about 19 runs a side would settle it", or "even 1000 runs a side may not …" at the cap. */
export function runsText(runs: number): string {
  return runs >= RUNS_NEEDED_CAP
    ? `even ${RUNS_NEEDED_CAP} runs a side may not settle it at this noise`
    : `about ${runs} runs a side would settle it`;
}
