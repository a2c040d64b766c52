/**
 * Webhook deliveries already handled (or being handled), by their `X-GitHub-Delivery` GUID
 * (Probot's `context.id`). GitHub redelivers an event with the same GUID; a delivery seen before is
 * acknowledged (2xx) and ignored. A delivery whose handling failed is forgotten, so a redelivery of
 * it — by a maintainer in the App's settings, or by GitHub — is handled again. The memory is
 * bounded (LRU with TTL, lru.ts); past it the check-run state (start-run.ts) still recognises a
 * redelivered `/optimize` by its request id.
 */
import { type LruLimits, TtlLru } from "./lru.ts";

/** Defaults: GitHub keeps deliveries for redelivery for 3 days. */
export const DELIVERY_LIMITS: LruLimits = { maxEntries: 20_000, ttlMs: 3 * 24 * 3_600_000 };

/** The deliveries this process has taken on. */
export class DeliveryLog {
  readonly #seen: TtlLru<string, "in-flight" | "done">;

  /** @param now the clock, ms (injectable for tests). */
  constructor(limits: LruLimits = DELIVERY_LIMITS, now: () => number = Date.now) {
    this.#seen = new TtlLru(limits, now);
  }

  /**
   * Takes delivery `id` on: true the first time (it is then "in flight"), false when it is in
   * flight or was handled (a redelivery: ignore it). Synchronous, so concurrent copies cannot both win.
   */
  begin(id: string): boolean {
    if (this.#seen.has(id)) return false;
    this.#seen.set(id, "in-flight");
    return true;
  }

  /** Ends delivery `id`: kept as handled when `ok`, else forgotten so that a redelivery retries it. */
  end(id: string, ok: boolean): void {
    if (ok) this.#seen.set(id, "done");
    else this.#seen.delete(id);
  }

  /** Deliveries remembered. */
  get size(): number {
    return this.#seen.size;
  }
}

/**
 * Runs `handle` for delivery `id` unless it was taken on before.
 * @returns false when the delivery was a redelivery and `handle` did not run.
 * @throws what `handle` throws (the delivery is then forgotten).
 */
export async function oncePerDelivery(
  log: DeliveryLog,
  id: string,
  handle: () => Promise<void>,
): Promise<boolean> {
  if (!log.begin(id)) return false;
  let ok = false;
  try {
    await handle();
    ok = true;
  } finally {
    log.end(id, ok);
  }
  return true;
}
