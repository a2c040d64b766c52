/**
 * Escaping of untrusted text for reports that GitHub renders (PR comments, check runs).
 * Anything that came from the program, the model or the repository — file and function names,
 * rationale, reasons, commands, environment strings — goes through one of these before it is
 * written into markdown, so it can never inject HTML, @mentions (notifications), #123 / GH-123
 * references, links or images, nor break the surrounding structure (tables, fences, <details>).
 *
 * Techniques: `<` and `&` become entities where they could start a tag or an entity; GitHub's
 * autolinkers are defeated by a zero-width joiner (U+200D) after "@", after "#" / "GH-" before a
 * digit, inside "://" and after "www"; markdown punctuation is backslash-escaped (CommonMark §2.4); block starts at the beginning
 * of a line are neutralized. Bidi overrides and control characters ("Trojan Source") are removed.
 */

/** Zero-width joiner (U+200D): invisible, but breaks GitHub's mention/reference/URL autolinking. */
export const ZWJ = "\u200D";

/** C0/C1 controls except tab and newline, and bidi embedding/override/isolate characters. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
export const UNSAFE_CHARS = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g;

/** Removes control and bidi characters; CRLF / CR become LF. */
function clean(text: string): string {
  return text.replace(/\r\n?/g, "\n").replace(UNSAFE_CHARS, "");
}

/**
 * Entities where HTML could start (`&` before a letter or `#`; `<` before anything but whitespace, a
 * digit or `=`, so "p < 0.01" stays readable) and zero-width joiners against mentions, references
 * and bare-URL / e-mail autolinks. A `>` cannot close a tag that never opened, so it stays.
 */
function neutralize(text: string): string {
  return text
    .replace(/&(?=[A-Za-z#])/g, "&amp;")
    .replace(/<(?![\s\d=]|$)/g, "&lt;")
    .replace(/@/g, `@${ZWJ}`) // @user, @org/team, and e-mail autolinks
    .replace(/#(?=\d)/g, `#${ZWJ}`) // #123, owner/repo#123
    .replace(/\bGH-(?=\d)/gi, (m) => `${m}${ZWJ}`) // GH-123
    .replace(/:\/\//g, `:${ZWJ}//`) // http://, https://, ftp:// autolinks
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZWJ}.`); // www. autolinks
}

/**
 * Text for raw HTML (a `<summary>` line, an HTML attribute-free element body): entities, no
 * mentions/references/URL autolinks, control characters removed, all whitespace (newlines
 * included) collapsed to single spaces. Markdown is not interpreted there, so no backslashes are added.
 */
export function escapeHtmlText(text: string): string {
  return neutralize(clean(text).replace(/\s+/g, " ").trim());
}

/**
 * Markdown punctuation escaped everywhere: backslash, code (`), emphasis (*), strikethrough (~),
 * table pipes (|), math ($). `_` only where it can open or close emphasis (not inside a word, so
 * `count_words` stays as is). `]` where it could end a link or a link definition: before `(`, `[`,
 * `:` or at the end of the text (so "[x]" cannot meet a "(" that follows it). `[` alone links nothing.
 */
function escapePunct(text: string): string {
  return text
    .replace(/[\\`*~|$]/g, (c) => `\\${c}`)
    .replace(/(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])/g, "\\_")
    .replace(/\](?=[([:]|$)/g, "\\]");
}

/** Line starts that open a block: heading, list item, block quote, setext underline, thematic break. */
const BLOCK_START = /^(?:#{1,6}(?=\s|$)|[-+](?=\s|$)|>|=+\s*$|-+\s*$)/;

/**
 * Escapes one line of markdown text. Leading whitespace is dropped (4 spaces would start a code
 * block) and a line that would open a block (BLOCK_START, or an ordered-list marker "1." / "1)")
 * gets a backslash, so it stays a paragraph line. Fences are covered by escaping ` and ~.
 */
function escapeLine(line: string): string {
  const body = neutralize(escapePunct(line)).replace(/^[ \t]+/, "");
  if (BLOCK_START.test(body)) return `\\${body}`;
  return body.replace(/^(\d{1,9})([.)])(?=\s|$)/, "$1\\$2");
}

/**
 * Escapes untrusted text for a markdown paragraph (shape: string in, string out; never throws).
 * Neutralizes HTML tags, comments and entities (`<` and `&` become entities wherever they could
 * start one), @mentions, #123 / GH-123 references, bare-URL and e-mail autolinks, link and image
 * syntax (the closing `]` is escaped, so `[x](y)`, `![x](y)`, `[x][y]` and `[x]: y` stay text),
 * emphasis/code/table/strikethrough/math punctuation, and block starts at line beginnings. Line
 * breaks are kept (use `escapeTableCell` or `escapeInline` where one line is needed).
 */
export function escapeMarkdown(text: string): string {
  return clean(text).split("\n").map(escapeLine).join("\n");
}

/** `escapeMarkdown` on one line: every run of whitespace (newlines included) becomes one space. */
export function escapeInline(text: string): string {
  return escapeLine(clean(text).replace(/\s+/g, " ").trim());
}

/**
 * Text for a GFM table cell: `escapeInline` — one line, so the row cannot end early, and `|`
 * escaped as `\|`, so it cannot add a column (markdown-table does not escape cells itself).
 */
export function escapeTableCell(text: string): string {
  return escapeInline(text);
}

/** Length of the longest run of backticks in `text` (0 when there is none). */
function longestBacktickRun(text: string): number {
  let longest = 0;
  for (const m of text.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  return longest;
}

/**
 * An inline code span of untrusted text (CommonMark §6.1): on one line, delimited by one more
 * backtick than the longest run inside, padded with a space where it starts or ends with a backtick.
 * Nothing inside a code span is rendered (no HTML, mentions or links). With `inTable`, `|` is
 * written `\|`, which GFM tables accept inside code spans too.
 */
export function codeSpan(text: string, opts: { inTable?: boolean } = {}): string {
  let body = clean(text).replace(/\s+/g, " ").trim();
  if (opts.inTable) body = body.replace(/\|/g, "\\|");
  const fence = "`".repeat(longestBacktickRun(body) + 1);
  const pad = body.startsWith("`") || body.endsWith("`") ? " " : "";
  return `${fence}${pad}${body}${pad}${fence}`;
}

/**
 * A fenced code block of untrusted lines (CommonMark §4.5): the fence is one backtick longer than
 * any backtick run in the content (at least 3), so no line inside can close it. `lang` is trusted
 * (written by perfloop, e.g. "sh"). Nothing inside is rendered.
 */
export function codeBlock(text: string, lang = ""): string {
  const body = clean(text).replace(/\n+$/, "");
  const fence = "`".repeat(Math.max(3, longestBacktickRun(body) + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

/**
 * `text` cut to at most `max` characters (UTF-16 units, ≥ 2), ending in "…" when cut; never splits a
 * surrogate pair. Apply to raw text before escaping, so every escape stays whole and each section
 * has a bounded size whatever the program or the model wrote.
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(1, max - 1);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * `text` safe as XML character data or attribute value: `& < > " '` as entities, and characters XML
 * 1.0 does not allow (C0 controls but tab/newline/return, U+FFFE/U+FFFF, unpaired surrogates) as U+FFFD.
 */
export function escapeXml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters XML 1.0 forbids
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd")
      .replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}
