/**
 * The guard in front of the webhook middleware, for requests to the webhook path. In order, each
 * step cheaper than the next: non-POST → 405; a missing GitHub webhook header (event, delivery,
 * X-Hub-Signature-256) → 400 without reading the body; a declared `content-length` over the limit
 * → 413 without reading the body; then the body is read up to the limit (413 as soon as a chunked
 * body passes it, 503 when the shared body budget is spent) and only a complete body within the
 * limit reaches @octokit/webhooks' middleware, as a pre-read `rawBody`, which it honours instead of
 * reading the stream (it checks the content type and X-Hub-Signature-256 and parses the JSON).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import {
  BodyBudget,
  declaredLength,
  FREE_BYTES_PER_REQUEST,
  FREE_POOL_BYTES,
  MAX_WEBHOOK_BODY_BYTES,
  readBodyWithin,
} from "./body-limit.ts";
import { refuse } from "./refuse.ts";

/** The headers every GitHub delivery carries (the middleware refuses requests without them). */
const WEBHOOK_HEADERS = ["x-github-event", "x-github-delivery", "x-hub-signature-256"] as const;

/** A Node-style handler: the webhook middleware of @octokit/webhooks. */
export type NodeMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: () => void,
) => Promise<unknown>;

/** Guard settings; the defaults are body-limit.ts's (GitHub's 25 MB cap and our budget). */
export interface GuardOptions {
  middleware: NodeMiddleware;
  log: Logger;
  /** Largest body, bytes (default MAX_WEBHOOK_BODY_BYTES). */
  limitBytes?: number;
  /** Shared budget (default: a new BodyBudget of BODY_BUDGET_BYTES). */
  budget?: BodyBudget;
  /** Body bytes per request not charged to the budget (default FREE_BYTES_PER_REQUEST). */
  freeBytes?: number;
  /** Called with the bytes read of each body the guard finished reading or refused (for tests and the benchmark). */
  onBodyRead?: (receivedBytes: number) => void;
}

/**
 * A handler for requests to the webhook path that applies the checks above and hands the rest to
 * `middleware`. Never rejects: a middleware failure is answered 500 and logged (without the body).
 */
export function createWebhookGuard(
  opts: GuardOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const limit = opts.limitBytes ?? MAX_WEBHOOK_BODY_BYTES;
  const budget = opts.budget ?? new BodyBudget();
  const freePool = new BodyBudget(FREE_POOL_BYTES);
  const { log } = opts;
  return async (req, res) => {
    if (req.method !== "POST")
      return refuse(req, res, log, { status: 405, reason: "method not allowed", headers: { allow: "POST" } });
    const missing = WEBHOOK_HEADERS.filter((name) => typeof req.headers[name] !== "string");
    if (missing.length > 0)
      return refuse(req, res, log, {
        status: 400,
        reason: `Required headers missing: ${missing.join(", ")}`,
      });
    const declared = declaredLength(req);
    if (declared !== undefined && declared > limit)
      return refuse(req, res, log, { status: 413, reason: `body over ${limit} bytes`, receivedBytes: 0 });
    const hold = budget.hold();
    const freeHold = freePool.hold();
    res.once("close", () => {
      hold.release();
      freeHold.release();
    });
    const outcome = await readBodyWithin(req, {
      limitBytes: limit,
      hold,
      freeHold,
      freeBytes: opts.freeBytes ?? FREE_BYTES_PER_REQUEST,
    });
    opts.onBodyRead?.(outcome.receivedBytes);
    if (!outcome.ok) {
      if (outcome.reason === "aborted") {
        res.destroy();
        return;
      }
      return refuse(
        req,
        res,
        log,
        outcome.reason === "too-large"
          ? { status: 413, reason: `body over ${limit} bytes`, receivedBytes: outcome.receivedBytes }
          : {
              status: 503,
              reason: "too many large request bodies in flight",
              receivedBytes: outcome.receivedBytes,
              headers: { "retry-after": "1" },
            },
      );
    }
    Object.assign(req, { body: {}, rawBody: outcome.body });
    try {
      await opts.middleware(req, res, () => res.writeHead(404).end());
    } catch (error) {
      log.error({ err: error }, "webhook middleware failed");
      if (!res.headersSent) res.writeHead(500).end();
    }
  };
}
