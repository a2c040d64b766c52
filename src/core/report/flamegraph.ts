/**
 * A flame graph (Brendan Gregg's) of folded stacks as a static SVG: one rectangle per frame of the
 * merged call tree, the root ("all") at the bottom, each frame's width proportional to its time
 * (inclusive: itself and what it called), children left to right in name order, colours by name.
 *
 * Written here rather than taken from npm: the maintained flame graph packages (d3-flame-graph,
 * d3-fg, 0x, @clinic/flame, speedscope, react/grafana components) draw in a browser DOM or emit HTML
 * with JavaScript, and thlorenz's `flamegraph`, the one Node SVG renderer, is unmaintained; a static
 * SVG needs only a tree walk and careful escaping.
 *
 * The SVG has no script: it opens in any browser or viewer, and each frame's `<title>` is its tooltip
 * (function, file:line, share of the total and time).
 */
import type { FoldedStack } from "../profile/folded.ts";
import { escapeXml } from "./escape.ts";
import { formatMs } from "./format.ts";

/** Options of {@link renderFlameGraph}. */
export interface FlameGraphOptions {
  /** The heading, e.g. `Flame graph: baseline`. */
  title: string;
  /** A line under the heading (what was profiled, how to read it). */
  subtitle?: string;
  /** Image width, px (default 1200). */
  width?: number;
  /** Height of one frame, px (default 16). */
  frameHeight?: number;
  /** Font size, px (default 12). */
  fontSize?: number;
  /** Frames narrower than this are not drawn (their parent covers them), px (default 0.1). */
  minWidthPx?: number;
  /** What a weight unit is, for the tooltips: microseconds (default) or a plain count. */
  unit?: "us" | "count";
}

interface Node {
  label: string;
  weight: number;
  children: Map<string, Node>;
}

const PAD_X = 10;
const HEADER = 44;
const FOOTER = 12;

/**
 * Renders `stacks` (frames outermost first; weights ≥ 0) as an SVG document (UTF-8 text). Every text
 * is XML-escaped and stripped of characters XML 1.0 cannot hold. A frame's rectangle is
 * `weight / total × (width − 20)` px wide; its label is cut (`..`) to what fits at an average
 * character width of 0.59 em, and left out under three characters. Deterministic: the same stacks
 * give the same bytes. No stacks (or a zero total) give a graph with the "all" frame only.
 */
export function renderFlameGraph(stacks: FoldedStack[], opts: FlameGraphOptions): string {
  const width = opts.width ?? 1200;
  const frameHeight = opts.frameHeight ?? 16;
  const fontSize = opts.fontSize ?? 12;
  const minWidth = opts.minWidthPx ?? 0.1;
  const root: Node = { label: "all", weight: 0, children: new Map() };
  let depth = 0;
  for (const { frames, weight } of stacks) {
    if (!(weight > 0) || !Number.isFinite(weight)) continue;
    root.weight += weight;
    let node = root;
    for (const label of frames) {
      let child = node.children.get(label);
      if (!child) {
        child = { label, weight: 0, children: new Map() };
        node.children.set(label, child);
      }
      child.weight += weight;
      node = child;
    }
    depth = Math.max(depth, frames.length);
  }
  const total = root.weight;
  const inner = width - 2 * PAD_X;
  const height = HEADER + (depth + 1) * frameHeight + FOOTER;
  const rects: string[] = [];
  const draw = (node: Node, x: number, level: number) => {
    const w = total > 0 ? (node.weight / total) * inner : level === 0 ? inner : 0;
    if (w < minWidth && level > 0) return;
    const y = height - FOOTER - (level + 1) * frameHeight;
    rects.push(frameSvg(node, level, x, y, w, frameHeight, fontSize, total, opts.unit ?? "us"));
    let cx = x;
    for (const child of [...node.children.values()].sort((a, b) => cmp(a.label, b.label))) {
      draw(child, cx, level + 1);
      cx += total > 0 ? (child.weight / total) * inner : 0;
    }
  };
  draw(root, PAD_X, 0);
  const subtitle = opts.subtitle
    ? `<text x="${width / 2}" y="36" text-anchor="middle" font-size="${fontSize}" fill="#555">${escapeXml(opts.subtitle)}</text>`
    : "";
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Verdana, DejaVu Sans, sans-serif" font-size="${fontSize}">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f8"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="${fontSize + 5}">${escapeXml(opts.title)}</text>`,
    subtitle,
    ...rects,
    "</svg>",
    "",
  ]
    .filter((l) => l !== "")
    .join("\n")
    .concat("\n");
}

function frameSvg(
  node: Node,
  level: number,
  x: number,
  y: number,
  w: number,
  h: number,
  fontSize: number,
  total: number,
  unit: "us" | "count",
): string {
  const pct = total > 0 ? (100 * node.weight) / total : 0;
  const amount = unit === "us" ? formatMs(node.weight / 1000) : `${node.weight} samples`;
  const tooltip = `${tooltipName(node.label)}\n${pct.toFixed(2)}% of the total, ${amount}`;
  const fit = Math.floor((w - 6) / (fontSize * 0.59));
  const chars = Array.from(node.label);
  const text = fit < 3 ? "" : chars.length <= fit ? node.label : `${chars.slice(0, fit - 2).join("")}..`;
  return [
    "<g>",
    `<title>${escapeXml(tooltip)}</title>`,
    `<rect x="${n2(x)}" y="${n2(y)}" width="${n2(w)}" height="${h - 1}" rx="2" fill="${colour(node.label, level)}"/>`,
    text ? `<text x="${n2(x + 3)}" y="${n2(y + h - 4.5)}">${escapeXml(text)}</text>` : "",
    "</g>",
  ].join("");
}

/** `name (file:line)` → `name` and `file:line` on two lines; anything else unchanged. */
function tooltipName(label: string): string {
  const m = /^(.*) \(([^()]+)\)$/.exec(label);
  return m ? `${m[1]}\n${m[2]}` : label;
}

/**
 * A fill colour for a frame, the same for the same label everywhere: warm (flamegraph.pl's "hot"
 * palette) from an FNV-1a hash of the label; grey for the root and for perfloop's `[…]` markers
 * (process frames, cut-off folds).
 */
export function colour(label: string, level: number): string {
  if (level === 0 || /^\[.*\]$/.test(label)) return "rgb(200,200,205)";
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  const v1 = (h & 0xff) / 255;
  const v2 = ((h >>> 8) & 0xff) / 255;
  const v3 = ((h >>> 16) & 0xff) / 255;
  return `rgb(${Math.round(205 + 50 * v3)},${Math.round(230 * v1)},${Math.round(55 * v2)})`;
}

/** Two decimals, no trailing zeros: small, stable numbers in the SVG. */
function n2(x: number): string {
  return String(Math.round(x * 100) / 100);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
