/**
 * `npm run bench`, item 5 (issue 11, "a metric that noise cannot move"): for wall time, CPU time and
 * instructions, the run-to-run CV of one CPU-bound program idle and under load (one busy process per
 * core, like a busy CI runner), and the A/A false claims: 20 comparisons of the same tree
 * against itself (5 + 5 interleaved runs each, default statistics), counting "faster"/"slower"
 * claims (false by construction), "inconclusive" answers and "no significant change". Every run is
 * sandboxed exactly as in a perfloop run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseConfig } from "../src/core/config/load.ts";
import type { Config } from "../src/core/config/schema.ts";
import { resolveIsolation } from "../src/core/exec/isolation.ts";
import { compareMeasurement } from "../src/core/loop/compare.ts";
import { probeInstructionCounter } from "../src/core/measure/instructions.ts";
import { measure } from "../src/core/measure/protocol.ts";
import { summarize } from "../src/core/measure/stats.ts";

/** A CPU-bound shell loop (dash), cheap enough to run 200 times under valgrind. It runs in an
 *  empty scratch directory, mounted read-only like every tree under measurement. */
const WORKLOAD = "i=0; while [ $i -lt 10000 ]; do i=$((i+1)); done";
const COMPARISONS = 20;
const RUNS = 5;

/** Starts one busy process per core; returns the function that stops them. */
function load(): () => void {
  const busy: ChildProcess[] = [];
  for (let i = 0; i < os.availableParallelism(); i++)
    busy.push(spawn("sh", ["-c", "while :; do :; done"], { stdio: "ignore" }));
  return () => {
    for (const child of busy) child.kill("SIGKILL");
  };
}

type Metric = "wall" | "cpu" | "instructions";

async function aa(metric: Metric, config: Config) {
  const isolation = await resolveIsolation(config.sandbox, { env: process.env, hide: [] });
  const counter =
    metric === "instructions"
      ? await probeInstructionCounter(isolation, { PATH: "/usr/bin:/bin" })
      : undefined;
  const side = {
    cwd: await mkdtemp(path.join(os.tmpdir(), "perfloop-bench-")),
    env: { PATH: "/usr/bin:/bin" },
    command: WORKLOAD,
  };
  const values: number[] = [];
  const verdicts = { claims: 0, inconclusive: 0, "no significant change": 0 };
  for (let i = 0; i < COMPARISONS; i++) {
    const measurement = await measure(
      [
        { label: "A", ...side },
        { label: "B", ...side },
      ],
      {
        warmup: 1,
        runs: RUNS,
        isolation,
        counter,
        timeoutMs: 120_000,
        outputLimit: 10_000,
        sampleIntervalMs: 100,
      },
    );
    const [primary] = compareMeasurement(measurement, config, i + 1);
    if (primary?.verdict === "faster" || primary?.verdict === "slower") verdicts.claims += 1;
    else if (primary) verdicts[primary.verdict] += 1;
    for (const run of measurement.runs.filter((r) => !r.warmup))
      values.push(
        metric === "wall" ? run.wallMs : metric === "cpu" ? run.cpuMs : (run.instructions ?? Number.NaN),
      );
  }
  return { cv: summarize(values.filter(Number.isFinite)).cvPct, verdicts, tool: counter?.tool };
}

/** Prints item 5. Takes several minutes (valgrind runs under load dominate). */
export async function metricsUnderLoad(): Promise<void> {
  console.log(
    `5. metrics idle and under load (${os.availableParallelism()} busy processes): CV of ${COMPARISONS * RUNS * 2} runs, A/A claims of ${COMPARISONS} comparisons (${RUNS}+${RUNS} runs, alpha 0.01, max_cv 10%)`,
  );
  for (const metric of ["wall", "cpu", "instructions"] as const) {
    const config = parseConfig({ test: "true", benchmark: { command: WORKLOAD, measure: metric } });
    const idle = await aa(metric, config);
    const stop = load();
    let busy: Awaited<ReturnType<typeof aa>>;
    try {
      busy = await aa(metric, config);
    } finally {
      stop();
    }
    const words = (r: typeof idle) =>
      `${r.verdicts.claims} false claims, ${r.verdicts.inconclusive} inconclusive, ${r.verdicts["no significant change"]} no change`;
    console.log(
      `   ${metric.padEnd(12)}${idle.tool ? ` (${idle.tool})` : ""}: CV ${idle.cv.toFixed(2)}% idle, ${busy.cv.toFixed(2)}% under load; A/A idle: ${words(idle)}; under load: ${words(busy)}`,
    );
  }
}
