/**
 * The App's Octokit class (src/app/octokit.ts) against secondary rate limits, with nock (no
 * network): a rate-limited request is retried a bounded number of times after GitHub's
 * retry-after, with one warning per retry, then fails; 429 is not retried a second time by the
 * retry plugin; and Probot's throttling plugin is configured, not added twice.
 */
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MAX_SECONDARY_RATE_LIMIT_RETRIES, PerfloopOctokit } from "../../src/app/octokit.ts";

const API = "https://api.github.com";
const LIMITED = {
  message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
};

function client(warnings: string[]) {
  const log = { debug() {}, info() {}, warn: (msg: string) => warnings.push(msg), error() {} };
  // retry-after is in seconds; a base of 1 ms per "second" keeps the test fast.
  return new PerfloopOctokit({ auth: { token: "test" }, log, throttle: { retryAfterBaseValue: 1 } });
}

beforeEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe("PerfloopOctokit and secondary rate limits", () => {
  it("retries a 403 secondary rate limit after retry-after, then succeeds", async () => {
    const warnings: string[] = [];
    const scope = nock(API)
      .post("/repos/o/r/actions/workflows/perfloop.yml/dispatches")
      .reply(403, LIMITED, { "retry-after": "3" })
      .post("/repos/o/r/actions/workflows/perfloop.yml/dispatches")
      .reply(204);
    const res = await client(warnings).request(
      "POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
      {
        owner: "o",
        repo: "r",
        workflow_id: "perfloop.yml",
        ref: "main",
      },
    );
    expect(res.status).toBe(204);
    expect(scope.isDone()).toBe(true);
    expect(warnings).toEqual([
      "secondary rate limit on POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches; retry 1 in 3 s",
    ]);
  });

  it("gives up after the bounded number of retries, for 403 and for 429 alike", async () => {
    for (const status of [403, 429]) {
      const warnings: string[] = [];
      let calls = 0;
      nock(API)
        .get("/repos/o/r/pulls/1")
        .times(10)
        .reply(() => {
          calls++;
          return [status, LIMITED, { "retry-after": "1" }];
        });
      await expect(
        client(warnings).rest.pulls.get({ owner: "o", repo: "r", pull_number: 1 }),
      ).rejects.toMatchObject({
        status,
      });
      expect(calls).toBe(MAX_SECONDARY_RATE_LIMIT_RETRIES + 1);
      expect(warnings).toHaveLength(MAX_SECONDARY_RATE_LIMIT_RETRIES + 1);
      nock.cleanAll();
    }
  });

  it("configures Probot's throttling plugin instead of adding a second one", () => {
    const names = (cls: { plugins: Array<{ name: string }> }) => cls.plugins.map((p) => p.name);
    const plugins = names(PerfloopOctokit as unknown as { plugins: Array<{ name: string }> });
    expect(plugins.filter((n) => n === "throttling")).toHaveLength(1);
    expect(plugins).toEqual(names(ProbotOctokit as unknown as { plugins: Array<{ name: string }> }));
  });
});
