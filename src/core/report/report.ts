/**
 * report.md: what the pull request sees (docs/design.md, "Evidence bundle"). Rendered from a validated
 * `Results` only; every number is a field of it, formatted (see format.ts), so a reader can trace it
 * to results.json and perf_raw.json. The App posts it as a PR comment, so it stays under GitHub's
 * comment limit (65,536 characters, docs/design.md, "Size limits") by dropping whole sections.
 */

import type { Results } from "../evidence/results-schema.ts";
import { trajectoryChart, type Utilization, utilizationChart } from "./charts.ts";
import { contentionLine } from "./contention.ts";
import { clipText, escapeInline } from "./escape.ts";
import { flowchartLink } from "./flowchart.ts";
import { gateBenchmarksSection, gateGrowthSection } from "./gate-section.ts";
import { type ProfileLinks, profilesSection } from "./profiles.ts";
import {
  footerSection,
  hotSpotSection,
  type RedactionNote,
  recommendationSection,
  redactionSection,
  reproduceSection,
  roundsSection,
  sandboxWarningSection,
  summarySection,
  tableSection,
  titleSection,
  verdictSection,
} from "./sections.ts";
import { torchSection } from "./torch-section.ts";

export type { Utilization } from "./charts.ts";

/** Default size cap of report.md, characters: under GitHub's 65,536-character comment limit with room for the App's marker. */
export const DEFAULT_MAX_CHARS = 60_000;

/** Smallest accepted `maxChars`: the title (message clipped to 500 characters, escaped) and the truncation line always fit. */
export const MIN_MAX_CHARS = 4_000;

/** Options of {@link renderReport}. */
export interface ReportOptions {
  /** Size cap of the whole report, characters (UTF-16 units, as GitHub counts); default 60,000, at least 4,000. */
  maxChars?: number;
  /** Where the untruncated report lives (e.g. the artifact or run URL); named in the truncation line. */
  fullReportUrl?: string;
  /** Utilization over the baseline measurement, for the utilization chart (see charts.ts). */
  utilization?: Utilization;
  /**
   * Secrets redacted from the evidence, for the line under the title (default: `sandbox.redactions`
   * of the results, when present). The loop passes the count taken just before writing report.md.
   */
  redactions?: RedactionNote;
  /** Which of figures/flowchart.dot and .svg the bundle holds (src/core/loop/figures.ts): a link line after the rounds. */
  flowchart?: { dot: boolean; svg: boolean };
  /** The trend section (src/core/loop/trend.ts), markdown already made safe; shown after the gate's growth. */
  trend?: string;
  /** The flame graphs and speedscope files in the bundle (src/core/loop/flamegraphs.ts): a "Profiles" section after the hot spots. */
  profiles?: ProfileLinks;
}

/**
 * A report section and when it may be dropped to fit `maxChars`: 0 = never, else the order in which
 * sections go (1 first: the round details, then the hot spots, then the charts, …).
 */
interface Section {
  text: string;
  drop: number;
}

/** The sections in reading order, each with its drop rank. Empty sections are left out. */
function sections(r: Results, opts: ReportOptions): Section[] {
  const trajectory = trajectoryChart(r.rounds);
  const util = opts.utilization ? utilizationChart(opts.utilization) : null;
  const all: Section[] = [
    // The redaction line stays with the title, even when everything else must go.
    {
      text: [
        sandboxWarningSection(r),
        titleSection(r),
        redactionSection(opts.redactions ?? r.sandbox?.redactions),
      ]
        .filter(Boolean)
        .join("\n\n"),
      drop: 0,
    },
    { text: summarySection(r), drop: 0 },
    { text: tableSection(r), drop: 8 },
    { text: contentionLine(r), drop: 8 },
    { text: gateBenchmarksSection(r), drop: 8 },
    { text: gateGrowthSection(r), drop: 6 },
    { text: opts.trend ?? "", drop: 4 },
    { text: verdictSection(r), drop: 6 },
    { text: hotSpotSection(r), drop: 2 },
    { text: torchSection(r.torch), drop: 2 },
    { text: profilesSection(opts.profiles), drop: 2 },
    { text: recommendationSection(r), drop: 7 },
    { text: trajectory ? `### Trajectory\n\n${trajectory}` : "", drop: 4 },
    { text: util ? `### Utilization (baseline)\n\n${util}` : "", drop: 3 },
    { text: roundsSection(r), drop: 1 },
    { text: flowchartLink(opts.flowchart), drop: 5 },
    { text: reproduceSection(r), drop: 5 },
    { text: footerSection(r), drop: 9 },
  ];
  return all.filter((s) => s.text !== "");
}

/** Sections joined by blank lines, ending in a newline. */
function join(parts: readonly string[]): string {
  return `${parts.join("\n\n")}\n`;
}

/**
 * The truncation notice, the report's last line when sections were dropped. A URL is shown as is
 * when it is a plain http(s) URL of at most 1,000 characters; anything else is clipped to 200
 * characters and escaped (the caller passes it, but it may come from configuration).
 */
export function truncationLine(fullReportUrl?: string): string {
  const url = fullReportUrl?.trim();
  const where = !url
    ? "report.md in the evidence artifact"
    : /^https?:\/\/[^\s<>()[\]"'`]+$/.test(url) && url.length <= 1000
      ? url
      : escapeInline(clipText(url, 200));
  return `Report truncated; full report: ${where}`;
}

/**
 * Renders report.md from validated results (shape: `Results` of results-schema.ts) as GitHub
 * markdown: title with the outcome, summary, before/after table, the contention line (baseline, A and
 * B, when results.json has it), bottleneck verdict, hot spots, links to the profiles (`opts.profiles`), knob
 * recommendations, mermaid charts (trajectory; utilization when `opts.utilization` is given), one
 * folded <details> per round, a folded "How to reproduce", and a footer.
 *
 * Size: when the text exceeds `maxChars` (default 60,000), whole sections are dropped in this order
 * until it fits — round details, hot spots with the profile links, utilization chart, trajectory chart, reproduce, verdict,
 * recommendations, table (with the contention line), footer — and the last line becomes "Report truncated; full report: …".
 * Sections are never cut inside, so fences and tables stay balanced. The title and summary are
 * bounded by clipping the untrusted text in them.
 * @throws RangeError when `maxChars` is below {@link MIN_MAX_CHARS} or not an integer.
 */
export function renderReport(results: Results, opts: ReportOptions = {}): string {
  const maxChars = opts.maxChars ?? DEFAULT_MAX_CHARS;
  if (!Number.isInteger(maxChars) || maxChars < MIN_MAX_CHARS) {
    throw new RangeError(`renderReport: maxChars must be an integer ≥ ${MIN_MAX_CHARS}, got ${maxChars}`);
  }
  let kept = sections(results, opts);
  const full = join(kept.map((s) => s.text));
  if (full.length <= maxChars) return full;

  const notice = truncationLine(opts.fullReportUrl);
  const fits = () => join([...kept.map((s) => s.text), notice]).length <= maxChars;
  const ranks = [...new Set(kept.map((s) => s.drop).filter((d) => d > 0))].sort((a, b) => a - b);
  for (const rank of ranks) {
    if (fits()) break;
    kept = kept.filter((s) => s.drop !== rank);
  }
  // Title and summary alone: bounded by clipping; cut the summary as a last resort.
  if (!fits()) kept = kept.filter((s) => s.drop === 0).slice(0, 1);
  return join([...kept.map((s) => s.text), notice]);
}
