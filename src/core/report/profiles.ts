/**
 * report.md's "Profiles" section: links to the flame graphs and the speedscope files the profiling
 * runs left in the bundle (src/core/loop/flamegraphs.ts, src/core/loop/profile-files.ts).
 */

/** One linked file: what it shows and its bundle-relative path. */
export interface ProfileLink {
  label: string;
  path: string;
}

/** The bundle's profile files that report.md links to (paths relative to the bundle root). */
export interface ProfileLinks {
  /** Flame graph SVGs: the baseline's and the final state's. */
  flameGraphs: ProfileLink[];
  /** speedscope files: the baseline's and each accepted round's. */
  speedscope: ProfileLink[];
  /** Whether a Python process is among them (its stacks are rebuilt from caller edges). */
  reconstructed: boolean;
}

/** `[label](path)` joined by ` · `; a path is percent-encoded where markdown would misread it. */
function links(list: ProfileLink[]): string {
  return list
    .map((l) => `[${l.label}](${encodeURI(l.path).replace(/\(/g, "%28").replace(/\)/g, "%29")})`)
    .join(" · ");
}

/**
 * The "Profiles" section, or "" when there is nothing to link: one line each for the flame graphs
 * and the speedscope files, how to open the latter, and (with Python) that its stacks are rebuilt.
 */
export function profilesSection(profiles?: ProfileLinks): string {
  if (!profiles || (profiles.flameGraphs.length === 0 && profiles.speedscope.length === 0)) return "";
  const lines = ["### Profiles", ""];
  if (profiles.flameGraphs.length > 0) lines.push(`Flame graphs (SVG): ${links(profiles.flameGraphs)}.`);
  if (profiles.speedscope.length > 0)
    lines.push(
      `${lines.length > 2 ? "\n" : ""}speedscope: ${links(profiles.speedscope)} — open https://www.speedscope.app and drag the file in.`,
    );
  if (profiles.reconstructed)
    lines.push(
      "\nPython stacks are rebuilt from cProfile's caller edges (time split by caller), not sampled.",
    );
  return lines.join("\n");
}
