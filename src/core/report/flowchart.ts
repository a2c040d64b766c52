/**
 * `figures/flowchart.dot`: the path one run actually took, as a Graphviz DOT graph built from its
 * validated `Results` only (a pure function; render-svg.ts turns it into SVG). The spine runs top to
 * bottom — set-up, tests on the baseline, baseline measurement (median, CV), profiling + verdict,
 * each round, the final measurement, the status — and each round's candidates hang below it with
 * the gate where they stopped and their outcome. The accepted path is bold green; rejected
 * candidates are grey and dashed; a failed step and an error are red. A run that failed or stopped
 * early ends the graph where it ended.
 *
 * Every text from results (commands, descriptions, reasons, messages, metric names) is untrusted:
 * it is cleaned (control and bidi characters, lone surrogates), clipped, wrapped, and escaped for a
 * DOT quoted string (`\`, `"`, and `&` as `&amp;`, since Graphviz would otherwise read `&lt;` or
 * `&#…;` as an entity). Node ids and attributes are perfloop's own. Graphviz escapes XML itself when
 * it writes SVG (test/flowchart.test.ts checks `<script>` and `"` in a reason).
 */
import type { CandidateRecord, Results, RoundRecord } from "../evidence/results-schema.ts";
import type { Comparison } from "../types.ts";
import { changePct, ciLabel, sampleSizes } from "./comparison.ts";
import { clipText, UNSAFE_CHARS } from "./escape.ts";
import { formatCi, formatPct, formatPercent, formatPValue, formatValue } from "./format.ts";

/** Bounds of the graph: rounds and candidates a round shown (more collapse into one "… N more" node), text sizes. */
export const FLOWCHART_LIMITS = {
  rounds: 50,
  candidates: 8,
  /** Characters of a command, description or metric name (before wrapping). */
  short: 100,
  /** Characters of a reason or message. */
  reason: 240,
  /** Characters of a line (labels are wrapped, Graphviz never wraps). */
  width: 44,
  /** Lines of one wrapped text. */
  lines: 5,
} as const;

/** Options of {@link flowchartDot}. */
export interface FlowchartOptions {
  /** The config's `setup` command; null: none configured; absent: not known (the node says "set-up"). */
  setup?: string | null;
}

/** Styles (DOT attribute lists, perfloop's own text only). */
const STYLE = {
  step: 'class="step"',
  accepted: 'class="accepted", color="#1a7f37", fontcolor="#1a7f37", penwidth=2.5, style="rounded,bold"',
  rejected: 'class="rejected", color="#8c959f", fontcolor="#57606a", style="rounded,dashed"',
  failed: 'class="failed", color="#cf222e", fontcolor="#cf222e", penwidth=2',
  more: 'class="more", color="#8c959f", fontcolor="#57606a", style="rounded,dashed"',
  acceptedEdge: 'color="#1a7f37", penwidth=2.5, style=bold',
  rejectedEdge: 'color="#8c959f", style=dashed, arrowhead=none',
  failedEdge: 'color="#cf222e", penwidth=2',
} as const;

/** Fill of the status node by status. */
const STATUS_FILL: Record<Results["status"], string> = {
  improved: "#dafbe1",
  "no-improvement": "#eaeef2",
  inconclusive: "#fff8c5",
  "baseline-failed": "#ffebe9",
  error: "#ffebe9",
  cancelled: "#fff1e5",
  timeout: "#fff1e5",
  passed: "#dafbe1",
  regressed: "#ffebe9",
  "head-failed": "#ffebe9",
};

/** Untrusted text as one clean line: control/bidi characters and lone surrogates gone, whitespace collapsed. */
function cleanLine(text: string): string {
  return text.toWellFormed().replace(UNSAFE_CHARS, "").replace(/\s+/g, " ").trim();
}

/**
 * Text for a DOT double-quoted string (no quotes around it): `\` → `\\` (so `\n`, `\N`, `\G`… in the
 * text stay literal), `"` → `\"`, `&` → `&amp;` (Graphviz reads `&name;` / `&#…;` as entities, also in
 * SVG output), and a clean single line (no newline, no control or bidi character).
 */
export function dotEscape(text: string): string {
  return cleanLine(text).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/&/g, "&amp;");
}

/**
 * Untrusted `text` clipped to `max` characters, then wrapped at spaces into lines of at most
 * `width` characters (a longer word is cut), at most `lines` of them (the last ends in "…" when
 * text was left out). Returns raw (unescaped) lines.
 */
export function wrapText(
  text: string,
  max: number,
  width: number = FLOWCHART_LIMITS.width,
  lines: number = FLOWCHART_LIMITS.lines,
): string[] {
  const words = clipText(cleanLine(text), max).split(" ").filter(Boolean);
  const out: string[] = [];
  let line = "";
  for (let word of words) {
    while (word.length > width) {
      if (line) out.push(line);
      out.push(word.slice(0, width));
      word = word.slice(width);
      line = "";
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      out.push(line);
      line = word;
    }
  }
  if (line) out.push(line);
  if (out.length <= lines) return out;
  const kept = out.slice(0, lines);
  kept[lines - 1] = `${clipText(kept[lines - 1] as string, width - 1).replace(/…$/, "")}…`;
  return kept;
}

/** A DOT label from raw lines: each escaped, joined by DOT's centred line break `\n`. */
function label(lines: readonly string[]): string {
  return `"${lines.map(dotEscape).join("\\n")}"`;
}

/**
 * One node statement. Untrusted text goes into labels only: Graphviz substitutes `\N`, `\G`… in
 * tooltips and URLs even after `\\`, so none is written.
 */
function node(id: string, lines: readonly string[], style: string): string {
  return `  ${id} [label=${label(lines)}, ${style}];`;
}

/** One edge statement (no label: nothing untrusted on edges). */
function edge(from: string, to: string, style = ""): string {
  return `  ${from} -> ${to}${style ? ` [${style}]` : ""};`;
}

/** ["wall time −30.4%", "95% CI −39.9% … −10.3%, p = 0.0021, n = 10+10"]: a comparison as plain text lines. */
export function comparisonLines(c: Comparison): string[] {
  const p = formatPValue(c.pValue, c.alpha ?? 0.01);
  const pText = p.startsWith("<") ? `p ${p}` : `p = ${p}`;
  return [
    `${clipText(cleanLine(c.metric), 40)} ${formatPct(changePct(c))}`,
    `${ciLabel(c.confidence)} ${formatCi(c.ci)}, ${pText}, n = ${sampleSizes(c)}`,
  ];
}

/** The primary metric's baseline statistics: the program's metric, CPU time when that decides, else wall time. */
function baselineLines(r: Results): string[] {
  const b = r.baseline;
  if (!b) return ["baseline measurement"];
  const [name, unit, stats] = b.metric
    ? [r.benchmark.metric, r.benchmark.unit, b.metric]
    : r.benchmark.metric === "CPU time"
      ? ["CPU time", "ms", b.cpuMs]
      : ["wall time", "ms", b.wallMs];
  return [
    "baseline measurement",
    ...wrapText(
      `${name}: median ${formatValue(stats.median, clipText(cleanLine(unit), 40))}`,
      FLOWCHART_LIMITS.short,
    ),
    `CV ${formatPercent(stats.cvPct)}, n = ${stats.n}`,
  ];
}

/** Which baseline step failed, from perfloop's own message (src/core/loop/baseline.ts). */
function failedStep(message: string): "setup" | "tests" | "baseline" {
  if (/^setup\b/.test(message)) return "setup";
  if (/^(the )?tests? fail/i.test(message)) return "tests";
  return "baseline";
}

/** Candidates a round shows: accepted ones first to keep, then rejected ones, in k order; and how many are left out. */
function shownCandidates(round: RoundRecord): { shown: CandidateRecord[]; hidden: number } {
  const all = round.candidates ?? [];
  const max = FLOWCHART_LIMITS.candidates;
  if (all.length <= max) return { shown: all, hidden: 0 };
  const accepted = all.filter((c) => c.outcome === "accepted").slice(0, max);
  const rejected = all.filter((c) => c.outcome !== "accepted").slice(0, max - accepted.length);
  const shown = [...accepted, ...rejected].sort((a, b) => a.k - b.k);
  return { shown, hidden: all.length - shown.length };
}

/** The outcome lines of a candidate or a candidate-less round: the measured change, or the gate and reason. */
function outcomeLines(
  outcome: "accepted" | "rejected",
  gate: string | null,
  reason: string,
  comparison: Comparison | null,
): string[] {
  if (outcome === "accepted")
    return comparison ? ["accepted:", ...comparisonLines(comparison)] : ["accepted"];
  return [`rejected at ${gate ?? "—"}:`, ...wrapText(reason, FLOWCHART_LIMITS.reason)];
}

/**
 * The flowchart of one run as DOT (shape: `digraph perfloop { … }`, node ids `setup`, `tests`,
 * `baseline`, `profile`, `r<n>`, `r<n>c<k>`, `r<n>more`, `more_rounds`, `final`, `status`; classes
 * `step`, `accepted`, `rejected`, `failed`, `more`, `status`). At most {@link FLOWCHART_LIMITS}
 * rounds and candidates a round; every text clipped, so the graph's size is bounded whatever the
 * results say. Never throws for valid results.
 */
export function flowchartDot(r: Results, opts: FlowchartOptions = {}): string {
  const out: string[] = [
    "digraph perfloop {",
    `  graph [label=${label([`perfloop ${r.mode} · ${r.status}`])}, labelloc=t, fontname="Helvetica", fontsize=14, rankdir=TB, nodesep=0.25, ranksep=0.35];`,
    // Room around the text: viewers without Helvetica substitute wider fonts than Graphviz measured.
    '  node [shape=box, style=rounded, margin="0.3,0.1", fontname="Helvetica", fontsize=10, color="#424a53", fontcolor="#1f2328"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#424a53", weight=1];',
  ];
  // The spine's edges weigh more, so Graphviz keeps it straight and the candidates to the side.
  const spine = (from: string, to: string, style = "") =>
    out.push(edge(from, to, [style, "weight=10"].filter(Boolean).join(", ")));

  const setupLines =
    opts.setup === undefined
      ? ["set-up"]
      : opts.setup === null
        ? ["set-up", "(none configured)"]
        : ["set-up", ...wrapText(opts.setup, FLOWCHART_LIMITS.short, FLOWCHART_LIMITS.width, 2)];
  const testLines = [
    "tests on the baseline",
    ...wrapText(r.benchmark.test, FLOWCHART_LIMITS.short, FLOWCHART_LIMITS.width, 2),
  ];
  let last: string;
  let lastStyle = "";

  if (!r.baseline) {
    // The run ended before the baseline was measured: where exactly, the message says.
    const step = r.status === "baseline-failed" ? failedStep(r.message) : null;
    const steps: Array<[string, string[]]> = [
      ["setup", setupLines],
      ["tests", testLines],
      [
        "baseline",
        [
          "baseline measurement",
          ...wrapText(r.benchmark.command, FLOWCHART_LIMITS.short, FLOWCHART_LIMITS.width, 2),
        ],
      ],
    ];
    if (step) {
      const upTo = steps.findIndex(([id]) => id === step);
      for (const [i, [id, lines]] of steps.slice(0, upTo + 1).entries()) {
        const failed = i === upTo;
        out.push(node(id, failed ? [...lines, "FAILED"] : lines, failed ? STYLE.failed : STYLE.step));
        if (i > 0) spine(steps[i - 1]?.[0] as string, id);
      }
      last = step;
    } else {
      out.push(node("setup", ["set-up, tests and baseline measurement", "(not completed)"], STYLE.failed));
      last = "setup";
    }
    lastStyle = STYLE.failedEdge;
  } else {
    out.push(node("setup", setupLines, STYLE.step));
    out.push(node("tests", [...testLines, "passed"], STYLE.step));
    out.push(node("baseline", baselineLines(r), STYLE.step));
    const top = r.verdicts[0];
    const verdict = top
      ? [
          `verdict: ${top.category}`,
          `${formatPercent(top.sharePct)} of run time, confidence ${top.confidence.toFixed(2)}`,
        ]
      : ["verdict: no clear bottleneck"];
    out.push(node("profile", ["profiling + verdict", ...verdict], STYLE.step));
    spine("setup", "tests");
    spine("tests", "baseline");
    spine("baseline", "profile");
    last = "profile";

    const rounds = r.rounds.slice(0, FLOWCHART_LIMITS.rounds);
    for (const round of rounds) {
      const id = `r${round.n}`;
      const { shown, hidden } = shownCandidates(round);
      const head = [
        `round ${round.n} · ${round.strategy}`,
        ...wrapText(round.description, FLOWCHART_LIMITS.short, FLOWCHART_LIMITS.width, 3),
      ];
      if (shown.length === 0) {
        // A knob round or a one-candidate round: the round itself carries the outcome.
        const lines = [...head, ...outcomeLines(round.outcome, round.gate, round.reason, round.comparison)];
        out.push(node(id, lines, round.outcome === "accepted" ? STYLE.accepted : STYLE.rejected));
        spine(last, id, lastStyle);
        last = id;
        lastStyle = round.outcome === "accepted" ? STYLE.acceptedEdge : "";
        continue;
      }
      out.push(node(id, head, STYLE.step));
      spine(last, id, lastStyle);
      let winner: string | null = null;
      for (const c of shown) {
        const cid = `${id}c${c.k}`;
        const accepted = c.outcome === "accepted";
        const lines = [
          `candidate ${c.k}`,
          ...wrapText(c.description, FLOWCHART_LIMITS.short, FLOWCHART_LIMITS.width, 2),
          ...outcomeLines(c.outcome, c.gate, c.reason, accepted ? round.comparison : null),
        ];
        out.push(node(cid, lines, accepted ? STYLE.accepted : STYLE.rejected));
        out.push(edge(id, cid, accepted ? STYLE.acceptedEdge : STYLE.rejectedEdge));
        if (accepted && winner === null) winner = cid;
      }
      if (hidden > 0) {
        out.push(node(`${id}more`, [`… ${hidden} more candidate(s)`, "see results.json"], STYLE.more));
        out.push(edge(id, `${id}more`, STYLE.rejectedEdge));
      }
      if (winner) {
        last = winner;
        lastStyle = STYLE.acceptedEdge;
      } else {
        last = id;
        lastStyle = "";
      }
    }
    const more = r.rounds.length - rounds.length;
    if (more > 0) {
      const accepted = r.rounds.slice(rounds.length).filter((x) => x.outcome === "accepted").length;
      out.push(
        node(
          "more_rounds",
          [`… ${more} more round(s), ${accepted} accepted`, "see results.json"],
          STYLE.more,
        ),
      );
      spine(last, "more_rounds", lastStyle);
      last = "more_rounds";
      lastStyle = "";
    }
    if (r.final) {
      const c = r.final.primary;
      out.push(
        node(
          "final",
          [
            "final measurement",
            "baseline (A) against the best state (B), interleaved",
            ...comparisonLines(c),
            c.verdict,
          ],
          c.verdict === "faster" ? STYLE.accepted : STYLE.step,
        ),
      );
      spine(last, "final", lastStyle);
      last = "final";
      lastStyle = c.verdict === "faster" ? STYLE.acceptedEdge : "";
    }
    if (r.status === "error" || r.status === "cancelled" || r.status === "timeout")
      lastStyle = STYLE.failedEdge;
  }

  const statusStyle = `class="status", shape=box, style="rounded,filled", fillcolor="${STATUS_FILL[r.status]}"${r.status === "improved" ? ', color="#1a7f37", penwidth=2.5' : r.status === "error" || r.status === "baseline-failed" ? ', color="#cf222e", penwidth=2' : ""}`;
  out.push(node("status", [r.status, ...wrapText(r.message, FLOWCHART_LIMITS.reason)], statusStyle));
  spine(last, "status", lastStyle);
  out.push("}");
  return `${out.join("\n")}\n`;
}

/**
 * The report's line linking the flowchart, relative to report.md in the bundle: "Flowchart of this
 * run: [figures/flowchart.svg](figures/flowchart.svg) (Graphviz source:
 * [figures/flowchart.dot](figures/flowchart.dot))"; the .dot alone when the SVG was not rendered;
 * "" when neither was written or `files` is absent.
 */
export function flowchartLink(files: { dot: boolean; svg: boolean } | undefined): string {
  if (!files?.dot) return "";
  const dot = "[figures/flowchart.dot](figures/flowchart.dot)";
  return files.svg
    ? `Flowchart of this run: [figures/flowchart.svg](figures/flowchart.svg) (Graphviz source: ${dot}).`
    : `Flowchart of this run: ${dot} (Graphviz DOT; the SVG could not be rendered, see audit.log).`;
}
