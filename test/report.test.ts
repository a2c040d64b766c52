import { describe, expect, it } from "vitest";
import { parseResults, type Results, type RoundRecord } from "../src/core/evidence/results-schema.ts";
import { MAX_POINTS } from "../src/core/report/charts.ts";
import { DEFAULT_MAX_CHARS, MIN_MAX_CHARS, renderReport } from "../src/core/report/report.ts";
import {
  baselineFailed,
  errored,
  fencesBalanced,
  improved,
  manyRounds,
  mermaidBlocks,
  noImprovement,
  raw,
  tableAfter,
  variant,
} from "./report-helpers.ts";

describe("fixture", () => {
  it("improved.json is a valid results.json", () => {
    expect(() => parseResults(raw)).not.toThrow();
    expect(improved.status).toBe("improved");
  });
});

describe("renderReport", () => {
  const md = renderReport(improved);

  it("titles the outcome with the primary comparison in words", () => {
    expect(md.split("\n")[0]).toBe(
      "## perfloop · improved: **1.84× faster** (wall time −45.7%, 95% CI −46.5% … −45.0%, p < 0.001, n = 10+10)",
    );
  });

  it("has the before/after table with the fixture's numbers", () => {
    const rows = tableAfter(md, "### Before / after");
    expect(rows[0]).toEqual([
      "metric",
      "baseline median",
      "final median",
      "change %",
      "95% CI",
      "p",
      "n",
      "verdict",
    ]);
    expect(rows).toHaveLength(1 + (improved.final?.comparisons.length ?? 0));
    expect(rows[1]).toEqual([
      "wall time",
      "1.85 s",
      "1.00 s",
      "−45.7%",
      "−46.5% … −45.0%",
      "< 0.001",
      "10+10",
      "✅ faster",
    ]);
    expect(rows[2]).toEqual([
      "CPU time",
      "1.83 s",
      "981 ms",
      "−46.5%",
      "−47.1% … −45.2%",
      "< 0.001",
      "10+10",
      "✅ faster",
    ]);
    expect(rows[3]?.slice(0, 4)).toEqual(["peak RSS", "394 MiB", "379 MiB", "−3.9%"]);
    expect(rows[3]?.[7]).toBe("➖ no significant change");
  });

  it("states the verdict, hot spots, recommendations and how to reproduce", () => {
    expect(md).toContain("### Bottleneck: cpu-single-thread");
    expect(md).toContain("explains 88.4% of run time (Amdahl bound 8.62×), confidence 0.91");
    expect(md).toContain("cpuPerWall = 0.985");
    expect(md).toContain("- host-memory: 9.5% of run time, Amdahl bound 1.10×, confidence 0.34");
    const hot = tableAfter(md, "### Hot spots");
    expect(hot[1]).toEqual(["count_words", "textstats/count.py:14", "61.2%", "74.8%", "200,000"]);
    expect(tableAfter(md, "### Recommended settings")[1]).toEqual(["threads", "OMP_NUM_THREADS=1", "+2.1%"]);
    expect(md).toContain("```sh\nexport OMP_NUM_THREADS=1\n```");
    expect(md).toContain("<summary>How to reproduce</summary>");
    expect(md).toContain(`\`\`\`sh\n${improved.reproduce.join("\n")}\n\`\`\``);
    expect(md).toContain("16 cores, 62.8 GiB memory");
    expect(md).toContain(`Isolation: ${improved.isolation}`);
  });

  it("folds one <details> per round with its gate and comparison", () => {
    expect(md.match(/<summary>Round \d+/g)).toHaveLength(improved.rounds.length);
    expect(md).toContain("<summary>Round 2 · tune · rejected at performance · est. vs baseline +27.9%");
    expect(md).toContain("**Gates:** stopped at the performance gate: no significant change");
    expect(md).toContain(
      "wall time −2.8%, 95% CI −4.5% … −0.3%, p = 0.0039, n = 10+10 — ➖ no significant change",
    );
    expect(md.match(/<details>/g)?.length).toBe(md.match(/<\/details>/g)?.length);
  });

  it("draws well-formed mermaid xychart-beta charts", () => {
    const util = {
      tMs: Array.from({ length: 300 }, (_, i) => i * 100),
      cpuPct: Array.from({ length: 300 }, (_, i) => 90 + 10 * Math.sin(i / 10)),
      gpuPct: Array.from({ length: 300 }, () => 40),
    };
    const blocks = mermaidBlocks(renderReport(improved, { utilization: util }));
    expect(blocks).toHaveLength(2);
    for (const body of blocks) {
      expect(body).toContain("xychart-beta");
      const x = body.find((l) => /^ {4}x-axis /.test(l)) ?? "";
      expect(x).toMatch(/^ {4}x-axis "[^"]+" \[("[^"]*", )*"[^"]*"\]$/);
      expect(body.find((l) => /^ {4}y-axis /.test(l))).toMatch(/^ {4}y-axis "[^"]+" -?\d+ --> -?\d+$/);
      const lines = body.filter((l) => /^ {4}line /.test(l));
      expect(lines.length).toBeGreaterThan(0);
      const categories = (x.match(/"[^"]*"/g) ?? []).length - 1; // minus the axis title
      for (const line of lines) {
        expect(line).toMatch(/^ {4}line \[(-?\d+(\.\d+)?, )*-?\d+(\.\d+)?\]$/);
        expect(line.split(",")).toHaveLength(categories);
        expect(categories).toBeLessThanOrEqual(MAX_POINTS);
      }
    }
    expect(blocks[0]).toContain("    line [27.9, 27.9, 45.7]"); // rounds[].bestImprovementPct
    expect(blocks[1]?.filter((l) => l.startsWith("    line"))).toHaveLength(2);
  });

  it("downsamples a long trajectory to at most 60 points", () => {
    const [body] = mermaidBlocks(renderReport(manyRounds(100, 40), { maxChars: 1_000_000 }));
    const line = body?.find((l) => l.startsWith("    line")) ?? "";
    expect(line.split(",")).toHaveLength(MAX_POINTS);
  });

  it("neutralizes HTML, mention and link injection", () => {
    const evil = variant((r) => {
      const round = r.rounds[0] as RoundRecord;
      round.rationale =
        '<img src=x onerror="alert(1)"> @octocat fixes #123, see [click](https://evil.example) ![t](https://evil.example/t.png)\n</details>\n<script>alert(1)</script>';
      round.description = "</summary><b>bold</b> @team";
      (r.hotSpots[0] as Results["hotSpots"][number]).function =
        "<script>x()</script>@admin [x](http://e.vil) a|b";
    });
    const out = renderReport(evil);
    for (const bad of [
      "<img",
      "<script",
      "<b>",
      "@octocat",
      "@admin",
      "@team",
      "#123",
      "https://evil",
      "http://e.vil",
    ]) {
      expect(out).not.toContain(bad);
    }
    expect(out).not.toMatch(/(?<!\\)\]\(/); // no link or image: every "](" is escaped
    const own = out.replace(/<\/?(details|summary|sub)>/g, "");
    expect(own).not.toMatch(/<[A-Za-z!/?]/);
    expect(out.match(/<details>/g)).toHaveLength(evil.rounds.length + 1);
    expect(out.match(/<\/details>/g)).toHaveLength(evil.rounds.length + 1);
    expect(out.match(/<\/summary>/g)).toHaveLength(evil.rounds.length + 1);
    const hot = tableAfter(out, "### Hot spots");
    expect(hot[1]).toHaveLength(5); // the pipe did not add a column
  });

  it("titles other outcomes", () => {
    expect(renderReport(noImprovement).split("\n")[0]).toBe(
      "## perfloop · no improvement: no significant change (wall time −1.0%, 95% CI −3.0% … +1.0%, p = 0.43, n = 10+10)",
    );
    const failed = renderReport(baselineFailed);
    expect(failed.split("\n")[0]).toBe(
      "## perfloop · baseline failed: tests failed on the unmodified code: 2 failed, 31 passed",
    );
    expect(failed).not.toContain("### Before / after");
    expect(failed).not.toContain("```mermaid");
    const err = renderReport(errored);
    expect(err.split("\n")[0]).toBe(
      "## perfloop · error: model endpoint unreachable: connect ECONNREFUSED 127.0.0.1:8000",
    );
    expect(err).toContain("Baseline wall time: median 1.85 s (n = 10");
  });

  it("drops round details first when too long, and says so", () => {
    const long = manyRounds(40);
    expect(renderReport(long, { maxChars: 10_000_000 }).length).toBeGreaterThan(DEFAULT_MAX_CHARS);
    const url = "https://github.com/acme/textstats/actions/runs/1/artifacts/2";
    const out = renderReport(long, { fullReportUrl: url });
    expect(out.length).toBeLessThanOrEqual(DEFAULT_MAX_CHARS);
    expect(fencesBalanced(out)).toBe(true);
    expect(out.trimEnd().endsWith(`Report truncated; full report: ${url}`)).toBe(true);
    expect(out).not.toContain("<summary>Round");
    expect(out).toContain("### Before / after");
    expect(out).toContain("### Hot spots");
  });

  it("stays under small caps without cutting fences or tables", () => {
    const huge = variant((r) => {
      r.message = "&<@".repeat(40_000);
      r.hotSpots = Array.from({ length: 500 }, (_, i) => ({
        ...(r.hotSpots[0] as Results["hotSpots"][number]),
        line: i + 1,
      }));
    });
    huge.rounds = manyRounds(40).rounds;
    for (const maxChars of [MIN_MAX_CHARS, 8_000, 20_000]) {
      const out = renderReport(huge, { maxChars });
      expect(out.length).toBeLessThanOrEqual(maxChars);
      expect(fencesBalanced(out)).toBe(true);
      expect(
        out.trimEnd().endsWith("Report truncated; full report: report.md in the evidence artifact"),
      ).toBe(true);
      const tableLines = out.split("\n").filter((l) => l.startsWith("|"));
      for (const l of tableLines) expect(l.endsWith("|")).toBe(true);
    }
    expect(() => renderReport(improved, { maxChars: 100 })).toThrow(RangeError);
  });

  it("is not truncated when it fits", () => {
    expect(md).not.toContain("Report truncated");
    expect(fencesBalanced(md)).toBe(true);
  });
});
