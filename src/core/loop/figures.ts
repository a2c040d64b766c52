/**
 * The bundle's figures: `figures/flowchart.dot` and `figures/flowchart.svg`, the path this run
 * took (src/core/report/flowchart.ts), written at the end of every run. A figure never fails the
 * run: when the SVG cannot be rendered the .dot is still written and audit.log says why; when not
 * even the DOT can be made (a bug), audit.log says that.
 */
import { parseResults, type Results } from "../evidence/results-schema.ts";
import type { EvidenceWriter } from "../evidence/writer.ts";
import { type FlowchartOptions, flowchartDot } from "../report/flowchart.ts";
import { renderSvg } from "../report/render-svg.ts";

/** The flowchart's files in the bundle. */
export const FLOWCHART_DOT = "figures/flowchart.dot";
export const FLOWCHART_SVG = "figures/flowchart.svg";

/** Which flowchart files were written (for the report's link line). */
export interface FlowchartFiles {
  dot: boolean;
  svg: boolean;
}

/** Options of {@link writeFlowchart}. */
export interface WriteFlowchartOptions extends FlowchartOptions {
  /** DOT → SVG; default renderSvg (tests pass one that throws). */
  render?: (dot: string) => Promise<string>;
}

/**
 * Writes figures/flowchart.dot and figures/flowchart.svg into the bundle. The graph is made from
 * results.json as the writer wrote it (secrets already redacted, before any clipping or wrapping
 * could split one), falling back to `results` when the writer has none.
 * @returns which files were written; never throws (each failure is one audit line).
 */
export async function writeFlowchart(
  evidence: EvidenceWriter,
  results: Results,
  opts: WriteFlowchartOptions = {},
): Promise<FlowchartFiles> {
  const { render = renderSvg, ...dotOptions } = opts;
  let dot: string;
  try {
    const written = evidence.files().get("results.json");
    const source = written === undefined ? results : parseResults(JSON.parse(written));
    dot = flowchartDot(source, dotOptions);
    await evidence.text(FLOWCHART_DOT, dot);
  } catch (error) {
    await evidence.audit("flowchart", `not written: ${(error as Error).message}`).catch(() => undefined);
    return { dot: false, svg: false };
  }
  try {
    await evidence.text(FLOWCHART_SVG, await render(dot));
    await evidence.audit("flowchart", `${FLOWCHART_DOT} and ${FLOWCHART_SVG} written`);
    return { dot: true, svg: true };
  } catch (error) {
    await evidence
      .audit(
        "flowchart",
        `${FLOWCHART_SVG} not rendered (${FLOWCHART_DOT} written): ${(error as Error).message}`,
      )
      .catch(() => undefined);
    return { dot: true, svg: false };
  }
}
