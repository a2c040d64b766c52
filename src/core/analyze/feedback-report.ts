/**
 * `feedback_report.md` of the evidence bundle (docs/design.md, "Evidence bundle"): the bottleneck
 * verdicts with their rule, numbers, confidence, share and Amdahl bound, the remedies handed to the
 * optimizer, the signals they were computed from, and the profiler's hot spots.
 */

import { markdownTable } from "markdown-table";
import { torchSection } from "../report/torch-section.ts";
import type { HotSpot, SignalSummary, Verdict } from "../types.ts";
import { AMDAHL_CAP } from "./thresholds.ts";

/** Most hot-spot rows rendered; the rest are counted in a note. */
export const MAX_HOT_SPOT_ROWS = 20;

const MiB = 2 ** 20;

/**
 * Keep text literal in GitHub-flavoured markdown: a `<` that would open raw HTML (`<module>`,
 * `<listcomp>` are common Python function names) becomes `&lt;`; other `<` ("< 0.5") stay.
 */
function text(t: string): string {
  return t.replace(/<(?=[A-Za-z/!?])/g, "&lt;");
}

/** Escape what would break a GFM table cell (pipes, newlines, raw HTML). */
function cell(t: string): string {
  return text(t).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

function table(rows: string[][]): string {
  return markdownTable(rows.map((r) => r.map(cell)));
}

function fixed(x: number, d: number): string {
  return x.toFixed(d);
}

function mib(bytes: number): string {
  return `${fixed(bytes / MiB, 1)} MiB`;
}

function ms(x: number): string {
  return `${fixed(x, 1)} ms`;
}

/** A verdict number as stored, plus MiB for byte counts (names ending in "Bytes"). */
function numberText(name: string, value: number): string {
  return name.endsWith("Bytes") ? `${value} (${mib(value)})` : String(value);
}

function amdahlText(v: Verdict): string {
  return v.amdahlBound >= AMDAHL_CAP
    ? `${v.amdahlBound}× (the cap: share ≥ ${100 - 100 / AMDAHL_CAP}%)`
    : `${fixed(v.amdahlBound, 2)}×`;
}

function verdictSection(v: Verdict, i: number): string {
  const numbers = table([
    ["number", "value"],
    ...Object.entries(v.numbers).map(([k, x]) => [`\`${k}\``, numberText(k, x)]),
  ]);
  return [
    `## ${i + 1}. \`${v.category}\``,
    "",
    `- **Share of run time:** ${fixed(v.sharePct, 1)}%`,
    `- **Amdahl bound** (best speedup if that share vanished, 1 / (1 − share)): ${amdahlText(v)}`,
    `- **Confidence:** ${fixed(v.confidence, 2)}`,
    `- **Rule:** ${text(v.rule)}`,
    "",
    numbers,
    "",
    "**Remedies** (best first):",
    "",
    ...v.remedies.map((r, j) => `${j + 1}. ${text(r)}`),
  ].join("\n");
}

function gpuRows(s: SignalSummary): string[][] {
  const g = s.gpu;
  if (!g) return [["GPU", "none seen (no GPU, no nvidia-smi, or no samples)"]];
  const na = "not reported ([N/A])";
  return [
    ["GPU samples (nvidia-smi readings, all GPUs)", String(g.samples)],
    [
      "GPU utilization (mean, % of time a kernel ran)",
      g.utilGpuPct === null ? na : `${fixed(g.utilGpuPct, 1)}%`,
    ],
    ["GPU power / limit (mean)", g.powerFrac === null ? na : fixed(g.powerFrac, 3)],
    ["GPU memory used / total (peak)", g.memUsedFrac === null ? na : fixed(g.memUsedFrac, 3)],
    ["GPU slowdown reasons seen", g.slowdown.length ? g.slowdown.join(", ") : "none"],
  ];
}

/** Contention rows: run-queue delay, its share, the CPU / wall the rules test, the machine's state. */
function contentionRows(s: SignalSummary): string[][] {
  const c = s.contention;
  if (!c) return [["run-queue delay (contention)", "not measured (no schedstat readings)"]];
  const or = (x: number | null, f: (x: number) => string) => (x === null ? "not read" : f(x));
  const cpw = s.wallMs > 0 && c.share < 1 ? s.cpuMs / (s.wallMs * (1 - c.share)) : Number.NaN;
  return [
    [
      "run-queue delay per run (median; runnable but waiting for a CPU, schedstat field 2)",
      `${ms(c.runQueueMs)} over ${c.runs} run(s)`,
    ],
    ["contention: share of wall time lost to run-queue delay (median)", `${fixed(100 * c.share, 1)}%`],
    ["CPU / wall without run-queue delay (what the rules test)", fixed(cpw, 2)],
    ["machine: runnable tasks, procs_running (mean)", or(c.procsRunningMean, (x) => fixed(x, 2))],
    ["machine: 1-minute load average (mean)", or(c.loadavg1, (x) => fixed(x, 2))],
    ["machine: steal time per run, all CPUs (median)", or(c.stealMs, ms)],
  ];
}

/** The signals table: every number the rules read, with units. */
function signalsTable(s: SignalSummary): string {
  const cpw = s.wallMs > 0 ? s.cpuMs / s.wallMs : Number.NaN;
  const ioRate = s.wallMs > 0 ? (s.readBytes + s.writeBytes) / (s.wallMs / 1000) : Number.NaN;
  const cores = s.coreBusyPct.length
    ? s.coreBusyPct.map((p, i) => `cpu${i} ${fixed(p, 1)}%`).join(", ")
    : "not sampled";
  const peakPct =
    s.memTotalBytes > 0
      ? ` (${fixed((100 * s.peakRssBytes) / s.memTotalBytes, 1)}% of ${mib(s.memTotalBytes)})`
      : "";
  return table([
    ["signal", "value"],
    ["wall time (median of runs)", ms(s.wallMs)],
    ["CPU time, user + system, whole tree (median of runs)", ms(s.cpuMs)],
    ["CPU / wall (average busy cores of the tree)", fixed(cpw, 2)],
    ...contentionRows(s),
    ["logical cores", String(s.cores)],
    ["per-core busy (mean over samples, machine-wide)", cores],
    ["peak RSS", `${mib(s.peakRssBytes)}${peakPct}`],
    ["RSS growth, first quarter → end (median of runs)", mib(s.rssGrowthBytes)],
    ["major page faults per run (median)", String(s.majorFaults)],
    ["storage read per run (median)", mib(s.readBytes)],
    ["storage written per run (median)", mib(s.writeBytes)],
    ["storage I/O rate (read + written per second of wall)", `${fixed(ioRate / 1e6, 1)} MB/s`],
    ...gpuRows(s),
  ]);
}

function hotSpotTable(spots: readonly HotSpot[]): string {
  if (spots.length === 0) return "No hot spots: profiling gave none in the repository's files.";
  const shown = spots.slice(0, MAX_HOT_SPOT_ROWS);
  const rows = shown.map((h) => [
    `${h.file}:${h.line}`,
    h.function,
    fixed(h.selfPct, 1),
    fixed(h.cumulativePct, 1),
    h.calls === null ? "—" : String(h.calls),
  ]);
  const t = markdownTable(
    [["file:line", "function", "self %", "cumulative %", "calls"], ...rows].map((r) => r.map(cell)),
    { align: ["l", "l", "r", "r", "r"] },
  );
  const more = spots.length > shown.length ? `\n\n(${spots.length - shown.length} more not shown.)` : "";
  return t + more;
}

/**
 * Markdown of `feedback_report.md` for one baseline: a headline (the first verdict, or "no clear
 * bottleneck" when `verdicts` is empty), one section per verdict (share, Amdahl bound, confidence,
 * rule, its numbers as a table, numbered remedies), the signals table and the hot-spot table (at
 * most MAX_HOT_SPOT_ROWS rows). Verdicts are rendered in the order given (`classify` sorts them).
 * Numbers are printed as stored (byte counts also in MiB), so every one can be traced to the
 * summary. Pure; throws nothing for well-typed input.
 */
export function renderFeedbackReport(s: SignalSummary, verdicts: readonly Verdict[]): string {
  const top = verdicts[0];
  const headline = top
    ? `**Verdict: \`${top.category}\`** — ${fixed(top.sharePct, 1)}% of run time, confidence ` +
      `${fixed(top.confidence, 2)}, Amdahl bound ${amdahlText(top)}.` +
      (verdicts.length > 1
        ? ` Also fired: ${verdicts
            .slice(1)
            .map((v) => `\`${v.category}\``)
            .join(", ")}.`
        : "")
    : "**No clear bottleneck:** no rule of the classifier fired on these signals. The optimizer gets the " +
      "hot spots below without a category.";
  return [
    "# Bottleneck verdict",
    "",
    headline,
    "",
    ...verdicts.flatMap((v, i) => [verdictSection(v, i), ""]),
    "## Signals",
    "",
    signalsTable(s),
    "",
    "## Hot spots",
    "",
    hotSpotTable(s.hotSpots),
    "",
    ...(s.torch ? [torchSection(s.torch).replace(/^### /, "## "), ""] : []),
  ].join("\n");
}
