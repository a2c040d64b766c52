/**
 * The App's state, read from GitHub: the `perfloop` check runs of a head commit (docs/design.md,
 * "State and scale": they are the source of truth; the App's bounded memory, app-memory.ts, only adds what
 * they do not carry). A request is the set of check runs whose `external_id` is its id; it is
 * active while any of them is queued or in progress. A check run active for longer than
 * `app.stale_after_hours` is stale: it no longer blocks new requests and is concluded `timed_out`.
 */
import {
  type CheckRunInfo,
  concludeCheckRun,
  type GitHubClient,
  isActive,
  listPerfloopCheckRuns,
  type RepoRef,
} from "../publish/index.ts";
import type { AppMemory } from "./app-memory.ts";

/** Logger shape the App uses (pino's, as Probot passes it); never given tokens or signed URLs. */
export interface Log {
  info(obj: Record<string, unknown>, msg?: string): void;
  warn(obj: Record<string, unknown>, msg?: string): void;
  error(obj: Record<string, unknown>, msg?: string): void;
}

/**
 * What every App flow works with: the installation's client, the repository, a logger, the clock,
 * and the App's bounded in-memory memory (app-memory.ts; absent in flows that do not need it).
 */
export interface AppDeps {
  client: GitHubClient;
  repo: RepoRef;
  log: Log;
  /** The App's id (env APP_ID): when set, only its own check runs are read. */
  appId?: number;
  /** Current time, ms since the epoch (injectable for tests). */
  now: () => number;
  /** Delivery ids, dispatched requests, repeat answers (one per loaded App). */
  memory?: AppMemory;
}

/** The perfloop check runs of a commit, split by state. */
export interface CommitState {
  all: CheckRunInfo[];
  /** Queued or in progress, and not stale; oldest (lowest id) first. */
  active: CheckRunInfo[];
  stale: CheckRunInfo[];
}

/**
 * Reads the check runs of `sha` named `checkName` (`perfloop` by default; a gate's are `perfloop
 * gate`, see gate-request.ts: each name is its own state) and classifies them; stale ones are
 * concluded `timed_out` (best effort).
 */
export async function readCommitState(
  deps: AppDeps,
  sha: string,
  staleAfterHours: number,
  checkName?: string,
): Promise<CommitState> {
  const all = await listPerfloopCheckRuns(deps.client, deps.repo, sha, deps.appId, checkName);
  const limit = deps.now() - staleAfterHours * 3_600_000;
  const stale = all.filter((r) => isActive(r) && r.startedAt !== null && Date.parse(r.startedAt) < limit);
  const active = all.filter((r) => isActive(r) && !stale.includes(r)).sort((a, b) => a.id - b.id);
  if (stale.length > 0) await concludeStale(deps, stale, staleAfterHours);
  return { all, active, stale };
}

/** The active check runs of request `requestId` (itself and its aliases). */
export function runsOfRequest(state: CommitState, requestId: string): CheckRunInfo[] {
  return state.active.filter((r) => r.externalId === requestId);
}

/** The request that owns the commit: the oldest active check run (lowest id), or null. */
export function leaderOf(state: CommitState): CheckRunInfo | null {
  return state.active[0] ?? null;
}

/** A request's check runs on a commit: its own and its aliases (same `external_id`), oldest first. */
export interface RequestRuns {
  requestId: string;
  runs: CheckRunInfo[];
}

/** The newest request on the commit (the one whose first check run is newest), or null when none. */
export function latestRequest(state: CommitState): RequestRuns | null {
  const byRequest = new Map<string, CheckRunInfo[]>();
  for (const run of [...state.all].sort((a, b) => a.id - b.id))
    byRequest.set(run.externalId, [...(byRequest.get(run.externalId) ?? []), run]);
  let latest: RequestRuns | null = null;
  for (const [requestId, runs] of byRequest) {
    const first = runs[0];
    if (first && (latest === null || first.id > (latest.runs[0]?.id ?? 0))) latest = { requestId, runs };
  }
  return latest;
}

async function concludeStale(deps: AppDeps, stale: CheckRunInfo[], hours: number): Promise<void> {
  const output = {
    title: "Timed out",
    summary: `No result arrived within ${hours} hours (\`app.stale_after_hours\`); this request no longer blocks new ones.`,
  };
  await Promise.all(
    stale.map((r) =>
      concludeCheckRun(deps.client, deps.repo, r.id, { conclusion: "timed_out", output }).catch(
        (error: unknown) =>
          deps.log.warn(
            { checkRunId: r.id, err: errorSummary(error) },
            "could not conclude a stale check run",
          ),
      ),
    ),
  );
}

/** An error reduced to what is safe to log: name, status and message (never request headers or URLs with tokens). */
export function errorSummary(error: unknown): Record<string, unknown> {
  const e = error as { name?: string; status?: number; message?: string };
  return {
    name: e?.name,
    status: e?.status,
    message: typeof e?.message === "string" ? e.message.slice(0, 500) : String(error),
  };
}
