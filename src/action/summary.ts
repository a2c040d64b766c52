/**
 * What the step shows and returns: the job summary (GITHUB_STEP_SUMMARY: a status line with the
 * links, then report.md as the loop wrote it, taken from the evidence writer's memory, never re-read
 * from disk where a leftover process could have rewritten it; issue 10, item 10) and the step outputs
 * of action.yml, from the in-memory results.
 */
import path from "node:path";
import type { Results } from "../core/evidence/results-schema.ts";
import { escapeInline } from "../core/report/escape.ts";
import type { RunLinks } from "../publish/index.ts";
import type { ActionCore } from "./deps.ts";

/** The job summary limit is 1 MiB per step (GitHub docs, "Adding a job summary"); stay well below. */
const SUMMARY_MAX_CHARS = 900_000;

/**
 * The speedup of the verified best state over the baseline: median(A)/median(B) for a
 * lower-is-better metric, median(B)/median(A) for a higher-is-better one. null unless improved.
 */
export function speedupOf(results: Results): number | null {
  const primary = results.final?.primary;
  if (results.status !== "improved" || !primary || primary.ratio <= 0) return null;
  return primary.direction === "lower" ? 1 / primary.ratio : primary.ratio;
}

/**
 * Appends the run's report to the job summary.
 * @param report report.md's text as the loop wrote it (the writer's in-memory copy); null when the
 *   loop wrote none: the results' message stands in.
 * @returns false when the step has no summary file (not in an Actions job); the report is in the bundle.
 */
export async function writeJobSummary(
  core: ActionCore,
  env: NodeJS.ProcessEnv,
  results: Results,
  report: string | null,
  head: string,
): Promise<boolean> {
  if (!env.GITHUB_STEP_SUMMARY) return false;
  report ??= `perfloop: ${escapeInline(results.message)}`;
  const text = `${head}\n\n${report.length > SUMMARY_MAX_CHARS ? `${report.slice(0, SUMMARY_MAX_CHARS)}\n\n…(truncated; the full report is in the artifact)` : report}`;
  await core.summary.addRaw(text, true).write();
  return true;
}

/** The status line above the report: outcome, commit, links. Markdown; URLs are ours. */
export function summaryHead(results: Results, sha: string, links: RunLinks, artifactName: string): string {
  const evidence = links.artifactUrl ? `[${artifactName}](${links.artifactUrl})` : `\`${artifactName}\``;
  return `**perfloop** on \`${sha.slice(0, 12)}\`: **${results.status}**: ${escapeInline(results.message)} · evidence: ${evidence}`;
}

/**
 * Sets the step outputs: `verdict` (results status), `speedup` (e.g. "1.623", empty unless
 * improved), `report`, `patch` (empty without a verified patch) and `results` (absolute paths).
 */
export function setOutputs(core: ActionCore, results: Results, outDir: string): void {
  const speedup = speedupOf(results);
  core.setOutput("verdict", results.status);
  core.setOutput("speedup", speedup === null ? "" : speedup.toFixed(3));
  core.setOutput("report", path.join(outDir, "report.md"));
  core.setOutput("patch", results.final?.patchFile ? path.join(outDir, results.final.patchFile) : "");
  core.setOutput("results", path.join(outDir, "results.json"));
}
