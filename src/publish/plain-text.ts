/**
 * Plain text for the places GitHub does not render markdown: pull request titles, check-run titles,
 * annotation titles. There, markdown escapes (backslashes, entities, zero-width joiners; see
 * src/core/report/escape.ts) would show as written, so these strings are built from the raw
 * values instead; only control and bidi characters are removed and whitespace is collapsed.
 */
import { changePct, runsNeededWords } from "../core/report/comparison.ts";
import { clipText, UNSAFE_CHARS } from "../core/report/escape.ts";
import { formatFactor, formatPct } from "../core/report/format.ts";
import type { Comparison } from "../core/types.ts";

/** `text` without control or bidi characters, on one line (every run of whitespace is one space). */
export function plainText(text: string): string {
  return text.replace(UNSAFE_CHARS, "").replace(/\s+/g, " ").trim();
}

/**
 * The headline of a comparison as plain text, the words of core's `headline` without markdown:
 * "1.84× faster" / "1.12× slower" (a duration, lower is better), "throughput +12.3% (better)"
 * for another metric, else the verdict ("no significant change", "inconclusive (about 19 runs a
 * side would settle it)"). The metric name is the config's, cut to 80 characters.
 */
export function plainHeadline(c: Comparison): string {
  if (c.verdict === "faster" || c.verdict === "slower") {
    const time = c.direction === "lower" && (c.unit === "ms" || c.unit === "s");
    if (time) return `${formatFactor(c.verdict === "faster" ? 1 / c.ratio : c.ratio)} ${c.verdict}`;
    const metric = clipText(plainText(c.metric), 80);
    return `${metric} ${formatPct(changePct(c))} (${c.verdict === "faster" ? "better" : "worse"})`;
  }
  const runs = runsNeededWords(c);
  return runs ? `${c.verdict} (${runs})` : c.verdict;
}
