/** Input checks shared by the statistics modules. */

/** Thrown on input the statistics cannot be computed from (empty, non-finite, out-of-range options). */
export class StatsInputError extends Error {
  override name = "StatsInputError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Throws StatsInputError with `message` unless `ok`. */
export function need(ok: boolean, message: string): void {
  if (!ok) throw new StatsInputError(message);
}

/** Throws StatsInputError unless `xs` is a non-empty sample of finite numbers. */
export function checkSample(xs: readonly number[], what: string): void {
  need(xs.length > 0, `${what}: empty sample`);
  const bad = xs.findIndex((x) => !Number.isFinite(x));
  need(bad < 0, `${what}: non-finite value ${xs[bad]} at index ${bad}`);
}
