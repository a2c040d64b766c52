/**
 * A profiling run's folder, read once: every Python (`py-*.json`, written by sitecustomize.py) and
 * Node (`*.cpuprofile`) profile, parsed. The hot spots (hotspots.ts), the bundle's speedscope and
 * folded files (loop/profile-files.ts) and the "did it import torch" question (loop/profile-run.ts)
 * all read these, so no file is read or parsed twice. Call it after the command has exited: the
 * files are written at process exit.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { PROFILE_READ, readInside } from "../fs/inside.ts";
import { type CpuProfile, NodeProfileReadError, parseCpuProfile } from "./node.ts";
import { type PythonProfile, PythonProfileReadError, parsePythonProfile } from "./python.ts";

/**
 * One profile of the folder (`name` in it, `file` its path): parsed, or the error that kept it
 * from being read. A Node profile keeps its `text`: the bundle keeps raw .cpuprofile files.
 */
export type ProfileFile = { name: string; file: string } & (
  | { kind: "python"; profile: PythonProfile }
  | { kind: "node"; text: string; profile: CpuProfile }
  | { kind: "unreadable"; error: PythonProfileReadError | NodeProfileReadError }
);

/**
 * Every profile in `profileDir`, sorted by name; a missing folder gives []. A file that cannot be
 * read or parsed is an `unreadable` entry, never a throw: each reader decides what it costs.
 * @throws the fs error when the folder exists but cannot be listed.
 */
export async function readProfileDir(profileDir: string): Promise<ProfileFile[]> {
  let names: string[];
  try {
    names = (await readdir(profileDir)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const out: ProfileFile[] = [];
  for (const name of names) {
    const python = /^py-.*\.json$/.test(name);
    if (!python && !name.endsWith(".cpuprofile")) continue;
    const file = path.join(profileDir, name);
    try {
      const text = (await readInside(profileDir, name, PROFILE_READ)) ?? "";
      const json: unknown = JSON.parse(text);
      out.push(
        python
          ? { kind: "python", name, file, profile: parsePythonProfile(json, file) }
          : {
              kind: "node",
              name,
              file,
              text,
              profile: parseCpuProfile(json, file),
            },
      );
    } catch (error) {
      const wrapped =
        error instanceof PythonProfileReadError
          ? error
          : python
            ? new PythonProfileReadError(file, { cause: error })
            : new NodeProfileReadError(file, { cause: error });
      out.push({ kind: "unreadable", name, file, error: wrapped });
    }
  }
  return out;
}

/** Whether a Python process of the run had imported torch by its exit (sitecustomize's `torch`). */
export function importedTorch(files: readonly ProfileFile[]): boolean {
  return files.some((f) => f.kind === "python" && f.profile.torch === true);
}
