/**
 * The trend as a static SVG for the evidence bundle (`figures/trend.svg`): the median per commit as
 * a line, each median's 95% interval as a vertical bar, change points (trend.ts) as triangles, the
 * short commit hashes on the x axis. No script; every text is XML-escaped.
 */
import { escapeXml } from "../report/escape.ts";
import { short, type Trend } from "./trend.ts";

const WIDTH = 900;
const HEIGHT = 320;
const MARGIN = { left: 70, right: 20, top: 40, bottom: 60 };

/** The SVG document of `t` (at least one point). */
export function trendSvg(t: Trend): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const lo = Math.min(...t.points.map((p) => p.ci[0]));
  const hi = Math.max(...t.points.map((p) => p.ci[1]));
  const span = hi - lo || Math.abs(hi) || 1;
  const yMin = lo - span * 0.1;
  const yMax = hi + span * 0.1;
  const x = (i: number) =>
    MARGIN.left + (t.points.length === 1 ? plotW / 2 : (i * plotW) / (t.points.length - 1));
  const y = (v: number) => MARGIN.top + plotH - ((v - yMin) / (yMax - yMin)) * plotH;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="14">${escapeXml(`${t.metric}${t.unit ? ` (${t.unit})` : ""}: median per commit, ${t.direction} is better`)}</text>`,
    `<text x="${WIDTH / 2}" y="32" text-anchor="middle" fill="#57606a">${escapeXml(`${t.machineName} · bars: 95% interval of the median · ▲ worse / ▼ better: intervals apart`)}</text>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#8c959f"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#8c959f"/>`,
  ];
  for (const v of [yMin, (yMin + yMax) / 2, yMax])
    parts.push(
      `<text x="${MARGIN.left - 6}" y="${f(y(v) + 4)}" text-anchor="end" fill="#57606a">${escapeXml(short(v))}</text>`,
    );
  parts.push(
    `<polyline fill="none" stroke="#0969da" stroke-width="2" points="${t.points.map((p, i) => `${f(x(i))},${f(y(p.median))}`).join(" ")}"/>`,
  );
  t.points.forEach((p, i) => {
    parts.push(
      `<line x1="${f(x(i))}" y1="${f(y(p.ci[0]))}" x2="${f(x(i))}" y2="${f(y(p.ci[1]))}" stroke="#54aeff" stroke-width="3"><title>${escapeXml(`${p.commit.slice(0, 12)} ${p.date}: median ${short(p.median)}, 95% interval ${short(p.ci[0])} … ${short(p.ci[1])}, n = ${p.n}`)}</title></line>`,
      `<circle cx="${f(x(i))}" cy="${f(y(p.median))}" r="3" fill="#0969da"/>`,
      `<text transform="translate(${f(x(i))},${MARGIN.top + plotH + 12}) rotate(45)" fill="#24292f">${escapeXml(p.commit.slice(0, 7))}</text>`,
    );
  });
  for (const c of t.changes) {
    const i = t.points.findIndex((p) => p.commit === c.to);
    const p = t.points[i];
    if (!p) continue;
    const worse = c.direction === "worse";
    const top = y(p.ci[1]) - 8;
    const shape = worse
      ? `${f(x(i) - 6)},${f(top)} ${f(x(i) + 6)},${f(top)} ${f(x(i))},${f(top - 10)}`
      : `${f(x(i) - 6)},${f(top - 10)} ${f(x(i) + 6)},${f(top - 10)} ${f(x(i))},${f(top)}`;
    parts.push(
      `<polygon points="${shape}" fill="${worse ? "#cf222e" : "#1a7f37"}"><title>${escapeXml(`${worse ? "worse" : "better"} at ${c.to.slice(0, 7)}: ${c.changePct.toFixed(1)}%`)}</title></polygon>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
