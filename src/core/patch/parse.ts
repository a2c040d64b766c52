// Parser for the "apply_patch" edit format of OpenAI Codex (codex-rs/apply-patch/src/parser.rs,
// whose Lark grammar is reproduced in its module doc). Re-implemented here, more lenient than Codex:
// prose, markdown fences and heredoc wrappers around the patch are ignored, `*** End Patch` may be
// missing, CRLF is accepted, empty context lines may lack their leading space, and unified-diff
// hunk headers (`@@ -1,3 +1,4 @@`) are read as bare `@@`.

/** One line of a hunk: `" "` unchanged context, `"-"` removed, `"+"` added; `text` has no newline. */
export type HunkLine = { op: " " | "-" | "+"; text: string };

/**
 * One `@@` section of an Update File. `context` is the text after `@@ ` (a line of the file, such as
 * the enclosing `def`, sought before the hunk's lines) or null for a bare `@@`. A hunk with no lines
 * only moves the search position (stacked `@@ class A` / `@@ def f` headers). `endOfFile` is true
 * when the hunk was closed by `*** End of File`: its lines should match the end of the file.
 */
export type Hunk = { context: string | null; lines: HunkLine[]; endOfFile: boolean };

/**
 * One file operation. Paths are as written in the patch (surrounding quotes/backticks and leading
 * `./` removed) and are NOT validated here: see policy.ts. Add `content` ends with `\n` unless empty.
 */
export type FileChange =
  | { kind: "add"; path: string; content: string }
  | { kind: "delete"; path: string }
  | { kind: "update"; path: string; moveTo?: string; hunks: Hunk[] };

/** A parsed patch: file operations in the order written. */
export type Patch = { files: FileChange[] };

const BEGIN = "*** Begin Patch";
const END = "*** End Patch";
const ADD = "*** Add File:";
const DELETE = "*** Delete File:";
const UPDATE = "*** Update File:";
const MOVE = "*** Move to:";
const EOF_MARK = "*** End of File";
const FORMAT_HINT =
  "Patch format: '*** Begin Patch', then per file '*** Update File: <path>' (optionally '*** Move to: <path>') " +
  "followed by hunks that start with '@@' or '@@ <a line of the file near the change>' and contain lines " +
  "starting with ' ' (unchanged), '-' (removed) or '+' (added); or '*** Add File: <path>' followed by " +
  "'+' lines; or '*** Delete File: <path>'; then '*** End Patch'.";

/**
 * A patch that cannot be parsed. `line` is the 1-based line number in the text given to
 * parsePatch (prose and fences included); the message says how to fix the patch and is meant to be
 * fed back to the model verbatim.
 */
export class PatchParseError extends Error {
  override name = "PatchParseError";
  /** 1-based line number in the submitted text. */
  readonly line: number;
  constructor(line: number, problem: string, options?: { cause?: unknown }) {
    super(`Patch parse error at line ${line}: ${problem}\n${FORMAT_HINT}`, options);
    this.line = line;
  }
}

const FENCE = /^(`{3,}|~{3,})/;
const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1\s*$/;
const UNIFIED_HEADER = /^@@\s*-\d+(?:,\d+)?\s+\+\d+(?:,\d+)?\s*@@(.*)$/;

/** The marker a (trimmed) line starts with, if any. */
function markerOf(trimmed: string): string | null {
  for (const m of [ADD, DELETE, UPDATE, MOVE]) if (trimmed.startsWith(m)) return m;
  for (const m of [EOF_MARK, END, BEGIN]) if (trimmed === m) return m;
  return null;
}

/** Strips whitespace, matching quotes or backticks and leading `./` from a header's path. */
function cleanPath(raw: string): string {
  let p = raw.trim();
  const q = p[0];
  if (p.length >= 2 && (q === '"' || q === "'" || q === "`") && p.endsWith(q)) p = p.slice(1, -1).trim();
  while (p.startsWith("./")) p = p.slice(2);
  return p;
}

/** Reads the context of a `@@` header line; null for a bare or unified-diff (`@@ -1 +1 @@`) header. */
function headerContext(line: string): string | null {
  const unified = UNIFIED_HEADER.exec(line.trim());
  let rest = unified ? (unified[1] ?? "") : line.trimEnd().slice(2);
  if (!unified && rest.trimEnd().endsWith("@@")) rest = rest.trimEnd().slice(0, -2);
  rest = unified ? rest.trim() : rest.replace(/^ /, "").trimEnd();
  return rest.trim() === "" ? null : rest;
}

/** Locates the patch body: [first body line, end) indices into `lines`. */
function findBody(lines: string[]): { start: number; end: number } {
  let begin = lines.findIndex((l) => l.trim() === BEGIN);
  let start = begin + 1;
  if (begin < 0) {
    start = lines.findIndex((l) => {
      const m = markerOf(l.trim());
      return m === ADD || m === DELETE || m === UPDATE;
    });
    if (start < 0) {
      throw new PatchParseError(
        1,
        `no '${BEGIN}' line found. Send the patch itself, starting with a line '${BEGIN}' and ending with '${END}'.`,
      );
    }
    begin = start - 1;
  }
  for (let i = start; i < lines.length; i++) {
    if ((lines[i] ?? "").trim() === END) return { start, end: i };
  }
  // No End Patch: the body ends at a closing fence or the heredoc's closing tag, if any.
  let tag: string | null = null;
  for (let i = 0; i < begin; i++) tag = HEREDOC.exec(lines[i] ?? "")?.[2] ?? tag;
  for (let i = start; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (FENCE.test(line) || (tag !== null && line.trim() === tag)) return { start, end: i };
  }
  return { start, end: lines.length };
}

/**
 * Parses patch text in the Codex apply_patch format into file operations.
 * Leniency (beyond Codex): text before `*** Begin Patch` and after `*** End Patch` is ignored
 * (prose, ```` ``` ```` fences, an `apply_patch <<'EOF'` heredoc opener and its closing tag); a missing
 * `*** End Patch` is accepted (the body then ends at a closing fence, the heredoc tag or the end of
 * the text); a missing `*** Begin Patch` is accepted when a file header is present; CRLF line ends;
 * blank lines inside hunks are empty context lines, and trailing blank lines of a hunk are dropped;
 * `\ No newline at end of file` lines are ignored.
 * @throws PatchParseError with the 1-based line number and a fix-it message.
 */
export function parsePatch(text: string): Patch {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  const { start, end } = findBody(lines);
  const files: FileChange[] = [];
  let i = start;
  let previous: FileChange["kind"] | null = null;
  while (i < end) {
    const line = lines[i] ?? "";
    const trimmed = line.trim();
    const marker = markerOf(trimmed);
    if (trimmed === "") {
      i++;
    } else if (marker === ADD || marker === DELETE || marker === UPDATE) {
      const path = cleanPath(trimmed.slice(marker.length));
      if (path === "") throw new PatchParseError(i + 1, `'${marker}' must be followed by a file path.`);
      if (marker === DELETE) {
        files.push({ kind: "delete", path });
        i++;
      } else if (marker === ADD) {
        const parsed = parseAddBody(lines, i + 1, end);
        files.push({ kind: "add", path, content: parsed.content });
        i = parsed.next;
      } else {
        const parsed = parseUpdateBody(lines, i, end, path);
        files.push(parsed.change);
        i = parsed.next;
      }
      previous = files[files.length - 1]?.kind ?? null;
    } else {
      throw new PatchParseError(i + 1, unexpectedTopLevel(line, marker, previous));
    }
  }
  if (files.length === 0) {
    throw new PatchParseError(Math.min(end, lines.length - 1) + 1, "the patch contains no file changes.");
  }
  return { files };
}

/** Explains a line found where a file header was expected. */
function unexpectedTopLevel(
  line: string,
  marker: string | null,
  previous: FileChange["kind"] | null,
): string {
  const shown = JSON.stringify(line.length > 120 ? `${line.slice(0, 120)}…` : line);
  const expected = `expected '${UPDATE} <path>', '${ADD} <path>', '${DELETE} <path>' or '${END}'`;
  if (marker === MOVE) return `'${MOVE}' must come directly after an '${UPDATE} <path>' line.`;
  if (marker === EOF_MARK) return `'${EOF_MARK}' must close a hunk of an '${UPDATE} <path>' section.`;
  if (marker === BEGIN) return `a second '${BEGIN}' was found; send one patch with all files inside it.`;
  if (previous === "delete") return `found ${shown}, ${expected}. '${DELETE}' takes no content lines.`;
  if (previous === "add") {
    return `found ${shown}, ${expected}. Every line of an added file must start with '+', empty lines too.`;
  }
  return `found ${shown}, ${expected}. Hunk lines ('@@', ' ', '-', '+') must follow an '${UPDATE} <path>' line.`;
}

/** Reads the `+` lines of an Add File section from `from`; a blank line between `+` lines is "". */
function parseAddBody(lines: string[], from: number, end: number): { content: string; next: number } {
  const out: string[] = [];
  let i = from;
  while (i < end) {
    const line = lines[i] ?? "";
    if (line.startsWith("+")) {
      out.push(line.slice(1));
      i++;
      continue;
    }
    if (line.trim() !== "") break;
    let j = i;
    while (j < end && (lines[j] ?? "").trim() === "") j++;
    if (j >= end || !(lines[j] ?? "").startsWith("+")) break;
    for (; i < j; i++) out.push("");
  }
  return { content: out.length === 0 ? "" : `${out.join("\n")}\n`, next: i };
}

/** Reads an Update File section whose header is at `header`: optional Move to, then hunks. */
function parseUpdateBody(
  lines: string[],
  header: number,
  end: number,
  path: string,
): { change: FileChange; next: number } {
  let i = header + 1;
  let moveTo: string | undefined;
  const moveLine = (lines[i] ?? "").trim();
  if (i < end && moveLine.startsWith(MOVE)) {
    moveTo = cleanPath(moveLine.slice(MOVE.length));
    if (moveTo === "") throw new PatchParseError(i + 1, `'${MOVE}' must be followed by the new file path.`);
    i++;
  }
  const hunks: Array<Hunk & { line: number }> = [];
  let current: (Hunk & { line: number; bare: number }) | null = null;
  const close = () => {
    if (current === null) return;
    if (current.bare > 0) current.lines.splice(current.lines.length - current.bare, current.bare);
    hunks.push(current);
    current = null;
  };
  for (; i < end; i++) {
    const line = lines[i] ?? "";
    const marker = markerOf(line.trim());
    if (marker === EOF_MARK) {
      const hunk = current as (Hunk & { line: number; bare: number }) | null;
      if (hunk === null || hunk.lines.length === 0) {
        throw new PatchParseError(i + 1, `'${EOF_MARK}' must follow the ' ', '-' or '+' lines of a hunk.`);
      }
      hunk.endOfFile = true;
      close();
      continue;
    }
    if (marker !== null) break;
    if (line.startsWith("@@")) {
      close();
      current = { context: headerContext(line), lines: [], endOfFile: false, line: i + 1, bare: 0 };
      continue;
    }
    const op = line[0];
    if (op === " " || op === "-" || op === "+") {
      current ??= { context: null, lines: [], endOfFile: false, line: i + 1, bare: 0 };
      current.lines.push({ op, text: line.slice(1) });
      current.bare = 0;
      continue;
    }
    if (line.trim() === "") {
      if (current === null) continue; // blank line between hunks
      current.lines.push({ op: " ", text: "" });
      current.bare++;
      continue;
    }
    if (line.startsWith("\\")) continue; // "\ No newline at end of file"
    throw new PatchParseError(
      i + 1,
      `unexpected line ${JSON.stringify(line)} in the '${UPDATE} ${path}' section. Every hunk line must start ` +
        "with ' ' (unchanged context; keep the space before indented code), '-' (line to remove) or '+' " +
        "(line to add); start each hunk with '@@' or '@@ <a line copied from the file, such as the enclosing def>'.",
    );
  }
  close();
  const last = hunks[hunks.length - 1];
  if (last !== undefined && last.lines.length === 0) {
    throw new PatchParseError(
      last.line,
      "this '@@' header is not followed by any ' ', '-' or '+' lines; add the lines to change under it.",
    );
  }
  if (hunks.length === 0 && moveTo === undefined) {
    throw new PatchParseError(
      header + 1,
      `'${UPDATE} ${path}' has no hunks; add an '@@' hunk with ' ', '-' and '+' lines (or '${MOVE} <path>' to rename).`,
    );
  }
  const plain: Hunk[] = hunks.map((h) => ({ context: h.context, lines: h.lines, endOfFile: h.endOfFile }));
  const change: FileChange = { kind: "update", path, hunks: plain };
  if (moveTo !== undefined && moveTo !== path) change.moveTo = moveTo;
  return { change, next: i };
}
