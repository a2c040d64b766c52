/**
 * workflow_run.completed through `probot.receive` (GitHub's workflow_run payload shape): results
 * collected from the artifact and published — success with the follow-up PR, neutral, failure,
 * cancelled. Every expected API call must happen, and no other.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { api, eachTestProbot, fixture, fixtureText, HEAD, REPO, REQUEST_ID, zip } from "./helpers.ts";
import { artifact, completed as deliver, finish, RUN_URL, results, start } from "./results-mocks.ts";

let probot: Probot;
const completed = (conclusion?: string, edit?: Parameters<typeof deliver>[2]) =>
  deliver(probot, conclusion, edit);

eachTestProbot((p) => {
  probot = p;
});

describe("fixtures", () => {
  it("results.improved.json is a valid perfloop.results/v1 bundle for the fixtures' request", () => {
    const r = parseResults(fixture("results.improved.json"));
    expect(r.request).toMatchObject({ requestId: REQUEST_ID, headSha: HEAD, pr: 2 });
  });
});

describe("workflow_run.completed", () => {
  it("publishes an improvement: follow-up draft PR through the git data API, success, annotations, sticky report", async () => {
    const scope = api();
    start(scope);
    artifact(
      scope,
      zip({
        "results.json": JSON.stringify(results()),
        "report.md": "# report",
        "final.patch": fixtureText("final.patch"),
      }),
    );
    scope
      .get(`${REPO}/git/trees/${HEAD}`)
      .query({ recursive: "1" })
      .reply(200, {
        sha: "tree0",
        truncated: false,
        tree: [{ path: "src/textstats.py", mode: "100644", type: "blob", sha: "blob0" }],
      });
    scope.get(`${REPO}/git/blobs/blob0`).reply(200, {
      sha: "blob0",
      encoding: "base64",
      content: Buffer.from(fixtureText("textstats.before.py")).toString("base64"),
    });
    let blob = "";
    scope
      .post(`${REPO}/git/blobs`, (b: { content: string }) => {
        blob = Buffer.from(b.content, "base64").toString("utf8");
        return true;
      })
      .reply(201, { sha: "blob1" });
    scope
      .post(`${REPO}/git/trees`, {
        base_tree: "tree0",
        tree: [{ path: "src/textstats.py", mode: "100644", type: "blob", sha: "blob1" }],
      })
      .reply(201, { sha: "tree1" });
    let commit: { message?: string; parents?: string[] } = {};
    scope
      .post(`${REPO}/git/commits`, (b: typeof commit) => {
        commit = b;
        return true;
      })
      .reply(201, { sha: "c0ffee0000000000000000000000000000000001" });
    scope
      .post(`${REPO}/git/refs`, {
        ref: "refs/heads/perfloop/pr-2-ec26c3e",
        sha: "c0ffee0000000000000000000000000000000001",
      })
      .reply(201, {});
    scope
      .get(`${REPO}/pulls`)
      .query({ state: "open", head: "Codertocat:perfloop/pr-2-ec26c3e", per_page: "1" })
      .reply(200, []);
    let pr: Record<string, unknown> = {};
    scope
      .post(`${REPO}/pulls`, (b: Record<string, unknown>) => {
        pr = b;
        return true;
      })
      .reply(201, { number: 3, html_url: "https://github.com/Codertocat/Hello-World/pull/3" });
    const got = finish(scope);

    await completed();

    expect(blob).toBe(fixtureText("textstats.after.py"));
    expect(commit.parents).toEqual([HEAD]);
    expect(commit.message).toContain(`Perfloop-Request: ${REQUEST_ID}`);
    expect(pr).toMatchObject({ head: "perfloop/pr-2-ec26c3e", base: "changes", draft: true });
    expect(String(pr.body)).toContain("How to reproduce");
    expect(String(pr.body)).toContain(RUN_URL);
    expect(got.check).toMatchObject({ status: "completed", conclusion: "success", details_url: RUN_URL });
    const output = got.check.output as { title: string; annotations: Array<Record<string, unknown>> };
    expect(output.title).toMatch(/^Improved/);
    expect(output.annotations).toHaveLength(2);
    expect(output.annotations[0]).toMatchObject({
      path: "src/textstats.py",
      start_line: 3,
      end_line: 3,
      annotation_level: "notice",
    });
    expect(got.sticky).toMatch(/^<!-- perfloop:sticky -->\n## perfloop · improved/);
    expect(got.sticky).toContain("Follow-up PR:** #3");
    expect(got.sticky).toContain(`${RUN_URL}/artifacts/777`);
  });
  it("concludes neutral for no significant improvement, without a follow-up PR", async () => {
    const scope = api();
    start(scope);
    const r = results((x) => {
      x.status = "no-improvement";
      x.final.primary.verdict = "no significant change";
      x.message = "no candidate cleared the gate";
    });
    artifact(scope, zip({ "results.json": JSON.stringify(r), "final.patch": fixtureText("final.patch") }));
    const got = finish(scope, "edit");
    await completed();
    expect(got.check).toMatchObject({ conclusion: "neutral" });
    expect(got.sticky).toContain("no improvement");
    expect(got.sticky).not.toContain("Follow-up PR");
  });
  it("concludes failure when the baseline failed (results of a failed run are still published)", async () => {
    const scope = api();
    start(scope);
    const r = results((x) => {
      x.status = "baseline-failed";
      x.final = null;
      x.message = "tests fail on the unmodified code: 2 failed <img src=x onerror=alert(1)> @everyone";
    });
    artifact(scope, zip({ "results.json": JSON.stringify(r) }));
    const got = finish(scope);
    await completed("failure");
    expect(got.check).toMatchObject({ conclusion: "failure" });
    expect(got.sticky).toContain("baseline failed");
    expect(got.sticky).not.toContain("<img");
    expect(got.sticky).not.toMatch(/@everyone/);
  });
  it("reports a failed run without an artifact, quoting the runner's error (an invalid config)", async () => {
    const scope = api();
    start(scope);
    scope
      .get(`${REPO}/actions/runs/30433642/artifacts`)
      .query(true)
      .reply(200, { total_count: 0, artifacts: [] });
    // The job's error annotation: what core.setFailed wrote (recorded shape of "List check run annotations").
    scope
      .get(`${REPO}/actions/runs/30433642/jobs`)
      .query(true)
      .reply(200, { total_count: 1, jobs: [{ id: 991, name: "optimize" }] });
    scope
      .get(`${REPO}/check-runs/991/annotations`)
      .query(true)
      .reply(200, [
        {
          path: ".github",
          annotation_level: "failure",
          message:
            'the config .github/perfloop.yml is invalid:\n  - `rounds`: found "many", expected an integer from 1 to 50',
        },
        { path: ".github", annotation_level: "failure", message: "Process completed with exit code 1." },
      ]);
    const got = finish(scope);
    await completed("failure");
    expect(got.check).toMatchObject({ conclusion: "failure" });
    expect(got.sticky).toContain('ended with "failure"');
    expect(got.sticky).toContain(`perfloop-${REQUEST_ID}`);
    expect(got.sticky).toMatch(/The runner said: the config \.github\/perfloop\.yml is invalid/);
    expect(got.sticky).toMatch(/rounds.{0,4}: found .{0,6}many.{0,6}, expected an integer from 1 to 50/);
    expect(got.sticky).not.toContain("Process completed with exit code");
  });
  it("concludes cancelled for a cancelled run", async () => {
    const scope = api();
    start(scope);
    const got = finish(scope, "edit");
    await completed("cancelled");
    expect(got.check).toMatchObject({ status: "completed", conclusion: "cancelled" });
    expect(got.sticky).toContain("cancelled");
  });
});
