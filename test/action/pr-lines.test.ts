/**
 * A pull request's changed lines from GitHub's "list pull request files" API, nocked: two pages
 * followed through the Link header, patches with context read by their `+` lines, removed files and
 * files without a patch (binary, too large) left out, renamed files under their new name.
 */
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { pullRequestChangedLines } from "../../src/action/pr-lines.ts";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "test-token", log: quiet });
const FILES = "/repos/o/r/pulls/7/files";
const unmatched: string[] = [];
nock.emitter.on("no match", (req: { method?: string; path?: string }) =>
  unmatched.push(`${req.method} ${req.path}`),
);

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  expect({ pending: nock.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
  nock.cleanAll();
  unmatched.length = 0;
});
afterAll(() => {
  nock.enableNetConnect();
});

/** One entry of the files listing (the fields the code reads, plus a few GitHub always sends). */
function file(filename: string, status: string, patch?: string, previous?: string) {
  return {
    sha: "0123456789abcdef0123456789abcdef01234567",
    filename,
    status,
    additions: 1,
    deletions: 1,
    changes: 2,
    ...(patch === undefined ? {} : { patch }),
    ...(previous === undefined ? {} : { previous_filename: previous }),
  };
}

describe("pullRequestChangedLines", () => {
  it("follows the pages and reads each file's patch", async () => {
    const page2 = `https://api.github.com${FILES}?per_page=100&page=2`;
    nock("https://api.github.com")
      .get(FILES)
      .query({ per_page: "100" })
      .reply(
        200,
        [
          file(
            "src/app.py",
            "modified",
            "@@ -1,4 +1,5 @@\n import os\n-import sys\n+import sys, re\n+import json\n \n def f():",
          ),
          file("gone.py", "removed", "@@ -1,2 +0,0 @@\n-a\n-b"),
          file("logo.png", "modified"),
        ],
        { link: `<${page2}>; rel="next", <${page2}>; rel="last"` },
      )
      .get(FILES)
      .query({ per_page: "100", page: "2" })
      .reply(200, [
        file(
          "lib/new.js",
          "renamed",
          "@@ -8,3 +8,2 @@ function g() {\n   a();\n-  b();\n   c();",
          "lib/old.js",
        ),
        file("added.ts", "added", "@@ -0,0 +1,3 @@\n+a\n+b\n+c"),
        file("moved.py", "renamed", undefined, "old.py"),
      ]);
    expect(await pullRequestChangedLines(client, { owner: "o", repo: "r", pullNumber: 7 })).toEqual({
      "src/app.py": [[2, 3]],
      "lib/new.js": [[8, 8]],
      "added.ts": [[1, 3]],
    });
  });

  it("lets GitHub's refusal through", async () => {
    nock("https://api.github.com").get(FILES).query({ per_page: "100" }).reply(404, { message: "Not Found" });
    await expect(
      pullRequestChangedLines(client, { owner: "o", repo: "r", pullNumber: 7 }),
    ).rejects.toMatchObject({
      status: 404,
    });
  });
});
