/**
 * figures/flowchart.dot and .svg (src/core/report/flowchart.ts, render-svg.ts, src/core/loop/figures.ts):
 * the graph of recorded results.json files (nodes, edges, accepted vs rejected styles), a failed
 * baseline and an error ending the graph where the run ended, the bounds, DOT escaping of untrusted
 * text, the SVG Graphviz (WASM) makes of it parsed as XML, and the renderer failing without failing
 * the run. No network.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { type CandidateRecord, parseResults, type RoundRecord } from "../src/core/evidence/results-schema.ts";
import { createEvidenceWriter } from "../src/core/evidence/writer.ts";
import { FLOWCHART_DOT, FLOWCHART_SVG, writeFlowchart } from "../src/core/loop/figures.ts";
import {
  dotEscape,
  FLOWCHART_LIMITS,
  flowchartDot,
  flowchartLink,
  wrapText,
} from "../src/core/report/flowchart.ts";
import { renderSvg, SvgRenderError } from "../src/core/report/render-svg.ts";
import { renderReport } from "../src/core/report/report.ts";
import { baselineFailed, improved, variant } from "./report-helpers.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** The statements of a DOT graph as flowchartDot writes them (one a line). */
interface Dot {
  nodes: Map<string, { label: string; attrs: string }>;
  edges: Array<{ from: string; to: string; attrs: string }>;
}

function parseDot(dot: string): Dot {
  const nodes = new Map<string, { label: string; attrs: string }>();
  const edges: Dot["edges"] = [];
  for (const line of dot.split("\n")) {
    const e = /^ {2}(\w+) -> (\w+)(?: \[(.*)\])?;$/.exec(line);
    if (e) {
      edges.push({ from: e[1] as string, to: e[2] as string, attrs: e[3] ?? "" });
      continue;
    }
    const n = /^ {2}(\w+) \[label="((?:[^"\\]|\\.)*)", (.*)\];$/.exec(line);
    if (n && !["graph", "node", "edge"].includes(n[1] as string))
      nodes.set(n[1] as string, { label: n[2] as string, attrs: n[3] as string });
  }
  return { nodes, edges };
}

const cls = (d: Dot, id: string) => /class="(\w+)"/.exec(d.nodes.get(id)?.attrs ?? "")?.[1];
const edgeOf = (d: Dot, from: string, to: string) => d.edges.find((e) => e.from === from && e.to === to);
const ACCEPTED_EDGE = /color="#1a7f37", penwidth=2\.5, style=bold/;

/** A candidate record of round `n` (schema defaults for what a test does not care about). */
function candidate(k: number, edit: Partial<CandidateRecord>): CandidateRecord {
  return {
    k,
    description: `candidate ${k}'s change`,
    rationale: "",
    files: ["textstats/count.py"],
    outcome: "rejected",
    gate: "tests",
    reason: "2 tests failed",
    measured: false,
    screen: null,
    behaviour: null,
    tokens: 1000,
    costUsd: null,
    turns: 3,
    toolCalls: 4,
    toolMs: 100,
    ...edit,
  };
}

/** The fixture with three candidates in round 1: tests, accepted, screen. */
const withCandidates = variant((r) => {
  (r.rounds[0] as RoundRecord).candidates = [
    candidate(1, { gate: "tests", reason: "test_count failed: expected 3, got 2" }),
    candidate(2, { outcome: "accepted", gate: null, reason: "B is 27.9% better", measured: true }),
    candidate(3, { gate: "screen", reason: "ranked below candidate 2 (B/A 0.98)" }),
  ];
});

describe("flowchartDot on recorded results", () => {
  it("improved.json: the steps, three rounds, the final measurement and the status, in order", () => {
    const dot = flowchartDot(improved, { setup: "python3 gen_corpus.py corpus.txt 50000" });
    const d = parseDot(dot);
    expect(dot.startsWith("digraph perfloop {\n")).toBe(true);
    expect([...d.nodes.keys()]).toEqual([
      "setup",
      "tests",
      "baseline",
      "profile",
      "r1",
      "r2",
      "r3",
      "final",
      "status",
    ]);
    const spine = ["setup", "tests", "baseline", "profile", "r1", "r2", "r3", "final", "status"];
    for (let i = 1; i < spine.length; i++)
      expect(
        edgeOf(d, spine[i - 1] as string, spine[i] as string),
        `${spine[i - 1]} -> ${spine[i]}`,
      ).toBeDefined();
    expect(d.nodes.get("setup")?.label).toBe("set-up\\npython3 gen_corpus.py corpus.txt 50000");
    expect(d.nodes.get("tests")?.label).toBe("tests on the baseline\\npython -m pytest -q\\npassed");
    // The baseline's median and CV; the verdict's category.
    expect(d.nodes.get("baseline")?.label).toBe(
      "baseline measurement\\nwall time: median 1.85 s\\nCV 1.1%, n = 10",
    );
    expect(d.nodes.get("profile")?.label).toMatch(
      /^profiling \+ verdict\\nverdict: cpu-single-thread\\n88\.4% of run time/,
    );
    // Accepted rounds green and bold with their measured change and CI; the rejected one grey, dashed, with its gate.
    expect(cls(d, "r1")).toBe("accepted");
    expect(d.nodes.get("r1")?.label).toContain(
      "accepted:\\nwall time −27.9%\\n95% CI −29.3% … −26.9%, p < 0.001, n = 10+10",
    );
    expect(cls(d, "r2")).toBe("rejected");
    expect(d.nodes.get("r2")?.attrs).toContain('style="rounded,dashed"');
    expect(d.nodes.get("r2")?.label).toMatch(
      /^round 2 · tune\\nOMP_NUM_THREADS=4\\nrejected at performance:\\nno significant change/,
    );
    expect(cls(d, "r3")).toBe("accepted");
    // The accepted path: out of each accepted round, into the final and the status.
    expect(edgeOf(d, "r1", "r2")?.attrs).toMatch(ACCEPTED_EDGE);
    expect(edgeOf(d, "r2", "r3")?.attrs).not.toMatch(ACCEPTED_EDGE);
    expect(edgeOf(d, "r3", "final")?.attrs).toMatch(ACCEPTED_EDGE);
    expect(edgeOf(d, "final", "status")?.attrs).toMatch(ACCEPTED_EDGE);
    expect(d.nodes.get("final")?.label).toContain("wall time −45.7%\\n95% CI −46.5% … −45.0%");
    expect(d.nodes.get("status")?.label).toBe(
      "improved\\nWall time improved 45.7% over 3 rounds (2\\naccepted).",
    );
  });

  it("the GitHub fixture's results.json: one accepted round", () => {
    const r = parseResults(
      JSON.parse(readFileSync(new URL("fixtures/github/results.improved.json", import.meta.url), "utf8")),
    );
    const d = parseDot(flowchartDot(r));
    expect(d.nodes.get("setup")?.label).toBe("set-up"); // the set-up command is not in results.json
    expect(cls(d, "r1")).toBe("accepted");
    expect(edgeOf(d, "r1", "final")?.attrs).toMatch(ACCEPTED_EDGE);
    expect(d.nodes.has("status")).toBe(true);
  });

  it("a round's candidates hang below it: the accepted one on the path, the others grey and dashed with their gate", () => {
    const d = parseDot(flowchartDot(withCandidates));
    expect(cls(d, "r1")).toBe("step");
    expect(["r1c1", "r1c2", "r1c3"].map((id) => cls(d, id))).toEqual(["rejected", "accepted", "rejected"]);
    expect(d.nodes.get("r1c1")?.label).toBe(
      "candidate 1\\ncandidate 1's change\\nrejected at tests:\\ntest_count failed: expected 3, got 2",
    );
    expect(d.nodes.get("r1c3")?.label).toContain("rejected at screen:");
    expect(d.nodes.get("r1c2")?.label).toContain("accepted:\\nwall time −27.9%\\n95% CI −29.3% … −26.9%");
    expect(edgeOf(d, "r1", "r1c1")?.attrs).toMatch(/style=dashed/);
    expect(edgeOf(d, "r1", "r1c2")?.attrs).toMatch(ACCEPTED_EDGE);
    // The path goes on from the accepted candidate, not from the round or a rejected candidate.
    expect(edgeOf(d, "r1c2", "r2")?.attrs).toMatch(ACCEPTED_EDGE);
    expect(d.edges.filter((e) => e.to === "r2")).toHaveLength(1);
    expect(d.edges.filter((e) => e.from === "r1c1" || e.from === "r1c3")).toEqual([]);
  });
});

describe("a run that ended early ends the graph where it ended", () => {
  it("failed tests on the baseline: set-up, the failed tests, the status; nothing after", () => {
    const d = parseDot(flowchartDot(baselineFailed));
    expect([...d.nodes.keys()]).toEqual(["setup", "tests", "status"]);
    expect(cls(d, "tests")).toBe("failed");
    expect(d.nodes.get("tests")?.label).toMatch(/FAILED$/);
    expect(edgeOf(d, "tests", "status")?.attrs).toMatch(/#cf222e/);
    expect(d.nodes.get("status")?.label).toMatch(/^baseline-failed\\n/);
  });

  it("a failed set-up (a results.json built through the schema): the set-up node only", () => {
    const r = parseResults({
      ...structuredClone(baselineFailed),
      message: "setup `python3 gen_corpus.py corpus.txt 50000` failed: exit code 2 (see setup.log)",
    });
    const d = parseDot(flowchartDot(r, { setup: "python3 gen_corpus.py corpus.txt 50000" }));
    expect([...d.nodes.keys()]).toEqual(["setup", "status"]);
    expect(cls(d, "setup")).toBe("failed");
  });

  it("a benchmark that fails on the baseline: set-up, tests, the failed measurement", () => {
    const r = variant((x) => {
      Object.assign(x, { ...structuredClone(baselineFailed) });
      x.message = "the benchmark fails on the unmodified code: exit code 1 (see baseline-bench.log)";
    });
    const d = parseDot(flowchartDot(r));
    expect([...d.nodes.keys()]).toEqual(["setup", "tests", "baseline", "status"]);
    expect(cls(d, "tests")).toBe("step");
    expect(cls(d, "baseline")).toBe("failed");
  });

  it("an error after two rounds: no final node, a red edge from the last round to the status", () => {
    const r = variant((x) => {
      x.status = "error";
      x.message = "perfloop failed: ENOSPC";
      x.final = null;
      x.rounds = x.rounds.slice(0, 2);
    });
    const d = parseDot(flowchartDot(r));
    expect(d.nodes.has("final")).toBe(false);
    expect(d.nodes.has("r3")).toBe(false);
    expect(edgeOf(d, "r2", "status")?.attrs).toMatch(/#cf222e/);
    expect(d.nodes.get("status")?.label).toBe("error\\nperfloop failed: ENOSPC");
  });

  it("an error before the baseline was measured: one node that says so", () => {
    const r = variant((x) => {
      Object.assign(x, { status: "error", baseline: null, final: null, rounds: [], verdicts: [] });
      x.message = "cannot copy /repo into a scratch workspace: EACCES";
    });
    const d = parseDot(flowchartDot(r));
    expect([...d.nodes.keys()]).toEqual(["setup", "status"]);
    expect(d.nodes.get("setup")?.label).toContain("(not completed)");
  });

  it("profile mode: the steps, then the status", () => {
    const r = variant((x) => {
      Object.assign(x, { mode: "profile", status: "no-improvement", final: null, rounds: [] });
      x.message = "profile only: measured and classified, nothing changed";
    });
    const d = parseDot(flowchartDot(r));
    expect([...d.nodes.keys()]).toEqual(["setup", "tests", "baseline", "profile", "status"]);
    expect(edgeOf(d, "profile", "status")).toBeDefined();
  });
});

describe("bounds and escaping", () => {
  it(`shows at most ${FLOWCHART_LIMITS.rounds} rounds × ${FLOWCHART_LIMITS.candidates} candidates, the rest as "… N more"`, () => {
    const r = variant((x) => {
      const first = x.rounds[0] as RoundRecord;
      x.rounds = Array.from({ length: 60 }, (_, i) => ({
        ...structuredClone(first),
        n: i + 1,
        description: "x".repeat(5000),
        // 12 candidates; the accepted one is the 11th, past the first 8.
        candidates: Array.from({ length: 12 }, (_, j) =>
          candidate(j + 1, j === 10 ? { outcome: "accepted", gate: null } : { reason: "y ".repeat(5000) }),
        ),
      }));
    });
    const dot = flowchartDot(r);
    const d = parseDot(dot);
    const rounds = [...d.nodes.keys()].filter((id) => /^r\d+$/.test(id));
    expect(rounds).toHaveLength(FLOWCHART_LIMITS.rounds);
    expect(d.nodes.get("more_rounds")?.label).toBe("… 10 more round(s), 10 accepted\\nsee results.json");
    const shown = [...d.nodes.keys()].filter((id) => /^r1c\d+$/.test(id));
    expect(shown).toHaveLength(FLOWCHART_LIMITS.candidates);
    expect(shown).toContain("r1c11");
    expect(d.nodes.get("r1more")?.label).toBe("… 4 more candidate(s)\\nsee results.json");
    expect(edgeOf(d, "r1c11", "r2")?.attrs).toMatch(ACCEPTED_EDGE);
    expect(edgeOf(d, "r50c11", "more_rounds")).toBeDefined();
    // Every label line is clipped: the graph stays small whatever results.json holds.
    for (const { label } of d.nodes.values())
      for (const line of label.split("\\n")) expect(line.length).toBeLessThanOrEqual(70);
    expect(dot.length).toBeLessThan(400_000);
  });

  it("escapes DOT: backslashes, quotes, newlines, entities, control and bidi characters", () => {
    expect(dotEscape('say "hi"')).toBe('say \\"hi\\"');
    expect(dotEscape("C:\\n \\N \\G")).toBe("C:\\\\n \\\\N \\\\G");
    expect(dotEscape("a\nb\r\nc\td")).toBe("a b c d");
    expect(dotEscape("&lt;b&gt; &#60; & x")).toBe("&amp;lt;b&amp;gt; &amp;#60; &amp; x");
    expect(dotEscape("a\u0000b\u202Ec\u0007")).toBe("abc");
    expect(dotEscape("lone \uD800 surrogate")).toBe("lone \uFFFD surrogate");
    // A label can never end its string early: no unescaped quote survives.
    const hostile = 'x" ]; evil [label="pwned"]; a -> b [label="';
    const d = parseDot(
      flowchartDot(variant((x) => Object.assign(x.rounds[0] as RoundRecord, { description: hostile }))),
    );
    expect([...d.nodes.keys()]).not.toContain("evil");
    expect(d.nodes.get("r1")?.label).toContain('x\\" ]; evil [label=\\"pwned\\"]');
  });

  it("wraps at spaces and cuts long words; the last kept line ends in …", () => {
    expect(wrapText("aaa bbb ccc", 100, 7)).toEqual(["aaa bbb", "ccc"]);
    expect(wrapText("abcdefghij", 100, 4)).toEqual(["abcd", "efgh", "ij"]);
    expect(wrapText("a b c d e f", 100, 1, 3)).toEqual(["a", "b", "c…"]);
  });
});

/** Every text of an SVG (the text content of <text> and <title> elements, entities decoded). */
function svgTexts(svg: string): { texts: string[]; titles: string[] } {
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@",
    htmlEntities: true,
    isArray: () => true,
  }).parse(svg);
  const texts: string[] = [];
  const titles: string[] = [];
  const walk = (value: unknown, key: string) => {
    if (typeof value === "string" || typeof value === "number") {
      if (key === "text") texts.push(String(value));
      if (key === "title") titles.push(String(value));
      return;
    }
    if (Array.isArray(value)) for (const v of value) walk(v, key);
    else if (value && typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(v, k === "#text" ? key : k);
  };
  walk(doc, "");
  return { texts, titles };
}

describe("renderSvg (Graphviz, WASM)", () => {
  it("renders the flowchart as well-formed SVG; hostile text stays text", async () => {
    const reason = 'got <script>alert("x")</script> & "quoted" \\N </text><svg onload=alert(1)>';
    const r = variant((x) => {
      const round = x.rounds[0] as RoundRecord;
      round.candidates = [
        candidate(1, { reason }),
        candidate(2, { outcome: "accepted", gate: null, reason: "ok" }),
      ];
    });
    const svg = await renderSvg(flowchartDot(r));
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).not.toMatch(/<script|<svg onload/i);
    expect(svg).toContain("&lt;script&gt;");
    const { texts, titles } = svgTexts(svg);
    for (const id of [
      "setup",
      "tests",
      "baseline",
      "profile",
      "r1",
      "r1c1",
      "r1c2",
      "r2",
      "r3",
      "final",
      "status",
    ])
      expect(titles).toContain(id);
    expect(titles).toContain("r1c2->r2"); // an edge's title
    expect(texts).toContain("baseline measurement");
    expect(texts).toContain("rejected at tests:");
    // The reason, whole once decoded: wrapped over lines, every character as written.
    expect(texts.join(" ")).toContain('got <script>alert("x")</script> & "quoted" \\N');
  });

  it("throws SvgRenderError with Graphviz's error as the cause for DOT it cannot read", async () => {
    const error = await renderSvg("digraph { a -> }").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SvgRenderError);
    expect((error as SvgRenderError).cause).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/syntax error/);
    // The module still works afterwards.
    await expect(renderSvg("digraph { a -> b }")).resolves.toContain("<svg");
  });
});

describe("writeFlowchart", () => {
  async function writer() {
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-flowchart-"));
    dirs.push(dir);
    const evidence = await createEvidenceWriter(dir);
    return { dir, evidence };
  }

  it("writes figures/flowchart.dot and .svg from results.json as written (redacted)", async () => {
    const { dir, evidence } = await writer();
    const secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    const r = variant((x) => {
      (x.rounds[1] as RoundRecord).reason = `token ${secret} leaked into the output`;
    });
    await evidence.json("results.json", r);
    expect(await writeFlowchart(evidence, r, { setup: null })).toEqual({ dot: true, svg: true });
    const dot = await readFile(path.join(dir, FLOWCHART_DOT), "utf8");
    const svg = await readFile(path.join(dir, FLOWCHART_SVG), "utf8");
    expect(dot).toContain("(none configured)");
    expect(dot).not.toContain(secret);
    expect(svg).not.toContain(secret);
    expect(XMLValidator.validate(svg)).toBe(true);
  });

  it("a renderer that throws: the .dot is written, no .svg, and audit.log says why; the report links the .dot", async () => {
    const { dir, evidence } = await writer();
    await evidence.json("results.json", improved);
    const files = await writeFlowchart(evidence, improved, {
      render: () => Promise.reject(new SvgRenderError("wasm: out of memory")),
    });
    expect(files).toEqual({ dot: true, svg: false });
    await expect(readFile(path.join(dir, FLOWCHART_DOT), "utf8")).resolves.toMatch(/^digraph perfloop/);
    await expect(readFile(path.join(dir, FLOWCHART_SVG), "utf8")).rejects.toThrow(/ENOENT/);
    expect(evidence.files().get("audit.log")).toMatch(
      /flowchart figures\/flowchart\.svg not rendered \(figures\/flowchart\.dot written\): wasm: out of memory/,
    );
    expect(renderReport(improved, { flowchart: files })).toContain(
      "Flowchart of this run: [figures/flowchart.dot](figures/flowchart.dot) (Graphviz DOT; the SVG could not be rendered, see audit.log).",
    );
  });
});

describe("the report's link", () => {
  it("one line with relative links, only when the loop says the files exist", () => {
    const line =
      "Flowchart of this run: [figures/flowchart.svg](figures/flowchart.svg) (Graphviz source: [figures/flowchart.dot](figures/flowchart.dot)).";
    expect(flowchartLink({ dot: true, svg: true })).toBe(line);
    expect(renderReport(improved, { flowchart: { dot: true, svg: true } })).toContain(`\n\n${line}\n\n`);
    expect(renderReport(improved)).not.toContain("flowchart");
    expect(flowchartLink({ dot: false, svg: false })).toBe("");
  });
});
