/**
 * Reading a webhook request body with a hard size limit, before anything parses or verifies it.
 *
 * GitHub caps webhook payloads at 25 MB ("Payloads are capped at 25 MB. If an event generates a
 * larger payload, GitHub will not deliver a payload for that webhook." — docs.github.com, "Webhook
 * events and payloads", payload cap), so a larger body is never a GitHub delivery. The limit is
 * taken as 25 MiB (26,214,400 bytes), which admits every payload GitHub can send whichever unit
 * it means. Beyond one request's limit, a shared budget bounds the bytes all requests hold at once.
 */
import type { IncomingMessage } from "node:http";

/** Largest webhook body accepted, bytes: GitHub's 25 MB payload cap (see above), read as MiB. */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;
/**
 * Bytes of request bodies all webhook requests together may hold beyond their first
 * FREE_BYTES_PER_REQUEST: four maximum-size deliveries (4 × 25 MiB = 100 MiB). Our choice, to keep
 * the App's memory bounded under concurrent large bodies; GitHub sets no such figure.
 */
export const BODY_BUDGET_BYTES = 4 * MAX_WEBHOOK_BODY_BYTES;
/**
 * Bytes of each request's body that are not charged to the shared budget: 1 MiB, above the
 * payloads of the events the App subscribes to (issue_comment, pull_request, workflow_run: tens of
 * KB), so large bodies in flight never crowd out the App's ordinary deliveries. Our choice.
 */
export const FREE_BYTES_PER_REQUEST = 1024 * 1024;
/**
 * Bytes all requests' free first MiBs may hold together: 64 MiB, i.e. 64 requests with a full free
 * MiB, or thousands of ordinary deliveries of tens of KB. Without this bound, many stalled requests
 * of just under 1 MiB each would hold memory no budget counts. Our choice.
 */
export const FREE_POOL_BYTES = 64 * 1024 * 1024;

/** One request's share of a BodyBudget. */
export interface BudgetHold {
  /** Charges `bytes` more; false (and nothing charged) when the budget cannot cover them. */
  take(bytes: number): boolean;
  /** Gives back everything this hold took; idempotent. */
  release(): void;
}

/** A budget of body bytes shared by concurrent requests (bytes; see BODY_BUDGET_BYTES). */
export class BodyBudget {
  #used = 0;
  /** The budget, bytes. */
  readonly limitBytes: number;
  constructor(limitBytes: number = BODY_BUDGET_BYTES) {
    this.limitBytes = limitBytes;
  }

  /** Bytes currently charged by all holds. */
  get usedBytes(): number {
    return this.#used;
  }

  /** A new hold; release it when the request's response is closed. */
  hold(): BudgetHold {
    let held = 0;
    return {
      take: (bytes) => {
        if (this.#used + bytes > this.limitBytes) return false;
        this.#used += bytes;
        held += bytes;
        return true;
      },
      release: () => {
        this.#used -= held;
        held = 0;
      },
    };
  }
}

/** How reading a body ended. `receivedBytes` counts what arrived, including the chunk that overflowed. */
export type BodyOutcome =
  | { ok: true; body: Buffer; receivedBytes: number }
  | { ok: false; reason: "too-large" | "budget-exhausted" | "aborted"; receivedBytes: number };

/**
 * The body size the `content-length` header declares, bytes, or undefined when absent or not a
 * plain decimal (Node's parser already rejects conflicting or malformed values).
 */
export function declaredLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/**
 * Reads `req`'s body into one Buffer, stopping as soon as more than `limitBytes` have arrived
 * ("too-large"), or the shared budget cannot cover the bytes beyond `freeBytes` ("budget-exhausted"),
 * or the client goes away ("aborted"). On a refusal the stream is paused, the chunks read so far are
 * dropped and nothing more is buffered: at most `limitBytes` plus one chunk (≤ 64 KiB) is ever
 * held. The caller answers the request and closes the connection. Never rejects.
 */
export function readBodyWithin(
  req: IncomingMessage,
  opts: { limitBytes: number; hold?: BudgetHold; freeBytes?: number; freeHold?: BudgetHold },
): Promise<BodyOutcome> {
  const free = opts.freeBytes ?? FREE_BYTES_PER_REQUEST;
  return new Promise((resolve) => {
    let chunks: Buffer[] = [];
    let received = 0;
    let charged = 0;
    let freeCharged = 0;
    const settle = (outcome: BodyOutcome) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      resolve(outcome);
    };
    const refuse = (reason: "too-large" | "budget-exhausted" | "aborted") => {
      req.pause();
      chunks = [];
      settle({ ok: false, reason, receivedBytes: received });
    };
    function onData(chunk: Buffer) {
      received += chunk.length;
      if (received > opts.limitBytes) return refuse("too-large");
      const due = Math.max(0, received - free) - charged;
      if (due > 0 && opts.hold) {
        if (!opts.hold.take(due)) return refuse("budget-exhausted");
        charged += due;
      }
      // The free part is bounded too, by a pool of its own (FREE_POOL_BYTES).
      const freeDue = Math.min(received, free) - freeCharged;
      if (freeDue > 0 && opts.freeHold) {
        if (!opts.freeHold.take(freeDue)) return refuse("budget-exhausted");
        freeCharged += freeDue;
      }
      chunks.push(chunk);
    }
    function onEnd() {
      settle({ ok: true, body: Buffer.concat(chunks, received), receivedBytes: received });
    }
    function onAbort() {
      if (!req.complete) refuse("aborted");
    }
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
