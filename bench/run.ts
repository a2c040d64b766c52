/**
 * `npm run bench`: perfloop's own costs, printed as figures (never asserted in tests).
 *   1. sampler overhead on a CPU-bound program at 10 Hz (goal ≤ 1%),
 *   2. orchestration overhead per round, user commands excluded (goal ≤ 0.5 s),
 *   3. perfloop's median against hyperfine's on the same command (goal within 2%).
 * Each figure comes with the numbers it was computed from. Takes about two minutes.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseConfig } from "../src/core/config/load.ts";
import { resolveIsolation } from "../src/core/exec/isolation.ts";
import { runPerfloop } from "../src/core/loop/run.ts";
import { type BenchSide, runOnce } from "../src/core/measure/run-once.ts";
import { startBenchRunner } from "../src/core/measure/runner.ts";
import { compareSamples, median } from "../src/core/measure/stats.ts";

const CPU_BOUND = `python3 -c "s = 0
for i in range(4_000_000): s += i
print(s)"`;
const env = { PATH: process.env.PATH ?? "/usr/bin:/bin" };
const pct = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}%`;

async function samplerOverhead(): Promise<void> {
  const runs = 30;
  const isolation = await resolveIsolation("off");
  const runner = await startBenchRunner(isolation);
  const side: BenchSide = { label: "A", cwd: tmpdir(), env, command: CPU_BOUND };
  const off: number[] = [];
  const on: number[] = [];
  try {
    await runOnce(
      side,
      { runner, timeoutMs: 120_000, outputLimit: 10_000, sampleIntervalMs: 0 },
      { order: 0, warmup: true, startMs: 0 },
    );
    for (let i = 0; i < runs; i++) {
      // Interleaved, alternating which goes first, like the measurement protocol.
      for (const sampled of i % 2 === 0 ? [false, true] : [true, false]) {
        const { record } = await runOnce(
          side,
          { runner, timeoutMs: 120_000, outputLimit: 10_000, sampleIntervalMs: sampled ? 100 : 0 },
          { order: i, warmup: false, startMs: 0 },
        );
        (sampled ? on : off).push(record.wallMs);
      }
    }
  } finally {
    await runner.close();
  }
  const c = compareSamples(off, on, {
    metric: "wall time",
    unit: "ms",
    direction: "lower",
    minImprovementPct: 1,
  });
  console.log(`1. sampler overhead at 10 Hz on a CPU-bound program (${runs}+${runs} interleaved runs)`);
  console.log(
    `   median without sampler ${median(off).toFixed(1)} ms, with ${median(on).toFixed(1)} ms: ${pct((c.ratio - 1) * 100)} (95% CI ${pct((c.ci[0] - 1) * 100)} … ${pct((c.ci[1] - 1) * 100)}, p = ${c.pValue.toPrecision(2)}); goal ≤ 1%`,
  );
}

async function orchestrationOverhead(): Promise<void> {
  const repo = await mkdtemp(path.join(tmpdir(), "perfloop-bench-"));
  const out = path.join(repo, "out");
  try {
    await mkdir(path.join(repo, "src"));
    await writeFile(path.join(repo, "src/app.txt"), "SIZE = 1\n");
    // Trivial user commands, so what is left of a round's time is perfloop's own work.
    const config = parseConfig({
      test: "true",
      benchmark: { command: "true" },
      rounds: 3,
      min_improvement: 50,
      tune: [{ name: "size", literal: { file: "src/app.txt", pattern: "SIZE = (\\d+)" }, values: [2, 3, 4] }],
    });
    const results = await runPerfloop({ repoDir: repo, outDir: out, mode: "optimize", config, model: null });
    const raw = JSON.parse(await readFile(path.join(out, "perf_raw.json"), "utf8")) as {
      rounds: Array<{ n: number; measurement: { runs: Array<{ wallMs: number }> } | null }>;
    };
    console.log(
      `2. orchestration overhead per round (user commands excluded; ${config.repetitions.warmup} warm-up + ${config.repetitions.runs}+${config.repetitions.runs} runs a round)`,
    );
    for (const round of results.rounds) {
      const runs = raw.rounds.find((r) => r.n === round.n)?.measurement?.runs ?? [];
      const user = runs.reduce((sum, r) => sum + r.wallMs, 0) + (await testSeconds(out, round.n)) * 1000;
      console.log(
        `   round ${round.n}: ${round.durationMs.toFixed(0)} ms in all, ${user.toFixed(0)} ms in user commands → ${(round.durationMs - user).toFixed(0)} ms perfloop (${runs.length} runs); goal ≤ 500 ms`,
      );
    }
  } finally {
    await rm(repo, { recursive: true, force: true });
  }
}

async function testSeconds(out: string, n: number): Promise<number> {
  const log = await readFile(path.join(out, `rounds/${n}/test.log`), "utf8").catch(() => "");
  return Number(/ in ([\d.]+) s/.exec(log)?.[1] ?? 0);
}

async function againstHyperfine(): Promise<void> {
  try {
    execFileSync("hyperfine", ["--version"], { stdio: "ignore" });
  } catch {
    console.log(
      "3. perfloop vs hyperfine: skipped — hyperfine is not installed (Debian/Ubuntu: apt-get install hyperfine)",
    );
    return;
  }
  const runs = 20;
  const dir = await mkdtemp(path.join(tmpdir(), "perfloop-hf-"));
  try {
    const json = path.join(dir, "hf.json");
    execFileSync("hyperfine", ["--warmup", "1", "--runs", String(runs), "--export-json", json, CPU_BOUND], {
      stdio: "ignore",
    });
    const hf = JSON.parse(await readFile(json, "utf8")) as { results: Array<{ median: number }> };
    const hyperfineMs = (hf.results[0]?.median ?? Number.NaN) * 1000;
    const runner = await startBenchRunner(await resolveIsolation("off"));
    const walls: number[] = [];
    try {
      const side: BenchSide = { label: "A", cwd: tmpdir(), env, command: CPU_BOUND };
      for (let i = 0; i <= runs; i++) {
        const { record } = await runOnce(
          side,
          { runner, timeoutMs: 120_000, outputLimit: 10_000, sampleIntervalMs: 100 },
          { order: i, warmup: i === 0, startMs: 0 },
        );
        if (i > 0) walls.push(record.wallMs);
      }
    } finally {
      await runner.close();
    }
    const ours = median(walls);
    console.log(`3. perfloop vs hyperfine on the same command (${runs} runs each, 1 warm-up)`);
    console.log(
      `   perfloop median ${ours.toFixed(1)} ms, hyperfine median ${hyperfineMs.toFixed(1)} ms: ${pct((ours / hyperfineMs - 1) * 100)}; goal within ±2%`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

console.log(`perfloop bench — ${new Date().toISOString()}, node ${process.version}`);
await samplerOverhead();
await orchestrationOverhead();
await againstHyperfine();
