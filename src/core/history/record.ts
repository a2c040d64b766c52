/**
 * The performance history (docs/gate.md, "History"): one JSON line per measured commit and
 * benchmark, appended by every gate and every run on the default branch, read back to draw the
 * trend. A record carries its own median's confidence interval and the machine it was measured on,
 * because results from different machines are never compared (trend.ts).
 */
import { z } from "zod";
import type { Results } from "../evidence/results-schema.ts";
import { describeHardware, hardwareFingerprint } from "../memory/fingerprint.ts";
import type { SampleStats } from "../types.ts";

/** Where the history lives: the file `history.jsonl` on the data branch `perfloop-data`. */
export const HISTORY_BRANCH = "perfloop-data";
export const HISTORY_FILE = "history.jsonl";

/** The format of a history line; a change of fields is a new version. */
export const HISTORY_SCHEMA = "perfloop.history/v1";

/** One line of the history store. */
export const historyRecordSchema = z.object({
  schema: z.literal(HISTORY_SCHEMA),
  /** The measured commit, 40 hex digits. */
  commit: z.string().regex(/^[0-9a-f]{40}$/),
  /** When the run finished, ISO 8601. */
  date: z.string(),
  /** gate: the head of a gate; run: the unmodified code of an optimize or profile run. */
  kind: z.enum(["gate", "run"]),
  /** The benchmark command. */
  benchmark: z.string().max(2000),
  metric: z.string().max(200),
  unit: z.string().max(50),
  direction: z.enum(["lower", "higher"]),
  /** Median of the commit's counted runs, in `unit`. */
  median: z.number(),
  /**
   * 95% confidence interval of that median (McGill, Tukey & Larsen 1978, the notched box plot:
   * median ± 1.58·IQR/√n), in `unit`.
   */
  ci: z.tuple([z.number(), z.number()]),
  n: z.number().int().positive(),
  cvPct: z.number(),
  /** results.json's status of the run that measured it. */
  status: z.string().max(40),
  /** Hash of the machine's description (cpu, cores, memory, GPUs, OS): 12 hex digits. */
  machine: z.string().regex(/^[0-9a-f]{12}$/),
  /** The machine in words, for the chart's legend. */
  machineName: z.string().max(300),
  pr: z.number().int().positive().optional(),
});

/** One history line (see {@link historyRecordSchema}). */
export type HistoryRecord = z.infer<typeof historyRecordSchema>;

/** The notch interval of a median: median ± 1.58·IQR/√n (McGill, Tukey & Larsen 1978), in the sample's unit. */
export function medianInterval(s: Pick<SampleStats, "median" | "iqr" | "n">): [number, number] {
  const half = (1.58 * s.iqr) / Math.sqrt(Math.max(1, s.n));
  return [s.median - half, s.median + half];
}

/**
 * The machine fingerprint and its description, from results.json's `environment`: the memory
 * store's (memory/fingerprint.ts) — CPU, cores, memory in whole GiB, GPU models without their
 * driver — so a kernel, OS image or driver update on the same hardware keeps its series.
 */
export function machineOf(env: Results["environment"]): { machine: string; machineName: string } {
  return { machine: hardwareFingerprint(env), machineName: describeHardware(env).slice(0, 300) };
}

/**
 * The baseline's statistics of the primary metric (a declared metric, CPU time or wall time, as
 * `benchmark.metric` names it); null without a baseline, or for a metric the baseline does not
 * keep (instructions).
 */
export function baselineStatsOf(results: Results): SampleStats | null {
  const b = results.baseline;
  if (!b) return null;
  const metric = results.benchmark.metric;
  return b.metric ?? (metric === "CPU time" ? b.cpuMs : metric === "wall time" ? b.wallMs : null);
}

/**
 * The history line a run adds, or null when it measured nothing usable: a gate adds its head's
 * primary metric (side B of the base-against-head comparison), any other run its baseline's.
 * @param commit the measured commit (the head of a gate; the checked-out commit of a run).
 */
export function historyRecordOf(results: Results, commit: string): HistoryRecord | null {
  if (!/^[0-9a-f]{40}$/.test(commit)) return null;
  const stats = results.mode === "gate" ? (results.final?.primary.b ?? null) : baselineStatsOf(results);
  if (!stats || !(stats.n > 0) || !Number.isFinite(stats.median)) return null;
  return historyRecordSchema.parse({
    schema: HISTORY_SCHEMA,
    commit,
    date: results.finishedAt,
    kind: results.mode === "gate" ? "gate" : "run",
    benchmark: results.benchmark.command.slice(0, 2000),
    metric: results.benchmark.metric.slice(0, 200),
    unit: results.benchmark.unit.slice(0, 50),
    direction: results.benchmark.direction,
    median: stats.median,
    ci: medianInterval(stats),
    n: stats.n,
    cvPct: stats.cvPct,
    status: results.status,
    ...machineOf(results.environment),
    ...(results.request.pr ? { pr: results.request.pr } : {}),
  });
}

/**
 * Reads a JSON-lines history: valid lines in order; lines that are not a record of this schema are
 * skipped and counted (a store written by a newer perfloop stays readable).
 */
export function parseHistory(text: string): { records: HistoryRecord[]; skipped: number } {
  const records: HistoryRecord[] = [];
  let skipped = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      const parsed = historyRecordSchema.safeParse(JSON.parse(line));
      if (parsed.success) records.push(parsed.data);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

/** Most lines a store keeps: older ones go when a new line would pass it. */
export const HISTORY_MAX_LINES = 10_000;

/** `text` with `records` appended, as JSON lines, keeping the newest {@link HISTORY_MAX_LINES}. */
export function appendHistory(text: string, records: readonly HistoryRecord[]): string {
  const lines = [
    ...text.split("\n").filter((l) => l.trim() !== ""),
    ...records.map((r) => JSON.stringify(r)),
  ];
  return `${lines.slice(-HISTORY_MAX_LINES).join("\n")}\n`;
}
