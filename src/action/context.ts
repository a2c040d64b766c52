/**
 * What the Actions runtime tells a step through its environment ("Default environment variables"
 * in GitHub's Actions documentation): the repository, the server and API URLs, the run, the commit
 * the workflow runs at, the runner's temp directory, and the event payload file. Validated with zod;
 * the payload is read only for the pull request's number and head SHA.
 */
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { z } from "zod";

/** The step is not running where the Action expects to (e.g. GITHUB_REPOSITORY is missing). */
export class ContextError extends Error {
  override name = "ContextError";
}

/** The run's context. URLs have no trailing slash. */
export interface ActionContext {
  owner: string;
  repo: string;
  /** `owner/repo`. */
  repository: string;
  /** `https://github.com` or a GitHub Enterprise Server URL (GITHUB_SERVER_URL). */
  serverUrl: string;
  /** `https://api.github.com` or `<server>/api/v3` (GITHUB_API_URL). */
  apiUrl: string;
  /** The workflow run id (GITHUB_RUN_ID) and attempt (GITHUB_RUN_ATTEMPT, default "1"); null outside Actions. */
  runId: string | null;
  runAttempt: string;
  /** `<server>/<owner>/<repo>/actions/runs/<id>`, or null without a run id. */
  runUrl: string | null;
  /**
   * The commit the workflow runs at (GITHUB_SHA): for `workflow_dispatch` and `schedule` the default
   * branch's tip, i.e. the trusted workflow definition and config. Null when unset.
   */
  workflowSha: string | null;
  /** GITHUB_ACTOR: who started the workflow run; null when unset. */
  actor: string | null;
  /** GITHUB_EVENT_NAME, e.g. `workflow_dispatch`, `schedule`, `pull_request`. */
  eventName: string;
  /** From a `pull_request` / `pull_request_target` payload: the PR number and head SHA. */
  eventPull: { number: number; headSha: string; baseSha?: string } | null;
  /** RUNNER_TEMP (emptied by the runner after each job), else the OS temp directory. */
  runnerTemp: string;
}

const SHA = /^[0-9a-f]{40}$/;

const envSchema = z.object({
  GITHUB_REPOSITORY: z
    .string({ error: "GITHUB_REPOSITORY is not set: the Action runs inside a GitHub Actions job" })
    .regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "GITHUB_REPOSITORY is not of the form owner/repo"),
  GITHUB_SERVER_URL: z.url({ error: "GITHUB_SERVER_URL is not a URL" }).default("https://github.com"),
  GITHUB_API_URL: z.url({ error: "GITHUB_API_URL is not a URL" }).default("https://api.github.com"),
  GITHUB_RUN_ID: z.string().regex(/^\d+$/).optional().catch(undefined),
  GITHUB_RUN_ATTEMPT: z.string().regex(/^\d+$/).default("1").catch("1"),
  GITHUB_SHA: z.string().regex(SHA).optional().catch(undefined),
  GITHUB_ACTOR: z
    .string()
    .regex(/^[A-Za-z0-9-]+(\[bot\])?$/)
    .optional()
    .catch(undefined),
  GITHUB_EVENT_NAME: z.string().default(""),
  GITHUB_EVENT_PATH: z.string().optional(),
  RUNNER_TEMP: z.string().min(1).optional(),
});

/** The part of a pull_request payload that is read. */
const pullPayload = z.object({
  pull_request: z.object({
    number: z.number().int().positive(),
    head: z.object({ sha: z.string().regex(SHA) }),
    base: z.object({ sha: z.string().regex(SHA) }).optional(),
  }),
});

/**
 * Reads the context from `env` (process.env in production).
 * @throws ContextError when GITHUB_REPOSITORY or a URL is missing or malformed.
 */
export async function readContext(env: NodeJS.ProcessEnv): Promise<ActionContext> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success)
    throw new ContextError(
      `not a GitHub Actions environment: ${parsed.error.issues.map((i) => i.message).join("; ")}`,
    );
  const e = parsed.data;
  const [owner = "", repo = ""] = e.GITHUB_REPOSITORY.split("/");
  const serverUrl = e.GITHUB_SERVER_URL.replace(/\/+$/, "");
  const runId = e.GITHUB_RUN_ID ?? null;
  return {
    owner,
    repo,
    repository: e.GITHUB_REPOSITORY,
    serverUrl,
    apiUrl: e.GITHUB_API_URL.replace(/\/+$/, ""),
    runId,
    runAttempt: e.GITHUB_RUN_ATTEMPT,
    runUrl: runId ? `${serverUrl}/${e.GITHUB_REPOSITORY}/actions/runs/${runId}` : null,
    workflowSha: e.GITHUB_SHA ?? null,
    actor: e.GITHUB_ACTOR ?? null,
    eventName: e.GITHUB_EVENT_NAME,
    eventPull: await readEventPull(e.GITHUB_EVENT_NAME, e.GITHUB_EVENT_PATH),
    runnerTemp: e.RUNNER_TEMP ?? tmpdir(),
  };
}

/** The PR of a pull_request(_target) event; null for other events or an unreadable payload. */
async function readEventPull(
  eventName: string,
  file: string | undefined,
): Promise<ActionContext["eventPull"]> {
  if (!file || (eventName !== "pull_request" && eventName !== "pull_request_target")) return null;
  try {
    const payload = pullPayload.safeParse(JSON.parse(await readFile(file, "utf8")));
    return payload.success
      ? {
          number: payload.data.pull_request.number,
          headSha: payload.data.pull_request.head.sha,
          ...(payload.data.pull_request.base ? { baseSha: payload.data.pull_request.base.sha } : {}),
        }
      : null;
  } catch {
    return null;
  }
}
