/**
 * Hot spots seen through a pull request: those whose function overlaps the lines the PR changed are
 * ranked first, and the report says what share of the profile lies in the PR's lines.
 */
import type { HotSpot } from "../types.ts";
import { type ChangedLines, countChangedLines } from "./changed-lines.ts";
import { functionEnd, languageOf } from "./functions.ts";

/** A hot spot and whether its function overlaps a line the pull request changed. */
export type FocusedHotSpot = HotSpot & { inPullRequest: boolean };

/** The profile's hot spots seen through a pull request's changed lines. */
export interface Focus {
  /** Every hot spot: those in the pull request first, then the others, each group in its input order. */
  hotSpots: FocusedHotSpot[];
  /**
   * Share of the profiled time spent in the pull request's lines, %: the sum of `selfPct` over the
   * hot spots in the pull request (self time, so a function nested in another is not counted twice),
   * clamped to 0..100 and rounded to 0.1.
   */
  pullRequestSharePct: number;
  /** Hot spots in the pull request. */
  changedFunctions: number;
  /** Lines the pull request changed, all files ({@link countChangedLines}). */
  changedLines: number;
}

/** `file` as a ChangedLines key: POSIX separators, no leading `./`. */
function normalize(file: string): string {
  return file.replaceAll("\\", "/").replace(/^(?:\.\/)+/, "");
}

/**
 * Marks and ranks `hotSpots` by the pull request's `changed` lines. A hot spot is in the pull request
 * when a changed range of its file intersects `[line, end]`, `end` being the last line of its function
 * ({@link functionEnd} on the source `readSource(file)` returns, for .py and JS/TS files). Where the
 * source cannot be read (`readSource` resolves null or rejects) or the language is unknown, only the
 * definition line counts. Each file is read at most once, and only files with changed lines are read.
 * @param readSource the text of a repo-relative file, or null when it cannot be read.
 * @returns the ranked hot spots and the pull request's share (see {@link Focus}).
 */
export async function focusHotSpots(
  hotSpots: HotSpot[],
  changed: ChangedLines,
  readSource: (file: string) => Promise<string | null>,
): Promise<Focus> {
  const sources = new Map<string, Promise<string | null>>();
  const read = (file: string) => {
    let text = sources.get(file);
    if (!text) {
      text = readSource(file).catch(() => null);
      sources.set(file, text);
    }
    return text;
  };
  const inside: FocusedHotSpot[] = [];
  const outside: FocusedHotSpot[] = [];
  let share = 0;
  for (const spot of hotSpots) {
    const ranges = changed[normalize(spot.file)] ?? [];
    let end = spot.line;
    const language = languageOf(spot.file);
    if (ranges.length > 0 && language) {
      const source = await read(spot.file);
      if (source !== null) end = functionEnd(source, spot.line, language);
    }
    const hit = ranges.some(([first, last]) => first <= end && last >= spot.line);
    if (hit) {
      inside.push({ ...spot, inPullRequest: true });
      if (Number.isFinite(spot.selfPct) && spot.selfPct > 0) share += spot.selfPct;
    } else outside.push({ ...spot, inPullRequest: false });
  }
  return {
    hotSpots: [...inside, ...outside],
    pullRequestSharePct: Math.round(Math.min(100, share) * 10) / 10,
    changedFunctions: inside.length,
    changedLines: countChangedLines(changed),
  };
}

/** `n` and the noun, plural unless n is 1. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/**
 * One sentence for the report on how much of the profile lies in the pull request's lines, e.g.
 * "12.3% of the profiled time (self time of 2 hot functions) lies in lines this pull request changed
 * (48 changed lines)." Says so when no hot function is in the pull request (0%), when the share
 * rounds to 0.0% ("less than 0.1%"), when the pull request changed no text lines, and when the
 * profile has no hot spots.
 */
export function describeFocus(focus: Focus): string {
  const lines = count(focus.changedLines, "changed line");
  if (focus.changedLines === 0) {
    return "This pull request changed no lines of text, so none of the profiled time lies in its lines.";
  }
  if (focus.hotSpots.length === 0) {
    return `The profile has no hot functions, so none of its time is attributed to lines this pull request changed (${lines}).`;
  }
  if (focus.changedFunctions === 0) {
    return (
      `0% of the profiled time lies in lines this pull request changed (${lines}): ` +
      (focus.hotSpots.length === 1
        ? "the one hot function does not overlap them."
        : `none of the ${focus.hotSpots.length} hot functions overlaps them.`)
    );
  }
  const pct = focus.pullRequestSharePct > 0 ? `${focus.pullRequestSharePct.toFixed(1)}%` : "Less than 0.1%";
  return (
    `${pct} of the profiled time (self time of ${count(focus.changedFunctions, "hot function")}) ` +
    `lies in lines this pull request changed (${lines}).`
  );
}
