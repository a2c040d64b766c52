/**
 * The publish module as the Action will use it: an @octokit/rest client, an owner/repo, values.
 * Check-run annotations in batches of 50, the status → conclusion mapping, the sticky comment's
 * lookup, the follow-up PR's refusal to move a branch perfloop did not create, and its commit
 * holding byte for byte the candidate's files (tabs at line ends, CRLF, adds, deletes, renames).
 * The re-checks before any write (policy, claims, the head's files) are in verify.test.ts.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffTrees } from "../../src/core/loop/workspace.ts";
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

  /** Writes `tree` (path → content) under `root`. */
  async function writeTree(root: string, tree: Record<string, string>): Promise<void> {
    for (const [file, content] of Object.entries(tree)) {
      await mkdir(path.dirname(path.join(root, file)), { recursive: true });
      await writeFile(path.join(root, file), content);
    }
  }

  it("commits exactly the candidate's bytes: tabs at line ends, CRLF, adds, deletes, a rename", async () => {
    const head: Record<string, string> = {
      Makefile: "CFLAGS = -O0\t\nall:\tmain\n\tcc $(CFLAGS) -o main main.c\t\n",
      "data/t.tsv": "a\tb\r\n1\t2\r\n",
      "README.md": "old\n",
      "a.txt": "moved \u00e9\n",
    };
    const candidate: Record<string, string> = {
      Makefile: "CFLAGS = -O2\t\nall:\tmain\n\tcc $(CFLAGS) -o main main.c\t\n",
      "data/t.tsv": "a\tb\r\n1\t3\r\n",
      "b.txt": "moved \u00e9\n",
      "docs/\u00fc.md": "new, no newline",
      empty: "",
    };
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-follow-up-"));
    let patch: string;
    try {
      await writeTree(path.join(dir, "from"), head);
      await writeTree(path.join(dir, "to"), candidate);
      const files = [...new Set([...Object.keys(head), ...Object.keys(candidate)])];
      patch = await diffTrees(path.join(dir, "from"), path.join(dir, "to"), files);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const api = nock("https://api.github.com");
    const shas = Object.keys(head).map((file, k) => [file, `h${k}`] as const);
    api
      .get(`/repos/o/r/git/trees/${HEAD}`)
      .query({ recursive: "1" })
      .reply(200, {
        sha: "t0",
        truncated: false,
        tree: shas.map(([file, sha]) => ({
          path: file,
          mode: file === "Makefile" ? "100755" : "100644",
          type: "blob",
          sha,
        })),
      });
    for (const [file, sha] of shas)
      if (file !== "README.md" && file !== "a.txt")
        api
          .get(`/repos/o/r/git/blobs/${sha}`)
          .reply(200, { content: Buffer.from(head[file] as string).toString("base64"), encoding: "base64" });
    // A deleted file's blob is read to check the diff deletes all of it.
    api
      .get("/repos/o/r/git/blobs/h2")
      .reply(200, { content: Buffer.from("old\n").toString("base64"), encoding: "base64" });
    api
      .get("/repos/o/r/git/blobs/h3")
      .reply(200, { content: Buffer.from(head["a.txt"] as string).toString("base64"), encoding: "base64" });
    const blobs = new Map<string, Buffer>();
    for (const sha of ["n0", "n1", "n2", "n3", "n4"])
      api
        .post("/repos/o/r/git/blobs", (b: { content: string }) => {
          blobs.set(sha, Buffer.from(b.content, "base64"));
          return true;
        })
        .reply(201, { sha });
    let tree: Array<{ path: string; mode: string; sha: string | null }> = [];
    api
      .post("/repos/o/r/git/trees", (b: { tree: typeof tree }) => {
        tree = b.tree;
        return true;
      })
      .reply(201, { sha: "t1" });
    api.post("/repos/o/r/git/commits").reply(201, { sha: "c1" });
    api.post("/repos/o/r/git/refs").reply(201, {});
    api.get("/repos/o/r/pulls").query(true).reply(200, []);
    api.post("/repos/o/r/pulls").reply(201, { number: 9, html_url: "https://github.com/o/r/pull/9" });

    expect(await openFollowUpPr(client, REPO, { ...base, patch, pull })).toMatchObject({ status: "created" });
    const committed = Object.fromEntries(
      tree.filter((e) => e.sha !== null).map((e) => [e.path, blobs.get(e.sha as string)?.toString("utf8")]),
    );
    expect(committed).toEqual(candidate);
    for (const [file, content] of Object.entries(candidate))
      expect(blobs.get(tree.find((e) => e.path === file)?.sha ?? "")).toEqual(Buffer.from(content, "utf8"));
    expect(
      tree
        .filter((e) => e.sha === null)
        .map((e) => e.path)
        .sort(),
    ).toEqual(["README.md", "a.txt"]);
    expect(tree.find((e) => e.path === "Makefile")?.mode).toBe("100755");
  });

  it("refuses a patch whose file is not UTF-8 text at the head, without writing", async () => {
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
      .reply(200, {
        content: Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]).toString("base64"),
        encoding: "base64",
      });
    await expect(openFollowUpPr(client, REPO, { ...base, pull })).rejects.toMatchObject({
      name: "BundleRefusedError",
      problems: [expect.stringMatching(/does not apply .*not UTF-8 text/)],
    });
  });

  it("skips fork PRs and refuses patches that do not apply, without writing", async () => {
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
    await expect(openFollowUpPr(client, REPO, { ...base, pull })).rejects.toMatchObject({
      problems: [expect.stringContaining("does not apply to ec26c3e")],
    });
  });
});
