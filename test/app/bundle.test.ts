/**
 * Results bundles that must not be trusted (malformed, not a zip, oversized, another request's),
 * a report longer than GitHub's limits, redeliveries, foreign runs, and the in-progress phase.
 * Every expected API call must happen, and no other.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { COMMENT_MAX_CHARS } from "../../src/publish/index.ts";
import {
  api,
  CHECKS_QUERY,
  checkRun,
  checkRuns,
  eachTestProbot,
  fixture,
  HEAD,
  REPO,
  zip,
} from "./helpers.ts";
import { artifact, completed as deliver, finish, RUN_URL, results, start } from "./results-mocks.ts";

let probot: Probot;
const completed = (conclusion?: string, edit?: Parameters<typeof deliver>[2]) =>
  deliver(probot, conclusion, edit);

eachTestProbot((p) => {
  probot = p;
});

describe("workflow_run.completed: bundles and redeliveries", () => {
  it("refuses a malformed results.json and names the keys", async () => {
    const scope = api();
    start(scope);
    const r = results((x) => {
      x.status = "great";
      delete x.benchmark;
    });
    artifact(scope, zip({ "results.json": JSON.stringify(r) }));
    const got = finish(scope);
    await completed();
    expect(got.check).toMatchObject({ conclusion: "failure" });
    expect(got.sticky).toContain("does not match the results schema");
    expect(got.sticky).toContain("status");
  });
  it("refuses an artifact that is not a zip", async () => {
    const scope = api();
    start(scope);
    artifact(scope, Buffer.from("this is not a zip archive at all"));
    const got = finish(scope);
    await completed();
    expect(got.sticky).toContain("cannot be read");
  });
  it("refuses an oversized artifact without downloading it", async () => {
    const scope = api();
    start(scope);
    artifact(scope, null, 200 * 1024 * 1024);
    const got = finish(scope);
    await completed();
    expect(got.check).toMatchObject({ conclusion: "failure" });
    expect(got.sticky).toContain("over the App's limit");
  });
  it("refuses results.json of another request", async () => {
    const scope = api();
    start(scope);
    artifact(
      scope,
      zip({ "results.json": JSON.stringify(results((x) => (x.request.requestId = "someone-else"))) }),
    );
    const got = finish(scope);
    await completed();
    expect(got.sticky).toContain("belongs to another request");
  });
  it("keeps a report with very long results text under GitHub's comment limit", async () => {
    const scope = api();
    start(scope);
    const long = "x".repeat(20_000);
    const r = results((x) => {
      x.status = "no-improvement";
      x.message = long;
      x.rounds = Array.from({ length: 40 }, (_, k) => ({
        ...x.rounds[0],
        n: k + 1,
        outcome: "rejected",
        gate: "performance",
        rationale: long,
        reason: long,
      }));
      x.hotSpots = Array.from({ length: 200 }, (_, k) => ({
        ...x.hotSpots[0],
        line: k + 1,
        function: `f${k}_${"y".repeat(300)}`,
      }));
    });
    expect(() => parseResults(r)).not.toThrow();
    artifact(scope, zip({ "results.json": JSON.stringify(r) }));
    const got = finish(scope);
    await completed();
    expect(got.sticky.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(got.sticky).toContain("truncated");
    const output = got.check.output as { summary: string; text: string; annotations: unknown[] };
    expect(output.text.length).toBeLessThanOrEqual(65_535);
    expect(output.annotations).toHaveLength(50);
  });
  it("ignores a redelivery after the request was concluded", async () => {
    const scope = api();
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(501, { status: "completed", conclusion: "success" })));
    await completed();
  });
  it("ignores runs that are not perfloop dispatches", async () => {
    await completed("success", (p) => {
      p.workflow_run.display_title = "CI";
    });
    await completed("success", (p) => {
      p.workflow_run.event = "pull_request";
    });
  });
});

describe("workflow_run.in_progress", () => {
  it("shows the running phase and the run link on the check run and the sticky comment", async () => {
    const scope = api();
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(501)));
    let check: Record<string, unknown> = {};
    scope
      .patch(`${REPO}/check-runs/501`, (b: Record<string, unknown>) => {
        check = b;
        return true;
      })
      .reply(200, {});
    scope
      .get(`${REPO}/issues/2/comments`)
      .query({ per_page: "100" })
      .reply(200, [{ id: 77, body: "<!-- perfloop:sticky -->\nq", user: { type: "Bot" }, html_url: "u" }]);
    let sticky = "";
    scope
      .patch(`${REPO}/issues/comments/77`, (b: { body: string }) => {
        sticky = b.body;
        return true;
      })
      .reply(200, { id: 77, html_url: "u" });
    await probot.receive({
      id: "in-progress-1",
      name: "workflow_run",
      payload: fixture("workflow_run.in_progress.json"),
    });
    expect(check).toMatchObject({ status: "in_progress", details_url: RUN_URL });
    expect(sticky).toContain("running");
    expect(sticky).toContain(RUN_URL);
  });

  it("requested, after a dispatch that returned the run link, changes nothing", async () => {
    api()
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(501, { details_url: RUN_URL })));
    const payload = fixture("workflow_run.in_progress.json");
    payload.action = "requested";
    payload.workflow_run.status = "queued";
    await probot.receive({ id: "requested-1", name: "workflow_run", payload });
  });

  it("cancels a run whose request was cancelled before it started", async () => {
    const scope = api();
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(501, { status: "completed", conclusion: "cancelled" })));
    scope.post(`${REPO}/actions/runs/30433642/cancel`).reply(202, {});
    await probot.receive({
      id: "in-progress-2",
      name: "workflow_run",
      payload: fixture("workflow_run.in_progress.json"),
    });
  });
});
