/**
 * Check-run annotations on the hot-spot lines of a results bundle. Annotations are plain text in
 * GitHub's UI (not markdown), so no escaping is needed beyond removing control characters; sizes
 * are clipped to GitHub's limits (see limits.ts).
 */
import type { Results } from "../core/evidence/results-schema.ts";
import { UNSAFE_CHARS } from "../core/report/escape.ts";
import type { CheckAnnotation } from "./check-run.ts";
import { ANNOTATION_MESSAGE_MAX_CHARS, CHECK_TITLE_MAX_CHARS, clipPlain } from "./limits.ts";

/** Most hot-spot annotations perfloop writes per run (one request's worth). */
export const MAX_HOT_SPOT_ANNOTATIONS = 50;

/**
 * One `notice` annotation per hot spot, on the function's definition line: title "Hot spot:
 * <function>", message with self and cumulative % of profiled time and the call count. Hot spots
 * with an unsafe path (absolute, `..`, backslashes) or a line below 1 are skipped; at most
 * {@link MAX_HOT_SPOT_ANNOTATIONS}, in the order of results.hotSpots (hottest first).
 */
export function hotSpotAnnotations(results: Results): CheckAnnotation[] {
  const out: CheckAnnotation[] = [];
  for (const spot of results.hotSpots) {
    if (out.length >= MAX_HOT_SPOT_ANNOTATIONS) break;
    const path = safePath(spot.file);
    if (path === null || !Number.isInteger(spot.line) || spot.line < 1) continue;
    const calls = spot.calls === null ? "" : `, ${spot.calls} calls`;
    const message = `${plain(spot.function)}: ${spot.selfPct.toFixed(1)}% self, ${spot.cumulativePct.toFixed(1)}% cumulative of profiled time${calls}.`;
    out.push({
      path,
      start_line: spot.line,
      end_line: spot.line,
      annotation_level: "notice",
      title: clipPlain(`Hot spot: ${plain(spot.function)}`, CHECK_TITLE_MAX_CHARS),
      message: clipPlain(message, ANNOTATION_MESSAGE_MAX_CHARS),
    });
  }
  return out;
}

/** A repository-relative POSIX path, or null when it is absolute or leaves the repository. */
function safePath(file: string): string | null {
  const p = file.replace(/^\.\//, "");
  if (p === "" || p.startsWith("/") || p.includes("\\") || p.split("/").includes("..")) return null;
  return plain(p);
}

/** Text without control or bidi characters, on one line. */
function plain(text: string): string {
  return text.replace(UNSAFE_CHARS, "").replace(/\s+/g, " ").trim();
}
