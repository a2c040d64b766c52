/**
 * Refusing a webhook request cheaply: a short JSON answer, one short log line (status, reason,
 * event name, delivery id, bytes seen — never the body), and the connection closed so an unread
 * body is not received any further.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";

/**
 * After refusing a request whose body was not read to its end, the rest of the body is read and
 * discarded (never buffered) while the client keeps sending, for at most this many bytes and this
 * long (ms); then the socket is destroyed. Closing at once — which is also what Node does after an
 * answer with `connection: close` — makes the kernel answer the unread data with a TCP reset, which
 * can reach the client before it has read the answer (Go's net/http discards up to 256 KiB for the
 * same reason). Our choice: 16 MiB / 1 s.
 */
export const DISCARD_AFTER_REFUSAL_BYTES = 16 * 1024 * 1024;
/** See DISCARD_AFTER_REFUSAL_BYTES, ms. */
export const DISCARD_AFTER_REFUSAL_MS = 1000;

/** What a refusal logs besides the status: a short reason and the bytes of body seen. */
export interface Refusal {
  status: number;
  /** A short, fixed reason (e.g. "body over 26214400 bytes"); also the answer's `error` text. */
  reason: string;
  receivedBytes?: number;
  headers?: Record<string, string>;
}

/** A header value for a log line: ≤ 100 characters (header values are the client's choice). */
function short(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value.slice(0, 100) : undefined;
}

/**
 * Answers `req` with `refusal.status` and `{"error": reason}`, logs one warning, and ends the
 * connection: with `connection: close` when the body was read to its end; otherwise up to
 * DISCARD_AFTER_REFUSAL_BYTES more are discarded (for at most DISCARD_AFTER_REFUSAL_MS) and the
 * socket is destroyed, or, when the body ends within those bounds, the connection is kept for the
 * client's next request. Never throws.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, log: Logger, refusal: Refusal): void {
  log.warn(
    {
      status: refusal.status,
      reason: refusal.reason,
      ...(req.headers["x-github-event"] || req.headers["x-github-delivery"]
        ? {
            event: {
              name: short(req.headers["x-github-event"]),
              id: short(req.headers["x-github-delivery"]),
            },
          }
        : {}),
      ...(refusal.receivedBytes !== undefined ? { receivedBytes: refusal.receivedBytes } : {}),
    },
    "webhook request refused",
  );
  const body = JSON.stringify({ error: refusal.reason });
  const unread = !req.complete;
  if (!res.headersSent)
    res.writeHead(refusal.status, {
      ...refusal.headers,
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...(unread ? {} : { connection: "close" }),
    });
  res.end(body);
  if (!unread) return;
  const socket = req.socket;
  let discarded = 0;
  const close = () => {
    clearTimeout(timer);
    if (res.writableFinished) socket.destroy();
    else res.once("finish", () => socket.destroy());
  };
  const timer = setTimeout(close, DISCARD_AFTER_REFUSAL_MS);
  timer.unref();
  req.on("data", (chunk: Buffer) => {
    discarded += chunk.length;
    if (discarded > DISCARD_AFTER_REFUSAL_BYTES) close();
  });
  req.on("end", () => clearTimeout(timer));
  req.on("error", () => undefined);
  req.resume();
}
