/**
 * Reading and applying `final.patch`: a git-style unified diff (`diff --git` headers, `---`/`+++`
 * file lines, `@@ -a,b +c,d @@` hunks, `\ No newline at end of file`), as core/loop/workspace.ts
 * writes it. Used by the follow-up PR to compute new file contents from the PR head's files
 * without a checkout. Strict: a hunk whose old lines are not found fails the whole patch.
 */

/** One hunk line: `" "` context, `"-"` removed, `"+"` added; `text` without the newline. */
export interface DiffLine {
  op: " " | "-" | "+";
  text: string;
}

/** One `@@` hunk. `oldNoNewline`/`newNoNewline`: that side's last line has no final newline. */
export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: DiffLine[];
  oldNoNewline: boolean;
  newNoNewline: boolean;
}

/** One file of a diff; `oldPath` null = file added, `newPath` null = file deleted. */
export interface FileDiff {
  oldPath: string | null;
  newPath: string | null;
  hunks: DiffHunk[];
}

/** A diff that cannot be read or does not apply; `path` names the file when known. */
export class PatchApplyError extends Error {
  override name = "PatchApplyError";
  readonly path: string | null;
  constructor(message: string, path: string | null = null, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Parses a unified diff into files. Lines outside files (jsdiff's `=====` separator, `index`,
 * mode lines) are skipped.
 * @throws PatchApplyError on binary diffs, malformed hunks, or unsafe paths (absolute, `..`, `.git/`).
 */
export function parseUnifiedDiff(text: string): FileDiff[] {
  const lines = text.replace(/\r\n/g, "\n").split("\n");
  const files: FileDiff[] = [];
  let current: FileDiff | null = null;
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    if (line.startsWith("Binary files ") || line === "GIT binary patch") {
      throw new PatchApplyError(
        "binary diffs are not supported",
        current?.newPath ?? current?.oldPath ?? null,
      );
    }
    if (line.startsWith("--- ") && (lines[i + 1] ?? "").startsWith("+++ ")) {
      current = {
        oldPath: diffPath(line.slice(4), "a/"),
        newPath: diffPath((lines[i + 1] ?? "").slice(4), "b/"),
        hunks: [],
      };
      if (current.oldPath === null && current.newPath === null)
        throw new PatchApplyError("a file diff with /dev/null on both sides");
      files.push(current);
      i += 2;
      continue;
    }
    const header = HUNK.exec(line);
    if (header && current) {
      i = readHunk(lines, i, header, current);
      continue;
    }
    i++;
  }
  return files;
}

/** Reads the hunk starting at `lines[start]` into `file`; returns the index after it. */
function readHunk(lines: string[], start: number, header: RegExpExecArray, file: FileDiff): number {
  const hunk: DiffHunk = {
    oldStart: Number(header[1]),
    oldLines: header[2] === undefined ? 1 : Number(header[2]),
    newStart: Number(header[3]),
    newLines: header[4] === undefined ? 1 : Number(header[4]),
    lines: [],
    oldNoNewline: false,
    newNoNewline: false,
  };
  let oldSeen = 0;
  let newSeen = 0;
  let i = start + 1;
  while (
    i < lines.length &&
    (oldSeen < hunk.oldLines || newSeen < hunk.newLines || lines[i]?.startsWith("\\"))
  ) {
    const line = lines[i] ?? "";
    if (line.startsWith("\\")) {
      const last = hunk.lines[hunk.lines.length - 1];
      if (last?.op !== "+") hunk.oldNoNewline = true;
      if (last?.op !== "-") hunk.newNoNewline = true;
    } else {
      const op = line === "" ? " " : line[0];
      if (op !== " " && op !== "-" && op !== "+") break;
      hunk.lines.push({ op, text: line.slice(1) });
      if (op !== "+") oldSeen++;
      if (op !== "-") newSeen++;
    }
    i++;
  }
  if (oldSeen !== hunk.oldLines || newSeen !== hunk.newLines) {
    throw new PatchApplyError(
      `hunk at line ${start + 1} has ${oldSeen}/${newSeen} lines, header says ${hunk.oldLines}/${hunk.newLines}`,
      file.newPath ?? file.oldPath,
    );
  }
  file.hunks.push(hunk);
  return i;
}

/** The path of a `---`/`+++` line without its `a/`/`b/` prefix; null for /dev/null. */
function diffPath(raw: string, prefix: string): string | null {
  let p = raw.split("\t")[0]?.trimEnd() ?? "";
  if (p.startsWith('"') && p.endsWith('"')) p = unquote(p.slice(1, -1));
  if (p === "/dev/null") return null;
  if (p.startsWith(prefix)) p = p.slice(prefix.length);
  const parts = p.split("/");
  if (p === "" || p.startsWith("/") || parts.includes("..") || parts.includes(".") || parts[0] === ".git") {
    throw new PatchApplyError(`unsafe path in diff: ${JSON.stringify(p)}`, p);
  }
  return p;
}

/** Undoes git's C-style quoting of a path (`\t`, `\n`, `\"`, `\\`, octal bytes). */
function unquote(s: string): string {
  const bytes: number[] = [];
  const simple: Record<string, number> = { t: 9, n: 10, r: 13, '"': 34, "\\": 92, a: 7, b: 8, f: 12, v: 11 };
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? "";
    if (c !== "\\") {
      bytes.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = s[i + 1] ?? "";
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      bytes.push(simple[next] ?? next.charCodeAt(0));
      i++;
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/**
 * Applies one file's hunks to `before` (null when the file is added) and returns the new content
 * (null when the file is deleted). Each hunk is looked for at its stated line, then at the nearest
 * position within 100 lines where its old lines match (after earlier hunks).
 * @throws PatchApplyError when a hunk's old lines are not found.
 */
export function applyFileDiff(file: FileDiff, before: string | null): string | null {
  const name = file.newPath ?? file.oldPath;
  if (file.newPath === null) return null;
  const source = before ?? "";
  let eol = source.endsWith("\n");
  const lines = source === "" ? [] : (eol ? source.slice(0, -1) : source).split("\n");
  let offset = 0;
  let floor = 0;
  for (const hunk of file.hunks) {
    const oldBlock = hunk.lines.filter((l) => l.op !== "+").map((l) => l.text);
    const newBlock = hunk.lines.filter((l) => l.op !== "-").map((l) => l.text);
    const stated = (hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1) + offset;
    const at = locate(lines, oldBlock, stated, floor);
    if (at < 0)
      throw new PatchApplyError(`hunk @@ -${hunk.oldStart},${hunk.oldLines} does not match ${name}`, name);
    // A hunk that reaches the end of the file decides the final newline (`\ No newline` marks its last line).
    const reachesEnd = at + oldBlock.length === lines.length;
    lines.splice(at, oldBlock.length, ...newBlock);
    offset += newBlock.length - oldBlock.length + (at - stated);
    floor = at + newBlock.length;
    if (reachesEnd) eol = !hunk.newNoNewline;
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}${eol ? "\n" : ""}`;
}

/** Index where `block` matches `lines`, nearest to `stated` and not before `floor`; -1 if none. */
function locate(lines: string[], block: string[], stated: number, floor: number): number {
  const fits = (at: number) =>
    at >= floor && at + block.length <= lines.length && block.every((l, k) => lines[at + k] === l);
  for (let delta = 0; delta <= 100; delta++) {
    if (fits(stated - delta)) return stated - delta;
    if (delta > 0 && fits(stated + delta)) return stated + delta;
  }
  return -1;
}
