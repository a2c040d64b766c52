/**
 * Number formatting for every perfloop report (report.md, perf_summary.md, check runs).
 * Formatters only round and pick units: they never derive a statistic, so every number shown can be
 * traced to results.json. Negative numbers use U+2212 "−" (typographic minus); non-finite input
 * gives "n/a" rather than "NaN ms".
 */

/** The minus sign reports use ("−", U+2212), so "−4.1%" never reads as a hyphen. */
export const MINUS = "\u2212";

/** Decimals that show `x` (≥ 0) with 3 significant digits, at least 0 and at most 12. */
function decimalsFor3(x: number): number {
  if (x === 0) return 2;
  // Decide on the rounded value so 99.96 → "100" (0 decimals), not "100.0".
  if (x >= 99.95) return 0;
  if (x >= 9.995) return 1;
  if (x >= 0.9995) return 2;
  return Math.min(12, 2 - Math.floor(Math.log10(x)));
}

/** `x` (≥ 0) with 3 significant digits, trailing zeros kept ("1.50", "12.4", "842", "1234"). */
function sig3(x: number): string {
  return x.toFixed(decimalsFor3(x));
}

/** A scaled unit: values are divided by `div`; the unit is used while the rounded value is < `below`. */
interface Scale {
  div: number;
  unit: string;
  below: number;
}

/** Formats `x` ≥ 0 with the first scale whose rounded display stays under its limit. */
function scaled(x: number, scales: readonly Scale[], digits: (v: number) => string): string {
  for (const [i, s] of scales.entries()) {
    const text = digits(x / s.div);
    if (i === scales.length - 1 || Number(text) < s.below) return `${text} ${s.unit}`;
  }
  return String(x); // unreachable: the last scale always matches
}

/** Prefixes "−" for negative `x` and formats |x| with `f`; "n/a" for NaN/±Infinity. */
function signed(x: number, f: (abs: number) => string): string {
  if (!Number.isFinite(x)) return "n/a";
  return x < 0 ? `${MINUS}${f(-x)}` : f(x);
}

const TIME_SCALES: readonly Scale[] = [
  { div: 1e-3, unit: "µs", below: 1000 },
  { div: 1, unit: "ms", below: 1000 },
  { div: 1000, unit: "s", below: 60 },
  { div: 60_000, unit: "min", below: 60 },
  { div: 3_600_000, unit: "h", below: Number.POSITIVE_INFINITY },
];

/**
 * A duration given in milliseconds, 3 significant digits in the largest unit that keeps the value
 * ≥ 1: "842 µs" → "12.4 ms" → "842 ms" → "1.23 s" → "2.05 min" → "1.50 h". Zero is "0 ms".
 * Negative durations get "−"; NaN/Infinity give "n/a".
 */
export function formatMs(ms: number): string {
  if (ms === 0) return "0 ms";
  return signed(ms, (abs) => scaled(abs, abs < 0.9995 ? TIME_SCALES : TIME_SCALES.slice(1), sig3));
}

const BYTE_SCALES: readonly Scale[] = [
  { div: 1024, unit: "KiB", below: 1024 },
  { div: 1024 ** 2, unit: "MiB", below: 1024 },
  { div: 1024 ** 3, unit: "GiB", below: 1024 },
  { div: 1024 ** 4, unit: "TiB", below: Number.POSITIVE_INFINITY },
];

/**
 * A size in bytes with binary (IEC) units: whole bytes below 1 KiB ("512 B"), then 3 significant
 * digits in KiB, MiB, GiB or TiB (1 KiB = 1024 B): "1.50 KiB", "12.3 MiB", "1.23 GiB".
 * Negative sizes (e.g. an RSS change) get "−"; NaN/Infinity give "n/a".
 */
export function formatBytes(bytes: number): string {
  return signed(bytes, (abs) =>
    Math.round(abs) < 1024 ? `${Math.round(abs)} B` : scaled(abs, BYTE_SCALES, sig3),
  );
}

/**
 * A signed percentage with `decimals` decimals (default 1): "+12.3%", "−4.1%"; "0.0%" when it rounds
 * to zero (no "−0.0%"). Input is already in % (12.3 means 12.3%). NaN/Infinity give "n/a". The
 * verdict reasons (measure/stats.ts) use more decimals where one would put a bound on the wrong side.
 */
export function formatPct(pct: number, decimals = 1): string {
  if (!Number.isFinite(pct)) return "n/a";
  const text = Math.abs(pct).toFixed(decimals);
  if (Number(text) === 0) return `${(0).toFixed(decimals)}%`;
  return `${pct < 0 ? MINUS : "+"}${text}%`;
}

/**
 * A confidence interval of a ratio of medians (B/A, as in `Comparison.ci`) shown as the % change of
 * the metric it implies, low bound first: [0.530, 0.559] → "−47.0% … −44.1%"; [1.02, 1.10] →
 * "+2.0% … +10.0%". The sign convention is the one of the "change %" column ((ratio − 1)·100), so for
 * a lower-is-better metric an improvement reads negative and for a higher-is-better one positive.
 */
export function formatCi(ci: readonly [number, number]): string {
  return `${formatPct((ci[0] - 1) * 100)} … ${formatPct((ci[1] - 1) * 100)}`;
}

/**
 * A p-value without the "p": "< 0.001" below 0.001, else 2 significant digits ("0.004", "0.0043",
 * "0.45", "1"). With `alpha`, more digits are shown where rounding would put p on the other side of
 * alpha (0.00996 with α = 0.01 → "0.00996", never "0.01"). NaN gives "n/a".
 */
export function formatPValue(p: number, alpha?: number): string {
  if (Number.isNaN(p)) return "n/a";
  if (p < 0.001) return "< 0.001";
  for (let digits = 2; digits <= 12; digits++) {
    const shown = Number(p.toPrecision(digits));
    if (alpha === undefined || Math.sign(shown - alpha) === Math.sign(p - alpha)) return String(shown);
  }
  return String(p);
}

/** A p-value for prose: "p < 0.001" or "p = 0.004" (rules of `formatPValue`, same `alpha` option). */
export function formatP(p: number, alpha?: number): string {
  const value = formatPValue(p, alpha);
  return value.startsWith("<") ? `p ${value}` : `p = ${value}`;
}

/**
 * A plain number: thousands separators and no decimals from 1,000 up ("12,346"), else 3 significant
 * digits with trailing zeros dropped ("42", "0.95", "12.3", "0.000123"). "−" for negatives; "n/a" for
 * NaN/Infinity.
 */
export function formatNumber(x: number): string {
  return signed(x, (abs) => {
    if (Math.round(abs) >= 1000) return Math.round(abs).toLocaleString("en-US");
    return String(Number(sig3(abs)));
  });
}

/** An unsigned share with one decimal: 87.04 → "87.0%" (input in %). "n/a" if not finite. */
export function formatPercent(pct: number): string {
  return Number.isFinite(pct)
    ? `${Math.abs(pct) < 0.05 ? "0.0" : pct.toFixed(1).replace("-", MINUS)}%`
    : "n/a";
}

/** A factor with two decimals and "×": 1.838 → "1.84×" (speedups, Amdahl bounds). "n/a" if not finite. */
export function formatFactor(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : "n/a";
}

/**
 * A measured value in its unit: "ms" → `formatMs`, "bytes" → `formatBytes`, any other unit → the
 * plain number followed by the unit ("1,234 items/s"; no unit when `unit` is empty). The unit is
 * copied as is: callers escape the result when it goes into markdown (the unit comes from config).
 */
export function formatValue(value: number, unit: string): string {
  if (unit === "ms") return formatMs(value);
  if (unit === "bytes") return formatBytes(value);
  const n = formatNumber(value);
  return unit.trim() === "" ? n : `${n} ${unit.trim()}`;
}
