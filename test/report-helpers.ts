/**
 * Shared fixtures and markdown helpers of the report tests: the improved.json fixture (validated),
 * variants built from it (no improvement, baseline failed, error, many rounds), and small parsers
 * for fences, mermaid blocks and GFM tables.
 */
import { readFileSync } from "node:fs";
import { parseResults, type Results, type RoundRecord } from "../src/core/evidence/results-schema.ts";

export const raw: unknown = JSON.parse(
  readFileSync(new URL("fixtures/results/improved.json", import.meta.url), "utf8"),
);
export const improved = parseResults(raw);

/** A deep copy of the fixture, changed by `edit`, validated again. */
export function variant(edit: (r: Results) => void): Results {
  const r = structuredClone(improved);
  edit(r);
  return parseResults(r);
}

export const noImprovement = variant((r) => {
  const c = r.final?.primary;
  if (!r.final || !c) throw new Error("fixture has no final");
  Object.assign(c, {
    ratio: 0.99,
    improvementPct: 1,
    ci: [0.97, 1.01],
    pValue: 0.43,
    verdict: "no significant change",
  });
  r.status = "no-improvement";
  r.message = "No candidate improved wall time significantly.";
  r.final.comparisons = [c];
  r.final.changedFiles = [];
  r.final.recommendations = [];
  for (const round of r.rounds)
    Object.assign(round, { outcome: "rejected", gate: "performance", bestImprovementPct: 0 });
});

export const baselineFailed = variant((r) => {
  Object.assign(r, {
    status: "baseline-failed",
    baseline: null,
    final: null,
    rounds: [],
    verdicts: [],
    hotSpots: [],
  });
  r.message = "tests failed on the unmodified code: 2 failed, 31 passed";
  r.stopReason = "red baseline";
});

export const errored = variant((r) => {
  Object.assign(r, { status: "error", final: null, rounds: [] });
  r.message = "model endpoint unreachable: connect ECONNREFUSED 127.0.0.1:8000";
});

/** `count` rounds cloned from the fixture's first, each with a long rationale. */
export function manyRounds(count: number, rationaleChars = 3000): Results {
  return variant((r) => {
    const first = r.rounds[0] as RoundRecord;
    r.rounds = Array.from({ length: count }, (_, i) => ({
      ...structuredClone(first),
      n: i + 1,
      bestImprovementPct: Math.min(45, i * 1.5),
      rationale: `Round ${i + 1}: ${"the loop allocates per item; hoist it. ".repeat(rationaleChars / 40)}`,
    }));
  });
}

/** Fences are balanced: every opening ``` (any length ≥ 3) is closed by a fence at least as long. */
export function fencesBalanced(md: string): boolean {
  let open = 0;
  for (const line of md.split("\n")) {
    const m = /^(`{3,})(.*)$/.exec(line);
    if (!m) continue;
    const len = (m[1] as string).length;
    if (open === 0) open = len;
    else if (len >= open && (m[2] as string).trim() === "") open = 0;
  }
  return open === 0;
}

/** The bodies of the ```mermaid blocks. */
export function mermaidBlocks(md: string): string[][] {
  return [...md.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => (m[1] as string).split("\n"));
}

/** The cells of the GFM table right after `heading`, header row first (delimiter row left out). */
export function tableAfter(md: string, heading: string): string[][] {
  const lines = md.slice(md.indexOf(heading)).split("\n");
  const start = lines.findIndex((l) => l.startsWith("|"));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith("|")) break;
    rows.push(
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((c) => c.trim()),
    );
  }
  return rows.filter((_, i) => i !== 1);
}
