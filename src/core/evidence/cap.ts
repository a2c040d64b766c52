/**
 * Size ceilings of what the evidence bundle keeps (issue 10, item 5: "the candidate's stdout kept in
 * the bundle is capped"). Captures are already capped at `sandbox.output_limit` per stream in memory
 * (src/core/exec/capped-buffer.ts); these ceilings hold whatever the config says, so a bundle stays
 * uploadable and readable. Cuts keep the head and the tail, marked with the one cut marker of
 * src/core/exec/capped-buffer.ts.
 */
import { cutMarker } from "../exec/capped-buffer.ts";

/** At most this many bytes of one output stream (stdout or stderr) in the bundle: 1 MiB. */
export const STREAM_CEILING_BYTES = 1024 * 1024;

/**
 * At most this many bytes of one text file of the bundle: 4 MiB. A command log holds two streams of
 * at most {@link STREAM_CEILING_BYTES} each; nothing else perfloop writes as text comes near.
 */
export const TEXT_FILE_CEILING_BYTES = 4 * 1024 * 1024;

/**
 * Keeps at most `maxBytes` bytes of `text` (UTF-8): half from the head, the rest from the tail, with
 * the cut marker between them saying how many bytes were dropped. A character split at a cut is
 * decoded as U+FFFD, as the capture does.
 * @param maxBytes a positive integer, bytes.
 * @returns `text` itself when it fits.
 */
export function capText(text: string, maxBytes: number): string {
  // A UTF-8 encoding is at most 3 bytes per UTF-16 unit: short strings need no encoding at all.
  if (text.length * 3 <= maxBytes) return text;
  const bytes = Buffer.from(text, "utf8");
  if (bytes.length <= maxBytes) return text;
  const head = Math.floor(maxBytes / 2);
  const tail = maxBytes - head;
  const cut = bytes.length - head - tail;
  return `${bytes.subarray(0, head).toString("utf8")}${cutMarker(cut)}${bytes.subarray(bytes.length - tail).toString("utf8")}`;
}
