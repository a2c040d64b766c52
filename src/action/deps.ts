/**
 * What the Action needs from the outside world, injectable for tests: the Actions toolkit
 * (`@actions/core`: inputs, outputs, log groups, masking, job summary, failure), the artifact upload
 * (`@actions/artifact`), a GitHub API client for a token (`@octokit/rest`), the environment, and the
 * loop itself.
 */
import * as actionsCore from "@actions/core";
import { Octokit } from "@octokit/rest";
import { PERFLOOP_VERSION } from "../core/loop/finish.ts";
import { runPerfloop } from "../core/loop/run.ts";
import type { GitHubClient } from "../publish/index.ts";

/** The `@actions/core` functions the Action uses (the module itself satisfies it). */
export interface ActionCore {
  getInput(name: string): string;
  setOutput(name: string, value: string): void;
  setFailed(message: string | Error): void;
  setSecret(secret: string): void;
  startGroup(name: string): void;
  endGroup(): void;
  info(message: string): void;
  notice(message: string): void;
  warning(message: string): void;
  /** The job summary (GITHUB_STEP_SUMMARY): `summary.addRaw(markdown, true).write()`. */
  summary: {
    addRaw(text: string, addEOL?: boolean): { write(): Promise<unknown> };
  };
}

/** The uploaded artifact's id and size in bytes (absent when GitHub did not say). */
export interface UploadedArtifact {
  id: number | null;
  size: number | null;
}

/**
 * Uploads `files` (absolute paths under `root`) as artifact `name`, paths kept relative to `root`.
 * @throws the toolkit's error when the upload fails.
 */
export type ArtifactUploader = (name: string, files: string[], root: string) => Promise<UploadedArtifact>;

/** Makes a GitHub REST client for `token` against `apiUrl` (GITHUB_API_URL). */
export type GitHubClientFactory = (token: string, apiUrl: string) => GitHubClient;

/** Everything `main` uses. */
export interface ActionDeps {
  core: ActionCore;
  /** null when the step is not in an Actions job (no ACTIONS_RUNTIME_TOKEN): the upload is skipped. */
  upload: ArtifactUploader | null;
  github: GitHubClientFactory;
  /** The step's environment (process.env). */
  env: NodeJS.ProcessEnv;
  runLoop: typeof runPerfloop;
}

/** The `@actions/artifact` uploader (loaded on first use: it is large). */
const artifactUploader: ArtifactUploader = async (name, files, root) => {
  const { DefaultArtifactClient } = await import("@actions/artifact");
  const response = await new DefaultArtifactClient().uploadArtifact(name, files, root);
  return { id: response.id ?? null, size: response.size ?? null };
};

/** A REST client with the Action's user agent; the token is sent as `authorization: token …`. */
export const octokitFactory: GitHubClientFactory = (token, apiUrl) =>
  new Octokit({
    auth: token,
    baseUrl: apiUrl,
    userAgent: `perfloop-action/${PERFLOOP_VERSION}`,
    log: { debug: () => {}, info: () => {}, warn: actionsCore.warning, error: actionsCore.warning },
  });

/** The production dependencies. */
export function defaultDeps(env: NodeJS.ProcessEnv = process.env): ActionDeps {
  return {
    core: actionsCore,
    upload: env.ACTIONS_RUNTIME_TOKEN ? artifactUploader : null,
    github: octokitFactory,
    env,
    runLoop: runPerfloop,
  };
}
