/**
 * Where a comment command may stand, decided on the rendered structure of the comment: only in the
 * text of a top-level paragraph, at the start of a line. Never in fenced or indented code, block
 * quotes (lazy continuation lines included), lists, headings (ATX or setext), GitHub tables, HTML
 * blocks (comments included), nor inside a code span or raw HTML that starts on an earlier line of
 * the paragraph (inline-spans.ts).
 *
 * A line scanner for the CommonMark block rules (spec 0.31.2, §4–5: container blocks matched line
 * by line, lazy continuation, paragraph interruption) rather than a markdown library: micromark,
 * the careful library, is super-linear on hostile input (a 64 KiB comment of nested `> - ` or of
 * `a\n=\n` took over a minute of CPU), and every comment on a pull request is scanned before anyone
 * is authorized. This scanner is linear. Where parsers disagree (a lone HTML tag on a lazy line, a
 * fence cut off by the end of its list item, an empty list item after indented code, nesting deeper
 * than 32) it stops looking. So it may miss a command in an odd layout — the commenter gets no
 * answer and can write it plainly — but never sees one that the rendered comment does not show as
 * a plain line of text. test/app/command-structure.test.ts checks that against micromark on
 * generated comments.
 */
import { firstOutside, hiddenSpans } from "./inline-spans.ts";

/** Comment bodies are at most 65,536 characters; longer input is cut (bounded work). */
const MAX_BODY_CHARS = 65_536;
/** Containers nested deeper than this (no person writes that) end the search: no command. */
const MAX_DEPTH = 32;

/** An open container block: a block quote, or a list item whose content starts `offset` columns in. */
type Container = { quote: true } | { quote: false; offset: number };

/** The open leaf block of the innermost container (what decides how the next line is read). */
type Leaf =
  | { kind: "none" | "paragraph" | "indented-code" }
  | { kind: "fence"; char: string; length: number }
  | { kind: "html"; end: RegExp | null };

/** HTML block type 6 tag names (CommonMark 0.31.2 §4.6). */
const BLOCK_TAGS =
  "address|article|aside|base|basefont|blockquote|body|caption|center|col|colgroup|dd|details|dialog|dir|div|dl|dt|fieldset|figcaption|figure|footer|form|frame|frameset|h1|h2|h3|h4|h5|h6|head|header|hr|html|iframe|legend|li|link|main|menu|menuitem|nav|noframes|ol|optgroup|option|p|param|search|section|summary|table|tbody|td|tfoot|th|thead|title|tr|track|ul";
/** HTML block starts with their end condition (null: a blank line), types 1–6. */
const HTML_BLOCKS: [RegExp, RegExp | null][] = [
  [/^<(?:script|pre|style|textarea)(?:[ >]|$)/i, /<\/(?:script|pre|style|textarea)>/i],
  [/^<!--/, /-->/],
  [/^<\?/, /\?>/],
  [/^<![A-Za-z]/, />/],
  [/^<!\[CDATA\[/, /\]\]>/],
  [new RegExp(`^</?(?:${BLOCK_TAGS})(?:[ >]|/>|$)`, "i"), null],
];
/** Type 7: a complete open or closing tag alone on its line (cannot interrupt a paragraph). */
const HTML_TAG_LINE =
  /^(?:<[A-Za-z][A-Za-z0-9-]*(?:[ ]+[A-Za-z_:][A-Za-z0-9_.:-]*(?:[ ]*=[ ]*(?:[^ "'=<>`]+|'[^']*'|"[^"]*"))?)*[ ]*\/?>|<\/[A-Za-z][A-Za-z0-9-]*[ ]*>)[ ]*$/;
const LIST_MARKER = /^([-+*]|\d{1,9}[.)])( *)(.?)/;
const THEMATIC_BREAK = /^(?:(?:\*[ ]*){3,}|(?:-[ ]*){3,}|(?:_[ ]*){3,})$/;
const SETEXT_UNDERLINE = /^(?:=+|-+)[ ]*$/;
const TABLE_DELIMITER = /^\|?[ ]*:?-+:?[ ]*(?:\|[ ]*:?-+:?[ ]*)*\|?[ ]*$/;
const ATX_HEADING = /^#{1,6}(?: |$)/;
const FENCE = /^(`{3,})[^`]*$|^(~{3,})/;

/** A command line found: its index among the body's lines, and its text, trimmed. */
export interface CommandLine {
  line: number;
  text: string;
}

/**
 * The first line of plain top-level paragraph text that starts with `word` followed by whitespace
 * or the end, trimmed; null when there is none.
 */
export function findCommandLine(body: string, word: string): string | null {
  return locateCommandLine(body, word)?.text ?? null;
}

/** {@link findCommandLine} with the line's index (lines split at CRLF, CR or LF). */
export function locateCommandLine(body: string, word: string): CommandLine | null {
  const text = body.slice(0, MAX_BODY_CHARS);
  if (!text.includes(word)) return null;
  const stack: Container[] = [];
  let leaf: Leaf = { kind: "none" };
  /** The lines of the open paragraph when it is top-level (else empty). */
  let paragraph: CommandLine[] = [];
  let topLevel = false;
  const closeParagraph = (): CommandLine | null => {
    const found = topLevel ? commandIn(paragraph, word) : null;
    paragraph = [];
    topLevel = false;
    if (leaf.kind === "paragraph") leaf = { kind: "none" };
    return found;
  };
  for (const [index, raw] of text.split(/\r\n|\r|\n/).entries()) {
    const line = expandTabs(raw);
    const lastText = line.trimEnd().length;
    // 1. Continue the open containers: `>` for a quote, indentation (or a blank line) for a list item.
    let p = 0;
    let matched = 0;
    for (const container of stack) {
      const indent = spacesAt(line, p);
      if (container.quote) {
        if (indent > 3 || line[p + indent] !== ">") break;
        p += indent + 1;
        if (line[p] === " ") p++;
      } else if (p < lastText) {
        if (indent < container.offset) break;
        p += container.offset;
      }
      matched++;
    }
    const blank = p >= lastText;
    if (matched < stack.length) {
      // A lazy continuation line stays in the innermost paragraph (never a command: it is nested).
      // Parsers disagree on a lone HTML tag there (inline HTML, or an HTML block): stop looking.
      if (leaf.kind === "paragraph" && !blank) {
        if (HTML_TAG_LINE.test(line.slice(p).trim().slice(0, 4_096))) return closeParagraph();
        if (!startsBlock(line.slice(p))) continue;
      }
      // A fence or HTML block cut off by the end of its container: where CommonMark parsers differ
      // in the details, stop looking rather than guess.
      if (leaf.kind === "fence" || leaf.kind === "html") return closeParagraph();
      stack.length = matched;
      const found = closeParagraph();
      if (found !== null) return found;
      leaf = { kind: "none" };
    }
    // 2. Inside a fence or an HTML block, only its end matters.
    if (leaf.kind === "fence") {
      if (closesFence(line.slice(p), leaf)) leaf = { kind: "none" };
      continue;
    }
    if (leaf.kind === "html") {
      if (leaf.end ? leaf.end.test(line.slice(p)) : blank) leaf = { kind: "none" };
      continue;
    }
    // 3. New containers on this line (a comment nesting deeper than MAX_DEPTH is given up on). A
    // line that interrupts a paragraph does so for every list item it opens.
    const interrupting = leaf.kind === "paragraph";
    const afterCode = leaf.kind === "indented-code";
    for (;;) {
      const indent = spacesAt(line, p);
      if (indent > 3) break;
      if (line[p + indent] === ">") {
        const found = closeParagraph();
        if (found !== null) return found;
        stack.push({ quote: true });
        leaf = { kind: "none" };
        p += indent + 1;
        if (line[p] === " ") p++;
      } else {
        const item = listItem(line.slice(p + indent, p + indent + 16), indent, interrupting);
        if (!item) break;
        // After indented code, parsers disagree on whether an empty item is one: stop looking.
        if (item.empty && afterCode) return closeParagraph();
        const found = closeParagraph();
        if (found !== null) return found;
        stack.push({ quote: false, offset: item.offset });
        leaf = { kind: "none" };
        p = Math.min(p + item.offset, line.length);
      }
      if (stack.length > MAX_DEPTH) return null;
    }
    // 4. The leaf block.
    const rest = line.slice(p);
    const indent = spacesAt(rest, 0);
    const content = rest.slice(indent);
    if (content.trim() === "") {
      const found = closeParagraph();
      if (found !== null) return found;
      if (leaf.kind !== "indented-code") leaf = { kind: "none" };
      continue;
    }
    if (leaf.kind === "paragraph" && indent < 4 && endsParagraph(content, paragraph)) {
      // A setext heading ends there; a GitHub table goes on like a paragraph that shows no command.
      paragraph = [];
      topLevel = false;
      if (SETEXT_UNDERLINE.test(content)) leaf = { kind: "none" };
      continue;
    }
    if (indent >= 4 && leaf.kind !== "paragraph") {
      leaf = { kind: "indented-code" };
      continue;
    }
    const block: Leaf | null = indent < 4 ? leafStart(content, leaf.kind === "paragraph") : null;
    if (block) {
      const found = closeParagraph();
      if (found !== null) return found;
      leaf = block;
      continue;
    }
    if (leaf.kind !== "paragraph") {
      leaf = { kind: "paragraph" };
      topLevel = stack.length === 0;
    }
    if (topLevel) paragraph.push({ line: index, text: raw.trimStart() });
  }
  return closeParagraph();
}

/** The leaf block a line opens (fence, heading, thematic break, HTML), or null for paragraph text. */
function leafStart(content: string, inParagraph: boolean): Leaf | null {
  const fence = FENCE.exec(content);
  if (fence) {
    const run = fence[1] ?? fence[2] ?? "";
    return { kind: "fence", char: run[0] ?? "`", length: run.length };
  }
  if (THEMATIC_BREAK.test(content) || ATX_HEADING.test(content)) return { kind: "none" };
  for (const [start, end] of HTML_BLOCKS) {
    if (start.test(content)) return end?.test(content) ? { kind: "none" } : { kind: "html", end };
  }
  if (!inParagraph && HTML_TAG_LINE.test(content.slice(0, 4_096))) return { kind: "html", end: null };
  return null;
}

/**
 * Whether a line that does not continue the open containers starts a block of its own (so it is no
 * lazy continuation): a quote, any list item (the paragraph it would interrupt is nested deeper),
 * a fence, a heading, a thematic break or an HTML block of types 1–6.
 */
function startsBlock(rest: string): boolean {
  const indent = spacesAt(rest, 0);
  if (indent > 3) return false;
  const content = rest.slice(indent);
  return (
    content.startsWith(">") || listItem(content, indent, false) !== null || leafStart(content, false) !== null
  );
}

/**
 * A list item's start: its content offset in columns from the line's start (marker, then 1–4
 * spaces; 1 when more or none). Null when `content` is no list item, is a thematic break, or may
 * not interrupt the open paragraph (§5.2: it must have content and, if ordered, start at 1).
 */
function listItem(
  content: string,
  indent: number,
  inParagraph: boolean,
): { offset: number; empty: boolean } | null {
  const m = LIST_MARKER.exec(content);
  if (!m?.[1] || THEMATIC_BREAK.test(content)) return null;
  const spaces = m[2]?.length ?? 0;
  const empty = (m[3] ?? "") === "";
  if (spaces === 0 && !empty) return null;
  if (inParagraph && (empty || !/^(?:[-+*]|0{0,8}1[.)])$/.test(m[1]))) return null;
  return { offset: indent + m[1].length + (spaces >= 1 && spaces <= 4 && !empty ? spaces : 1), empty };
}

/** Whether `content` turns the open paragraph into a setext heading or a table header. */
function endsParagraph(content: string, paragraph: readonly CommandLine[]): boolean {
  if (SETEXT_UNDERLINE.test(content)) return true;
  return (
    TABLE_DELIMITER.test(content) && (content.includes("|") || (paragraph.at(-1)?.text ?? "").includes("|"))
  );
}

/** Whether `rest` closes the fence (same character, at least as long, indented less than 4). */
function closesFence(rest: string, fence: { char: string; length: number }): boolean {
  if (spacesAt(rest, 0) > 3) return false;
  const m = /^ *(`{3,}|~{3,}) *$/.exec(rest);
  return m?.[1] !== undefined && m[1][0] === fence.char && m[1].length >= fence.length;
}

/** Spaces at `p`. */
function spacesAt(line: string, p: number): number {
  let n = 0;
  while (line[p + n] === " ") n++;
  return n;
}

/** Tabs as spaces to the next multiple of 4 (how CommonMark reads them for block structure). */
function expandTabs(line: string): string {
  if (!line.includes("\t")) return line;
  let out = "";
  for (const c of line) out += c === "\t" ? " ".repeat(4 - (out.length % 4)) : c;
  return out;
}

/** The first command line of a closed top-level paragraph (its lines without indentation), or null. */
function commandIn(paragraph: readonly CommandLine[], word: string): CommandLine | null {
  const starts: number[] = [];
  const candidates: CommandLine[] = [];
  let offset = 0;
  for (const line of paragraph) {
    const t = line.text;
    if (t.startsWith(word) && (t.length === word.length || /\s/.test(t[word.length] ?? ""))) {
      starts.push(offset);
      candidates.push(line);
    }
    offset += t.length + 1;
  }
  // A paragraph that opens with a link reference definition may hide lines in its title: skip it.
  if (starts.length === 0 || /^\[(?:[^\]\\]|\\.)*\]:/.test(paragraph[0]?.text ?? "")) return null;
  const start = firstOutside(starts, hiddenSpans(paragraph.map((l) => l.text).join("\n")));
  const found = candidates[starts.indexOf(start ?? -1)];
  return found ? { line: found.line, text: found.text.trim() } : null;
}
