/**
 * Writes the evidence bundle (README, "Evidence bundle") into the `--out` directory as the run goes,
 * so a run that fails half-way still leaves what it had: every file is written when its content
 * exists, and `audit.log` gets one timestamped line per action.
 *
 * Everything written passes through a redactor first (redact.ts: secret values in any encoding,
 * well-known token formats) and a size ceiling (cap.ts), and the writer keeps in memory the exact
 * text of every file it wrote. That copy is what leaves the runner: the Action restores the
 * directory from it before the upload ({@link restoreBundle}) and takes report.md from it, so a
 * process that outlived its command and rewrote or planted files changes nothing that is published
 * (issue 10, item 10).
 */
import { appendFile, lstat, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { capText, STREAM_CEILING_BYTES, TEXT_FILE_CEILING_BYTES } from "./cap.ts";
import { createRedactor, type Redactor } from "./redact.ts";

/** The audit log's name in the bundle. */
export const AUDIT_LOG = "audit.log";

/** Secrets replaced in the bundle so far: how many, and in which files (relative names, sorted). */
export interface Redactions {
  count: number;
  files: string[];
}

/** The bundle directory of one run. */
export interface EvidenceWriter {
  dir: string;
  /**
   * Writes `name` (relative, may contain folders) as pretty JSON, every string redacted and cut to
   * 1 MiB (cap.ts); returns the absolute path. Rejects with EvidencePathError for a name outside.
   */
  json(name: string, value: unknown): Promise<string>;
  /** Writes `name` as text, redacted and cut to 4 MiB (cap.ts); returns the absolute path. */
  text(name: string, content: string): Promise<string>;
  /** Appends `ISO-time action detail` to audit.log, redacted (newlines in `detail` written as `\n`). */
  audit(action: string, detail?: string): Promise<void>;
  /** The exact text of every file this writer wrote (relative name → content), sorted by name. */
  files(): Map<string, string>;
  /** Replacements in the files as they are now (a rewritten file counts its latest version only). */
  redactions(): Redactions;
}

/** Options of {@link createEvidenceWriter}. */
export interface EvidenceWriterOptions {
  /** What to redact; default: the well-known token formats only (no secret values known). */
  redactor?: Redactor;
}

/** A bundle file name that is absolute, empty, or leads out of the bundle directory. */
export class EvidencePathError extends Error {
  override name = "EvidencePathError";
}

/** The bundle could not be restored from memory (the directory or a file could not be written). */
export class BundleRestoreError extends Error {
  override name = "BundleRestoreError";
}

/**
 * `name` as a key: forward slashes, normalized.
 * @throws EvidencePathError for an absolute name, `..`, or an empty one.
 */
function bundleName(name: string): string {
  const normal = path.posix.normalize(name.replace(/\\/g, "/"));
  if (path.posix.isAbsolute(normal) || normal === "." || normal === ".." || normal.startsWith("../"))
    throw new EvidencePathError(`evidence file name ${JSON.stringify(name)} is not inside the bundle`);
  return normal;
}

/** A JSON-able value with every string cut to {@link STREAM_CEILING_BYTES} (a captured stream at most). */
function capStrings(value: unknown): unknown {
  if (typeof value === "string") return capText(value, STREAM_CEILING_BYTES);
  if (Array.isArray(value)) return value.map(capStrings);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, capStrings(v)]));
}

/**
 * Creates (or reuses) the bundle directory. When it is reused, audit.log is appended to on disk, and
 * the in-memory copy holds this writer's lines only.
 * @param dir the bundle directory (`--out`).
 * @throws the fs error when `dir` cannot be created; each write throws EvidencePathError for a name
 *   outside the bundle, or the fs error.
 */
export async function createEvidenceWriter(
  dir: string,
  opts: EvidenceWriterOptions = {},
): Promise<EvidenceWriter> {
  await mkdir(dir, { recursive: true });
  const redactor = opts.redactor ?? createRedactor();
  const contents = new Map<string, string>();
  const hits = new Map<string, number>();
  const put = async (name: string, content: string, count: number): Promise<string> => {
    contents.set(name, content);
    hits.set(name, count);
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    return file;
  };
  // Audit lines are appended one after the other, so the file holds them in the in-memory order.
  let auditing: Promise<void> = Promise.resolve();
  return {
    dir,
    json: async (name, value) => {
      const key = bundleName(name);
      const clean = redactor.value(value);
      return put(key, `${JSON.stringify(capStrings(clean.value), null, 2)}\n`, clean.count);
    },
    text: async (name, content) => {
      const key = bundleName(name);
      const clean = redactor.text(content);
      return put(key, capText(clean.text, TEXT_FILE_CEILING_BYTES), clean.count);
    },
    audit: (action, detail) => {
      const line = `${new Date().toISOString()} ${action}${detail ? ` ${detail.replace(/\n/g, "\\n")}` : ""}`;
      const clean = redactor.text(capText(line, STREAM_CEILING_BYTES));
      contents.set(AUDIT_LOG, `${contents.get(AUDIT_LOG) ?? ""}${clean.text}\n`);
      hits.set(AUDIT_LOG, (hits.get(AUDIT_LOG) ?? 0) + clean.count);
      const next = auditing.then(() => appendFile(path.join(dir, AUDIT_LOG), `${clean.text}\n`));
      auditing = next.catch(() => undefined);
      return next;
    },
    files: () => new Map([...contents].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    redactions: () => {
      const files = [...hits].filter(([, n]) => n > 0).map(([name]) => name);
      return { count: files.reduce((sum, name) => sum + (hits.get(name) ?? 0), 0), files: files.sort() };
    },
  };
}

/** What {@link restoreBundle} did. Paths: `files` absolute; `changed` and `removed` relative. */
export interface RestoredBundle {
  /** Every file of the bundle now, absolute paths, sorted: exactly the writer's files. */
  files: string[];
  /** Files the writer wrote whose bytes on disk differed (or that were missing, or not plain files). */
  changed: string[];
  /** Entries the writer never wrote (files, links, folders left with no file of the bundle in them). */
  removed: string[];
}

/**
 * Makes the bundle directory hold exactly what `writer` wrote: everything in it is deleted (a link
 * put in the directory's place is removed, never followed) and every file is written again from
 * memory. For the Action, after every process of the run has ended and before the upload: a process
 * left behind may have rewritten results.json or report.md, or added files.
 * @returns the files now in the directory and what differed from memory.
 * @throws BundleRestoreError (with the fs error as `cause`) when a file cannot be written, e.g.
 *   because something recreated it meanwhile.
 */
export async function restoreBundle(writer: EvidenceWriter): Promise<RestoredBundle> {
  const { dir } = writer;
  const memory = writer.files();
  const changed: string[] = [];
  const removed: string[] = [];
  try {
    const stat = await lstat(dir).catch(() => null);
    if (stat && !stat.isDirectory()) {
      await rm(dir, { force: true });
      removed.push(".");
    }
    await mkdir(dir, { recursive: true });
    const seen = new Set<string>();
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      const name = path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/");
      if (entry.isDirectory()) continue;
      const kept = memory.get(name);
      if (kept === undefined) removed.push(name);
      else {
        seen.add(name);
        const bytes = entry.isFile() ? await readFile(path.join(dir, name)) : null;
        if (!bytes?.equals(Buffer.from(kept, "utf8"))) changed.push(name);
      }
    }
    for (const name of memory.keys()) if (!seen.has(name)) changed.push(name);
    for (const entry of await readdir(dir)) await rm(path.join(dir, entry), { recursive: true, force: true });
    const files: string[] = [];
    for (const [name, content] of memory) {
      const file = path.join(dir, name);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content, { flag: "wx" });
      files.push(file);
    }
    return { files: files.sort(), changed: changed.sort(), removed: removed.sort() };
  } catch (error) {
    throw new BundleRestoreError(
      `cannot restore the evidence bundle ${dir} from memory: ${(error as Error).message}`,
      { cause: error },
    );
  }
}
