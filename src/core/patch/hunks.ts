// Applies the hunks of one Update File to a file's text, in memory. The search rules follow Codex's
// codex-rs/apply-patch (seek_sequence.rs, lib.rs compute_replacements, text_file.rs): hunks are
// sought in order, each after the previous one, with decreasing strictness; line endings are kept
// per line and new lines take the file's first line ending.
import type { Hunk, HunkLine } from "./parse.ts";

type SourceLine = { text: string; eol: string };

/** Result of applyHunks: the new file text, or why a hunk could not be placed (for the model). */
export type HunkResult = { ok: true; content: string } | { ok: false; problem: string };

const PUNCTUATION: Record<string, string> = {
  "\u2010": "-",
  "\u2011": "-",
  "\u2012": "-",
  "\u2013": "-",
  "\u2014": "-",
  "\u2015": "-",
  "\u2212": "-",
  "\u2018": "'",
  "\u2019": "'",
  "\u201A": "'",
  "\u201B": "'",
  "\u201C": '"',
  "\u201D": '"',
  "\u201E": '"',
  "\u201F": '"',
};

/** Codex's last-resort comparison key: trimmed, typographic dashes/quotes/spaces made ASCII. */
function normalise(s: string): string {
  return s
    .trim()
    .replace(/[\u2010-\u2015\u2212\u2018-\u201F]/g, (c) => PUNCTUATION[c] ?? c)
    .replace(/[\u00A0\u2002-\u200A\u202F\u205F\u3000]/g, " ");
}

const PASSES: Array<(s: string) => string> = [(s) => s, (s) => s.trimEnd(), (s) => s.trim(), normalise];

/**
 * Index of the first occurrence of `pattern` in `lines` at or after `start`, or null. Passes of
 * decreasing strictness, as Codex's seek_sequence: exact, ignoring trailing whitespace, ignoring
 * surrounding whitespace, then also mapping Unicode dashes/quotes/spaces to ASCII. With `eof`, each
 * pass first tries the position that ends at the last line, then searches from `start`.
 * An empty pattern matches at `start`.
 */
export function seekSequence(lines: string[], pattern: string[], start: number, eof: boolean): number | null {
  if (pattern.length === 0) return start;
  const last = lines.length - pattern.length;
  if (last < 0) return null;
  for (const key of PASSES) {
    const want = pattern.map(key);
    const matchesAt = (i: number) => want.every((w, k) => key(lines[i + k] ?? "") === w);
    if (eof && last >= start && matchesAt(last)) return last;
    for (let i = start; i <= last; i++) if (matchesAt(i)) return i;
  }
  return null;
}

/** Splits text into lines, each keeping its own ending ("\n", "\r\n", or "" for an unterminated last line). */
function splitLines(content: string): { lines: SourceLine[]; eol: string } {
  const lines: SourceLine[] = [];
  let eol: string | null = null;
  let from = 0;
  for (let nl = content.indexOf("\n"); nl >= 0; nl = content.indexOf("\n", from)) {
    const crlf = nl > from && content[nl - 1] === "\r";
    const ending = crlf ? "\r\n" : "\n";
    eol ??= ending;
    lines.push({ text: content.slice(from, crlf ? nl - 1 : nl), eol: ending });
    from = nl + 1;
  }
  if (from < content.length) lines.push({ text: content.slice(from), eol: "" });
  return { lines, eol: eol ?? "\n" };
}

type Placement = { at: number; lines: HunkLine[]; order: number };

/** Lines of the hunk that must exist in the file (context and removed lines). */
function oldText(lines: HunkLine[]): string[] {
  return lines.filter((l) => l.op !== "+").map((l) => l.text);
}

/**
 * Codex's retry for a hunk that ends with an empty old line the file lacks (usually the model
 * imagining a blank line at the end of the file): drop that line from what must match.
 */
function withoutTrailingBlank(lines: HunkLine[]): HunkLine[] | null {
  let k = lines.length - 1;
  while (k >= 0 && lines[k]?.op === "+") k--;
  const line = lines[k];
  if (line === undefined || line.text.trim() !== "") return null;
  const rest = lines.slice(0, k);
  const added = lines.slice(k + 1);
  // An empty context line followed by added lines stays as an added empty line.
  const keep: HunkLine[] = line.op === " " && added.length > 0 ? [{ op: "+", text: line.text }] : [];
  return [...rest, ...keep, ...added];
}

function quote(lines: string[]): string {
  return lines.map((l) => `  |${l}`).join("\n");
}

/**
 * Applies `hunks` to `original` (the file's text). Each hunk's `@@` context line is sought first (at
 * or after the end of the previous hunk), then its context and removed lines are sought after that
 * (or, failing that, starting at the `@@` line itself, which models often repeat as context);
 * a hunk with no such lines inserts after its `@@` line, or at the end of the file without one.
 * Context lines keep the file's own text and line ending (so whitespace-lenient matches do not
 * rewrite them); added lines take the ending of the file's first line. An unterminated last line
 * stays unterminated unless lines are added after it. Returns `ok: false` with a message naming the
 * hunk and the lines not found; never throws. `path` only labels messages.
 */
export function applyHunks(path: string, original: string, hunks: Hunk[]): HunkResult {
  const { lines, eol } = splitLines(original);
  const texts = lines.map((l) => l.text);
  const placements: Placement[] = [];
  let index = 0;
  for (const [n, hunk] of hunks.entries()) {
    const label = `hunk ${n + 1} of ${hunks.length}`;
    let headerAt: number | null = null;
    if (hunk.context !== null) {
      const at = seekSequence(texts, [hunk.context], index, false);
      if (at === null) {
        return {
          ok: false,
          problem:
            `${path}: could not find the '@@ ${hunk.context}' line (${label}) at or after line ${index + 1}. ` +
            "The text after '@@ ' must be a line copied exactly from the current file, such as the enclosing " +
            "function or class definition, and hunks must be in file order; or use a bare '@@'.",
        };
      }
      headerAt = at;
      index = at + 1;
    }
    let hunkLines = hunk.lines;
    let old = oldText(hunkLines);
    if (old.length === 0) {
      if (hunkLines.length > 0) {
        const at = hunk.context !== null && !hunk.endOfFile ? index : texts.length;
        placements.push({ at, lines: hunkLines, order: n });
      }
      continue;
    }
    let at = seekSequence(texts, old, index, hunk.endOfFile);
    // Lenient: models often repeat the `@@` line as the hunk's first context line.
    if (at === null && headerAt !== null) at = seekSequence(texts, old, headerAt, hunk.endOfFile);
    const retry = at === null ? withoutTrailingBlank(hunkLines) : null;
    if (retry !== null) {
      at = seekSequence(texts, oldText(retry), headerAt ?? index, hunk.endOfFile);
      if (at !== null) {
        hunkLines = retry;
        old = oldText(retry);
      }
    }
    if (at === null) return { ok: false, problem: notFound(path, label, texts, old, index, hunk.endOfFile) };
    placements.push({ at, lines: hunkLines, order: n });
    index = at + old.length;
  }
  placements.sort((a, b) => a.at - b.at || a.order - b.order);
  return { ok: true, content: render(lines, eol, placements) };
}

/** The model-facing message for a hunk whose lines are not in the file. */
function notFound(path: string, label: string, texts: string[], old: string[], from: number, eof: boolean) {
  const first = old.find((l) => l.trim() !== "") ?? "";
  const seen = texts.findIndex((t) => t.trim() === first.trim());
  let hint = "";
  if (seen >= 0 && seen < from) {
    hint = ` Its first line occurs at line ${seen + 1}, before the previous hunk's match: put hunks in file order.`;
  } else if (seen >= 0) {
    hint = ` Its first non-blank line occurs at line ${seen + 1}, but the lines after it differ.`;
  }
  const where = eof ? "at the end of the file" : `at or after line ${from + 1}`;
  return (
    `${path}: could not find the expected lines of ${label} ${where}:\n${quote(old)}\n` +
    `The ' ' and '-' lines of a hunk must match consecutive lines of the current file exactly.${hint} ` +
    "Re-read the file and copy the context lines from it."
  );
}

/** Builds the new text from the original lines and the hunks placed on them (sorted by `at`). */
function render(lines: SourceLine[], eol: string, placements: Placement[]): string {
  const out: SourceLine[] = [];
  let cursor = 0;
  for (const p of placements) {
    for (; cursor < p.at; cursor++) out.push(lines[cursor] as SourceLine);
    for (const l of p.lines) {
      if (l.op === "+") out.push({ text: l.text, eol });
      else if (l.op === " ") out.push(lines[cursor++] as SourceLine);
      else cursor++;
    }
  }
  for (; cursor < lines.length; cursor++) out.push(lines[cursor] as SourceLine);
  return out.map((l, k) => l.text + (l.eol === "" && k < out.length - 1 ? eol : l.eol)).join("");
}
