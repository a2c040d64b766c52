/**
 * GitHub's refusals in words: the status, GitHub's own message and the details of a 422
 * ("Validation Failed", with `errors[]`), so a maintainer reads what GitHub said rather than a
 * guess. Shapes are those of Octokit's RequestError (`status`, `response.data`) and of GitHub's
 * REST error bodies (docs.github.com, "Troubleshooting the REST API": `message`, `errors[]` with
 * `resource`, `field`, `code` and, for `code: custom`, `message`).
 */

/** The parts of an Octokit RequestError read here (any error is accepted). */
interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { data?: unknown };
}

/** A REST error body. */
interface ErrorBody {
  message?: unknown;
  errors?: unknown;
}

/** A failed step of the follow-up PR: `step` says what perfloop was doing, the message what GitHub said. */
export class FollowUpStepError extends Error {
  override name = "FollowUpStepError";
  readonly step: string;
  readonly status: number | undefined;
  constructor(step: string, message: string, cause: unknown) {
    super(message, { cause });
    this.step = step;
    this.status = (cause as RequestErrorLike | null)?.status;
  }
}

/** The HTTP status of an Octokit error, or undefined for other errors. */
export function errorStatus(error: unknown): number | undefined {
  const status = (error as RequestErrorLike | null)?.status;
  return typeof status === "number" ? status : undefined;
}

/**
 * GitHub's messages in an error body: `message` ("Validation Failed") and each entry of `errors`
 * (a string, or `message`, else `resource.field code`). Empty when the body is not GitHub's shape.
 */
export function githubMessages(error: unknown): { message: string | null; details: string[] } {
  const data = (error as RequestErrorLike | null)?.response?.data as ErrorBody | undefined;
  if (data === null || typeof data !== "object") return { message: null, details: [] };
  const message = typeof data.message === "string" && data.message.trim() !== "" ? data.message.trim() : null;
  const details = (Array.isArray(data.errors) ? data.errors : [])
    .map((e: unknown): string => {
      if (typeof e === "string") return e;
      if (e === null || typeof e !== "object") return "";
      const { message: m, resource, field, code } = e as Record<string, unknown>;
      if (typeof m === "string" && m.trim() !== "") return m.trim();
      return [resource, field, code].filter((p) => typeof p === "string" && p !== "").join(" ");
    })
    .filter((d) => d !== "");
  return { message, details };
}

/**
 * One sentence for a failed GitHub request: "GitHub answered 422 Validation Failed: <details>",
 * "GitHub answered 403 Resource not accessible by integration"; for an error that is not an HTTP
 * answer (network, programming), its own message.
 */
export function describeRequestError(error: unknown): string {
  const status = errorStatus(error);
  if (status === undefined) return (error as Error | null)?.message ?? String(error);
  const { message, details } = githubMessages(error);
  const said = message ?? firstLine((error as Error).message);
  return `GitHub answered ${status}${said ? ` ${said}` : ""}${details.length > 0 ? `: ${details.join("; ")}` : ""}`;
}

/**
 * Why "Create a pull request" failed, as what it is: a 422 saying a pull request from `head`
 * already exists, one saying there are no commits between the branches, any other validation
 * failure with GitHub's own message, or another status.
 * @param head the branch the pull request was opened from; `base` the branch it targets.
 */
export function describePullRequestError(error: unknown, head: string, base: string): string {
  const status = errorStatus(error);
  const { message, details } = githubMessages(error);
  const said = [message, ...details].filter((m) => m !== null).join(": ");
  if (status === 422) {
    const all = `${said} ${(error as Error).message ?? ""}`;
    if (/pull request already exists/i.test(all))
      return `a pull request from ${head} into ${base} already exists (GitHub: "${said}")`;
    if (/no commits between/i.test(all))
      return `GitHub found no commits between ${base} and ${head} (GitHub: "${said}")`;
    return `GitHub refused to create the pull request from ${head} into ${base}: validation failed (GitHub: "${said || firstLine((error as Error).message)}")`;
  }
  return `creating the pull request from ${head} into ${base} failed: ${describeRequestError(error)}`;
}

/** The first line of `text` (Octokit appends the documentation URL and JSON after it). */
function firstLine(text: string | undefined): string {
  return (
    (text ?? "")
      .split("\n")[0]
      ?.replace(/ - https:\/\/docs\.github\.com\S*$/, "")
      .trim() ?? ""
  );
}
