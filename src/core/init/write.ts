/**
 * Writing init's files into the project without clobbering and without following links: every
 * target is checked before anything is written (so a refusal leaves the project as it was), a
 * directory on the way that is a symbolic link is refused, a new file is created with O_EXCL (which
 * fails on anything already there, a dangling link included), and a forced replacement is written
 * to a fresh temporary file renamed over the old one (rename replaces the directory entry: it never
 * writes through a link). Missing directories (`.github/`, `.github/workflows/`) are created.
 */
import { randomBytes } from "node:crypto";
import type { Stats } from "node:fs";
import { lstat, mkdir, open, realpath, rename, rm } from "node:fs/promises";
import path from "node:path";
import { InitError } from "./errors.ts";

/** A file to write: its project-relative path (`/`-separated, no `..`) and its text. */
export interface FileToWrite {
  rel: string;
  text: string;
}

/** lstat of `root/rel`; null when nothing is there. */
async function lstatOrNull(root: string, rel: string): Promise<Stats | null> {
  try {
    return await lstat(path.join(root, rel));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new InitError("io", rel, `cannot inspect ${rel}: ${(error as Error).message}`, { cause: error });
  }
}

/** The directories on the way to `rel` inside the project, shallowest first (`.github`, `.github/workflows`). */
function parents(rel: string): string[] {
  const parts = rel.split("/").slice(0, -1);
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/**
 * Refuses a target that must not be written: a directory on the way that is a link or not a
 * directory, a file that is a link or not a regular file, or an existing file without `force`.
 */
async function check(root: string, file: FileToWrite, force: boolean): Promise<void> {
  for (const dir of parents(file.rel)) {
    const st = await lstatOrNull(root, dir);
    if (st === null) return; // nothing below a missing directory exists either
    if (st.isSymbolicLink())
      throw new InitError(
        "symlink",
        dir,
        `${dir} is a symbolic link: perfloop init never writes through one; replace it with a directory`,
      );
    if (!st.isDirectory())
      throw new InitError(
        "not-a-file",
        dir,
        `${dir} exists and is not a directory: cannot write ${file.rel}`,
      );
  }
  const st = await lstatOrNull(root, file.rel);
  if (st === null) return;
  if (st.isSymbolicLink())
    throw new InitError(
      "symlink",
      file.rel,
      `${file.rel} is a symbolic link: perfloop init never writes through one, even with --force; remove the link first`,
    );
  if (!st.isFile())
    throw new InitError("not-a-file", file.rel, `${file.rel} exists and is not a regular file: not replaced`);
  if (!force)
    throw new InitError(
      "exists",
      file.rel,
      `${file.rel} already exists: not overwritten (run again with --force to replace it)`,
    );
}

/** Creates the missing directories on the way to `rel` and checks the last one is really inside `root`. */
async function makeParents(root: string, rel: string): Promise<void> {
  for (const dir of parents(rel)) {
    try {
      await mkdir(path.join(root, dir));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST")
        throw new InitError("io", dir, `cannot create ${dir}: ${(error as Error).message}`, { cause: error });
    }
  }
  // A directory swapped for a link since check() would show here: its real path leaves the project.
  const dir = path.join(root, path.dirname(rel));
  const expected = path.join(await realpath(root), path.dirname(rel));
  if ((await realpath(dir)) !== expected)
    throw new InitError(
      "symlink",
      path.dirname(rel),
      `${path.dirname(rel)} leads elsewhere through a symbolic link: not written`,
    );
}

/** Writes `text` to a new file at `full` (O_EXCL: fails if anything is there); removes it on failure. */
async function createExclusive(full: string, rel: string, text: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(full, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST")
      throw new InitError(
        "exists",
        rel,
        `${rel} already exists: not overwritten (run again with --force to replace it)`,
        { cause: error },
      );
    throw new InitError("io", rel, `cannot create ${rel}: ${(error as Error).message}`, { cause: error });
  }
  try {
    await handle.writeFile(text, "utf8");
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(full, { force: true });
    throw new InitError("io", rel, `cannot write ${rel}: ${(error as Error).message}`, { cause: error });
  }
  await handle.close();
}

/**
 * Writes `files` under `root`: all are checked first, then each is written.
 * @param root the project directory (absolute or relative to the working directory).
 * @param force replace existing regular files (never links).
 * @returns the project-relative paths written, in order.
 * @throws InitError `exists` (without force), `symlink`, `not-a-file` or `io`, naming the file.
 */
export async function writeProjectFiles(
  root: string,
  files: FileToWrite[],
  force: boolean,
): Promise<string[]> {
  for (const file of files) await check(root, file, force);
  const written: string[] = [];
  for (const file of files) {
    await makeParents(root, file.rel);
    const full = path.join(root, file.rel);
    // Without force, always O_EXCL: a file that appeared since the check is still not clobbered.
    if (!force || (await lstatOrNull(root, file.rel)) === null) {
      await createExclusive(full, file.rel, file.text);
    } else {
      const temp = `${full}.perfloop-init-${randomBytes(6).toString("hex")}`;
      await createExclusive(temp, file.rel, file.text);
      try {
        await rename(temp, full);
      } catch (error) {
        await rm(temp, { force: true });
        throw new InitError("io", file.rel, `cannot replace ${file.rel}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    }
    written.push(file.rel);
  }
  return written;
}
