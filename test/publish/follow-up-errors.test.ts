/**
 * GitHub's refusals of the follow-up PR reported as what they are (issue 14): a 422 from "Create
 * a pull request" with GitHub's own message (a PR from the branch already exists; any other
 * validation failure), a 403 from "Create a reference" naming the step; and PR titles as plain
 * text (GitHub does not render titles as markdown, so nothing is escaped there).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { describeRequestError, openFollowUpPr } from "../../src/publish/index.ts";
import { followUpTitle, resultsCheckOutput } from "../../src/publish/messages.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/github");
const HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const REPO = { owner: "o", repo: "r" };
const BRANCH = "perfloop/pr-2-ec26c3e";
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "test-token", log: quiet });
const unmatched: string[] = [];
nock.emitter.on("no match", (req: { method?: string; path?: string }) =>
  unmatched.push(`${req.method} ${req.path}`),
);
const pull = { number: 2, headSha: HEAD, headRef: "changes", isFork: false };
const req = {
  pull,
  patch: readFileSync(path.join(FIXTURES, "final.patch"), "utf8"),
  requestId: "req-1",
  title: "t",
  body: "b",
  claims: { changedFiles: ["src/textstats.py"], acceptedRounds: 1 },
};

/** Mocks reading the head and writing blob, tree and commit; returns the scope for the rest. */
function upToCommit(): nock.Scope {
  const api = nock("https://api.github.com");
  api
    .get(`/repos/o/r/git/trees/${HEAD}`)
    .query({ recursive: "1" })
    .reply(200, {
      sha: "t0",
      truncated: false,
      tree: [{ path: "src/textstats.py", mode: "100644", type: "blob", sha: "b0" }],
    });
  const before = readFileSync(path.join(FIXTURES, "textstats.before.py"));
  api.get("/repos/o/r/git/blobs/b0").reply(200, { content: before.toString("base64"), encoding: "base64" });
  api.post("/repos/o/r/git/blobs").reply(201, { sha: "b1" });
  api.post("/repos/o/r/git/trees").reply(201, { sha: "t1" });
  api.post("/repos/o/r/git/commits").reply(201, { sha: "c1" });
  return api;
}

beforeEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
  unmatched.length = 0;
});
afterEach(() => {
  expect({ pending: nock.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
});

describe("a 422 from Create a pull request", () => {
  it("says a pull request from the branch already exists, in GitHub's words", async () => {
    const api = upToCommit();
    api.post("/repos/o/r/git/refs").reply(201, {});
    api.get("/repos/o/r/pulls").query(true).reply(200, []);
    api.post("/repos/o/r/pulls").reply(422, {
      message: "Validation Failed",
      errors: [
        {
          resource: "PullRequest",
          code: "custom",
          message: `A pull request already exists for o:${BRANCH}.`,
        },
      ],
      documentation_url: "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
    });
    expect(await openFollowUpPr(client, REPO, req)).toEqual({
      status: "skipped",
      branch: BRANCH,
      reason: `a pull request from ${BRANCH} into changes already exists (GitHub: "Validation Failed: A pull request already exists for o:${BRANCH}.")`,
    });
  });

  it("reports any other validation failure with GitHub's message, not as a draft problem", async () => {
    const api = upToCommit();
    api.post("/repos/o/r/git/refs").reply(201, {});
    api.get("/repos/o/r/pulls").query(true).reply(200, []);
    api.post("/repos/o/r/pulls").reply(422, {
      message: "Validation Failed",
      errors: [{ resource: "PullRequest", field: "base", code: "invalid" }],
    });
    const result = await openFollowUpPr(client, REPO, req);
    expect(result.status === "skipped" && result.reason).toBe(
      `GitHub refused to create the pull request from ${BRANCH} into changes: validation failed (GitHub: "Validation Failed: PullRequest base invalid")`,
    );
  });
});

describe("other refusals", () => {
  it("names the step and GitHub's answer when the branch cannot be created", async () => {
    const api = upToCommit();
    api.post("/repos/o/r/git/refs").reply(403, { message: "Resource not accessible by integration" });
    const result = await openFollowUpPr(client, REPO, req);
    expect(result.status === "skipped" && result.reason).toBe(
      `creating branch ${BRANCH} failed: GitHub answered 403 Resource not accessible by integration`,
    );
  });

  it("describes errors that are not GitHub answers by their own message", () => {
    expect(describeRequestError(new Error("socket hang up"))).toBe("socket hang up");
  });
});

describe("titles are plain text", () => {
  it("keeps the metric name as written: no backslashes, entities or joiners", () => {
    const raw = JSON.parse(readFileSync(path.join(FIXTURES, "results.improved.json"), "utf8"));
    Object.assign(raw.final.primary, { metric: "p<50 *latency* @team", unit: "µs", direction: "lower" });
    const results = parseResults(raw);
    const title = followUpTitle(results, 2);
    expect(title).toBe("perf: perfloop optimization for #2 (p<50 *latency* @team −45.6% (better))");
    const check = resultsCheckOutput(results, { requestId: "r" }, {}, null);
    expect(check.title).toBe("Improved: p<50 *latency* @team −45.6% (better)");
    expect(
      followUpTitle(
        parseResults(JSON.parse(readFileSync(path.join(FIXTURES, "results.improved.json"), "utf8"))),
        2,
      ),
    ).toBe("perf: perfloop optimization for #2 (1.84× faster)");
  });
});
