/**
 * The evidence bundle as an Actions artifact, named `perfloop-<request-id>` with results.json at its
 * root: the name and layout the App looks for (docs/github-app.md, "The workflow the repository
 * needs"). Before the upload every file is checked for the secrets' values — the loop never gets
 * them, so a hit is a bug: the value is redacted and the file named in a warning.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ArtifactUploader } from "./deps.ts";

/** The artifact name for a request (the App's `artifactName`). */
export function artifactName(requestId: string): string {
  return `perfloop-${requestId}`;
}

/** Every regular file under `dir`, absolute paths, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

/**
 * Replaces every occurrence of the secrets in the files under `dir` with `***`.
 * @returns the files (relative to `dir`) that held one; empty when the bundle is clean.
 */
export async function redactSecrets(dir: string, secrets: readonly string[]): Promise<string[]> {
  const values = secrets.filter((s) => s.length >= 4);
  if (values.length === 0) return [];
  const hits: string[] = [];
  for (const file of await listFiles(dir)) {
    const bytes = await readFile(file);
    if (!values.some((s) => bytes.includes(s))) continue;
    let text = bytes.toString("utf8");
    for (const s of values) text = text.split(s).join("***");
    await writeFile(file, text);
    hits.push(path.relative(dir, file));
  }
  return hits;
}

/** What the upload did. `url`: the artifact's page, when the run and the id are known. */
export interface BundleUpload {
  name: string;
  id: number | null;
  url: string | null;
  files: number;
}

/**
 * Uploads every file of the bundle directory as artifact `perfloop-<requestId>`.
 * @param runUrl the workflow run's page, for the artifact link.
 * @throws the uploader's error (the caller fails the step: the App needs the artifact).
 */
export async function uploadBundle(
  upload: ArtifactUploader,
  dir: string,
  requestId: string,
  runUrl: string | null,
): Promise<BundleUpload> {
  const name = artifactName(requestId);
  const files = await listFiles(dir);
  const uploaded = await upload(name, files, dir);
  return {
    name,
    id: uploaded.id,
    url: runUrl && uploaded.id !== null ? `${runUrl}/artifacts/${uploaded.id}` : null,
    files: files.length,
  };
}
