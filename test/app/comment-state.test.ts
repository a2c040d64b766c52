/**
 * `/optimize` comments against existing state (check runs on the head commit): redeliveries, a
 * second command while a run is active, a concurrent request that must yield, stale check runs,
 * and `cancel`. Every expected API call is mocked and must happen, and no other request may be made.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { accepted, answerCapture, DELIVERY, comment as deliver, replyCapture } from "./comment-mocks.ts";
import { api, CHECKS_QUERY, checkRun, checkRuns, eachTestProbot, fixture, HEAD, REPO } from "./helpers.ts";

let probot: Probot;
const comment = (body: string, edit?: Parameters<typeof deliver>[2], id?: string) =>
  deliver(probot, body, edit, id);

eachTestProbot((p) => {
  probot = p;
});

describe("/optimize against the check-run state", () => {
  it("does nothing on a redelivery of the same event (its check run exists)", async () => {
    const scope = api();
    accepted(scope);
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(501, { external_id: DELIVERY, status: "in_progress" })));
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
    await comment("/optimize");
  });
  it("replies with the link to the active run for a second /optimize", async () => {
    const scope = api();
    accepted(scope);
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(
        200,
        checkRuns(
          checkRun(480, {
            external_id: "other-request",
            status: "in_progress",
            details_url: "https://github.com/Codertocat/Hello-World/actions/runs/111",
          }),
        ),
      );
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
    const reply = answerCapture(scope);
    await comment("/optimize");
    expect(reply.body).toContain("already running");
    expect(reply.body).toContain("https://github.com/Codertocat/Hello-World/actions/runs/111");
    expect(reply.body).toMatch(/^<!-- perfloop:already-running other-request asked=Codertocat -->\n/);
  });
  it("yields to an older request created concurrently: aliases its check run, replies, no dispatch", async () => {
    const scope = api();
    accepted(scope);
    scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(CHECKS_QUERY).reply(200, checkRuns());
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
    scope.post(`${REPO}/check-runs`).reply(201, checkRun(502, { external_id: DELIVERY }));
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(
        200,
        checkRuns(checkRun(502, { external_id: DELIVERY }), checkRun(501, { external_id: "winner-request" })),
      );
    let alias: unknown;
    scope
      .patch(`${REPO}/check-runs/502`, (b: unknown) => {
        alias = b;
        return true;
      })
      .reply(200, {});
    const reply = answerCapture(scope);
    await comment("/optimize");
    expect(alias).toMatchObject({ external_id: "winner-request" });
    expect(reply.body).toContain("already running");
  });
  it("concludes a stale active check run timed_out; it no longer blocks a new run", async () => {
    const scope = api();
    accepted(scope);
    const old = new Date(Date.now() - 48 * 3_600_000).toISOString();
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(400, { external_id: "old", status: "in_progress", started_at: old })));
    let stale: Record<string, unknown> = {};
    scope
      .patch(`${REPO}/check-runs/400`, (b: Record<string, unknown>) => {
        stale = b;
        return true;
      })
      .reply(200, {});
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
    scope.post(`${REPO}/check-runs`).reply(201, checkRun(501, { external_id: DELIVERY }));
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(
        200,
        checkRuns(
          checkRun(501, { external_id: DELIVERY }),
          checkRun(400, {
            external_id: "old",
            status: "completed",
            conclusion: "timed_out",
            started_at: old,
          }),
        ),
      );
    scope.post(`${REPO}/actions/workflows/perfloop.yml/dispatches`).reply(204);
    scope.patch(`${REPO}/check-runs/501`).reply(200, {});
    scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, []);
    scope.post(`${REPO}/issues/2/comments`).reply(201, { id: 1, html_url: "u" });
    await comment("/optimize");
    expect(stale).toMatchObject({ status: "completed", conclusion: "timed_out" });
  });
  it("cancel: cancels the workflow run, concludes the check run cancelled, updates the sticky comment", async () => {
    const scope = api();
    accepted(scope);
    const runUrl = "https://github.com/Codertocat/Hello-World/actions/runs/30433642";
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(
        200,
        checkRuns(checkRun(501, { external_id: "req-1", status: "in_progress", details_url: runUrl })),
      );
    scope.post(`${REPO}/actions/runs/30433642/cancel`).reply(202, {});
    let concluded: Record<string, unknown> = {};
    scope
      .patch(`${REPO}/check-runs/501`, (b: Record<string, unknown>) => {
        concluded = b;
        return true;
      })
      .reply(200, {});
    scope
      .get(`${REPO}/issues/2/comments`)
      .query({ per_page: "100" })
      .reply(200, [
        {
          id: 77,
          body: "<!-- perfloop:sticky -->\nqueued",
          user: { login: "perfloop[bot]", type: "Bot" },
          html_url: "x",
        },
      ]);
    let sticky = "";
    scope
      .patch(`${REPO}/issues/comments/77`, (b: { body: string }) => {
        sticky = b.body;
        return true;
      })
      .reply(200, { id: 77, html_url: "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-77" });
    await comment("/optimize cancel");
    expect(concluded).toMatchObject({ status: "completed", conclusion: "cancelled", details_url: runUrl });
    expect(sticky).toContain("cancelled by @Codertocat");
  });
  it("cancel with nothing active replies so", async () => {
    const scope = api();
    accepted(scope);
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(400, { status: "completed", conclusion: "success" })));
    const reply = replyCapture(scope);
    await comment("/optimize cancel");
    expect(reply.body).toContain("no active perfloop run");
  });
});
