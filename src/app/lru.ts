/**
 * A bounded map for the App's in-memory memory (delivery ids, recent requests, repeat answers): at
 * most `maxEntries` entries, each forgotten `ttlMs` after it was last written; when full, the least
 * recently used entry goes. A Map keeps insertion order, so re-inserting on use makes its first key
 * the least recently used one: every operation is O(1).
 */

/** Limits of a {@link TtlLru}. */
export interface LruLimits {
  /** Most entries kept (≥ 1). */
  maxEntries: number;
  /** How long an entry lives after its last write, ms. */
  ttlMs: number;
}

/** A least-recently-used map whose entries also expire. */
export class TtlLru<K, V> {
  readonly #entries = new Map<K, { value: V; expires: number }>();
  readonly #limits: LruLimits;
  readonly #now: () => number;

  /** @param now the clock, ms (injectable for tests). */
  constructor(limits: LruLimits, now: () => number = Date.now) {
    if (!(limits.maxEntries >= 1) || !(limits.ttlMs > 0)) throw new RangeError("LRU limits must be positive");
    this.#limits = limits;
    this.#now = now;
  }

  /** The live value of `key` (and marks it recently used), or undefined. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expires <= this.#now()) return undefined;
    this.#entries.set(key, entry);
    return entry.value;
  }

  /** Whether `key` has a live value (without marking it used). */
  has(key: K): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expires > this.#now();
  }

  /** Stores `value` under `key` for the TTL, evicting expired entries, then the least recently used. */
  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expires: this.#now() + this.#limits.ttlMs });
    this.#evict();
  }

  /** Forgets `key`. */
  delete(key: K): void {
    this.#entries.delete(key);
  }

  /** Entries held, expired ones not yet evicted included (never above `maxEntries`). */
  get size(): number {
    return this.#entries.size;
  }

  #evict(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxEntries && entry.expires > now) break;
      this.#entries.delete(key);
    }
  }
}
