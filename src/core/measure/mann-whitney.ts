/**
 * The Mann–Whitney U test (two-sided) of the measurement protocol: exact null distribution for small
 * samples without ties, normal approximation with tie and continuity correction otherwise (as scipy's
 * `mannwhitneyu(method="asymptotic", use_continuity=True)`).
 */
import { checkSample } from "./stats-input.ts";

/** Upper tail of the standard normal, P(Z > z), to ~1e-15 absolute (series / continued fraction for erfc). */
export function normalSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z < 0) return 1 - normalSf(-z);
  const x = z / Math.SQRT2;
  if (x < 2.5) {
    // erf(x) = 2/√π · e^(−x²) · Σ 2^k x^(2k+1) / (1·3·…·(2k+1))  (A&S 7.1.6; all terms positive)
    let term = x;
    let sum = x;
    for (let k = 1; term > sum * 1e-17; k++) {
      term *= (2 * x * x) / (2 * k + 1);
      sum += term;
    }
    return 0.5 * (1 - (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum);
  }
  // erfc(x) = e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …))))  (A&S 7.1.14), evaluated bottom-up
  let f = x;
  for (let k = 200; k >= 1; k--) f = x + k / 2 / f;
  return (0.5 * Math.exp(-x * x)) / Math.sqrt(Math.PI) / f;
}

/** Result of `mannWhitneyU`: U of sample a, two-sided p-value (0..1), and how p was computed. */
export interface MannWhitneyResult {
  u: number;
  p: number;
  method: "exact" | "normal";
}

/** Largest size of either sample for which `mannWhitneyU` uses the exact null distribution. */
export const MWU_EXACT_MAX_N = 50;

/** P(U ≥ u) under H0 for sample sizes m, n without ties (recurrence of Mann & Whitney 1947, on probabilities). */
function exactUpperTail(u: number, m: number, n: number): number {
  // pmf(i, j)[k] = P(U = k) for sizes (i, j). The largest of the i+j values is from the first sample
  // with probability i/(i+j) and then beats all j others: pmf(i,j)[k] = i/(i+j)·pmf(i−1,j)[k−j] + j/(i+j)·pmf(i,j−1)[k].
  let prev: Float64Array[] = Array.from({ length: n + 1 }, () => Float64Array.of(1));
  for (let i = 1; i <= m; i++) {
    const cur: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= n; j++) {
      const d = new Float64Array(i * j + 1);
      const up = prev[j] as Float64Array;
      const left = cur[j - 1] as Float64Array;
      const wUp = i / (i + j);
      const wLeft = j / (i + j);
      for (let k = 0; k < up.length; k++) d[k + j] = wUp * (up[k] as number);
      for (let k = 0; k < left.length; k++) d[k] = (d[k] as number) + wLeft * (left[k] as number);
      cur.push(d);
    }
    prev = cur;
  }
  const pmf = prev[n] as Float64Array;
  let tail = 0;
  for (let k = pmf.length - 1; k >= Math.ceil(u); k--) tail += pmf[k] as number;
  return tail;
}

/**
 * Two-sided Mann–Whitney U test of samples a and b (any unit, same for both).
 * `u` is U1 = R1 − n1(n1+1)/2 with R1 the sum of a's (mid-)ranks: the count of pairs with a > b,
 * ties counting ½ (scipy.stats.mannwhitneyu's convention). With U = max(U1, U2):
 * - "exact" when there are no ties and both n ≤ MWU_EXACT_MAX_N: p = 2·P(U' ≥ U) from the exact null
 *   distribution (scipy method='exact');
 * - otherwise "normal": z = (U − n1n2/2 − ½) / √(n1n2/12 · ((n+1) − Σ(t³−t)/(n(n−1)))), p = 2·P(Z > z)
 *   (scipy method='asymptotic', use_continuity=True; tie correction over tie groups of size t).
 * p is clamped to ≤ 1; p = 1 when every value is equal. Throws StatsInputError on empty/non-finite input.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  checkSample(a, "mannWhitneyU(a)");
  checkSample(b, "mannWhitneyU(b)");
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  const v = [...a, ...b];
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => (v[i] as number) - (v[j] as number));
  let r1 = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && v[order[j] as number] === v[order[i] as number]) j++;
    const t = j - i;
    const rank = (i + 1 + j) / 2; // mid-rank of 1-based positions i+1..j
    for (let k = i; k < j; k++) if ((order[k] as number) < n1) r1 += rank;
    tieTerm += t * t * t - t;
    i = j;
  }
  const u1 = r1 - (n1 * (n1 + 1)) / 2;
  const big = Math.max(u1, n1 * n2 - u1);
  if (tieTerm === 0 && n1 <= MWU_EXACT_MAX_N && n2 <= MWU_EXACT_MAX_N) {
    const p = 2 * exactUpperTail(big, Math.min(n1, n2), Math.max(n1, n2));
    return { u: u1, p: Math.min(1, p), method: "exact" };
  }
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  if (!(variance > 0)) return { u: u1, p: 1, method: "normal" };
  const z = (big - (n1 * n2) / 2 - 0.5) / Math.sqrt(variance);
  return { u: u1, p: Math.min(1, 2 * normalSf(z)), method: "normal" };
}
