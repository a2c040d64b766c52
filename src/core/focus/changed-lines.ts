/**
 * The lines a change touched, per file, read from unified diffs: `git diff --unified=0` of a local
 * checkout ({@link changedLinesFromGit}, {@link parseUnifiedDiff}) or the per-file `patch` of
 * GitHub's "list pull request files" API ({@link parseHunks}). Line numbers are those of the NEW
 * side of the diff (the files as the change leaves them), 1-based, as hot spots report them.
 */
import { lstat, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";

/**
 * Changed lines per file: repo-relative POSIX path (the new name after a rename) → sorted, merged,
 * inclusive 1-based `[first, last]` line ranges of the lines added or modified in the new file.
 * A pure deletion inside a file marks the new-side line after which the lines were removed (line 1
 * when they were removed at the top), so a function that only lost lines still counts as touched.
 * Deleted files, binary files and files whose change has no hunk (mode change, pure rename) are absent.
 */
export type ChangedLines = Record<string, Array<[number, number]>>;

/**
 * The changed lines of a local checkout could not be read. The message says what is wrong and how to
 * fix it (not a git repository, an unknown base ref, no common ancestor in a shallow clone); the
 * failing git command's error is the `cause`.
 */
export class ChangedLinesError extends Error {
  override name = "ChangedLinesError";
}

/**
 * Sorts inclusive `[first, last]` ranges and merges those that overlap or touch (`[1, 2]` and
 * `[3, 5]` become `[1, 5]`). Ranges with `last < first` are dropped. The input is not modified.
 * @returns a new, sorted array of disjoint, non-adjacent ranges.
 */
export function mergeRanges(ranges: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const sorted = ranges.filter(([a, b]) => b >= a).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: Array<[number, number]> = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** Total number of lines the ranges of `changed` cover, over all files. */
export function countChangedLines(changed: ChangedLines): number {
  let n = 0;
  for (const ranges of Object.values(changed)) for (const [a, b] of ranges) n += b - a + 1;
  return n;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

/**
 * Reads consecutive hunks starting at `lines[start]` (an `@@` header) and pushes the new-side lines
 * they add or modify onto `out` (single-line ranges, unmerged). The `@@ -a,b +c,d @@` counts say how
 * many lines each hunk holds, so a content line such as `--- x` is never taken for a file header.
 * Rules (GNU diff / git, "Detailed Unified"): a count left out is 1; with a count of 0 the start
 * names the line BEFORE the empty range, so the next new-side line is `c + 1`.
 * @returns the index of the first line after the hunks.
 */
function readHunks(lines: string[], start: number, out: Array<[number, number]>): number {
  let i = start;
  while (i < lines.length) {
    const header = HUNK_HEADER.exec(lines[i] ?? "");
    if (!header) break;
    i++;
    let oldLeft = header[2] === undefined ? 1 : Number(header[2]);
    let newLeft = header[4] === undefined ? 1 : Number(header[4]);
    const newStart = Number(header[3]);
    let next = newLeft === 0 ? newStart + 1 : newStart;
    let pendingDeletion = false;
    const flushDeletion = () => {
      if (pendingDeletion) out.push([Math.max(next - 1, 1), Math.max(next - 1, 1)]);
      pendingDeletion = false;
    };
    while (i < lines.length) {
      const line = lines[i] ?? "";
      const tag = line[0];
      if (tag === "\\") {
        // "\ No newline at end of file": belongs to the line before it.
      } else if (oldLeft === 0 && newLeft === 0) {
        break;
      } else if (tag === "+" && newLeft > 0) {
        pendingDeletion = false;
        out.push([next, next]);
        next++;
        newLeft--;
      } else if (tag === "-" && oldLeft > 0) {
        pendingDeletion = true;
        oldLeft--;
      } else if ((tag === " " || line === "") && oldLeft > 0 && newLeft > 0) {
        // A context line ("" = one whose trailing space was stripped by an editor or a mail client).
        flushDeletion();
        next++;
        oldLeft--;
        newLeft--;
      } else {
        break; // a truncated hunk: its counts promised more lines than it has
      }
      i++;
    }
    flushDeletion();
  }
  return i;
}

/**
 * The changed new-side lines of ONE file's hunks: the `patch` field of GitHub's "list pull request
 * files" API (REST `GET /repos/{owner}/{repo}/pulls/{pull_number}/files`), or the hunks of a
 * `git diff` without its file headers. Hunks may carry context lines: only the `+` lines count (by
 * their new-side number), plus, for lines removed without replacement, the new-side line after which
 * they were removed (at least 1). Text before the first `@@` header and between hunks is ignored.
 * @returns sorted, merged inclusive 1-based ranges; empty when the patch holds no hunk.
 */
export function parseHunks(patch: string): Array<[number, number]> {
  const lines = patch.split(/\r?\n/);
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < lines.length) {
    if (HUNK_HEADER.test(lines[i] ?? "")) i = readHunks(lines, i, out);
    else i++;
  }
  return mergeRanges(out);
}

/**
 * Decodes a path as git writes it in diff headers: C-style quoted (`"a b\303\251\t"`, with octal
 * escapes of UTF-8 bytes) when it holds special characters, else bare; a trailing TAB (git ends
 * `---`/`+++` names containing spaces with one) is dropped.
 */
function unquotePath(raw: string): string {
  const text = raw.replace(/\t.*$/, "");
  if (!text.startsWith('"')) return text;
  const bytes: number[] = [];
  const simple: Record<string, number> = { a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "\\": 92 };
  for (let i = 1; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"') break;
    if (ch !== "\\") {
      bytes.push(...Buffer.from(ch, "utf8"));
      continue;
    }
    const octal = /^[0-7]{3}/.exec(text.slice(i + 1));
    if (octal) {
      bytes.push(Number.parseInt(octal[0], 8));
      i += 3;
    } else {
      const esc = text[++i] ?? "";
      bytes.push(simple[esc] ?? esc.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** A header path with its `a/`/`b/` prefix removed; null for `/dev/null`. */
function headerPath(raw: string, prefix: string): string | null {
  const name = unquotePath(raw);
  if (name === "/dev/null") return null;
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** The new path of a `diff --git a/x b/x` line when it can be told (same name on both sides). */
function diffGitNewPath(rest: string): string | null {
  if (rest.startsWith('"')) {
    const m = /^"(?:[^"\\]|\\.)*" (.+)$/.exec(rest);
    return m?.[1] ? headerPath(m[1], "b/") : null;
  }
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest[half] === " " && rest.slice(2, half) === rest.slice(half + 3))
    return headerPath(rest.slice(half + 1), "b/");
  const at = rest.lastIndexOf(" b/");
  return at > 0 ? headerPath(rest.slice(at + 1), "b/") : null;
}

/**
 * Parses a multi-file unified diff, as `git diff --unified=0 --no-color` prints it (any context
 * size works), into changed lines per file. Understood: `diff --git` headers, `--- a/x` / `+++ b/x`
 * (`+++ /dev/null` or `deleted file mode` = deleted, skipped), `rename to` (the new name is used),
 * `Binary files … differ` and `GIT binary patch` (skipped), `\ No newline at end of file`, and
 * C-quoted paths. Plain `diff -u` output without `diff --git` lines works too. Paths lose a leading
 * `b/`; they are used as written otherwise (git writes them repo-relative with `/`).
 * @returns the changed lines; files without changed lines are absent.
 */
export function parseUnifiedDiff(text: string): ChangedLines {
  const lines = text.split(/\r?\n/);
  const result: ChangedLines = Object.create(null); // "__proto__" can be a file name
  const files: FileSection[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? "";
    let file = files[files.length - 1];
    if (line.startsWith("@@ ")) {
      if (!file) {
        file = newSection(null);
        files.push(file);
      }
      file.hunks = true;
      i = readHunks(lines, i, file.ranges);
      continue;
    }
    if (line.startsWith("diff --git "))
      files.push(newSection(diffGitNewPath(line.slice("diff --git ".length))));
    else if (line.startsWith("--- ")) {
      if (!file || file.hunks) files.push(newSection(null));
    } else if (file) {
      if (line.startsWith("+++ ")) {
        const p = headerPath(line.slice(4), "b/");
        if (p === null) file.skip = true;
        else file.path = p;
      } else if (line.startsWith("rename to ")) file.path = unquotePath(line.slice("rename to ".length));
      else if (line.startsWith("deleted file mode ")) file.skip = true;
      else if (line === "GIT binary patch" || /^Binary files .* differ$/.test(line)) file.skip = true;
    }
    i++;
  }
  for (const file of files) {
    if (!file.path || file.skip || file.ranges.length === 0) continue;
    result[file.path] = mergeRanges([...(result[file.path] ?? []), ...file.ranges]);
  }
  return result;
}

/** One file of a multi-file diff while it is read. */
interface FileSection {
  /** The new path; null until a header names it. */
  path: string | null;
  /** Deleted or binary: contributes nothing. */
  skip: boolean;
  /** A hunk was read: a following `--- ` line starts the next file. */
  hunks: boolean;
  ranges: Array<[number, number]>;
}

function newSection(newPath: string | null): FileSection {
  return { path: newPath, skip: false, hunks: false, ranges: [] };
}

/** Runs git in `cwd` without prompts, in the C locale; never rejects (the caller reads exitCode). */
function git(cwd: string, args: string[]) {
  return execa("git", args, {
    cwd,
    reject: false,
    stdin: "ignore",
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
    timeout: 120_000,
    env: { GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0" },
  });
}

/** Untracked files larger than this are not read (they count as unchanged). */
const MAX_UNTRACKED_BYTES = 4 * 1024 * 1024;

/** Every line of each untracked, not ignored, text file under `repoDir` (paths relative to it). */
async function untrackedLines(repoDir: string): Promise<ChangedLines> {
  const r = await git(repoDir, [
    "-c",
    "core.quotePath=false",
    "ls-files",
    "-z",
    "--others",
    "--exclude-standard",
  ]);
  if (r.exitCode !== 0) return {};
  const out: ChangedLines = Object.create(null);
  for (const rel of String(r.stdout).split("\0")) {
    if (!rel) continue;
    const full = path.join(repoDir, rel);
    const info = await lstat(full).catch(() => null);
    if (!info?.isFile() || info.size === 0 || info.size > MAX_UNTRACKED_BYTES) continue;
    const bytes = await readFile(full).catch(() => null);
    if (!bytes || bytes.includes(0)) continue; // binary, like git's own test (a NUL byte)
    const text = bytes.toString("utf8");
    const count = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    out[rel.split(path.sep).join("/")] = [[1, count]];
  }
  return out;
}

/** The end of a failed git command's stderr, for an error message. */
function stderrTail(r: { stderr: unknown; message?: string }): string {
  const text = String(r.stderr ?? "").trim() || r.message || "";
  return text.slice(-500);
}

/**
 * The lines changed in the checkout at `repoDir` since it forked from `base`: the diff from
 * `git merge-base <base> HEAD` to the WORKING TREE (`git diff -U0 -M --relative`), so uncommitted
 * edits count, plus every line of untracked, not ignored text files (up to 4 MiB each) as added.
 * Paths are relative to `repoDir` (POSIX); when `repoDir` is a subdirectory of the work tree only
 * changes under it count. Renames are detected (the new name carries only the lines that changed).
 * The user's git configuration cannot change the output's shape (prefixes, external diff drivers,
 * textconv, quoting and colour are pinned); submodules are ignored.
 * @param base a branch, tag or commit the change is compared against (e.g. `origin/main`).
 * @throws ChangedLinesError when `repoDir` is not a directory or not in a git work tree, git is
 *   missing, `base` is not a commit known locally (fetch it: `git fetch origin <branch>`; in GitHub
 *   Actions check out with `fetch-depth: 0`), `base` and HEAD have no common ancestor (a shallow
 *   clone), or `git diff` fails.
 */
export async function changedLinesFromGit(repoDir: string, base: string): Promise<ChangedLines> {
  const inside = await git(repoDir, ["rev-parse", "--is-inside-work-tree"]);
  if (inside.exitCode !== 0 || String(inside.stdout).trim() !== "true") {
    const exists = (await stat(repoDir).catch(() => null))?.isDirectory() === true;
    const spawnFailed = (inside as { code?: string }).code === "ENOENT";
    const message = !exists
      ? `${repoDir} is not a directory: give the checkout's directory`
      : spawnFailed
        ? "git was not found on PATH: install git to compare the checkout with its base"
        : `${repoDir} is not inside a git work tree (${stderrTail(inside)}): run perfloop in a git checkout, ` +
          "e.g. after actions/checkout, or do not ask for the changed lines";
    throw new ChangedLinesError(message, { cause: inside });
  }
  if (base === "" || base.startsWith("-")) {
    throw new ChangedLinesError(
      `"${base}" is not a git ref: give a branch, tag or commit such as origin/main`,
    );
  }
  const verified = await git(repoDir, ["rev-parse", "--verify", "--quiet", `${base}^{commit}`]);
  if (verified.exitCode !== 0) {
    const branch = base.replace(/^(?:refs\/remotes\/)?origin\//, "");
    throw new ChangedLinesError(
      `unknown git ref "${base}" in ${repoDir}: fetch it first (git fetch origin ${branch}); in GitHub ` +
        "Actions, actions/checkout fetches a single commit unless it is given fetch-depth: 0",
      { cause: verified },
    );
  }
  const mergeBase = await git(repoDir, ["merge-base", String(verified.stdout).trim(), "HEAD"]);
  if (mergeBase.exitCode !== 0) {
    throw new ChangedLinesError(
      `"${base}" and HEAD have no common ancestor in ${repoDir} (${stderrTail(mergeBase) || "git merge-base found none"}): ` +
        "the clone is probably shallow; fetch the history (git fetch --unshallow, or fetch-depth: 0 in actions/checkout)",
      { cause: mergeBase },
    );
  }
  const changed = await pinnedDiff(repoDir, [String(mergeBase.stdout).trim()]);
  for (const [file, ranges] of Object.entries(await untrackedLines(repoDir))) {
    changed[file] = mergeRanges([...(changed[file] ?? []), ...ranges]);
  }
  return changed;
}

/**
 * The lines changed from commit `from` to commit `to` as committed (`git diff -U0 -M --relative
 * from to`, pinned as changedLinesFromGit pins it): what a gate measures, whatever the working tree
 * holds. Paths relative to `repoDir` (POSIX).
 * @throws ChangedLinesError when `git diff` fails (an unknown commit, no git work tree).
 */
export async function changedLinesBetween(repoDir: string, from: string, to: string): Promise<ChangedLines> {
  return pinnedDiff(repoDir, [from, to]);
}

/** `git diff -U0` of `revs` (one: against the working tree; two: between commits), parsed. */
async function pinnedDiff(repoDir: string, revs: string[]): Promise<ChangedLines> {
  // The user's configuration cannot change the output's shape (prefixes, drivers, quoting, colour).
  const diff = await git(repoDir, [
    "-c",
    "core.quotePath=false",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "diff",
    "--unified=0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--find-renames",
    "--relative",
    "--ignore-submodules=all",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    ...revs,
    "--",
  ]);
  if (diff.exitCode !== 0) {
    throw new ChangedLinesError(`git diff failed in ${repoDir}: ${stderrTail(diff)}`, { cause: diff });
  }
  return parseUnifiedDiff(String(diff.stdout));
}
