/**
 * The App's logger: pino with Probot's own formatting (@probot/pino: pretty in development, JSON
 * with LOG_FORMAT=json or NODE_ENV=production), plus serializers that never write a webhook payload.
 *
 * Why: @octokit/webhooks attaches the delivery (`error.event`: id, name, the payload — the raw
 * body for a signature failure) to every error it raises, and both its middleware
 * (`log.error(error)`) and Probot's error handler log those errors; pino's default `err`
 * serializer copies every enumerable property, and Probot's pretty printer prints `event`. An
 * unauthenticated 100 MB body with a bad signature therefore became a 100 MB log line. Here an
 * error is logged as its type, a bounded message and stack, its HTTP status and the delivery's
 * event name and id — nothing else.
 */
import { getTransformStream } from "@probot/pino";
import { type Logger, pino } from "pino";

/** Longest error message logged, characters (a JSON parse error can quote its input). */
export const MAX_LOGGED_MESSAGE_CHARS = 300;
/** Longest stack logged, characters (about 20 frames). */
export const MAX_LOGGED_STACK_CHARS = 3000;
/** At most this many inner errors of an AggregateError are logged. */
const MAX_INNER_ERRORS = 5;

/** The delivery fields a log line may carry: event name and delivery id (GUID), each ≤ 100 characters. */
export function eventSummary(event: unknown): { name?: string; id?: string } | undefined {
  if (typeof event !== "object" || event === null) return undefined;
  // For a signature failure, @octokit/webhooks' AggregateError has the inner error as its `event`.
  if (event instanceof Error) return eventSummary((event as { event?: unknown }).event);
  const e = event as { name?: unknown; id?: unknown };
  return {
    ...(typeof e.name === "string" ? { name: e.name.slice(0, 100) } : {}),
    ...(typeof e.id === "string" ? { id: e.id.slice(0, 100) } : {}),
  };
}

/**
 * An error as the App logs it: `type`, `message` (≤ MAX_LOGGED_MESSAGE_CHARS), `stack`
 * (≤ MAX_LOGGED_STACK_CHARS; left out for a client error, status 400–499, such as a bad signature:
 * the reason is the message), `status`/`code` when present, `event` ({ name, id } only) and, for an
 * AggregateError, the first inner errors summarized the same way. Other properties (payloads,
 * request and response bodies) are dropped. Never throws; a non-error is returned as a short string.
 */
export function errorForLog(error: unknown, depth = 0): unknown {
  if (typeof error !== "object" || error === null) return String(error).slice(0, MAX_LOGGED_MESSAGE_CHARS);
  const e = error as {
    name?: unknown;
    message?: unknown;
    stack?: unknown;
    status?: unknown;
    code?: unknown;
    event?: unknown;
    errors?: unknown;
  };
  const summary: Record<string, unknown> = {
    type: typeof e.name === "string" ? e.name : (error.constructor?.name ?? "Error"),
    message: String(e.message ?? "").slice(0, MAX_LOGGED_MESSAGE_CHARS),
  };
  const clientError = typeof e.status === "number" && e.status >= 400 && e.status < 500;
  const innerClientError =
    Array.isArray(e.errors) &&
    e.errors.length > 0 &&
    e.errors.every((inner) => {
      const status = (inner as { status?: unknown } | null)?.status;
      return typeof status === "number" && status >= 400 && status < 500;
    });
  if (typeof e.stack === "string" && !clientError && !innerClientError)
    summary.stack = e.stack.slice(0, MAX_LOGGED_STACK_CHARS);
  if (typeof e.status === "number") summary.status = e.status;
  if (typeof e.code === "string" || typeof e.code === "number") summary.code = e.code;
  const event = eventSummary(e.event);
  if (event) summary.event = event;
  if (Array.isArray(e.errors) && depth === 0)
    summary.errors = e.errors.slice(0, MAX_INNER_ERRORS).map((inner) => errorForLog(inner, 1));
  return summary;
}

/**
 * pino serializers for the keys that can carry a delivery: `err` (pino's key for logged errors),
 * `error`, `event` (Probot's `receive` logs `{ event }` at debug) and `payload`.
 */
export const SAFE_SERIALIZERS = {
  err: (error: unknown) => errorForLog(error),
  error: (error: unknown) => errorForLog(error),
  event: (event: unknown) => eventSummary(event),
  payload: () => "[payload not logged]",
};

/**
 * The App's root logger, configured from the environment as Probot's `run` does: LOG_LEVEL
 * (default info), LOG_FORMAT (`pretty`, or `json`; default json when NODE_ENV=production),
 * LOG_LEVEL_IN_STRING, LOG_MESSAGE_KEY, SENTRY_DSN. Writes to stdout, or, when `destination` is
 * given (tests, benchmark), plain JSON lines to it.
 */
export async function createAppLog(
  env: NodeJS.ProcessEnv,
  destination?: NodeJS.WritableStream,
): Promise<Logger> {
  const options = {
    name: "probot",
    level: env.LOG_LEVEL || "info",
    messageKey: env.LOG_MESSAGE_KEY || "msg",
    serializers: SAFE_SERIALIZERS,
  };
  if (destination) return pino(options, destination);
  const format = env.LOG_FORMAT
    ? env.LOG_FORMAT === "pretty"
      ? "pretty"
      : "json"
    : env.NODE_ENV === "production"
      ? "json"
      : "pretty";
  const transform = await getTransformStream({
    logFormat: format,
    logLevelInString: env.LOG_LEVEL_IN_STRING === "true",
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  });
  transform.pipe(pino.destination(1) as unknown as NodeJS.WritableStream);
  return pino(options, transform);
}
