/**
 * Publishing re-checks a bundle before it writes anything (issue 14): a patch that breaks the
 * patch policy, disagrees with results.json's `final.changedFiles`, or does not fit the head's
 * tree is refused whole — no blob, tree, commit, ref or pull request request is made — and the
 * check run and the sticky comment say why. nock fails the test on any request not mocked.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseResults, type Results } from "../../src/core/evidence/results-schema.ts";
import {
  checkPatch,
  claimsOf,
  DEFAULT_POLICY,
  type PublishTarget,
  patchPolicyFromConfig,
  policyForPatch,
  publishResults,
} from "../../src/publish/index.ts";

const GITHUB = path.resolve(import.meta.dirname, "../fixtures/github");
const SURFACE = path.resolve(import.meta.dirname, "../fixtures/github-surface");
const HEAD = "9f3b4a2e1c0d11f18e2b6b1c2d3e4f5000000001".slice(0, 40);
const REPO = { owner: "o", repo: "r" };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "test-token", log: quiet });
const unmatched: string[] = [];
nock.emitter.on("no match", (req: { method?: string; path?: string }) =>
  unmatched.push(`${req.method} ${req.path}`),
);

const target: PublishTarget = {
  repo: REPO,
  pull: { number: 2, headSha: HEAD, headRef: "changes", isFork: false },
  info: { requestId: "req-1" },
  links: { runUrl: "https://github.com/o/r/actions/runs/1" },
  checkRunIds: [501],
};

/** The improved results fixture, with `changedFiles`. */
function results(changedFiles: string[]): Results {
  const raw = JSON.parse(readFileSync(path.join(GITHUB, "results.improved.json"), "utf8"));
  raw.final.changedFiles = changedFiles;
  return parseResults(raw);
}

/** Mocks the refusal's only writes: the check run and the sticky comment; captures both. */
function refusalWrites() {
  const got = { check: {} as Record<string, unknown>, sticky: "" };
  const api = nock("https://api.github.com");
  api
    .patch("/repos/o/r/check-runs/501", (b: Record<string, unknown>) => {
      got.check = b;
      return true;
    })
    .reply(200, {});
  api.get("/repos/o/r/issues/2/comments").query({ per_page: "100" }).reply(200, []);
  api
    .post("/repos/o/r/issues/2/comments", (b: { body: string }) => {
      got.sticky = b.body;
      return true;
    })
    .reply(201, { id: 9, html_url: "https://github.com/o/r/pull/2#issuecomment-9" });
  return got;
}

/** The head's tree holding `entries` (path → mode), each blob `b<k>`. */
function headTree(entries: Record<string, string>) {
  nock("https://api.github.com")
    .get(`/repos/o/r/git/trees/${HEAD}`)
    .query({ recursive: "1" })
    .reply(200, {
      sha: "t0",
      truncated: false,
      tree: Object.entries(entries).map(([p, mode], k) => ({
        path: p,
        mode,
        type: mode === "040000" ? "tree" : mode === "160000" ? "commit" : "blob",
        sha: `b${k}`,
      })),
    });
}

beforeEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
  unmatched.length = 0;
});
afterEach(() => {
  expect({ pending: nock.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
});

describe("publishResults refuses a bundle before any write", () => {
  it("refuses a patch touching tests/test_x.py: no blob, commit, ref or PR; the check run says why", async () => {
    const patch = readFileSync(path.join(SURFACE, "touches-tests.patch"), "utf8");
    const got = refusalWrites();
    const outcome = await publishResults(client, target, results(["tests/test_x.py"]), patch);
    expect(outcome).toMatchObject({ followUp: null, conclusion: "failure" });
    expect(outcome.refused?.join("\n")).toContain("tests/test_x.py is a test file");
    expect(got.check).toMatchObject({ status: "completed", conclusion: "failure" });
    const output = got.check.output as { title: string; summary: string; annotations?: unknown };
    expect(output.title).toMatch(/^Results refused: tests\/test_x\.py is a test file/);
    expect(output.summary).toContain("nothing was published: no branch, no commit, no pull request");
    expect(output.summary).toContain("\n- tests/test_x.py is a test file");
    expect(output.annotations).toBeUndefined();
    expect(got.sticky).toMatch(/^<!-- perfloop:sticky -->\n### perfloop · ⛔ results refused/);
    expect(got.sticky).not.toContain("1.84");
  });

  it("refuses a policy-violating patch from a fork PR too (the check comes before the fork skip)", async () => {
    const patch = readFileSync(path.join(SURFACE, "touches-workflow.patch"), "utf8");
    refusalWrites();
    const fork = { ...target, pull: { ...target.pull, isFork: true } };
    const outcome = await publishResults(client, fork, results([".github/workflows/ci.yml"]), patch);
    expect(outcome.refused).toEqual([
      ".github/workflows/ci.yml is under .github/; workflows and repository settings are off limits.",
    ]);
  });

  it("refuses a bundle whose final.changedFiles disagree with the patch, before reading the head", async () => {
    const patch = readFileSync(path.join(GITHUB, "final.patch"), "utf8");
    const got = refusalWrites();
    const outcome = await publishResults(client, target, results(["src/other.py"]), patch);
    expect(outcome.refused).toEqual([
      expect.stringMatching(/^final\.patch changes "src\/textstats\.py", which results\.json does not list/),
      expect.stringMatching(/^results\.json lists "src\/other\.py" in final\.changedFiles, but final\.patch/),
    ]);
    expect((got.check.output as { summary: string }).summary).toContain("src/other.py");
  });

  it("refuses a patch to .github/workflows and one outside the config's `paths` or inside `protect`", async () => {
    const workflow = readFileSync(path.join(SURFACE, "touches-workflow.patch"), "utf8");
    await expect(
      checkPatch(workflow, DEFAULT_POLICY, { changedFiles: [".github/workflows/ci.yml"], acceptedRounds: 1 }),
    ).rejects.toMatchObject({ problems: [expect.stringContaining("is under .github/")] });
    const patch = readFileSync(path.join(GITHUB, "final.patch"), "utf8");
    const outside = patchPolicyFromConfig({ paths: ["lib/**"] });
    await expect(checkPatch(patch, outside)).rejects.toMatchObject({
      problems: [expect.stringContaining("outside the editable paths (lib/**)")],
    });
    const protectedPolicy = patchPolicyFromConfig({ protect: ["src/textstats.py"] });
    await expect(checkPatch(patch, protectedPolicy)).rejects.toMatchObject({
      problems: [expect.stringContaining("matches the protected glob src/textstats.py")],
    });
  });

  it("accepts a file the runner declared left out of the patch", async () => {
    const patch = `# perfloop: data/blob.bin left out of this patch: it is binary or not UTF-8 text\n${readFileSync(path.join(GITHUB, "final.patch"), "utf8")}`;
    const files = await checkPatch(patch, DEFAULT_POLICY, {
      changedFiles: ["data/blob.bin", "src/textstats.py"],
      acceptedRounds: 1,
    });
    expect(files.map((f) => f.newPath)).toEqual(["src/textstats.py"]);
  });

  it("refuses a file over the config's byte cap after applying it, with reads only", async () => {
    const patch = readFileSync(path.join(GITHUB, "final.patch"), "utf8");
    const before = readFileSync(path.join(GITHUB, "textstats.before.py"), "utf8");
    headTree({ "src/textstats.py": "100644" });
    nock("https://api.github.com")
      .get("/repos/o/r/git/blobs/b0")
      .reply(200, { content: Buffer.from(before).toString("base64"), encoding: "base64" });
    const got = refusalWrites();
    const outcome = await publishResults(client, target, results(["src/textstats.py"]), patch, {
      config: { limits: { max_file_bytes: 100 } },
    });
    expect(outcome.refused).toEqual([
      expect.stringMatching(/^src\/textstats\.py would be \d+ bytes; files larger than 100 bytes/),
    ]);
    expect(got.check).toMatchObject({ conclusion: "failure" });
  });

  it("refuses a path under a directory that is a symbolic link at the head", async () => {
    const patch = readFileSync(path.join(GITHUB, "final.patch"), "utf8");
    headTree({ src: "120000" });
    refusalWrites();
    const outcome = await publishResults(client, target, results(["src/textstats.py"]), patch);
    expect(outcome.refused).toEqual([
      "final.patch does not apply to 9f3b4a2: src/textstats.py lies under src, which is a symbolic link at the head commit, not a directory.",
    ]);
  });
});

describe("the policy a bundle is checked against", () => {
  it("reads the config leniently and scales the per-candidate caps by the accepted rounds", () => {
    expect(patchPolicyFromConfig({})).toEqual(DEFAULT_POLICY);
    expect(patchPolicyFromConfig(undefined)).toEqual({
      ...DEFAULT_POLICY,
      maxFiles: 1000,
      maxChangedLines: 100_000,
      maxFileBytes: 10_000_000,
    });
    const policy = patchPolicyFromConfig({
      paths: ["src/**", 3],
      protect: "src/vendored/**",
      benchmark: { files: ["perf/run.py"], command: "x" },
      limits: { max_files: 3, max_changed_lines: "many", max_file_bytes: 1e12 },
      a_key_only_a_newer_runner_knows: true,
    });
    expect(policy).toMatchObject({
      paths: ["src/**"],
      protect: ["src/vendored/**"],
      benchmarkFiles: ["perf/run.py"],
      maxFiles: 3,
      maxChangedLines: 400,
      maxFileBytes: 10_000_000,
    });
    expect(policyForPatch(policy, 2)).toMatchObject({
      maxFiles: 6,
      maxChangedLines: 800,
      maxFileBytes: 10_000_000,
    });
    expect(policyForPatch(policy, 0).maxFiles).toBe(3);
    expect(claimsOf(results(["a.py"]))).toEqual({ changedFiles: ["a.py"], acceptedRounds: 1 });
  });
});
