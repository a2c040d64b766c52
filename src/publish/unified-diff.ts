/**
 * Reading and applying `final.patch`, the git-style unified diff src/core/loop/workspace.ts
 * `diffTrees` writes, with jsdiff (`parsePatch`, `applyPatch` of the `diff` package). Used by the
 * follow-up PR (src/publish/follow-up-pr.ts) to compute new file contents from the PR head's files
 * without a checkout. Exact, like `git apply`: no fuzz, no line-ending conversion, a hunk whose old
 * lines are not found fails the whole patch, and a deleted file must match the diff entirely.
 */
import { applyPatch, parsePatch, type StructuredPatch, type StructuredPatchHunk } from "diff";

/**
 * One file of a diff. `oldPath` null = file added, `newPath` null = file deleted; both set and
 * different = renamed (`keepOld` true for a copy). `hunks` are jsdiff's: `lines` keep their
 * `" "`/`"-"`/`"+"`/`"\\"` prefix and every byte after it (a CR of CRLF, a tab at the end).
 */
export interface FileDiff {
  oldPath: string | null;
  newPath: string | null;
  keepOld: boolean;
  hunks: StructuredPatchHunk[];
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

/**
 * Parses a unified diff into files with jsdiff's `parsePatch` (git extended headers understood:
 * `new file mode`, `deleted file mode`, `rename from/to`, `copy from/to`, quoted paths). Text before
 * the first file (perfloop's `# perfloop: … left out` notes) is skipped.
 * @returns the files in patch order; an empty list when the text holds no file diff.
 * @throws PatchApplyError on binary diffs, malformed hunks (counts that disagree with the `@@`
 *   header; jsdiff's error as `cause`), a hunk without file names, or unsafe paths (absolute, `..`,
 *   `.`, `.git/`).
 */
export function parseUnifiedDiff(text: string): FileDiff[] {
  if (/^GIT binary patch$/m.test(text)) throw new PatchApplyError("binary diffs are not supported");
  let patches: StructuredPatch[];
  try {
    patches = parsePatch(text);
  } catch (error) {
    throw new PatchApplyError(`malformed diff: ${(error as Error).message}`, null, { cause: error });
  }
  const files: FileDiff[] = [];
  for (const patch of patches) {
    const { oldFileName, newFileName } = patch;
    if (oldFileName === undefined && newFileName === undefined && patch.hunks.length === 0) continue;
    if (oldFileName === undefined || newFileName === undefined)
      throw new PatchApplyError("a hunk without file names");
    const oldPath = patch.isCreate || oldFileName === "/dev/null" ? null : diffPath(oldFileName, "a/");
    const newPath = patch.isDelete || newFileName === "/dev/null" ? null : diffPath(newFileName, "b/");
    if (patch.isBinary) throw new PatchApplyError("binary diffs are not supported", newPath ?? oldPath);
    if (oldPath === null && newPath === null)
      throw new PatchApplyError("a file diff with /dev/null on both sides");
    files.push({ oldPath, newPath, keepOld: patch.isCopy === true, hunks: patch.hunks });
  }
  return files;
}

/** A `---`/`+++` (or `diff --git`) path without its `a/`/`b/` prefix, refused when unsafe. */
function diffPath(name: string, prefix: string): string {
  const p = name.startsWith(prefix) ? name.slice(prefix.length) : name;
  const parts = p.split("/");
  if (p === "" || p.startsWith("/") || parts.includes("..") || parts.includes(".") || parts[0] === ".git")
    throw new PatchApplyError(`unsafe path in diff: ${JSON.stringify(p)}`, p);
  return p;
}

/**
 * Applies one file's hunks to `before` (null when the file is added) with jsdiff's `applyPatch`
 * (no fuzz, no line-ending conversion; a hunk is looked for at its stated line, then at the nearest
 * place where all its old lines match, after earlier hunks).
 * @returns the new content byte for byte (a string; encode it as UTF-8), or null when the file is
 *   deleted.
 * @throws PatchApplyError when a hunk's old lines are not found, or a deleted file holds more than
 *   the diff removes.
 */
export function applyFileDiff(file: FileDiff, before: string | null): string | null {
  const name = file.newPath ?? file.oldPath;
  const patch: StructuredPatch = {
    oldFileName: file.oldPath ?? "/dev/null",
    newFileName: file.newPath ?? "/dev/null",
    oldHeader: undefined,
    newHeader: undefined,
    hunks: file.hunks,
  };
  const after = applyPatch(before ?? "", patch, { fuzzFactor: 0, autoConvertLineEndings: false });
  if (after === false) throw new PatchApplyError(`a hunk of the diff does not match ${name}`, name);
  if (file.newPath !== null) return after;
  if (after !== "") throw new PatchApplyError(`${name} holds more than the diff deletes`, name);
  return null;
}
