/**
 * The Octokit class the App runs with: Probot's, with the throttling plugin's process-wide write
 * spacing removed. By default @octokit/plugin-throttling queues every POST/PATCH/PUT/DELETE of the
 * whole process (all installations) 1 s apart, and comment creation 3 s apart; one `/optimize`
 * makes ~5 writes, so the first run would start seconds late and concurrent requests would queue
 * for minutes. GitHub's guidance is about a large number of writes for one client; the App's
 * writes per event are few and serial, and GitHub's secondary-rate-limit answers (403/429 with
 * retry-after) are still honoured: they are retried twice after the time GitHub asks for.
 * Request concurrency stays capped by the plugin's global group (10 in flight per process).
 */
import { ProbotOctokit } from "probot";

/** A stand-in for a Bottleneck group that runs each job at once (the plugin only calls `key().schedule()`). */
const IMMEDIATE = {
  key: () => ({
    schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) =>
      Promise.resolve(job(...args)),
  }),
};

/** Retries a secondary-rate-limited request at most twice, after GitHub's retry-after. */
function onSecondaryRateLimit(
  retryAfter: number,
  options: { method?: string; url?: string },
  octokit: { log: { warn: (msg: string) => void } },
  retryCount: number,
): boolean {
  octokit.log.warn(
    `secondary rate limit on ${options.method} ${options.url}; retry ${retryCount + 1} in ${retryAfter} s`,
  );
  return retryCount < 2;
}

/** Probot's Octokit with the write/notification spacing removed (see above); pass it to Probot's `run`. */
export const PerfloopOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  throttle: {
    ...(options.throttle as object),
    write: IMMEDIATE,
    notifications: IMMEDIATE,
    onSecondaryRateLimit,
  },
}));
