/**
 * The one error `perfloop init` raises for conditions the user can fix: the directory is missing, a
 * file to write already exists, or a path on the way is a symbolic link. Detection itself never
 * throws for a project's content (a malformed file becomes a note).
 */

/**
 * Why init stopped:
 * - `no-directory`: the project directory does not exist or is not a directory;
 * - `exists`: a file to write is already there and `force` was not given;
 * - `symlink`: the file, or a directory on the way to it, is a symbolic link (never written
 *   through, even with `force`);
 * - `not-a-file`: something other than a regular file (or a directory where a directory is needed)
 *   is in the way;
 * - `io`: the file system refused (permissions, disk full), with the system error as `cause`.
 */
export type InitErrorCode = "no-directory" | "exists" | "symlink" | "not-a-file" | "io";

/** An init failure naming the file concerned (project-relative, or the directory as given). */
export class InitError extends Error {
  override name = "InitError";
  readonly code: InitErrorCode;
  /** The path the error is about: project-relative for files, as given for the directory. */
  readonly file: string;
  constructor(code: InitErrorCode, file: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.file = file;
  }
}
