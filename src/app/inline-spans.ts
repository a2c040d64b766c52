/**
 * The parts of a paragraph that a reader does not see as plain text and that may span lines: code
 * spans (CommonMark §6.1: a backtick run up to the next run of the same length), raw HTML (§6.6:
 * comments, processing instructions, declarations, CDATA, open and closing tags, whose quoted
 * attribute values may hold line breaks). Autolinks (§6.5) are recognised too: they cannot span
 * lines, but a backtick inside one is not a code span delimiter. A command line that starts inside one of them is not a
 * command. Scanned left to right as CommonMark does: a backslash escapes the punctuation after it
 * (an escaped backtick opens nothing, but the rest of its run may), whichever construct starts
 * first wins, and inside a code span or raw HTML nothing is special. Linear time: code span closers
 * come from an index of backtick runs, every terminator search resumes where the previous one
 * ended, and a tag or autolink is matched within a bounded window.
 */

/** A half-open range `[start, end)` of the paragraph text. */
export interface Span {
  start: number;
  end: number;
}

/** Longest HTML tag or autolink recognised (characters); a longer one is taken for text. */
const MAX_TAG_CHARS = 2_048;
const OPEN_TAG =
  /<[A-Za-z][A-Za-z0-9-]*(?:[ \t\n]+[A-Za-z_:][A-Za-z0-9_.:-]*(?:[ \t\n]*=[ \t\n]*(?:[^ \t\n"'=<>`]+|'[^']*'|"[^"]*"))?)*[ \t\n]*\/?>/y;
const CLOSING_TAG = /<\/[A-Za-z][A-Za-z0-9-]*[ \t\n]*>/y;
const URI_AUTOLINK = /<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>/y;
const EMAIL_AUTOLINK =
  /<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*>/y;

/** The code spans and raw HTML of `text` (a paragraph, lines joined by "\n"), in order. */
export function hiddenSpans(text: string): Span[] {
  const closers = backtickRunsByLength(text);
  const find = terminatorFinder(text);
  const spans: Span[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? "";
    if (c === "\\") {
      i += ASCII_PUNCTUATION.test(text[i + 1] ?? "") ? 2 : 1;
      continue;
    }
    if (c === "`") {
      let end = i;
      while (text[end] === "`") end++;
      const close = firstAtOrAfter(closers.get(end - i), end);
      if (close === undefined) i = end;
      else {
        spans.push({ start: i, end: close + (end - i) });
        i = close + (end - i);
      }
      continue;
    }
    const html = c === "<" ? angleEnd(text, i, find) : -1;
    if (html > i) {
      spans.push({ start: i, end: html });
      i = html;
    } else i++;
  }
  return spans;
}

const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;

/**
 * The first of `offsets` (ascending) that lies inside no span (a span's first character does not
 * count as inside); undefined when all do. Linear: both lists are in order.
 */
export function firstOutside(offsets: readonly number[], spans: readonly Span[]): number | undefined {
  let k = 0;
  for (const offset of offsets) {
    while ((spans[k]?.end ?? Number.POSITIVE_INFINITY) <= offset) k++;
    const span = spans[k];
    if (!span || !(span.start < offset)) return offset;
  }
  return undefined;
}

/** The start of every maximal backtick run (a possible code span closer), by run length, ascending. */
function backtickRunsByLength(text: string): Map<number, number[]> {
  const runs = new Map<number, number[]>();
  for (const m of text.matchAll(/`+/g)) {
    const starts = runs.get(m[0].length) ?? [];
    starts.push(m.index);
    runs.set(m[0].length, starts);
  }
  return runs;
}

/** The first of the ascending `starts` that is at least `from` (binary search). */
function firstAtOrAfter(starts: readonly number[] | undefined, from: number): number | undefined {
  if (!starts) return undefined;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((starts[mid] ?? 0) < from) lo = mid + 1;
    else hi = mid;
  }
  return starts[lo];
}

/**
 * `indexOf` for terminators that remembers its last answer per terminator: asked again from a
 * position before that answer it returns it at once, so all searches together read the text once.
 */
function terminatorFinder(text: string): (term: string, from: number) => number {
  const last = new Map<string, { from: number; at: number }>();
  return (term, from) => {
    const hit = last.get(term);
    if (hit && from >= hit.from && (hit.at === -1 || from <= hit.at)) return hit.at;
    const at = text.indexOf(term, from);
    last.set(term, { from, at });
    return at;
  };
}

/** The end of the autolink or raw HTML that starts at `i` (a `<`), or -1 when none starts there. */
function angleEnd(text: string, i: number, find: (term: string, from: number) => number): number {
  const after = (term: string, from: number): number => {
    const at = find(term, from);
    return at < 0 ? -1 : at + term.length;
  };
  if (text.startsWith("<!--", i)) return after("-->", i + 2);
  if (text.startsWith("<?", i)) return after("?>", i + 2);
  if (text.startsWith("<![CDATA[", i)) return after("]]>", i + 9);
  if (/^<![A-Za-z]/.test(text.slice(i, i + 3))) return after(">", i + 2);
  if (!/^<\/?[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]/.test(text.slice(i, i + 3))) return -1;
  const window = text.slice(i, i + MAX_TAG_CHARS);
  for (const tag of [URI_AUTOLINK, EMAIL_AUTOLINK, OPEN_TAG, CLOSING_TAG]) {
    tag.lastIndex = 0;
    const m = tag.exec(window);
    if (m) return i + m[0].length;
  }
  return -1;
}
