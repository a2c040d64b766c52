/**
 * The bounded view of a project that detection reads: a breadth-first listing of its regular files
 * (so the manifests at the top are always listed before a deep tree can exhaust the limit) that
 * skips dependency, build and VCS directories, and a reader that reads each file at most once,
 * through src/core/fs/inside.ts (never through a symbolic link, only regular files, size-capped).
 * Nothing is ever executed.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { RepositoryPathError, readInside } from "../fs/inside.ts";
import type { InitNote } from "./types.ts";

/**
 * Directory names never entered: installed dependencies, virtual environments, build outputs,
 * caches and VCS data hold no project code and can hold hundreds of thousands of files.
 */
const SKIPPED_DIRS: ReadonlySet<string> = new Set([
  "node_modules",
  ".git",
  ".hg",
  ".svn",
  ".venv",
  "venv",
  "dist",
  "build",
  "target",
  "__pycache__",
  ".tox",
  ".nox",
  ".mypy_cache",
  ".pytest_cache",
  ".ruff_cache",
  ".perfloop",
  ".asv",
]);

/** Files listed at most; the walk stops there (and says so). */
export const MAX_FILES = 4000;
/** Directory depth entered at most (the project directory is depth 0). */
export const MAX_DEPTH = 16;
/** Bytes read of one file at most (512 KiB); a larger file is skipped with a note. */
const MAX_FILE_BYTES = 512 * 1024;
/** Bytes read in all at most (32 MiB); past it, reads return null with one note. */
const MAX_TOTAL_BYTES = 32 * 1024 * 1024;

/** A listed project and a cached, bounded reader of its files. */
export interface ProjectTree {
  /** The project directory, absolute. */
  root: string;
  /** Regular files, project-relative with `/`, sorted by code unit. */
  files: readonly string[];
  /** True when the walk stopped at {@link MAX_FILES}. */
  truncated: boolean;
  /** Whether `rel` was listed. */
  has(rel: string): boolean;
  /**
   * The text of a listed file; null when it is not listed, too large, over the read budget or
   * unreadable (each of the last three adds a note).
   */
  read(rel: string): Promise<string | null>;
  /** Notes gathered while listing and reading. */
  notes: InitNote[];
}

/** Code-unit order, the same under every locale (fixtures compare listings). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lists `root` breadth-first, skipping {@link SKIPPED_DIRS}, any directory holding a `pyvenv.cfg`
 * (a virtual environment of any name), symbolic links (files and directories alike: they may lead
 * out of the project) and anything that is not a regular file.
 * @param root the project directory (must exist; the caller checks).
 */
export async function scanProject(root: string): Promise<ProjectTree> {
  const files: string[] = [];
  const notes: InitNote[] = [];
  let truncated = false;
  let queue: Array<{ rel: string; depth: number }> = [{ rel: "", depth: 0 }];
  walk: while (queue.length > 0) {
    const next: typeof queue = [];
    for (const { rel, depth } of queue) {
      let entries: Dirent[];
      try {
        entries = await readdir(path.join(root, rel), { withFileTypes: true });
      } catch (error) {
        notes.push({ file: rel || ".", message: `could not list: ${(error as Error).message}` });
        continue;
      }
      if (rel !== "" && entries.some((e) => e.name === "pyvenv.cfg")) continue;
      entries.sort((a, b) => byCodeUnit(a.name, b.name));
      for (const entry of entries) {
        const child = rel === "" ? entry.name : `${rel}/${entry.name}`;
        if (entry.isFile()) {
          if (files.length >= MAX_FILES) {
            truncated = true;
            break walk;
          }
          files.push(child);
        } else if (entry.isDirectory() && !SKIPPED_DIRS.has(entry.name) && depth + 1 <= MAX_DEPTH) {
          next.push({ rel: child, depth: depth + 1 });
        }
      }
    }
    queue = next;
  }
  if (truncated)
    notes.push({
      message: `stopped listing after ${MAX_FILES} files: files deeper in the tree were not looked at`,
    });
  files.sort(byCodeUnit);
  return makeTree(root, files, truncated, notes);
}

function makeTree(root: string, files: string[], truncated: boolean, notes: InitNote[]): ProjectTree {
  const listed = new Set(files);
  const cache = new Map<string, Promise<string | null>>();
  let budget = MAX_TOTAL_BYTES;
  let budgetNoted = false;
  const load = async (rel: string): Promise<string | null> => {
    if (budget <= 0) {
      if (!budgetNoted)
        notes.push({ message: `stopped reading after ${MAX_TOTAL_BYTES / 2 ** 20} MiB of files` });
      budgetNoted = true;
      return null;
    }
    try {
      const text = await readInside(root, rel, { maxBytes: MAX_FILE_BYTES });
      budget -= text?.length ?? 0;
      return text;
    } catch (error) {
      const why =
        error instanceof RepositoryPathError && error.reason === "too-large"
          ? `larger than ${MAX_FILE_BYTES / 1024} KiB, not read`
          : `not read: ${(error as Error).message}`;
      notes.push({ file: rel, message: why });
      return null;
    }
  };
  return {
    root,
    files,
    truncated,
    notes,
    has: (rel) => listed.has(rel),
    read(rel) {
      if (!listed.has(rel)) return Promise.resolve(null);
      let text = cache.get(rel);
      if (text === undefined) {
        text = load(rel);
        cache.set(rel, text);
      }
      return text;
    },
  };
}
