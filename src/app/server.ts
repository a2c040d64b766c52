/**
 * The App's HTTP server (node:http), in place of Probot's `Server`, so that a guard runs before
 * any body is buffered: requests to the webhook path go through webhook-guard.ts (method,
 * headers, 25 MiB body limit, shared body budget) and then @octokit/webhooks' middleware
 * (content type, X-Hub-Signature-256, JSON) bound to an acknowledging receiver (acknowledge.ts:
 * the answer does not wait for the handlers). `GET /ping` answers `PONG`, as Probot's server does
 * (the Docker health check uses it); everything else is 404. Probot's static pages and
 * WEBHOOK_PROXY_URL (smee) are not served here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createNodeMiddleware } from "@octokit/webhooks";
import type { ApplicationFunction, Probot } from "probot";
import { type AcknowledgingReceiver, acknowledgeFirst } from "./acknowledge.ts";
import type { BodyBudget } from "./body-limit.ts";
import { createWebhookGuard, type NodeMiddleware } from "./webhook-guard.ts";

/** Open connections at most (Node's `server.maxConnections`); more are dropped at accept. Our choice. */
export const MAX_CONNECTIONS = 1024;
/**
 * Longest time to receive one whole request (headers and body), ms: GitHub gives up on a delivery
 * after 10 s (docs.github.com, "Best practices for using webhooks"), so a body still arriving
 * after 15 s is not GitHub's; it bounds how long a slow client holds its share of the body budget.
 */
export const REQUEST_TIMEOUT_MS = 15_000;
/** Longest time to receive the request headers, ms (Node's default is 60 s). */
export const HEADERS_TIMEOUT_MS = 10_000;

/** Settings of the App server; the limits default to body-limit.ts's and acknowledge.ts's. */
export interface AppServerOptions {
  /** A Probot instance (its webhook secret, path, logger and Octokit class are used). */
  probot: Probot;
  /** The Probot application function to load (src/app/index.ts). */
  app: ApplicationFunction;
  /** Largest webhook body, bytes (default 25 MiB, GitHub's payload cap). */
  limitBytes?: number;
  budget?: BodyBudget;
  /** Handlers running in the background at most (default MAX_BACKGROUND_DELIVERIES). */
  maxInFlight?: number;
  /** Observer of each body's bytes read by the guard (tests, benchmark). */
  onBodyRead?: (receivedBytes: number) => void;
}

/** A started (or startable) App server. */
export interface AppServer {
  server: Server;
  /** The background handlers (count, idle). */
  receiver: AcknowledgingReceiver;
  /** Starts listening; resolves with the bound address. */
  listen(port: number, host: string): Promise<AddressInfo>;
  /**
   * Stops accepting connections, then waits up to `graceMs` (ms) for running handlers; resolves
   * false when some were still running at the deadline.
   */
  close(graceMs?: number): Promise<boolean>;
}

/** `path` without trailing slashes ("/" stays), as @octokit/webhooks compares paths. */
function trimSlashes(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}

/**
 * Loads `app` into `probot` and builds the server (not listening yet).
 * @throws what loading the app throws (e.g. EnvironmentError from env.ts).
 */
export async function createAppServer(opts: AppServerOptions): Promise<AppServer> {
  const { probot } = opts;
  await probot.load(opts.app, {
    cwd: process.cwd(),
    addHandler: () => {
      throw new Error("perfloop's server does not take extra HTTP handlers");
    },
  });
  const log = probot.log.child({ name: "server" });
  const receiver = acknowledgeFirst(probot.webhooks as never, log, opts.maxInFlight);
  const webhookPath = trimSlashes(probot.webhookPath);
  const middleware = createNodeMiddleware(receiver as never, {
    path: webhookPath,
    log: probot.log.child({ name: "webhooks" }),
  }) as NodeMiddleware;
  const guard = createWebhookGuard({
    middleware,
    log,
    ...(opts.limitBytes !== undefined ? { limitBytes: opts.limitBytes } : {}),
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.onBodyRead ? { onBodyRead: opts.onBodyRead } : {}),
  });

  const route = (req: IncomingMessage, res: ServerResponse): Promise<void> | void => {
    let pathname: string;
    try {
      pathname = new URL(trimSlashes(req.url ?? "/"), "http://localhost").pathname;
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (pathname === webhookPath) return guard(req, res);
    if (req.method === "GET" && pathname === "/ping") {
      res.writeHead(200, { "content-type": "text/plain" }).end("PONG");
      return;
    }
    res.writeHead(404).end();
  };
  const server = createServer(
    {
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: HEADERS_TIMEOUT_MS,
      // Node checks the timeouts every 30 s by default: a stalled body would hold its memory twice
      // as long as REQUEST_TIMEOUT_MS says.
      connectionsCheckingInterval: 1_000,
    },
    (req, res) => {
      void route(req, res);
    },
  );
  // Connections at most: each may hold up to FREE_BYTES_PER_REQUEST before the budgets refuse it.
  server.maxConnections = MAX_CONNECTIONS;

  return {
    server,
    receiver,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve(server.address() as AddressInfo);
        });
      }),
    close: async (graceMs = 8000) => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), graceMs);
      });
      const drained = await Promise.race([receiver.idle().then(() => true), deadline]);
      clearTimeout(timer);
      server.closeAllConnections();
      await closed;
      return drained;
    },
  };
}
