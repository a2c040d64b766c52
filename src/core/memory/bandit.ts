/**
 * The bandit that picks a strategy (and prompt variant) per bottleneck category: Bernoulli Thompson
 * sampling (W. R. Thompson, "On the likelihood that one unknown probability exceeds another in view of
 * the evidence of two samples", Biometrika 25, 1933; analysed by Agrawal & Goyal, "Analysis of Thompson
 * Sampling for the Multi-armed Bandit Problem", COLT 2012). Each arm's success probability has a
 * Beta(α + successes, β + failures) posterior; one draw per arm, the highest draw is played. The draws
 * come from the seeded mulberry32 generator of measure/stats.ts, so a run's choice is reproducible.
 */

/** One arm's record. A success is a candidate of this arm accepted by every gate. */
export interface ArmRecord {
  id: string;
  successes: number;
  failures: number;
  /** Prior pseudo-counts, default 1 and 1 (the uniform prior). */
  alpha?: number;
  beta?: number;
}

/** The choice and the draws that made it. */
export interface BanditChoice {
  id: string;
  draws: Record<string, number>;
}

/**
 * Picks an arm by Thompson sampling. Ties (equal draws) go to the earlier arm.
 * @throws RangeError when `arms` is empty or a count is negative.
 */
export function thompsonChoose(arms: readonly ArmRecord[], rng: () => number): BanditChoice {
  if (arms.length === 0) throw new RangeError("thompsonChoose: no arms");
  const draws: Record<string, number> = {};
  let best: ArmRecord | undefined;
  let bestDraw = -1;
  for (const arm of arms) {
    if (arm.successes < 0 || arm.failures < 0)
      throw new RangeError(`thompsonChoose: negative count for ${arm.id}`);
    const draw = sampleBeta((arm.alpha ?? 1) + arm.successes, (arm.beta ?? 1) + arm.failures, rng);
    draws[arm.id] = draw;
    if (draw > bestDraw) {
      best = arm;
      bestDraw = draw;
    }
  }
  return { id: (best as ArmRecord).id, draws };
}

/**
 * A Beta(a, b) draw as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b) (the standard construction).
 * @throws RangeError for a ≤ 0 or b ≤ 0.
 */
export function sampleBeta(a: number, b: number, rng: () => number): number {
  if (!(a > 0 && b > 0)) throw new RangeError(`sampleBeta: parameters must be > 0, got ${a}, ${b}`);
  const x = sampleGamma(a, rng);
  const y = sampleGamma(b, rng);
  return x / (x + y);
}

/**
 * A Gamma(shape, 1) draw by Marsaglia & Tsang's squeeze method ("A simple method for generating gamma
 * variables", ACM TOMS 26(3), 2000); for shape < 1, Gamma(shape + 1) · U^(1/shape) (their §6).
 */
export function sampleGamma(shape: number, rng: () => number): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * (1 - rng()) ** (1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng(); // in (0, 1]
    if (u < 1 - 0.0331 * x ** 4) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A standard normal draw (Box–Muller transform). */
function standardNormal(rng: () => number): number {
  const u = 1 - rng(); // in (0, 1], so the log is finite
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
