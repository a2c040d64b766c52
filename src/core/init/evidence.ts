/**
 * Evidence helpers: finding the line a guess came from, and keeping evidence lists short. Lines are
 * 1-based, as editors and `grep -n` number them.
 */
import { clipText } from "../report/escape.ts";
import { type Evidence, MAX_EVIDENCE } from "./types.ts";

/** Characters of a line kept in evidence. */
const MAX_TEXT = 120;

/** A line of text as evidence shows it: trimmed, control characters as spaces, cut to 120 characters. */
export function clipLine(line: string): string {
  return clipText(line.trim().replace(/[\p{Cc}\u202A-\u202E\u2066-\u2069]/gu, " "), MAX_TEXT);
}

/** The lines of `text`, split on \n, \r\n or \r. */
export function linesOf(text: string): string[] {
  return text.split(/\r\n|\n|\r/);
}

/** Every line of `text` matching `re` (no `g` flag needed), as evidence in `file`. */
export function matchingLines(file: string, text: string, re: RegExp): Evidence[] {
  const found: Evidence[] = [];
  linesOf(text).forEach((line, i) => {
    if (re.test(line)) found.push({ file, line: i + 1, text: clipLine(line) });
  });
  return found;
}

/** The first line of `text` matching `re` as evidence in `file`; null when none matches. */
export function firstLine(file: string, text: string, re: RegExp): Evidence | null {
  const lines = linesOf(text);
  const i = lines.findIndex((line) => re.test(line));
  return i < 0 ? null : lineEvidence(file, lines, i);
}

/** Evidence for the line at 0-based index `i` of `lines` (it is reported 1-based). */
export function lineEvidence(file: string, lines: readonly string[], i: number): Evidence {
  return { file, line: i + 1, text: clipLine(lines[i] ?? "") };
}

/** The 1-based line holding character `offset` of `text`, as evidence in `file`. */
export function lineAt(file: string, text: string, offset: number): Evidence {
  const before = text.slice(0, offset);
  const line = linesOf(before).length;
  return { file, line, text: clipLine(linesOf(text)[line - 1] ?? "") };
}

/**
 * Evidence without duplicates (same file and line), in file order, at most {@link MAX_EVIDENCE}
 * kept; `omitted` counts the rest (absent when none were left out).
 */
export function capEvidence(items: Evidence[]): { evidence: Evidence[]; omitted?: number } {
  const seen = new Set<string>();
  const unique = items.filter((e) => {
    const key = `${e.file}\0${e.line ?? 0}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const evidence = unique.slice(0, MAX_EVIDENCE);
  const omitted = unique.length - evidence.length;
  return omitted > 0 ? { evidence, omitted } : { evidence };
}
