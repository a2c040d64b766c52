/**
 * The performance gate's parts of report.md (docs/gate.md): the title, the line naming the two
 * commits and the threshold, and for a regressed head the functions whose share of the profile grew
 * (marked when the pull request changed them) with the way to try a fix.
 */
import type { Results } from "../evidence/results-schema.ts";
import { clipText, codeSpan, escapeInline } from "./escape.ts";
import { formatPct, formatPercent } from "./format.ts";

const MARK = { passed: "✅", regressed: "❌", inconclusive: "❔" } as const;

/** "## perfloop gate · ❌ regressed: CPU time +20.7% (95% CI …) …", or null outside mode gate. */
export function gateTitle(r: Results): string | null {
  if (!r.gate) return null;
  const g = r.gate;
  return `## perfloop gate · ${MARK[g.verdict]} ${g.verdict}: ${escapeInline(clipText(g.reason, 600))}`;
}

/** "Base `abc123…` (origin/main) against head `def456…` (HEAD); threshold 10%.", or null. */
export function gateSummaryLine(r: Results): string | null {
  if (!r.gate) return null;
  const side = (s: { ref: string; sha: string }) =>
    `${codeSpan(s.sha.slice(0, 12))}${s.ref !== s.sha ? ` (${escapeInline(clipText(s.ref, 80))})` : ""}`;
  return `Base ${side(r.gate.base)} (A) against head ${side(r.gate.head)} (B), interleaved; a head fails only when the whole interval of its slowdown lies past the ${r.gate.thresholdPct}% threshold (\`gate.threshold\`).`;
}

/**
 * "### What grew": for a regressed head, the functions whose self time grew most (their profile
 * share weighed by each side's median, src/core/loop/gate.ts), with ✎ on those the pull request
 * changed; then how to try a fix. "" otherwise.
 */
export function gateGrowthSection(r: Results): string {
  if (r.gate?.verdict !== "regressed") return "";
  const lines = ["### What grew", ""];
  if (r.gate.grown.length === 0)
    lines.push(
      "No function of the repository's own code grew (the time may be in libraries, start-up or waiting).",
    );
  else {
    lines.push(
      "| function | location | base self % | head self % | changed by this PR |",
      "| :-- | :-- | --: | --: | :-: |",
    );
    for (const g of r.gate.grown)
      lines.push(
        `| ${escapeInline(clipText(g.function, 80))} | ${escapeInline(clipText(g.file, 120))}:${g.line} | ${formatPercent(g.baseSelfPct)} | ${formatPercent(g.headSelfPct)} | ${g.changed === null ? "—" : g.changed ? "✎ yes" : "no"} |`,
      );
  }
  lines.push(
    "",
    "To try a fix: comment `/optimize` on the pull request (the perfloop App), or run `perfloop optimize` on the head.",
  );
  return lines.join("\n");
}

/**
 * "### Benchmarks": with further benchmarks (config `benchmarks:`), the gate's one table, one row
 * per benchmark: medians of base and head, the change and its 95% CI, the threshold, the verdict.
 * "" with a single benchmark (the before/after table shows it).
 */
export function gateBenchmarksSection(r: Results): string {
  const rows = r.gate?.benchmarks;
  if (!rows || rows.length < 2) return "";
  const value = (v: number, unit: string) =>
    `${Number(v.toPrecision(4))}${unit ? ` ${escapeInline(clipText(unit, 20))}` : ""}`;
  const lines = [
    "### Benchmarks",
    "",
    "| benchmark | metric | base median | head median | change | 95% CI | threshold | verdict |",
    "| :-- | :-- | --: | --: | --: | :-: | --: | :-- |",
    ...rows.map(
      (b) =>
        `| ${escapeInline(clipText(b.name, 60))} | ${escapeInline(clipText(b.metric, 60))} | ${value(b.baseMedian, b.unit)} | ${value(b.headMedian, b.unit)} | ${formatPct(b.changePct)} | ${formatPct(b.ciPct[0])} … ${formatPct(b.ciPct[1])} | ${b.thresholdPct}% | ${MARK[b.verdict]} ${b.verdict} |`,
    ),
  ];
  return lines.join("\n");
}
