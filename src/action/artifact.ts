/**
 * The evidence bundle as an Actions artifact, named `perfloop-<request-id>` with results.json at its
 * root: the name and layout the App looks for (docs/github-app.md, "The workflow the repository
 * needs"). What is uploaded is the list of files the loop's writer wrote, after the directory was
 * restored from the writer's memory (src/core/evidence/writer.ts, `restoreBundle`): never a file a
 * leftover process added. Secrets were redacted as the files were written
 * (src/core/evidence/redact.ts).
 */
import { artifactName } from "../contract/index.ts";
import type { ArtifactUploader } from "./deps.ts";

/** The artifact name for a request (src/contract/). */
export { artifactName };

/** What the upload did. `url`: the artifact's page, when the run and the id are known. */
export interface BundleUpload {
  name: string;
  id: number | null;
  url: string | null;
  files: number;
}

/**
 * Uploads `files` of the bundle directory as artifact `perfloop-<requestId>`.
 * @param dir the bundle directory (the artifact's root: paths are kept relative to it).
 * @param files absolute paths under `dir`: the files `restoreBundle` wrote, nothing else.
 * @param runUrl the workflow run's page, for the artifact link.
 * @throws the uploader's error (the caller fails the step: the App needs the artifact).
 */
export async function uploadBundle(
  upload: ArtifactUploader,
  dir: string,
  files: readonly string[],
  requestId: string,
  runUrl: string | null,
): Promise<BundleUpload> {
  const name = artifactName(requestId);
  const uploaded = await upload(name, [...files], dir);
  return {
    name,
    id: uploaded.id,
    url: runUrl && uploaded.id !== null ? `${runUrl}/artifacts/${uploaded.id}` : null,
    files: files.length,
  };
}
