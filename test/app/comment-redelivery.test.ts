/**
 * Redeliveries and repeats of `/optimize` through `probot.receive`: a storm of one delivery, a storm
 * of fresh deliveries while a run is active, a second asker, a restart, and a failed delivery that
 * is redelivered. Every expected API call is mocked and must happen, and no other request may be
 * made: an extra dispatch or comment fails the test.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { accepted, by, DELIVERY, comment as deliver, dispatchPath } from "./comment-mocks.ts";
import {
  api,
  CHECKS_QUERY,
  checkRun,
  checkRuns,
  eachTestProbot,
  fixture,
  HEAD,
  mockConfig,
  REPO,
} from "./helpers.ts";

let probot: Probot;
const comment = (body: string, edit?: Parameters<typeof deliver>[2], id?: string) =>
  deliver(probot, body, edit, id);

const RUN_111 = "https://github.com/Codertocat/Hello-World/actions/runs/111";
const ACTIVE = checkRuns(
  checkRun(480, { external_id: "other-request", status: "in_progress", details_url: RUN_111 }),
);

eachTestProbot((p) => {
  probot = p;
});

/** The state reads of `n` requests made while request "other-request" is active. */
function whileActive(scope: ReturnType<typeof api>, n: number) {
  scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(CHECKS_QUERY).times(n).reply(200, ACTIVE);
  scope
    .get(`${REPO}/actions/workflows/perfloop.yml`)
    .times(n)
    .reply(200, fixture("actions.get-workflow.json"));
}

/** Captures every comment posted on PR #2 (the answer gets id 99). */
function postedComments(scope: ReturnType<typeof api>): string[] {
  const bodies: string[] = [];
  scope
    .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
      bodies.push(b.body);
      return true;
    })
    .reply(201, { id: 99, html_url: "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-99" });
  return bodies;
}

describe("redeliveries and repeats", () => {
  it("the same delivery 20 times at once, then once more: one dispatch, no reply", async () => {
    const scope = api();
    accepted(scope);
    const sent: { dispatch?: unknown; sticky?: string } = {};
    dispatchPath(scope, sent);
    await Promise.all(Array.from({ length: 20 }, () => comment("/optimize --rounds 2")));
    await comment("/optimize --rounds 2");
    expect(sent.dispatch).toMatchObject({ inputs: { "request-id": DELIVERY, rounds: "2" } });
    expect(sent.sticky).toContain("queued on the GPU runner");
  });

  it("20 fresh deliveries of /optimize (each also redelivered) while a run is active: one reply, no dispatch", async () => {
    const scope = api();
    accepted(scope, { times: 20 });
    whileActive(scope, 20);
    scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, []);
    const posted = postedComments(scope);
    const ids = Array.from({ length: 20 }, (_, i) => `fresh-${i}`);
    await Promise.all([...ids, ...ids].map((id) => comment("/optimize", undefined, id)));
    expect(posted).toHaveLength(1);
    expect(posted[0]).toMatch(/^<!-- perfloop:already-running other-request asked=Codertocat -->\n/);
    expect(posted[0]).toContain("already running");
    expect(posted[0]).toContain(RUN_111);
  });

  it("a second person asking while the run is active: the answer is edited to name them", async () => {
    const scope = api();
    accepted(scope);
    whileActive(scope, 2);
    scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, []);
    const posted = postedComments(scope);
    await comment("/optimize", undefined, "ask-1");
    accepted(scope, { login: "hubot" });
    let edited = "";
    scope
      .patch(`${REPO}/issues/comments/99`, (b: { body: string }) => {
        edited = b.body;
        return true;
      })
      .reply(200, { id: 99 });
    await comment("/optimize", by("hubot"), "ask-2");
    expect(posted).toHaveLength(1);
    expect(edited).toMatch(/^<!-- perfloop:already-running other-request asked=Codertocat,hubot -->\n/);
    expect(edited).toContain("Asked again while it runs by @hubot");
  });

  it("after a restart, a repeat finds the earlier answer among the comments and adds none", async () => {
    const scope = api();
    accepted(scope);
    whileActive(scope, 1);
    scope
      .get(`${REPO}/issues/2/comments`)
      .query({ per_page: "100" })
      .reply(200, [
        {
          id: 99,
          body: "<!-- perfloop:already-running other-request asked=Codertocat -->\nperfloop is already running",
          user: { login: "perfloop[bot]", type: "Bot" },
          html_url: "x",
        },
      ]);
    await comment("/optimize");
  });

  it("a delivery whose handling failed is handled again when it is redelivered", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).reply(201, {});
    mockConfig(scope);
    scope.get(`${REPO}/collaborators/Codertocat/permission`).reply(502, { message: "Bad Gateway" });
    scope.get(`${REPO}/pulls/2`).reply(200, fixture("pulls.get.json"));
    await expect(comment("/optimize")).rejects.toThrow();
    accepted(scope);
    const sent: { dispatch?: unknown } = {};
    dispatchPath(scope, sent);
    await comment("/optimize");
    expect(sent.dispatch).toMatchObject({ inputs: { "request-id": DELIVERY } });
  });
});
