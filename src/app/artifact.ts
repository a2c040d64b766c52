/**
 * Fetching a run's results bundle: the artifact `perfloop-<request id>` of the workflow run,
 * downloaded through the REST API ("Download an artifact", a redirect to a short-lived URL that is
 * never logged), read with a size cap, unzipped in memory, and `results.json` validated against the
 * shared schema and matched to the request. A bundle that fails any step is reported, never trusted.
 */
import { artifactName } from "../contract/index.ts";
import { parseResults, type Results } from "../core/evidence/results-schema.ts";
import type { GitHubClient, RepoRef } from "../publish/index.ts";
import { extractEntries } from "./unzip.ts";

/** Size caps, bytes: the zip as downloaded, results.json and final.patch uncompressed. */
export const BUNDLE_LIMITS = {
  zipBytes: 64 * 1024 * 1024,
  resultsBytes: 8 * 1024 * 1024,
  patchBytes: 4 * 1024 * 1024,
} as const;

/** A bundle that is missing, too big, malformed or for another request; `message` is shown to the maintainer. */
export class BundleError extends Error {
  override name = "BundleError";
}

/** What a request expects of its bundle (from the run name; see request.ts). */
export interface ExpectedRequest {
  requestId: string;
  pr: number;
  headSha: string;
}

/** A validated bundle. */
export interface Bundle {
  results: Results;
  /** final.patch, or null when the bundle has none. */
  patch: string | null;
  artifactId: number;
  /** The artifact's page: `https://github.com/<o>/<r>/actions/runs/<run>/artifacts/<id>`. */
  artifactUrl: string;
}

/** The artifact name for a request (src/contract/). */
export { artifactName };

/**
 * Finds, downloads and validates the bundle of workflow run `runId` for `expected`.
 * @param repoHtmlUrl the repository's page, for the artifact link.
 * @throws BundleError (missing, expired, oversized, not a zip, no results.json, invalid JSON, schema
 *   problems, request mismatch); RequestError for API failures other than a missing artifact.
 */
export async function fetchBundle(
  client: GitHubClient,
  repo: RepoRef,
  runId: number,
  expected: ExpectedRequest,
  repoHtmlUrl: string,
): Promise<Bundle> {
  const name = artifactName(expected.requestId);
  const { data } = await client.rest.actions.listWorkflowRunArtifacts({
    ...repo,
    run_id: runId,
    name,
    per_page: 10,
  });
  const artifact = data.artifacts.find((a) => a.name === name);
  if (!artifact) throw new BundleError(`the run uploaded no artifact named "${name}"`);
  if (artifact.expired) throw new BundleError(`the artifact "${name}" has expired`);
  if (artifact.size_in_bytes > BUNDLE_LIMITS.zipBytes) {
    throw new BundleError(
      `the artifact "${name}" is ${artifact.size_in_bytes} bytes, over the App's limit of ${BUNDLE_LIMITS.zipBytes}`,
    );
  }
  const zip = await download(client, repo, artifact.id);
  let files: Map<string, Buffer>;
  try {
    files = extractEntries(
      zip,
      new Map([
        ["results.json", BUNDLE_LIMITS.resultsBytes],
        ["final.patch", BUNDLE_LIMITS.patchBytes],
      ]),
    );
  } catch (error) {
    throw new BundleError(`the artifact cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const resultsBytes = files.get("results.json");
  if (!resultsBytes) throw new BundleError("the artifact has no results.json at its root");
  const results = validate(resultsBytes, expected);
  const patch = files.get("final.patch")?.toString("utf8") ?? null;
  return {
    results,
    patch,
    artifactId: artifact.id,
    artifactUrl: `${repoHtmlUrl}/actions/runs/${runId}/artifacts/${artifact.id}`,
  };
}

/** Downloads the artifact zip as a stream and stops past the size cap. */
async function download(client: GitHubClient, repo: RepoRef, artifactId: number): Promise<Buffer> {
  const response = await client.request(
    "GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}",
    {
      ...repo,
      artifact_id: artifactId,
      archive_format: "zip",
      request: { parseSuccessResponseBody: false },
    },
  );
  const body = response.data as unknown;
  if (body instanceof ArrayBuffer) return capped(Buffer.from(body));
  if (Buffer.isBuffer(body)) return capped(body);
  if (!body || typeof (body as ReadableStream<Uint8Array>).getReader !== "function")
    throw new BundleError("the artifact download returned no body");
  const reader = (body as ReadableStream<Uint8Array>).getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > BUNDLE_LIMITS.zipBytes) {
      await reader.cancel();
      throw new BundleError(
        `the artifact download exceeds the App's limit of ${BUNDLE_LIMITS.zipBytes} bytes`,
      );
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks);
}

function capped(zip: Buffer): Buffer {
  if (zip.length > BUNDLE_LIMITS.zipBytes)
    throw new BundleError(`the artifact download exceeds the App's limit of ${BUNDLE_LIMITS.zipBytes} bytes`);
  return zip;
}

/** Parses results.json, validates it and checks that it belongs to the request. */
function validate(bytes: Buffer, expected: ExpectedRequest): Results {
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw new BundleError(`results.json is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  let results: Results;
  try {
    results = parseResults(raw);
  } catch (error) {
    const problems = (error as { problems?: string[] }).problems ?? [(error as Error).message];
    throw new BundleError(
      `results.json does not match the results schema: ${problems.slice(0, 10).join("; ")}`,
      { cause: error },
    );
  }
  const r = results.request;
  const mismatch: string[] = [];
  if (r.requestId !== expected.requestId)
    mismatch.push(`request id ${JSON.stringify(r.requestId ?? null)} (expected ${expected.requestId})`);
  if (r.headSha !== undefined && r.headSha !== expected.headSha)
    mismatch.push(`head SHA ${r.headSha} (expected ${expected.headSha})`);
  if (r.pr !== undefined && r.pr !== expected.pr)
    mismatch.push(`pull request #${r.pr} (expected #${expected.pr})`);
  if (mismatch.length > 0)
    throw new BundleError(`results.json belongs to another request: ${mismatch.join(", ")}`);
  return results;
}
