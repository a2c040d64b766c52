/**
 * `benchmark.measure` (README, "Choosing what to measure"): which comparison decides, the
 * cross-check against wall time, and a real instruction count from the sandbox through the CLI.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../src/cli/main.ts";
import { parseConfig } from "../src/core/config/load.ts";
import { parseResults } from "../src/core/evidence/results-schema.ts";
import { compareMeasurement } from "../src/core/loop/compare.ts";
import type { Measurement } from "../src/core/measure/protocol.ts";
import type { RunRecord } from "../src/core/measure/run-once.ts";
import { sink } from "./helpers/cli.ts";
import { copyExample } from "./helpers/example.ts";

/** A two-sided measurement from per-run (wall, cpu, instructions) triples. */
function measurement(a: number[][], b: number[][]): Measurement {
  const run = (side: "A" | "B", [wallMs, cpuMs, instructions]: number[], order: number): RunRecord =>
    ({
      side,
      order,
      warmup: false,
      startMs: 0,
      wallMs,
      userMs: cpuMs,
      sysMs: 0,
      cpuMs,
      maxRssBytes: 1e7,
      majorFaults: 0,
      exitCode: 0,
      signal: null,
      timedOut: false,
      metric: null,
      instructions,
      stdoutSha256: "",
      stdoutBytes: 0,
      accounting: "rusage (wait4)",
      procSamples: [],
      contention: null,
    }) as unknown as RunRecord;
  return {
    runs: [...a.map((r, i) => run("A", r, 2 * i)), ...b.map((r, i) => run("B", r, 2 * i + 1))],
    gpu: { available: false, reason: "none", fields: [], samples: [] },
    stdout: {},
    durationMs: 0,
  };
}

const config = (measure: string) =>
  parseConfig({
    test: "true",
    benchmark: { command: "true", measure },
    statistics: { max_cv: 100, bootstrap: 2000 },
  });

// Wall time swings (a busy machine) while CPU time and instructions fall 20% on B.
const A = [100, 180, 95, 210, 120, 160, 105].map((w, i) => [w, 100 + i * 0.3, 1_000_000 + i]);
const B = [170, 90, 200, 96, 150, 110, 185].map((w, i) => [w, 80 + i * 0.3, 800_000 + i]);

describe("benchmark.measure decides the comparison", () => {
  it.each([
    ["wall", "wall time"],
    ["cpu", "CPU time"],
    ["instructions", "instructions"],
  ])("measure: %s puts %s first", (measure, metric) => {
    const comparisons = compareMeasurement(measurement(A, B), config(measure));
    expect(comparisons[0]?.metric).toBe(metric);
    expect(comparisons.map((c) => c.metric)).toContain("peak RSS");
  });

  it("cpu and instructions see the gain the noisy wall time hides, and say that wall time disagrees", () => {
    const [wall] = compareMeasurement(measurement(A, B), config("wall"));
    expect(wall?.verdict).not.toBe("faster");
    for (const measure of ["cpu", "instructions"]) {
      const [primary] = compareMeasurement(measurement(A, B), config(measure));
      expect(primary?.verdict).toBe("faster");
      expect(primary?.crossCheck).toMatch(/wall time did not improve/);
    }
  });
});

describe("measure: instructions through the CLI", () => {
  it("counts every run's instructions in the sandbox and names the metric and why", async () => {
    const repo = await copyExample();
    await writeFile(
      path.join(repo, ".github/perfloop.yml"),
      stringify({
        setup: "python3 gen_corpus.py corpus.txt 300",
        test: "true",
        benchmark: { command: "python3 -m textstats corpus.txt", measure: "instructions" },
        repetitions: { warmup: 0, runs: 5 },
      }),
    );
    const out = path.join(repo, "..", `${path.basename(repo)}-out`);
    const err = sink();
    const code = await main(["profile", repo, "--out", out], {
      out: sink(),
      err,
      env: { PATH: process.env.PATH ?? "", HOME: repo },
    });
    expect(code, err.text).toBe(0);
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(results.benchmark).toMatchObject({ metric: "instructions", unit: "instructions" });
    expect(results.benchmark.why).toMatch(/busy machine cannot move/);
    const raw = JSON.parse(await readFile(path.join(out, "perf_raw.json"), "utf8"));
    for (const run of raw.baseline.runs) expect(run.instructions).toBeGreaterThan(1_000_000);
    expect(await readFile(path.join(out, "report.md"), "utf8")).toContain("Why this metric");
  });
});
