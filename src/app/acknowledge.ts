/**
 * Acknowledge a verified delivery before handling it. @octokit/webhooks' `verifyAndReceive`
 * answers only after every handler — and Probot's per-event installation-token request — has
 * finished, so slow GitHub calls held the webhook response (and a burst of `/optimize` queued
 * behind the Octokit throttling limits answered in seconds). GitHub asks for a 2XX within
 * 10 seconds and recommends handling the work asynchronously (docs.github.com, "Best practices
 * for using webhooks": respond within 10 seconds). Here the signature is checked and the JSON
 * parsed while the request waits; the handlers then run in the background and their errors are
 * logged (Probot's error handler, with the App's payload-free serializers, and one short line here).
 */
import type { Webhooks } from "@octokit/webhooks";
import type { Logger } from "pino";
import { errorForLog } from "./log.ts";

/**
 * Handlers running in the background at most, for one process; beyond it a delivery's response
 * waits for its own handlers (backpressure instead of unbounded memory; the middleware still
 * answers 202 after 9 s). Our choice: with the Octokit throttling plugin's 10 concurrent requests
 * per process, 256 queued deliveries is minutes of work.
 */
export const MAX_BACKGROUND_DELIVERIES = 256;

/** What @octokit/webhooks' middleware hands to `verifyAndReceive`. */
export interface SignedDelivery {
  id: string;
  name: string;
  /** The raw body, decoded as UTF-8. */
  payload: string;
  signature: string;
}

/** The middleware-facing side (`verifyAndReceive`) plus the state of the background work. */
export interface AcknowledgingReceiver {
  /**
   * Resolves once the signature is valid and the body is JSON, handlers started. A bad signature
   * or malformed JSON goes through the original `verifyAndReceive`, which rejects with status 400
   * (and Probot logs it) — the middleware's answer is unchanged.
   */
  verifyAndReceive(delivery: SignedDelivery): Promise<void>;
  /** Deliveries whose handlers are still running. */
  readonly inFlight: number;
  /** Resolves when no handler is running (at once if none is). */
  idle(): Promise<void>;
}

/**
 * Wraps `webhooks` (Probot's instance, with the App's handlers) so that deliveries are answered
 * before they are handled. `maxInFlight` defaults to MAX_BACKGROUND_DELIVERIES.
 */
export function acknowledgeFirst(
  webhooks: Webhooks<unknown>,
  log: Logger,
  maxInFlight = MAX_BACKGROUND_DELIVERIES,
): AcknowledgingReceiver {
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const done = () => {
    inFlight--;
    if (inFlight > 0) return;
    const ready = waiters;
    waiters = [];
    for (const resolve of ready) resolve();
  };
  return {
    async verifyAndReceive(delivery) {
      const valid = await webhooks.verify(delivery.payload, delivery.signature).catch(() => false);
      let payload: unknown;
      try {
        payload = valid ? JSON.parse(delivery.payload) : undefined;
      } catch {
        payload = undefined;
      }
      if (!valid || typeof payload !== "object" || payload === null)
        return webhooks.verifyAndReceive(delivery);
      inFlight++;
      const work = webhooks
        .receive({ id: delivery.id, name: delivery.name, payload } as Parameters<typeof webhooks.receive>[0])
        .catch((error: unknown) => {
          const summary = errorForLog(error) as { message?: string };
          log.warn(
            { event: { name: delivery.name, id: delivery.id }, reason: summary.message },
            "webhook handling failed after the delivery was acknowledged",
          );
        })
        .finally(done);
      if (inFlight > maxInFlight) await work;
    },
    get inFlight() {
      return inFlight;
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve));
    },
  };
}
