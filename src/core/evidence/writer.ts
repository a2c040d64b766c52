/**
 * Writes the evidence bundle (DESIGN.md, "Evidence bundle") into the `--out` directory as the run
 * goes, so a run that fails half-way still leaves what it had: every file is written when its
 * content exists, and `audit.log` gets one timestamped line per action.
 */
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

/** The bundle directory of one run. */
export interface EvidenceWriter {
  dir: string;
  /** Writes `name` (relative, may contain folders) as pretty JSON. */
  json(name: string, value: unknown): Promise<string>;
  /** Writes `name` as text. */
  text(name: string, content: string): Promise<string>;
  /** Appends `ISO-time action detail` to audit.log. */
  audit(action: string, detail?: string): Promise<void>;
}

/**
 * Creates (or reuses) the bundle directory.
 * @throws the fs error when `dir` cannot be created.
 */
export async function createEvidenceWriter(dir: string): Promise<EvidenceWriter> {
  await mkdir(dir, { recursive: true });
  const auditFile = path.join(dir, "audit.log");
  const write = async (name: string, content: string): Promise<string> => {
    const file = path.join(dir, name);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    return file;
  };
  return {
    dir,
    json: (name, value) => write(name, `${JSON.stringify(value, null, 2)}\n`),
    text: write,
    audit: (action, detail) =>
      appendFile(
        auditFile,
        `${new Date().toISOString()} ${action}${detail ? ` ${detail.replace(/\n/g, "\\n")}` : ""}\n`,
      ),
  };
}
