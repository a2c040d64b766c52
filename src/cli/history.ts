/**
 * `perfloop history [dir]`: the performance history as trends (src/core/history/): one series per
 * benchmark, metric and machine, its points and change points, from a JSON-lines file (`--file`) or
 * from the repository's data branch (`git show <ref>:history.jsonl`, default
 * `origin/perfloop-data`, where the Action keeps it; docs/gate.md, "History").
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { HISTORY_BRANCH, HISTORY_FILE, type HistoryRecord, parseHistory } from "../core/history/record.ts";
import { type Trend, trendMermaid, trendsOf } from "../core/history/trend.ts";
import { trendSvg } from "../core/history/trend-svg.ts";
import { formatPct } from "../core/report/format.ts";

/** Where the history comes from and where figures go. */
export interface HistoryOptions {
  dir: string;
  file?: string | undefined;
  ref?: string | undefined;
  svgDir?: string | undefined;
  json?: boolean | undefined;
  mermaid?: boolean | undefined;
}

/** A history that cannot be read; the message names the source and the fix. */
export class HistoryReadError extends Error {
  override name = "HistoryReadError";
}

/**
 * Reads the history from `--file`, else from `git show <ref>:history.jsonl` in `dir`.
 * @throws HistoryReadError when the file or the ref cannot be read.
 */
async function loadHistory(
  opts: HistoryOptions,
): Promise<{ records: HistoryRecord[]; skipped: number; source: string }> {
  if (opts.file) {
    const file = path.resolve(opts.file);
    const text = await readFile(file, "utf8").catch((error: Error) => {
      throw new HistoryReadError(`cannot read ${file}: ${error.message}`, { cause: error });
    });
    return { ...parseHistory(text), source: file };
  }
  const ref = opts.ref ?? `origin/${HISTORY_BRANCH}`;
  const shown = await execa("git", ["show", `${ref}:${HISTORY_FILE}`], { cwd: opts.dir, reject: false });
  if (shown.exitCode !== 0)
    throw new HistoryReadError(
      `no history at ${ref}:${HISTORY_FILE} in ${opts.dir}: fetch the data branch first (\`git fetch origin ${HISTORY_BRANCH}\`), or pass --file PATH`,
    );
  return { ...parseHistory(shown.stdout), source: `${ref}:${HISTORY_FILE}` };
}

/** A series as text for a terminal: header, the newest points, the change points. */
function formatTrend(t: Trend, shown = 20): string {
  const unit = t.unit ? ` ${t.unit}` : "";
  const lines = [
    `${t.benchmark} · ${t.metric} (${t.direction} is better) · ${t.machineName}`,
    ...t.points
      .slice(-shown)
      .map(
        (p) =>
          `  ${p.commit.slice(0, 12)}  ${p.date.slice(0, 16).replace("T", " ")}  median ${Number(p.median.toPrecision(4))}${unit}  (95% ${Number(p.ci[0].toPrecision(4))} … ${Number(p.ci[1].toPrecision(4))}, n = ${p.n})`,
      ),
  ];
  if (t.points.length > shown) lines.splice(1, 0, `  … ${t.points.length - shown} older point(s)`);
  lines.push(
    t.changes.length === 0
      ? "  no change point (every step lies within its neighbours' intervals)"
      : t.changes
          .map(
            (c) =>
              `  ${c.direction === "worse" ? "▲ worse" : "▼ better"} at ${c.to.slice(0, 12)}: ${formatPct(c.changePct)}`,
          )
          .join("\n"),
  );
  return lines.join("\n");
}

/**
 * Runs `perfloop history`: prints every series (or JSON, or mermaid), writes SVGs with --svg.
 * @returns 0, or 1 when there is no record at all.
 * @throws HistoryReadError when the source cannot be read.
 */
export async function runHistory(
  opts: HistoryOptions,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  const { records, skipped, source } = await loadHistory(opts);
  if (skipped > 0)
    err.write(`perfloop history: ${skipped} line(s) of ${source} are not history records; skipped\n`);
  const trends = trendsOf(records);
  if (trends.length === 0) {
    err.write(`perfloop history: ${source} holds no record yet\n`);
    return 1;
  }
  if (opts.json) out.write(`${JSON.stringify(trends, null, 2)}\n`);
  else out.write(`${trends.map((t) => (opts.mermaid ? trendMermaid(t) : formatTrend(t))).join("\n\n")}\n`);
  if (opts.svgDir) {
    const dir = path.resolve(opts.svgDir);
    await mkdir(dir, { recursive: true });
    for (const [i, t] of trends.entries()) {
      const file = path.join(dir, `trend-${i + 1}.svg`);
      await writeFile(file, trendSvg(t));
      err.write(`wrote ${file} (${t.benchmark} · ${t.metric})\n`);
    }
  }
  return 0;
}
