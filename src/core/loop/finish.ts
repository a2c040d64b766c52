/**
 * Step 10: the evidence bundle and the report. Assembles results.json from the recordings, validates
 * it against the contract, writes every bundle file, and (only when asked and verified) applies the
 * best state to the user's tree.
 */

import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
// Bundled into dist/ by esbuild; read by Node from the sources otherwise.
import packageJson from "../../../package.json" with { type: "json" };
import { contentionReport } from "../analyze/contention.ts";
import {
  parseResults,
  RESULTS_SCHEMA,
  type Results,
  type SandboxSummary,
} from "../evidence/results-schema.ts";
import { shellQuote } from "../exec/shell-quote.ts";
import { readInside } from "../fs/inside.ts";
import { countedRuns } from "../measure/protocol.ts";
import type { RunRecord } from "../measure/run-once.ts";
import { summarize } from "../measure/stats.ts";
import { renderPerfSummary } from "../report/perf-summary.ts";
import { renderReport, type Utilization } from "../report/report.ts";
import { limitsRecord } from "../sandbox/limits.ts";
import { treeDigest } from "../sandbox/tree-digest.ts";
import { metricRationale, primaryMetric } from "./compare.ts";
import type { LoopContext } from "./context.ts";
import { writeFlowchart } from "./figures.ts";
import { writeFlameGraphs } from "./flamegraphs.ts";
import type { RunRecordings } from "./recordings.ts";
import type { PerfloopOptions } from "./run.ts";
import { writeTrend } from "./trend.ts";
import { DEPENDENCY_DIRS, diffTrees } from "./workspace.ts";

/** perfloop's version (package.json's), written into results.json and printed by `perfloop --version`. */
export const PERFLOOP_VERSION: string = packageJson.version;

/** What finish needs besides the context. */
export interface FinishInput {
  options: PerfloopOptions;
  startedAt: Date;
  recordings: RunRecordings;
  environment: Results["environment"];
  status: Results["status"];
  message: string;
  /** treeDigest of the user's tree when the run started (src/core/sandbox/tree-digest.ts). */
  userTreeBefore: string;
  /** Paths the digest leaves out: perfloop's own files (evidence, memory store). */
  notDigested: string[];
}

/**
 * Writes results.json, report.md, perf_summary.md, perf_raw.json, optimization_rounds.json,
 * figures/flowchart.dot and .svg (figures.ts; never fails the run), figures/flamegraph-baseline.svg
 * and -final.svg (flamegraphs.ts; never fails the run either) and final.patch (when the
 * improvement is verified).
 * @returns the validated results.
 * @throws ResultsValidationError if perfloop produced results that break its own contract (a bug).
 */
export async function finish(ctx: LoopContext, input: FinishInput): Promise<Results> {
  const { options, recordings } = input;
  const finishedAt = new Date();
  const verified = input.status === "improved";
  const patch =
    verified && recordings.changedFiles.length > 0
      ? await diffTrees(ctx.workspace.baseline, ctx.workspace.best, recordings.changedFiles)
      : "";
  if (patch) await ctx.evidence.text("final.patch", patch);
  const primary = primaryMetric(ctx.config);
  const baselineRuns = recordings.baseline ? countedRuns(recordings.baseline.measurement, "A") : [];

  const userTree = await checkUserTree(ctx, input);
  const results: Results = parseResults({
    schema: RESULTS_SCHEMA,
    perfloopVersion: PERFLOOP_VERSION,
    request: options.request ?? { trigger: "cli" },
    status: input.status,
    message: input.message,
    startedAt: input.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - input.startedAt.getTime(),
    mode: options.mode,
    benchmark: {
      command: ctx.config.benchmark.command,
      test: ctx.config.test,
      ...primary,
      why: metricRationale(ctx.config, ctx.counter?.note),
    },
    isolation: ctx.isolation.description,
    environment: input.environment,
    verdicts: recordings.baseline?.verdicts ?? [],
    hotSpots: recordings.baseline?.hotSpots ?? [],
    ...(recordings.baseline?.signals.torch ? { torch: recordings.baseline.signals.torch } : {}),
    baseline: baselineRuns.length > 0 ? baselineStats(baselineRuns) : null,
    rounds: recordings.rounds,
    final: recordings.final
      ? {
          comparisons: recordings.final.comparisons,
          primary: recordings.final.comparisons[0],
          // The files final.patch changes (a file changed in one round and put back in a later
          // one is not a change), plus those it had to leave out (binary, links): what the App's
          // re-check before publishing compares the patch with (src/publish/verify.ts).
          changedFiles: patchFiles(patch, recordings.changedFiles),
          patchFile: patch ? "final.patch" : null,
          recommendations: recordings.recommendations,
        }
      : null,
    stopReason:
      recordings.stopReason ||
      (options.mode === "profile" ? "profile only" : options.mode === "gate" ? "gate" : input.status),
    // Commands that work in the project's directory, wherever this run was started from.
    reproduce: [
      options.gate
        ? `perfloop gate . --base ${options.gate.base.sha} --head ${options.gate.head.sha} --out perfloop-evidence`
        : `perfloop ${options.mode} . --out perfloop-evidence${options.mode === "optimize" ? ` --rounds ${ctx.config.rounds} --strategy ${ctx.config.strategy}` : ""}`,
      `hyperfine --warmup ${ctx.config.repetitions.warmup} --runs ${ctx.config.repetitions.runs} ${shellQuote(ctx.config.benchmark.command)}   # before`,
      ...(patch
        ? [
            "git apply final.patch   # from the evidence bundle",
            `hyperfine --warmup ${ctx.config.repetitions.warmup} --runs ${ctx.config.repetitions.runs} ${shellQuote(ctx.config.benchmark.command)}   # after`,
          ]
        : []),
    ],
    usage: recordings.usage,
    contention: contentionReport(
      baselineRuns,
      recordings.final
        ? {
            a: countedRuns(recordings.final.measurement, "A"),
            b: countedRuns(recordings.final.measurement, "B"),
          }
        : null,
    ),
    sandbox: {
      mode: ctx.isolation.mode,
      network: ctx.isolation.networkOff ? "off" : "on",
      warning: ctx.isolation.warning,
      limits: limitsRecord(ctx.isolation.limits, ctx.isolation.cgroup?.version ?? 0),
      userTree,
      redactions: ctx.evidence.redactions(),
    },
    ...(recordings.memory ? { memory: recordings.memory } : {}),
    ...(recordings.gate ? { gate: recordings.gate } : {}),
    ...behaviourSummary(recordings),
    ...(recordings.baseline?.focus
      ? {
          focus: {
            sharePct: recordings.baseline.focus.sharePct,
            changedFunctions: recordings.baseline.focus.changedFunctions,
            changedLines: recordings.baseline.focus.changedLines,
            text: recordings.baseline.focus.text,
          },
        }
      : {}),
  });

  await ctx.evidence.json("results.json", results);
  await ctx.evidence.json("optimization_rounds.json", recordings.rounds);
  await ctx.evidence.json("perf_raw.json", {
    protocol: {
      warmup: ctx.config.repetitions.warmup,
      runs: ctx.config.repetitions.runs,
      order: "warm-ups, then AB BA AB …",
      sampleIntervalMs: 100,
      bootstrapSeed: ctx.seed,
    },
    baseline: recordings.baseline?.measurement ?? null,
    rounds: recordings.roundMeasurements,
    final: recordings.final?.measurement ?? null,
    incomplete: ctx.incomplete,
  });
  await ctx.evidence.text("perf_summary.md", renderPerfSummary(results));
  const utilization = baselineRuns[0] ? utilizationOf(baselineRuns[0]) : undefined;
  const flowchart = await writeFlowchart(ctx.evidence, results, { setup: ctx.config.setup ?? null });
  const profiles = await writeFlameGraphs(ctx, recordings.rounds); // figures/flamegraph-*.svg
  const trend = options.history ? await writeTrend(ctx.evidence, results, options.history) : "";
  // Redactions so far (every file but report.md itself and later audit lines): the report says "at least".
  const redactions = ctx.evidence.redactions();
  await ctx.evidence.text(
    "report.md",
    renderReport(results, {
      redactions,
      flowchart,
      profiles,
      ...(trend ? { trend } : {}),
      ...(utilization ? { utilization } : {}),
    }),
  );
  if (options.apply && verified) await applyToRepo(ctx, recordings.changedFiles);
  await ctx.evidence.audit("finish", `${results.status}: ${results.message}`);
  return results;
}

/**
 * Digests the user's tree again (before --apply writes into it) and compares. A difference is
 * reported as a note and in results.json (`sandbox.userTree.unchanged: false`).
 */
async function checkUserTree(ctx: LoopContext, input: FinishInput): Promise<SandboxSummary["userTree"]> {
  const after = await treeDigest(ctx.repoDir, {
    exclude: input.notDigested,
    metadataOnly: DEPENDENCY_DIRS,
  }).catch(() => null);
  const unchanged = after === null ? null : after === input.userTreeBefore;
  await ctx.evidence.audit(
    "user tree",
    `sha256 before ${input.userTreeBefore}, after ${after ?? "unreadable"}: ${unchanged ? "byte-identical" : "CHANGED"}`,
  );
  if (unchanged === false)
    ctx.emit({
      type: "note",
      message: `the user's tree ${ctx.repoDir} changed during the run (something outside perfloop, or no sandbox)`,
    });
  return { before: input.userTreeBefore, after, unchanged };
}

function baselineStats(runs: RunRecord[]): NonNullable<Results["baseline"]> {
  const metric = runs.map((r) => r.metric).filter((m): m is number => m !== null);
  return {
    wallMs: summarize(runs.map((r) => r.wallMs)),
    cpuMs: summarize(runs.map((r) => r.cpuMs)),
    maxRssBytes: summarize(runs.map((r) => r.maxRssBytes)),
    metric: metric.length === runs.length ? summarize(metric) : null,
  };
}

/** CPU busy share of the measured process tree over one run: Δcpu / Δt between samples, %. */
function utilizationOf(run: RunRecord): Utilization | undefined {
  const s = run.procSamples;
  if (s.length < 3) return undefined;
  const tMs: number[] = [];
  const cpuPct: number[] = [];
  for (let i = 1; i < s.length; i++) {
    const prev = s[i - 1];
    const cur = s[i];
    if (!prev || !cur || cur.tMs <= prev.tMs || cur.procs === 0) continue; // the tree had exited
    tMs.push(cur.tMs);
    cpuPct.push(Math.max(0, ((cur.cpuMs - prev.cpuMs) / (cur.tMs - prev.tMs)) * 100));
  }
  return { tMs, cpuPct };
}

/**
 * Writes the best state's changed files into the user's tree — refusing, file by file, when the
 * user's copy changed since the run started (nothing of theirs is overwritten). Adds, deletes and
 * moves are carried over; a file that cannot be written is reported, not thrown (the evidence and
 * final.patch stay valid either way).
 */
async function applyToRepo(ctx: LoopContext, files: string[]): Promise<void> {
  for (const file of [...new Set(files)]) {
    const target = path.join(ctx.repoDir, file);
    const mine = await readFile(target, "utf8").catch(() => null);
    const started = await readFile(path.join(ctx.workspace.baseline, file), "utf8").catch(() => null);
    if (mine !== started) {
      ctx.emit({
        type: "note",
        message: `not applied: ${file} changed since the run started; use final.patch`,
      });
      continue;
    }
    let best: string | null;
    try {
      best = await readInside(ctx.workspace.best, file);
    } catch (error) {
      // A link out of the tree or a FIFO left by a command: nothing of it reaches the user's tree.
      ctx.emit({ type: "note", message: `not applied: ${file}: ${(error as Error).message}` });
      continue;
    }
    try {
      if (best === null) await rm(target, { force: true });
      else {
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, best);
      }
      await ctx.evidence.audit("applied", `${best === null ? "deleted" : "wrote"} ${file}`);
    } catch (error) {
      ctx.emit({
        type: "note",
        message: `not applied: ${file}: ${(error as Error).message}; use final.patch`,
      });
      await ctx.evidence.audit("apply failed", `${file}: ${(error as Error).message}`);
    }
  }
}

/** results.json `behaviour`: the functions recorded on the baseline and their distinct calls. */
function behaviourSummary(recordings: RunRecordings): Pick<Results, "behaviour"> {
  const reference = recordings.baseline?.behaviour;
  if (!reference) return {};
  return {
    behaviour: { functions: Object.keys(reference.capture.functions).sort(), calls: reference.calls },
  };
}

/**
 * The files a final.patch changes: its `diff --git a/X b/X` headers, and the `# perfloop: X left
 * out of this patch: …` lines; without a patch, the files the accepted rounds touched.
 */
export function patchFiles(patch: string, touched: string[]): string[] {
  if (!patch) return [...new Set(touched)].sort();
  const files = new Set<string>();
  for (const m of patch.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm)) files.add(m[2] as string);
  for (const m of patch.matchAll(/^# perfloop: (.+?) left out of this patch: /gm)) files.add(m[1] as string);
  return [...files].sort();
}
