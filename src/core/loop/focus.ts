/**
 * Focus on the pull request (docs/agent.md, "Focus on the pull request"): when a run belongs to a PR, the
 * baseline's hot spots are ranked with the PR's functions first (src/core/focus/rank.ts), the model
 * is told which lines the PR changed, and the report says what share of the profile lies in them.
 */
import { type ChangedLines, countChangedLines } from "../focus/changed-lines.ts";
import { describeFocus, focusHotSpots } from "../focus/rank.ts";
import { readInside } from "../fs/inside.ts";
import type { HotSpot } from "../types.ts";
import type { Baseline } from "./baseline.ts";
import type { LoopContext } from "./context.ts";

/** The PR's place in the baseline profile. */
export interface BaselineFocus {
  /** Self time of the hot functions the PR changed, % of the profiled time. */
  sharePct: number;
  changedFunctions: number;
  changedLines: number;
  /** The report's sentence. */
  text: string;
  /** The prompt's paragraph: the changed lines, and the hot functions among them. */
  prompt: string;
}

/** Files listed in the prompt at most (the rest are counted). */
const MAX_FILES_IN_PROMPT = 30;

/**
 * Ranks `baseline.hotSpots` in place, PR functions first, and returns the focus. Sources are read
 * from the baseline tree through src/core/fs/inside.ts (inside the tree only).
 */
export async function applyFocus(
  ctx: LoopContext,
  baseline: Baseline,
  changed: ChangedLines,
): Promise<BaselineFocus> {
  const focus = await focusHotSpots(baseline.hotSpots, changed, (file) =>
    readInside(ctx.workspace.baseline, file),
  );
  baseline.hotSpots = focus.hotSpots.map(({ inPullRequest: _, ...spot }) => spot);
  const text = describeFocus(focus);
  const files = Object.entries(changed).sort(([a], [b]) => a.localeCompare(b));
  const listed = files
    .slice(0, MAX_FILES_IN_PROMPT)
    .map(
      ([file, ranges]) =>
        `- ${file}: lines ${ranges.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(", ")}`,
    );
  const more =
    files.length > MAX_FILES_IN_PROMPT ? [`- … and ${files.length - MAX_FILES_IN_PROMPT} more files`] : [];
  const hot = focus.hotSpots
    .filter((h) => h.inPullRequest)
    .map((h) => `\`${h.function}\` (${h.file}:${h.line})`);
  const prompt = [
    `This run belongs to a pull request that changed ${countChangedLines(changed)} line(s) in ${files.length} file(s):`,
    ...listed,
    ...more,
    hot.length > 0
      ? `Hot functions in the pull request's lines: ${hot.join(", ")} — ${focus.pullRequestSharePct.toFixed(1)}% of the profiled time. Start there: the change under review is what the maintainers want fast.`
      : "None of the hot functions lies in the pull request's lines; optimize the hot spots, and keep the pull request's own code as it is unless it is on the hot path.",
  ].join("\n");
  await ctx.evidence.audit("focus", text);
  ctx.emit({ type: "note", message: text });
  return {
    sharePct: focus.pullRequestSharePct,
    changedFunctions: focus.changedFunctions,
    changedLines: focus.changedLines,
    text,
    prompt,
  };
}

/**
 * `hotSpots` with the pull request's functions first (read from the best tree), when the run has a
 * pull request (`ctx.changedLines`); unchanged otherwise. Used for hot spots profiled again after
 * an accepted round.
 */
export async function rankByPullRequest(ctx: LoopContext, hotSpots: HotSpot[]): Promise<HotSpot[]> {
  if (!ctx.changedLines) return hotSpots;
  const focus = await focusHotSpots(hotSpots, ctx.changedLines, (file) =>
    readInside(ctx.workspace.best, file),
  );
  return focus.hotSpots.map(({ inPullRequest: _, ...spot }) => spot);
}
