/**
 * The App's whole in-memory state, one per loaded App (see handlers.ts), every part bounded (LRU
 * with TTL): delivery GUIDs already handled (deliveries.ts), the requests it dispatched
 * (request-memory.ts), the one "already running" answer per active request (repeat-reply.ts), and
 * the live progress mirrors running (progress-mirror.ts, at most MAX_MIRRORS).
 * Losing it (a restart, another replica) costs at most a repeated answer: GitHub's check runs stay
 * the source of truth.
 */
import { DELIVERY_LIMITS, DeliveryLog } from "./deliveries.ts";
import { type LruLimits, TtlLru } from "./lru.ts";
import type { MirrorRegistry } from "./progress-mirror.ts";
import { REQUEST_LIMITS, RequestMemory } from "./request-memory.ts";

/** The comment that answers repeats of an active request, and whom it answered (logins). */
export interface RepeatNote {
  commentId: number;
  askers: string[];
}

/** Defaults for repeat answers: an active request lives hours (`app.stale_after_hours`, 24 by default). */
export const REPEAT_LIMITS: LruLimits = { maxEntries: 2_000, ttlMs: 24 * 3_600_000 };

/** The App's memory. */
export interface AppMemory {
  deliveries: DeliveryLog;
  requests: RequestMemory;
  /**
   * Per "owner/repo#pr request-id" of an active request: the latest step of answering repeats (a
   * promise, so that concurrent repeats run one after the other and agree on one comment).
   */
  repeats: TtlLru<string, Promise<RepeatNote | null>>;
  /** The live progress mirrors running, by repository and request id. */
  mirrors: MirrorRegistry;
}

/** A fresh memory with the default limits. @param now the clock, ms (injectable for tests). */
export function createAppMemory(now: () => number = Date.now): AppMemory {
  return {
    deliveries: new DeliveryLog(DELIVERY_LIMITS, now),
    requests: new RequestMemory(REQUEST_LIMITS, now),
    repeats: new TtlLru(REPEAT_LIMITS, now),
    mirrors: new Map(),
  };
}
