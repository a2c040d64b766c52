// Applies a parsed patch to a directory, all or nothing: every new file text is computed in memory
// first, and files are written only when every hunk of every file matched. Hunk placement lives in
// hunks.ts; which paths a candidate may touch is policy.ts's job (run it before writing).
import { chmod, mkdir, readFile, realpath, rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { applyHunks } from "./hunks.ts";
import type { Patch } from "./parse.ts";
import { lexicalViolations, normalize, realRelative } from "./paths.ts";

/**
 * One file operation as applied. `before`/`after` are the full texts (null: absent before an add,
 * absent after a delete). For a move, `path` is the source (gone afterwards), `moveTo` the
 * destination that holds `after`.
 */
export type AppliedChange = {
  path: string;
  kind: "add" | "delete" | "update";
  before: string | null;
  after: string | null;
  moveTo?: string;
};

/** The result of applying (or computing) a patch: one entry per file operation, in patch order. */
export type AppliedPatch = { changed: AppliedChange[] };

/** Reads a repository-relative path; null when the file does not exist. */
export type FileReader = (path: string) => Promise<string | null>;

/**
 * A patch that does not fit the files: hunk lines or an `@@` context not found, adding a file that
 * exists, updating/deleting/moving one that does not, or a failed read/write. The message names the
 * file and shows what was not found; it is meant to be fed back to the model verbatim.
 */
export class PatchApplyError extends Error {
  override name = "PatchApplyError";
  /** The repository-relative path the error is about. */
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = path;
  }
}

/**
 * Computes every file operation of `patch` without writing, reading files through `readFile`.
 * Operations apply in order over an in-memory overlay, so a later section sees earlier ones (two
 * Update File sections for one file, add then update, ...). Rules: Add needs an absent file, Update
 * and Delete an existing one, and a Move destination must not exist.
 * @throws PatchApplyError on the first operation that does not fit; errors thrown by `readFile`
 * propagate unchanged.
 */
export async function computePatchedFiles(readFile: FileReader, patch: Patch): Promise<AppliedPatch> {
  const overlay = new Map<string, string | null>();
  const read = async (path: string) => {
    const key = normalize(path);
    return overlay.has(key) ? (overlay.get(key) ?? null) : await readFile(path);
  };
  const changed: AppliedChange[] = [];
  for (const file of patch.files) {
    const { path } = file;
    const before = await read(path);
    if (file.kind === "add") {
      if (before !== null) {
        throw new PatchApplyError(
          path,
          `${path}: cannot add this file, it already exists. Use '*** Update File: ${path}' with hunks to change it.`,
        );
      }
      overlay.set(normalize(path), file.content);
      changed.push({ path, kind: "add", before: null, after: file.content });
      continue;
    }
    if (before === null) {
      const verb = file.kind === "delete" ? "delete" : "update";
      const add = verb === "update" ? `, or use '*** Add File: ${path}' to create it` : "";
      throw new PatchApplyError(
        path,
        `${path}: cannot ${verb} this file, it does not exist. Check the path (relative to the repository root)${add}.`,
      );
    }
    if (file.kind === "delete") {
      overlay.set(normalize(path), null);
      changed.push({ path, kind: "delete", before, after: null });
      continue;
    }
    const result = applyHunks(path, before, file.hunks);
    if (!result.ok) throw new PatchApplyError(path, result.problem);
    if (file.moveTo === undefined) {
      overlay.set(normalize(path), result.content);
      changed.push({ path, kind: "update", before, after: result.content });
      continue;
    }
    if ((await read(file.moveTo)) !== null) {
      throw new PatchApplyError(
        file.moveTo,
        `${path}: cannot move to ${file.moveTo}, that file already exists.`,
      );
    }
    overlay.set(normalize(path), null);
    overlay.set(normalize(file.moveTo), result.content);
    changed.push({ path, kind: "update", before, after: result.content, moveTo: file.moveTo });
  }
  return { changed };
}

/** True when `rel` is a plain repository-relative path (see lexicalViolations in paths.ts). */
function lexicallySafe(rel: string): boolean {
  return lexicalViolations(rel).length === 0;
}

/**
 * A FileReader for the directory `root` that refuses to leave it: unsafe paths (absolute, `..`,
 * backslash, NUL) and paths whose real location is outside realpath(root) throw PatchApplyError
 * rather than being read; so do non-regular files (directories, devices, FIFOs).
 */
export function repoFileReader(root: string): FileReader {
  let rootReal: Promise<string> | null = null;
  return async (rel) => {
    if (!lexicallySafe(rel)) {
      throw new PatchApplyError(rel, `${rel}: refusing to read a path outside the repository.`);
    }
    const abs = join(root, rel);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(abs);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return null;
      throw new PatchApplyError(rel, `${rel}: cannot read it (${code ?? String(error)}).`, { cause: error });
    }
    if (!info.isFile()) {
      throw new PatchApplyError(
        rel,
        `${rel}: is not a regular file (a directory?); only files can be patched.`,
      );
    }
    rootReal ??= realpath(root);
    if ((await realRelative(root, await rootReal, rel)) === null) {
      throw new PatchApplyError(rel, `${rel}: resolves through a symbolic link to outside the repository.`);
    }
    return readFile(abs, "utf8");
  };
}

/** A path's text before the patch and after it (null: absent). */
type FileState = { original: string | null; final: string | null };

/** Final content per path after all operations (null: delete), plus the original per path. */
function finalStates(changed: AppliedChange[]): Map<string, FileState> {
  const states = new Map<string, FileState>();
  const set = (path: string, original: string | null, final: string | null) => {
    const prior = states.get(normalize(path));
    states.set(normalize(path), { original: prior ? prior.original : original, final });
  };
  for (const c of changed) {
    if (c.moveTo === undefined) {
      set(c.path, c.before, c.after);
    } else {
      set(c.path, c.before, null);
      set(c.moveTo, null, c.after);
    }
  }
  return states;
}

/** Refuses to write where the write would leave `rootReal` (through a symlinked file or directory). */
async function assertWritable(root: string, rootReal: string, rel: string): Promise<void> {
  const safe = lexicallySafe(rel) && (await realRelative(root, rootReal, rel).catch(() => null)) !== null;
  if (!safe) {
    const why = "through '..', an absolute path or a symbolic link";
    throw new PatchApplyError(rel, `${rel}: refusing to write outside the repository (${why}).`);
  }
}

/**
 * Applies `patch` to the directory `root`: computes all new contents with computePatchedFiles (over
 * repoFileReader(root)), then, only if everything matched, writes them (creating parent
 * directories; a moved file keeps its mode). If a write fails midway, the files already written are
 * restored (best effort) before the error is thrown. Does not check the patch policy: call
 * checkPatchPolicy (policy.ts) first. Empty directories left by deletes and moves are kept.
 * @throws PatchApplyError when a hunk does not match, a file is missing/present against the
 * operation, a path leaves `root`, or a write fails (with the I/O error as `cause`).
 */
export async function applyPatch(root: string, patch: Patch): Promise<AppliedPatch> {
  const result = await computePatchedFiles(repoFileReader(root), patch);
  const states = finalStates(result.changed);
  const rootReal = await realpath(root);
  for (const path of states.keys()) await assertWritable(root, rootReal, path);
  const modes = new Map<string, number>();
  for (const c of result.changed) {
    if (c.moveTo !== undefined && c.before !== null) {
      const info = await stat(join(root, c.path)).catch(() => null);
      if (info) modes.set(normalize(c.moveTo), info.mode & 0o7777);
    }
  }
  const written: string[] = [];
  try {
    for (const [path, { final }] of states) {
      const abs = join(root, path);
      written.push(path);
      if (final === null) {
        await rm(abs, { force: true });
      } else {
        await mkdir(dirname(abs), { recursive: true });
        await writeFile(abs, final, "utf8");
        const mode = modes.get(path);
        if (mode !== undefined) await chmod(abs, mode);
      }
    }
  } catch (error) {
    await restore(root, written, states);
    const path = written[written.length - 1] ?? "";
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    const message = `${path}: could not write the patched file (${code}); the files written before were restored.`;
    throw new PatchApplyError(path, message, { cause: error });
  }
  return result;
}

/** Best-effort rollback of the paths already written. */
async function restore(root: string, written: string[], states: Map<string, FileState>): Promise<void> {
  for (const path of written.reverse()) {
    const original = states.get(path)?.original ?? null;
    const abs = join(root, path);
    const undo = original === null ? rm(abs, { force: true }) : writeFile(abs, original, "utf8");
    await undo.catch(() => undefined);
  }
}
