/**
 * What every detector reads: the bounded project listing, the root manifests parsed once, and the
 * list notes go to. Built once per detection by {@link loadContext}.
 */
import type { ProjectTree } from "./files.ts";
import { type Manifest, readManifest } from "./manifests.ts";
import type { InitNote } from "./types.ts";

/** The shared inputs of the detectors. */
export interface DetectContext {
  tree: ProjectTree;
  /** Notes for the user: malformed manifests, things found but not used. */
  notes: InitNote[];
  /** Root pyproject.toml, package.json and Cargo.toml; null when absent, `value: null` when malformed. */
  pyproject: Manifest | null;
  packageJson: Manifest | null;
  cargo: Manifest | null;
}

/** Reads the root manifests of `tree` (each malformed one adds a note to `tree.notes`). */
export async function loadContext(tree: ProjectTree): Promise<DetectContext> {
  const notes = tree.notes;
  return {
    tree,
    notes,
    pyproject: await readManifest(tree, "pyproject.toml", notes),
    packageJson: await readManifest(tree, "package.json", notes),
    cargo: await readManifest(tree, "Cargo.toml", notes),
  };
}

/** The base name of a project-relative path. */
export function baseName(rel: string): string {
  return rel.slice(rel.lastIndexOf("/") + 1);
}

/** The directory of a project-relative path; "." for a file at the top. */
export function dirName(rel: string): string {
  const i = rel.lastIndexOf("/");
  return i < 0 ? "." : rel.slice(0, i);
}
