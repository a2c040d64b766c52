/**
 * "### PyTorch trace": the facts of the profiling run's torch.profiler trace (profile/torch-facts.ts)
 * as tables — operators, kernels, the GPU's idle time by HTA's categories, copies and syncs — each
 * row with the Python function it came from. Shown in report.md and feedback_report.md. Every text
 * from the trace (operator and kernel names, file names) is untrusted and escaped.
 */
import { markdownTable } from "markdown-table";
import type { TorchFacts } from "../profile/torch-facts.ts";
import type { CallSite } from "../profile/torch-sites.ts";
import { clipText, codeSpan, escapeInline, escapeTableCell } from "./escape.ts";
import { formatBytes, formatMs, formatNumber, formatPercent } from "./format.ts";

const RECORDER: Record<TorchFacts["recorder"], string> = {
  kineto: "torch.profiler",
  legacy: "torch without Kineto: CPU operators only",
  nsys: "Nsight Systems export: no operators or Python lines",
};

/** Rows per table. */
const ROWS = 5;
const NAME = 70;

const cell = (text: string): string => escapeTableCell(clipText(text, NAME));
const site = (s: CallSite | null): string => (s ? cell(`${s.file}:${s.line} ${s.function}`) : "—");
const us = (x: number): string => `${formatNumber(Math.round(x * 10) / 10)} µs`;

/** The section's markdown; "" when `t` is null. `bundleFile` links the trace when given. */
export function torchSection(t: TorchFacts | null | undefined): string {
  if (!t) return "";
  const where = t.device ? `on ${escapeInline(clipText(t.device, NAME))}` : "CPU only";
  const lines = [
    "### PyTorch trace",
    "",
    `${codeSpan(t.file)} (${RECORDER[t.recorder]}, ${where}): ` +
      `${formatMs(t.windowMs)} traced, ${formatNumber(t.opCount)} operators (median top-level self time ${us(t.opMedianSelfUs)}), ` +
      `${formatNumber(t.scalarReads.count)} \`.item()\` reads. Open it in https://ui.perfetto.dev.`,
    "",
  ];
  if (t.operators.length) {
    const rows = t.operators
      .slice(0, ROWS)
      .map((o) => [
        cell(o.name),
        formatNumber(o.calls),
        formatMs(o.selfMs),
        formatPercent(o.selfPct),
        o.shapes ? cell(o.shapes) : "—",
        site(o.site),
      ]);
    lines.push(
      markdownTable(
        [["operator", "calls", "self", "self %", "shapes (most calls)", "called from"], ...rows],
        {
          align: ["l", "r", "r", "r", "l", "l"],
        },
      ),
      "",
    );
  }
  const g = t.gpu;
  if (g) {
    lines.push(
      `GPU: ${formatNumber(g.kernelCount)} kernels (median ${us(g.kernelMedianUs)}), idle ${formatPercent(g.idlePct)} of ` +
        `${formatMs(g.activeMs)} — host wait ${formatMs(g.idle.hostWaitMs)}, kernel wait ${formatMs(g.idle.kernelWaitMs)}, ` +
        `other ${formatMs(g.idle.otherMs)} (HTA's idle-time categories); median gap ${us(g.gapMedianUs)}; ` +
        `${formatNumber(g.launchCount)} launches (median ${us(g.launchMedianUs)} on the host).`,
      "",
    );
    if (g.hostDuringIdle.length)
      lines.push(
        `While the GPU waited, the host ran: ${g.hostDuringIdle.map((h) => `${codeSpan(clipText(h.name, NAME))} ${formatMs(h.ms)}`).join(", ")}.`,
        "",
      );
  }
  if (t.kernels.length) {
    const rows = t.kernels
      .slice(0, ROWS)
      .map((k) => [
        cell(k.name),
        formatNumber(k.calls),
        formatMs(k.totalMs),
        us(k.medianUs),
        formatPercent(k.pctOfKernelTime),
        k.op ? cell(k.op) : "—",
        site(k.site),
      ]);
    lines.push(
      markdownTable(
        [["kernel", "calls", "total", "median", "% of kernel time", "operator", "called from"], ...rows],
        {
          align: ["l", "r", "r", "r", "r", "l", "l"],
        },
      ),
      "",
    );
  }
  if (t.copies.length)
    lines.push(
      `Copies: ${t.copies
        .map(
          (c) =>
            `${c.kind} ${formatNumber(c.count)}× ${formatBytes(c.bytes)} in ${formatMs(c.ms)}${c.pageableBytes ? ` (${formatBytes(c.pageableBytes)} pageable)` : ""}`,
        )
        .join("; ")}.`,
      "",
    );
  if (t.syncs.length)
    lines.push(
      `Host syncs: ${t.syncs
        .slice(0, 3)
        .map(
          (s) =>
            `${codeSpan(s.name)} ${formatNumber(s.count)}× ${formatMs(s.ms)}${s.sites[0] ? ` (most from ${escapeInline(`${s.sites[0].site.file}:${s.sites[0].site.line} ${s.sites[0].site.function}`)})` : ""}`,
        )
        .join("; ")}.`,
      "",
    );
  return lines.join("\n").trimEnd();
}
