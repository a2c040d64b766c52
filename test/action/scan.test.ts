/**
 * The Action end to end in mode scan: the first scan optimizes the default branch's tip, pushes the
 * follow-up branch (named from the patch's hash) and opens the PR, and creates the tracking issue
 * (a passer-by's look-alike issue is ignored); the second scan (replaying the first's loop run) finds
 * the issue, reads the trend back from its hidden data, refuses to propose the same change again
 * while its PR is open, and updates the issue.
 */
import { readFile, rm } from "node:fs/promises";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { octokitFactory } from "../../src/action/deps.ts";
import { main } from "../../src/action/main.ts";
import { scanBranch } from "../../src/action/scan/follow-up.ts";
import { TRACKING_MARKER } from "../../src/action/scan/tracking-issue.ts";
import { decodeHistory } from "../../src/action/scan/trend.ts";
import { runPerfloop } from "../../src/core/loop/run.ts";
import { GOOD_PATCH, scriptModel } from "../helpers/example.ts";
import {
  API,
  API_KEY,
  type Fixture,
  makeFixture,
  OWNER,
  REPO,
  readOutputs,
  recordingCore,
  replayLoop,
  repoGit,
  setEnv,
  stepEnv,
  TOKEN,
} from "./helpers.ts";

const PATH = `/repos/${OWNER}/${REPO}`;
const ISSUES_QUERY = { state: "open", sort: "updated", direction: "desc", per_page: "100" };
let fx: Fixture;
let restore: () => void = () => {};
const unmatched: string[] = [];
nock.emitter.on("no match", (req: { method?: string; path?: string }) =>
  unmatched.push(`${req.method} ${req.path}`),
);
/** What the first scan left: its evidence, the issue body, the follow-up branch. */
const first = { evidence: "", issueBody: "", branch: "" };

beforeAll(async () => {
  fx = await makeFixture();
  nock.disableNetConnect();
});
afterEach(() => {
  restore();
  nock.cleanAll();
  unmatched.length = 0;
  process.exitCode = undefined;
});
afterAll(async () => {
  nock.enableNetConnect();
  await rm(fx.root, { recursive: true, force: true });
});

/**
 * The performance history on the data branch (src/publish/history-store.ts): no branch yet when read
 * before the run; after it, the line is committed as the branch's root commit.
 * @returns what was appended (the blob's text).
 */
function historyMocks(api: nock.Scope): { appended: string } {
  const seen = { appended: "" };
  api.get(`${PATH}/git/ref/heads%2Fperfloop-data`).times(2).reply(404, { message: "Not Found" });
  api
    .post(`${PATH}/git/blobs`)
    .reply(201, { sha: "b".repeat(40) })
    .on("request", (_req: unknown, _i: unknown, body: string) => {
      if (body.includes('"encoding"')) seen.appended = (JSON.parse(body) as { content: string }).content;
    });
  api.post(`${PATH}/git/trees`).reply(201, { sha: "c".repeat(40) });
  api
    .post(
      `${PATH}/git/commits`,
      (b: { parents?: string[] }) => Array.isArray(b.parents) && b.parents.length === 0,
    )
    .reply(201, { sha: "d".repeat(40) });
  api.post(`${PATH}/git/refs`, { ref: "refs/heads/perfloop-data", sha: "d".repeat(40) }).reply(201, {});
  return seen;
}

async function runScan(runId: string, runLoop: typeof runPerfloop) {
  const inputs = { mode: "scan", rounds: "1", strategy: "llm", "api-key": API_KEY, "github-token": TOKEN };
  restore = setEnv(await stepEnv(fx, inputs, { GITHUB_RUN_ID: runId, GITHUB_EVENT_NAME: "schedule" }));
  const core = recordingCore();
  await main({
    core,
    upload: async () => ({ id: 77, size: 1 }),
    github: octokitFactory,
    env: process.env,
    runLoop,
  });
  return { core, outputs: await readOutputs(fx.outputFile) };
}

describe("mode scan", () => {
  it("first scan: opens the follow-up PR against main and creates the tracking issue", async () => {
    scriptModel([{ tool: "submit_patch", args: { patch: GOOD_PATCH, rationale: "suffix first" } }]);
    const got: Record<
      string,
      { body?: string; title?: string; head?: string; base?: string; draft?: boolean }
    > = {};
    const capture = (key: string) => (body: (typeof got)[string]) => {
      got[key] = body;
      return true;
    };
    const api = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
    const history = historyMocks(api);
    api
      .get(`${PATH}/issues`)
      .query(ISSUES_QUERY)
      .reply(200, [
        // A passer-by's look-alike: same title and marker, but no write access. Never taken over.
        {
          number: 3,
          title: "perfloop scan",
          body: `${TRACKING_MARKER}\n<!-- perfloop:scan-data {"v":1,"history":[]} -->`,
          html_url: "https://github.com/octo/textstats/issues/3",
          user: { type: "User" },
          author_association: "NONE",
        },
      ]);
    api.get(`${PATH}/pulls`).query({ state: "open", per_page: "100" }).reply(200, []);
    api
      .get(`${PATH}/pulls`)
      .query((q) => q.state === "closed")
      .reply(200, []);
    api
      .post(`${PATH}/pulls`, capture("pull"))
      .reply(201, { number: 21, html_url: `https://github.com/${OWNER}/${REPO}/pull/21` });
    api
      .post(`${PATH}/issues`, capture("issue"))
      .reply(201, { number: 20, html_url: `https://github.com/${OWNER}/${REPO}/issues/20` });

    const run = await runScan("5001", runPerfloop);
    // The scan's line went to the performance history, on the data branch's first commit.
    expect(JSON.parse(history.appended.trim())).toMatchObject({ schema: "perfloop.history/v1", kind: "run" });
    expect(run.core.failures).toEqual([]);
    expect({ pending: api.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
    first.evidence = path.join(fx.runnerTemp, "perfloop", "scan-5001-1", "evidence");
    const results = JSON.parse(await readFile(path.join(first.evidence, "results.json"), "utf8"));
    expect(results.status, results.message).toBe("improved");
    expect(results.request).toMatchObject({
      trigger: "schedule",
      headSha: fx.baseSha,
      requestId: "scan-5001-1",
    });

    // The follow-up branch: named from the patch's hash, one commit on main's tip, pushed, PR against main.
    const patch = await readFile(path.join(first.evidence, "final.patch"), "utf8");
    first.branch = scanBranch(patch);
    expect(first.branch).toMatch(/^perfloop\/scan-[0-9a-f]{12}$/);
    expect(repoGit(fx, "rev-parse", `${first.branch}^`)).toBe(fx.baseSha);
    expect(repoGit(fx, "log", "-1", "--format=%an%n%B", first.branch)).toMatch(
      /^github-actions\[bot\]\nperf: perfloop's verified optimization of main\n\nPerfloop-Request: scan-5001-1/,
    );
    expect(repoGit(fx, "diff", "--name-only", `${fx.baseSha}..${first.branch}`)).toBe("textstats/stem.py");
    expect(got.pull).toMatchObject({ head: first.branch, base: "main", draft: true });
    expect(got.pull?.title).toMatch(/^perf: .*\(perfloop scan of main\)$/);

    // The tracking issue: title, marker first, hidden data (one scan), the trend, the report.
    const body = got.issue?.body ?? "";
    first.issueBody = body;
    expect(got.issue?.title).toBe("perfloop scan");
    expect(body.startsWith(`${TRACKING_MARKER}\n<!-- perfloop:scan-data {`)).toBe(true);
    const stored = decodeHistory(body);
    expect(stored.note).toBeNull();
    expect(stored.history).toHaveLength(1);
    expect(stored.history[0]).toMatchObject({
      sha: fx.baseSha,
      status: "improved",
      metric: results.benchmark.metric,
    });
    expect(body).toContain("| first scan |");
    expect(body).toContain("**Follow-up PR:** #21");
    expect(body).toMatch(/### Report of the latest scan\n\n/);
    expect(run.outputs["tracking-issue"]).toBe(`https://github.com/${OWNER}/${REPO}/issues/20`);
    expect(run.outputs["follow-up-pr"]).toBe(`https://github.com/${OWNER}/${REPO}/pull/21`);
  });

  it("second scan: updates the issue with the trend and does not propose the open change again", async () => {
    if (!first.evidence) throw new Error("needs the first scan");
    let body = "";
    const api = nock(API);
    historyMocks(api);
    api
      .get(`${PATH}/issues`)
      .query(ISSUES_QUERY)
      .reply(200, [
        {
          number: 20,
          title: "perfloop scan",
          body: first.issueBody,
          html_url: `https://github.com/${OWNER}/${REPO}/issues/20`,
          user: { type: "Bot" },
          author_association: "NONE",
        },
      ]);
    api
      .get(`${PATH}/pulls`)
      .query({ state: "open", per_page: "100" })
      .reply(200, [
        { number: 21, head: { ref: first.branch, repo: { full_name: `${OWNER}/${REPO}` } } },
        { number: 9, head: { ref: "feature", repo: { full_name: `${OWNER}/${REPO}` } } },
      ]);
    api
      .patch(`${PATH}/issues/20`, (b: { body: string }) => {
        body = b.body;
        return true;
      })
      .reply(200, { number: 20, html_url: `https://github.com/${OWNER}/${REPO}/issues/20` });

    const branchesBefore = repoGit(fx, "branch", "--list");
    const run = await runScan("5002", replayLoop(first.evidence));
    expect(run.core.failures).toEqual([]);
    expect({ pending: api.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
    expect(repoGit(fx, "branch", "--list")).toBe(branchesBefore);

    const stored = decodeHistory(body);
    expect(stored.history.map((h) => h.sha)).toEqual([fx.baseSha, fx.baseSha]);
    // Two scans of one commit: never a change, however the medians moved.
    expect(body).toMatch(/\| [−+]?\d+\.\d%, within the intervals \(no change shown\) \|/);
    expect(body).toContain("| first scan |");
    expect(body).toContain(
      "**Follow-up PR:** not opened: the same change is already proposed in a pull request that is still open (#21).",
    );
    expect(run.outputs["follow-up-pr"] ?? "").toBe("");
  });
});
