/**
 * The Octokit class the App runs with: Probot's, with the throttling plugin's process-wide write
 * spacing removed. Probot's Octokit already includes @octokit/plugin-throttling (and
 * @octokit/plugin-retry), so this class configures that instance of the plugin instead of adding it
 * a second time (two throttling hooks would queue every request twice and retry multiplicatively).
 * By default the plugin queues every POST/PATCH/PUT/DELETE of the whole process (all
 * installations) 1 s apart, and comment creation 3 s apart; one `/optimize`
 * makes ~5 writes, so the first run would start seconds late and concurrent requests would queue
 * for minutes. GitHub's guidance is about a large number of writes for one client; the App's
 * writes per event are few and serial, and GitHub's secondary-rate-limit answers (403/429 with
 * retry-after) are still honoured: they are retried twice after the time GitHub asks for
 * (MAX_SECONDARY_RATE_LIMIT_RETRIES), with a warning each time, so a burst of dispatches queues
 * instead of failing. Secondary limits answered 429 are left to the throttling plugin alone: the
 * retry plugin (which retries any status outside its `doNotRetry` list 3 times, 1/4/9 s apart) no
 * longer retries 429 on top of it. Primary rate limits keep Probot's handling (retried up to twice,
 * after the reset time). Request concurrency stays capped by the plugin's global group (10 in
 * flight per process). GitHub's guidance: docs.github.com, "Rate limits for the REST API" (secondary
 * rate limits: wait for `retry-after`) and "Best practices for using the REST API".
 */
import { ProbotOctokit } from "probot";

/** A stand-in for a Bottleneck group that runs each job at once (the plugin only calls `key().schedule()`). */
const IMMEDIATE = {
  key: () => ({
    schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) =>
      Promise.resolve(job(...args)),
  }),
};

/** Retries of one request after secondary rate limits, at most (3 attempts in all). */
export const MAX_SECONDARY_RATE_LIMIT_RETRIES = 2;

/** @octokit/plugin-retry's default `doNotRetry` statuses, plus 429 (handled by the throttling plugin). */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451];

/**
 * The throttling plugin's secondary-rate-limit handler: logs a warning and asks for a retry after
 * `retryAfter` seconds (GitHub's retry-after, or the plugin's 60 s fallback) while `retryCount`
 * (retries so far) is under MAX_SECONDARY_RATE_LIMIT_RETRIES.
 */
export function onSecondaryRateLimit(
  retryAfter: number,
  options: { method?: string; url?: string },
  octokit: { log: { warn: (msg: string) => void } },
  retryCount: number,
): boolean {
  octokit.log.warn(
    `secondary rate limit on ${options.method} ${options.url}; retry ${retryCount + 1} in ${retryAfter} s`,
  );
  return retryCount < MAX_SECONDARY_RATE_LIMIT_RETRIES;
}

/**
 * Probot's Octokit with the write/notification spacing removed and bounded secondary-rate-limit
 * retries (see above); give it to Probot as its `Octokit` option.
 */
export const PerfloopOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { ...(options.retry as object), doNotRetry: DO_NOT_RETRY },
  throttle: {
    ...(options.throttle as object),
    write: IMMEDIATE,
    notifications: IMMEDIATE,
    onSecondaryRateLimit,
  },
}));
