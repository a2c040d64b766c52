/**
 * The publish module as the Action will use it: an @octokit/rest client, an owner/repo, values.
 * Check-run annotations in batches of 50, the status → conclusion mapping, the sticky comment's
 * lookup, and the follow-up PR's refusal to move a branch perfloop did not create.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CheckAnnotation,
  concludeCheckRun,
  conclusionFor,
  findStickyComment,
  openFollowUpPr,
  upsertStickyComment,
} from "../../src/publish/index.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/github");
const HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
const REPO = { owner: "o", repo: "r" };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "test-token", log: quiet });
const unmatched: string[] = [];
nock.emitter.on("no match", (req: { method?: string; path?: string }) =>
  unmatched.push(`${req.method} ${req.path}`),
);

beforeEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
  unmatched.length = 0;
});
afterEach(() => {
  expect({ pending: nock.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
});

describe("check runs", () => {
  it("maps statuses to conclusions", () => {
    expect(conclusionFor("improved")).toBe("success");
    expect(conclusionFor("no-improvement")).toBe("neutral");
    expect(conclusionFor("inconclusive")).toBe("neutral");
    expect(conclusionFor("baseline-failed")).toBe("failure");
    expect(conclusionFor("error")).toBe("failure");
  });

  it("sends 120 annotations as 50 + 50 + 20", async () => {
    const sizes: number[] = [];
    const annotations: CheckAnnotation[] = Array.from({ length: 120 }, (_, k) => ({
      path: "a.py",
      start_line: k + 1,
      end_line: k + 1,
      annotation_level: "notice",
      message: "m",
    }));
    nock("https://api.github.com")
      .patch("/repos/o/r/check-runs/9", (b: { output: { annotations?: unknown[] } }) => {
        sizes.push(b.output.annotations?.length ?? 0);
        return true;
      })
      .times(3)
      .reply(200, {});
    const requests = await concludeCheckRun(client, REPO, 9, {
      conclusion: "success",
      output: { title: "t", summary: "s" },
      annotations,
    });
    expect(requests).toBe(3);
    expect(sizes).toEqual([50, 50, 20]);
  });
});

describe("sticky comment", () => {
  it("edits the bot's marked comment and never a person's quote of the marker", async () => {
    nock("https://api.github.com")
      .get("/repos/o/r/issues/5/comments")
      .query({ per_page: "100" })
      .reply(200, [
        {
          id: 1,
          body: "<!-- perfloop:sticky -->\nquoted by a person",
          user: { type: "User" },
          html_url: "u1",
        },
        { id: 2, body: "<!-- perfloop:sticky -->\nold", user: { type: "Bot" }, html_url: "u2" },
      ]);
    nock("https://api.github.com")
      .patch("/repos/o/r/issues/comments/2")
      .reply(200, { id: 2, html_url: "u2" });
    expect(await upsertStickyComment(client, REPO, 5, "new")).toEqual({
      id: 2,
      htmlUrl: "u2",
      created: false,
    });
  });

  it("finds nothing on a PR without it", async () => {
    nock("https://api.github.com").get("/repos/o/r/issues/5/comments").query(true).reply(200, []);
    expect(await findStickyComment(client, REPO, 5)).toBeNull();
  });
});

describe("follow-up PR", () => {
  const pull = { number: 2, headSha: HEAD, headRef: "changes", isFork: false };
  const patch = readFileSync(path.join(FIXTURES, "final.patch"), "utf8");
  const before = readFileSync(path.join(FIXTURES, "textstats.before.py"), "utf8");
  const base = { patch, requestId: "req-1", title: "t", body: "b" };

  /** Mocks the commit path up to the ref creation, which answers `refStatus`. */
  function commitPath(refStatus: number) {
    const api = nock("https://api.github.com");
    api
      .get(`/repos/o/r/git/trees/${HEAD}`)
      .query({ recursive: "1" })
      .reply(200, {
        sha: "t0",
        truncated: false,
        tree: [{ path: "src/textstats.py", mode: "100755", type: "blob", sha: "b0" }],
      });
    api
      .get("/repos/o/r/git/blobs/b0")
      .reply(200, { content: Buffer.from(before).toString("base64"), encoding: "base64" });
    api.post("/repos/o/r/git/blobs").reply(201, { sha: "b1" });
    api
      .post("/repos/o/r/git/trees", {
        base_tree: "t0",
        tree: [{ path: "src/textstats.py", mode: "100755", type: "blob", sha: "b1" }],
      })
      .reply(201, { sha: "t1" });
    api.post("/repos/o/r/git/commits").reply(201, { sha: "c1" });
    api
      .post("/repos/o/r/git/refs")
      .reply(refStatus, refStatus === 422 ? { message: "Reference already exists" } : {});
    return api;
  }

  it("leaves a branch of the same name alone when perfloop did not create it", async () => {
    const api = commitPath(422);
    api.get("/repos/o/r/git/ref/heads%2Fperfloop%2Fpr-2-ec26c3e").reply(200, { object: { sha: "x1" } });
    api.get("/repos/o/r/git/commits/x1").reply(200, {
      sha: "x1",
      message: "my own work",
      author: { email: "dev@example.com" },
      parents: [{ sha: HEAD }],
    });
    const result = await openFollowUpPr(client, REPO, { ...base, pull });
    expect(result).toMatchObject({ status: "skipped", branch: "perfloop/pr-2-ec26c3e" });
    expect(result.status === "skipped" && result.reason).toContain("not created by perfloop");
  });

  it("moves its own branch and updates the open PR", async () => {
    const api = commitPath(422);
    api.get("/repos/o/r/git/ref/heads%2Fperfloop%2Fpr-2-ec26c3e").reply(200, { object: { sha: "x1" } });
    api.get("/repos/o/r/git/commits/x1").reply(200, {
      sha: "x1",
      message: "perf: …\n\nPerfloop-Request: req-0\n",
      author: { email: "123+perfloop[bot]@users.noreply.github.com" },
      parents: [{ sha: HEAD }],
    });
    api
      .patch("/repos/o/r/git/refs/heads%2Fperfloop%2Fpr-2-ec26c3e", { sha: "c1", force: true })
      .reply(200, {});
    api
      .get("/repos/o/r/pulls")
      .query(true)
      .reply(200, [{ number: 7, html_url: "https://github.com/o/r/pull/7" }]);
    api.patch("/repos/o/r/pulls/7").reply(200, {});
    expect(await openFollowUpPr(client, REPO, { ...base, pull })).toMatchObject({
      status: "updated",
      number: 7,
      commitSha: "c1",
    });
  });

  it("retries as a normal PR where drafts are not supported", async () => {
    const api = commitPath(201);
    api.get("/repos/o/r/pulls").query(true).reply(200, []);
    api
      .post("/repos/o/r/pulls", (b: { draft: boolean }) => b.draft)
      .reply(422, {
        message: "Validation Failed",
        errors: [{ message: "Draft pull requests are not supported in this repository." }],
      });
    api
      .post("/repos/o/r/pulls", (b: { draft: boolean }) => !b.draft)
      .reply(201, { number: 8, html_url: "https://github.com/o/r/pull/8" });
    expect(await openFollowUpPr(client, REPO, { ...base, pull })).toMatchObject({
      status: "created",
      number: 8,
    });
  });

  it("skips fork PRs and patches that do not apply, without writing", async () => {
    expect(await openFollowUpPr(client, REPO, { ...base, pull: { ...pull, isFork: true } })).toMatchObject({
      status: "skipped",
    });
    nock("https://api.github.com")
      .get(`/repos/o/r/git/trees/${HEAD}`)
      .query(true)
      .reply(200, {
        sha: "t0",
        truncated: false,
        tree: [{ path: "src/textstats.py", mode: "100644", type: "blob", sha: "b0" }],
      });
    nock("https://api.github.com")
      .get("/repos/o/r/git/blobs/b0")
      .reply(200, { content: Buffer.from("something else\n").toString("base64"), encoding: "base64" });
    const result = await openFollowUpPr(client, REPO, { ...base, pull });
    expect(result.status === "skipped" && result.reason).toContain("does not apply");
  });
});
