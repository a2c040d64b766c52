/**
 * What the App remembers of the requests it dispatched: who asked, how, with which arguments, on
 * which head commit and when — for `/optimize status`, `/optimize retry` and the "who asked" line of
 * the progress messages. GitHub's check runs stay the source of truth for a request's state; this
 * memory only adds what they do not carry. It is bounded (LRU with TTL, lru.ts) and per process: after a
 * restart, or on another replica, it is empty and the App says so rather than guess.
 */
import type { RepoRef } from "../publish/index.ts";
import { type LruLimits, TtlLru } from "./lru.ts";
import type { RunArgs } from "./request.ts";

/** Defaults: a pull request's last run is retried or asked about within days, rarely weeks. */
export const REQUEST_LIMITS: LruLimits = { maxEntries: 5_000, ttlMs: 14 * 24 * 3_600_000 };

/** A dispatched request. */
export interface RequestRecord {
  requestId: string;
  pr: number;
  headSha: string;
  /** Login of who asked. */
  actor: string;
  /** "/optimize", "/optimize retry" or "label <name>". */
  via: string;
  args: RunArgs;
  /** When the App dispatched it, ms since the epoch. */
  at: number;
}

/** Requests by id, and the last request of each pull request. */
export class RequestMemory {
  readonly #byId: TtlLru<string, RequestRecord>;
  readonly #lastOfPull: TtlLru<string, string>;

  /** @param now the clock, ms (injectable for tests). */
  constructor(limits: LruLimits = REQUEST_LIMITS, now: () => number = Date.now) {
    this.#byId = new TtlLru(limits, now);
    this.#lastOfPull = new TtlLru(limits, now);
  }

  /** Remembers a dispatched request; it becomes its pull request's last one. */
  remember(repo: RepoRef, record: RequestRecord): void {
    this.#byId.set(idKey(repo, record.requestId), record);
    this.#lastOfPull.set(pullKey(repo, record.pr), record.requestId);
  }

  /** The request `requestId` of `repo`, when remembered. */
  byId(repo: RepoRef, requestId: string): RequestRecord | undefined {
    return this.#byId.get(idKey(repo, requestId));
  }

  /** The last request dispatched for pull request `pr` of `repo`, when remembered. */
  lastOf(repo: RepoRef, pr: number): RequestRecord | undefined {
    const id = this.#lastOfPull.get(pullKey(repo, pr));
    return id === undefined ? undefined : this.byId(repo, id);
  }
}

/** "owner/repo" as a key (GitHub names are case-insensitive). */
export function repoKey(repo: RepoRef): string {
  return `${repo.owner}/${repo.repo}`.toLowerCase();
}

function idKey(repo: RepoRef, requestId: string): string {
  return `${repoKey(repo)} ${requestId}`;
}

function pullKey(repo: RepoRef, pr: number): string {
  return `${repoKey(repo)}#${pr}`;
}
