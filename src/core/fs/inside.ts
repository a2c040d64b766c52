/**
 * What perfloop itself reads from a repository (AGENTS.md, knob files, hot-spot code, the config)
 * stays inside it, by the same rule as the model's tools (src/core/optimize/llm/tools.ts) and the
 * patch policy (src/core/patch/paths.ts): no absolute path, no `~`, no `..`, no symbolic link whose
 * target (a dangling link counts as leaving) lies outside realpath(root), and only regular files —
 * never a FIFO (a read would block), a device or a /proc file such as /proc/self/environ.
 * README.md, "Safety: patch policy and sandbox".
 */
import { constants, lstatSync, realpathSync } from "node:fs";
import { open, realpath } from "node:fs/promises";
import path from "node:path";
import { realRelative } from "../patch/paths.ts";

/** Why a repository path was refused. */
export type RepositoryPathReason = "lexical" | "outside" | "not-a-file" | "too-large";

/**
 * A path perfloop refused to read because it is not a plain file inside the repository.
 * `path` is the path as given (repository-relative); `reason` says which rule refused it.
 */
export class RepositoryPathError extends Error {
  override name = "RepositoryPathError";
  readonly path: string;
  readonly reason: RepositoryPathReason;
  constructor(rel: string, reason: RepositoryPathReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.path = rel;
    this.reason = reason;
  }
}

/** Bytes {@link readInside} reads at most unless told otherwise (1 MiB). */
export const DEFAULT_MAX_READ_BYTES = 1 << 20;

/**
 * What is wrong with `p` as a repository-relative path, from its text alone: "is empty", "is
 * absolute" (`/`, `\`, a drive such as `C:`), "starts with ~" (a home directory), "has a '..'
 * segment" (split on `/` and `\`), "contains a NUL or control character". Null when `p` is a plain
 * relative path. Globs pass when their text passes (`**`, `*`, `{a,b}` are not refused).
 */
export function relativePathProblem(p: string): string | null {
  if (p.trim() === "") return "is empty";
  if (p.startsWith("/") || p.startsWith("\\") || /^[A-Za-z]:/.test(p)) return "is absolute";
  if (p.startsWith("~")) return "starts with ~ (a home directory)";
  if (p.split(/[/\\]/).includes("..")) return "has a '..' segment";
  if ([...p].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return "contains a NUL or control character";
  return null;
}

/**
 * Where the absolute path `p` really lives, synchronously: realpath of its nearest existing
 * ancestor plus the rest (the rule of src/core/patch/paths.ts `realRelative`).
 * @returns the real absolute path; null when a link on the way dangles or loops.
 */
export function realPathSync(p: string): string | null {
  let probe = path.resolve(p);
  const rest: string[] = [];
  while (!presentSync(probe)) {
    const up = path.dirname(probe);
    if (up === probe) return null;
    rest.unshift(path.basename(probe));
    probe = up;
  }
  try {
    return path.join(realpathSync(probe), ...rest);
  } catch {
    return null; // a dangling or looping link
  }
}

/**
 * Where the repository-relative `rel` really lives, synchronously (see {@link realPathSync}; a
 * dangling symbolic link counts as leaving).
 * @returns the absolute real path, inside realpath(root); null when it leaves the repository (or
 *   root itself does not exist).
 */
export function realInsideSync(root: string, rel: string): string | null {
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch {
    return null;
  }
  const full = realPathSync(path.join(root, rel));
  return full !== null && isWithin(rootReal, full) ? full : null;
}

/**
 * Resolves the repository-relative `rel` to its real absolute path inside `root`.
 * @throws RepositoryPathError with reason "lexical" (see {@link relativePathProblem}) or "outside"
 *   (a symbolic link, dangling or not, leads out of realpath(root)); the error of realpath(root)
 *   when root does not exist.
 */
export async function resolveInside(root: string, rel: string): Promise<string> {
  const problem = relativePathProblem(rel);
  if (problem !== null)
    throw new RepositoryPathError(
      rel,
      "lexical",
      `${JSON.stringify(rel)} ${problem}: paths must be relative to the repository root, without '..'`,
    );
  const rootReal = await realpath(root);
  const inside = await realRelative(root, rootReal, rel);
  if (inside === null)
    throw new RepositoryPathError(
      rel,
      "outside",
      `${JSON.stringify(rel)} leads outside the repository through a symbolic link`,
    );
  return path.join(rootReal, inside);
}

/**
 * Reads a repository file as UTF-8 text, refusing anything that is not a regular file inside the
 * repository. The file is opened without following a final symbolic link and without blocking
 * (O_NOFOLLOW | O_NONBLOCK), its type and size come from the open descriptor, and on Linux the
 * descriptor's own path (/proc/self/fd) is checked against the root again, so a directory swapped
 * for a link between the check and the open is caught too.
 * @param root the repository (or scratch tree) directory.
 * @param rel a path relative to root.
 * @param options.maxBytes the largest file read, bytes (default {@link DEFAULT_MAX_READ_BYTES}).
 * @returns the text, or null when nothing is there (ENOENT, ENOTDIR).
 * @throws RepositoryPathError "lexical", "outside", "not-a-file" (directory, FIFO, socket, device)
 *   or "too-large"; other I/O errors (EACCES…) as Node raises them.
 */
export async function readInside(
  root: string,
  rel: string,
  options: { maxBytes?: number } = {},
): Promise<string | null> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_READ_BYTES;
  const file = await resolveInside(root, rel);
  const rootReal = await realpath(root);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    if (code === "ELOOP")
      throw new RepositoryPathError(
        rel,
        "outside",
        `${JSON.stringify(rel)} became a symbolic link while being read`,
        { cause: error },
      );
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile())
      throw new RepositoryPathError(
        rel,
        "not-a-file",
        `${JSON.stringify(rel)} is not a regular file (a directory, FIFO, socket or device)`,
      );
    const opened = await realpath(`/proc/self/fd/${handle.fd}`).catch(() => null);
    if (opened?.startsWith("/") && !isWithin(rootReal, opened))
      throw new RepositoryPathError(
        rel,
        "outside",
        `${JSON.stringify(rel)} was moved outside the repository while being read`,
      );
    const tooLarge = () =>
      new RepositoryPathError(rel, "too-large", `${JSON.stringify(rel)} is larger than ${maxBytes} bytes`);
    if (info.size > maxBytes) throw tooLarge();
    // Read until the end, whatever the size said (the file may grow after the stat), but never
    // more than maxBytes + 1 bytes.
    const chunks: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(1 << 16, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, length);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw tooLarge();
    }
    return Buffer.concat(chunks, length).toString("utf8");
  } finally {
    await handle.close();
  }
}

/** Whether anything (a symbolic link included, dangling or not) is at the absolute path `p`. */
function presentSync(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Whether the absolute path `p` is `dir` or below it. */
export function isWithin(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === "" || (rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * How perfloop reads the profiles a sandboxed command wrote into its profile folder: through
 * `readInside` (a link or a FIFO planted there is refused, never followed or waited on), up to
 * 512 MiB a file (V8 .cpuprofile files of long runs reach tens of MB).
 */
export const PROFILE_READ = { maxBytes: 512 * 2 ** 20 } as const;
