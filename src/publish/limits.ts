/**
 * GitHub's size limits that publishing must respect (docs/design.md, "GitHub behaviour"), and a safe
 * truncation for markdown that must fit one of them.
 *
 * Sources: issue and PR comment bodies are limited to 65,536 characters (the REST API answers 422
 * "body is too long"); check-run `output.summary` and `output.text` to 65,535 characters each and
 * `output.title` to 255 (REST "Create a check run"); at most 50 annotations per create/update
 * request ("Update a check run": "make multiple requests" for more); `workflow_dispatch` accepts at
 * most 25 inputs and 65,535 characters of inputs payload (GitHub Docs, "Events that trigger
 * workflows", workflow_dispatch; the limits docs/design.md records in "Size limits"). Lengths are counted here in UTF-16 code units, which is never less than the
 * count of characters GitHub applies.
 */

/** Largest issue/PR comment body, characters. */
export const COMMENT_MAX_CHARS = 65_536;
/** Largest check-run `output.summary` or `output.text`, characters. */
export const CHECK_TEXT_MAX_CHARS = 65_535;
/** Largest check-run `output.title` and annotation `title`, characters. */
export const CHECK_TITLE_MAX_CHARS = 255;
/** Annotations per check-run create/update request. */
export const ANNOTATIONS_PER_REQUEST = 50;
/** Largest annotation `message`, characters (64 KB in GitHub's docs; kept well below). */
export const ANNOTATION_MESSAGE_MAX_CHARS = 4_000;
/** Most `workflow_dispatch` inputs. */
export const DISPATCH_MAX_INPUTS = 25;
/** Largest `workflow_dispatch` inputs payload (JSON of the inputs object), characters. */
export const DISPATCH_MAX_PAYLOAD_CHARS = 65_535;
/** Room kept free under every limit for the marker, headers and links added around a body. */
export const SAFETY_MARGIN_CHARS = 512;

/**
 * Cuts `text` to at most `max` characters (UTF-16 units). When it must cut, it cuts at a line end
 * where one is near, never inside a surrogate pair, closes an open code fence and open
 * `<details>` elements so the rest of the page renders normally, and ends with `notice` (e.g. a
 * link to the full report). Text that fits is returned unchanged.
 * @throws RangeError when `max` cannot hold the notice plus the closing tags (programming error).
 */
export function truncateMarkdown(text: string, max: number, notice: string): string {
  if (text.length <= max) return text;
  const tail = `\n\n${notice}\n`;
  const closers = 64; // "\n```\n" and a few "</details>"
  const budget = max - tail.length - closers;
  if (budget < 1) throw new RangeError(`truncateMarkdown: max ${max} cannot hold the notice`);
  let cut = budget;
  const newline = text.lastIndexOf("\n", cut);
  if (newline > budget - 2_000 && newline > 0) cut = newline;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  let head = text.slice(0, cut);
  const fences = head.match(/^ {0,3}(`{3,}|~{3,})/gm) ?? [];
  if (fences.length % 2 === 1) head += `\n${fences[fences.length - 1]?.trim()}`;
  const open = (head.match(/<details\b/gi) ?? []).length - (head.match(/<\/details>/gi) ?? []).length;
  for (let i = 0; i < Math.min(open, 4); i++) head += "\n</details>";
  return `${head}${tail}`.slice(0, max);
}

/** `text` cut to `max` characters with "…" (plain text: titles, annotation messages). */
export function clipPlain(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
