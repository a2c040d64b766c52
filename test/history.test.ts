/**
 * The performance history (src/core/history/, src/cli/history.ts; docs/gate.md, "History"): records
 * from results, series per benchmark and machine (never mixed), change points only where the
 * medians' intervals part, the mermaid and SVG charts, and `perfloop history` on a file.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { XMLParser } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { parseResults } from "../src/core/evidence/results-schema.ts";
import {
  appendHistory,
  HISTORY_SCHEMA,
  type HistoryRecord,
  historyRecordOf,
  medianInterval,
  parseHistory,
} from "../src/core/history/record.ts";
import { trendMermaid, trendOf } from "../src/core/history/trend.ts";
import { trendSvg } from "../src/core/history/trend-svg.ts";
import { sink } from "./helpers/cli.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const sha = (i: number) => i.toString(16).padStart(40, "0");

/** A record of commit i with median `m` ms and a ±`half` interval on machine `machine`. */
function record(i: number, m: number, half = 2, machine = "aaaaaaaaaaaa"): HistoryRecord {
  return {
    schema: HISTORY_SCHEMA,
    commit: sha(i),
    date: new Date(Date.UTC(2026, 11, 1, 0, i)).toISOString(),
    kind: "gate",
    benchmark: "python3 bench.py",
    metric: "wall time",
    unit: "ms",
    direction: "lower",
    median: m,
    ci: [m - half, m + half],
    n: 10,
    cvPct: 2,
    status: "passed",
    machine,
    machineName: machine === "aaaaaaaaaaaa" ? "CPU A · 2 cores" : "CPU B · 8 cores",
  };
}

describe("history records", () => {
  it("takes the gate's head side, or a run's baseline, with the notch interval of its median", async () => {
    const results = parseResults(
      JSON.parse(await readFile(path.join(import.meta.dirname, "fixtures/results/improved.json"), "utf8")),
    );
    const r = historyRecordOf(results, sha(7));
    expect(r?.kind).toBe("run");
    expect(r?.median).toBe(results.baseline?.wallMs.median);
    expect(r?.machine).toMatch(/^[0-9a-f]{12}$/);
    expect(medianInterval({ median: 100, iqr: 10, n: 16 })).toEqual([100 - 3.95, 100 + 3.95]);
    expect(historyRecordOf(results, "not-a-sha")).toBeNull();
  });

  it("reads JSON lines, skipping lines that are not records, and keeps the newest lines on append", () => {
    const text = appendHistory("", [record(1, 100), record(2, 101)]);
    const { records, skipped } = parseHistory(`${text}{"schema":"other/v9"}\nnot json\n`);
    expect(records.map((r) => r.commit)).toEqual([sha(1), sha(2)]);
    expect(skipped).toBe(2);
  });
});

describe("trends", () => {
  const history = [
    record(1, 100),
    record(2, 101),
    record(3, 99),
    record(4, 130), // apart from 99 ± 2: a change
    record(5, 131),
    record(6, 50, 2, "bbbbbbbbbbbb"), // another machine: never in the same series
  ];

  it("one series per machine, one change point where the intervals part", () => {
    const t = trendOf(history, history[0] as HistoryRecord);
    expect(t?.points.map((p) => p.commit)).toEqual([sha(1), sha(2), sha(3), sha(4), sha(5)]);
    expect(t?.changes).toEqual([
      { from: sha(3), to: sha(4), changePct: expect.closeTo(31.3, 1), direction: "worse" },
    ]);
  });

  it("a noisy step whose intervals overlap is not a change, however far the medians moved", () => {
    const noisy = [record(1, 100, 30), record(2, 125, 30)];
    expect(trendOf(noisy, noisy[0] as HistoryRecord)?.changes).toEqual([]);
  });

  it("draws a mermaid chart of at least five commits and an SVG, change point marked", () => {
    const t = trendOf(history, history[0] as HistoryRecord);
    if (!t) throw new Error("no trend");
    const md = trendMermaid(t);
    expect(md).toMatch(/^```mermaid\nxychart-beta\n/);
    expect(md).toContain(`x-axis ["${sha(1).slice(0, 7)}", "${sha(2).slice(0, 7)}"`);
    expect(md).toContain("line [100, 101, 99, 130, 131]");
    expect(md).toContain(`▲ worse at \`${sha(4).slice(0, 7)}\``);
    const svg = new XMLParser({ ignoreAttributes: false }).parse(trendSvg(t));
    expect(svg.svg.circle).toHaveLength(5);
    expect(svg.svg.polygon["@_fill"]).toBe("#cf222e");
  });
});

describe("perfloop history", () => {
  it("prints every series from a file, with its change points, and writes SVGs", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "perfloop-history-"));
    dirs.push(dir);
    const file = path.join(dir, "history.jsonl");
    await writeFile(
      file,
      appendHistory("", [record(1, 100), record(2, 101), record(3, 130), record(4, 50, 2, "bbbbbbbbbbbb")]),
    );
    const out = sink();
    const err = sink();
    const code = await main(["history", dir, "--file", file, "--svg", path.join(dir, "svg")], {
      out,
      err,
      env: {},
    });
    expect(code).toBe(0);
    expect(out.text).toContain("python3 bench.py · wall time (lower is better) · CPU A · 2 cores");
    expect(out.text).toContain("python3 bench.py · wall time (lower is better) · CPU B · 8 cores");
    expect(out.text).toContain(`▲ worse at ${sha(3).slice(0, 12)}: +28.7%`);
    expect(err.text).toMatch(/wrote .*trend-2\.svg/);
    const missing = sink();
    expect(await main(["history", dir, "--ref", "no-such-ref"], { out: sink(), err: missing, env: {} })).toBe(
      2,
    );
    expect(missing.text).toMatch(/no history at no-such-ref:history\.jsonl/);
  });
});
