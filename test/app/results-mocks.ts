/**
 * Mock sequences shared by the workflow_run tests: the results fixture, the delivery, the calls
 * every completed run starts with, the artifact (listing + redirect + download), and the capture
 * of the check-run conclusion and the sticky comment.
 */
import nock from "nock";
import type { Probot } from "probot";
import { CHECKS_QUERY, checkRun, checkRuns, fixture, HEAD, mockConfig, REPO, REQUEST_ID } from "./helpers.ts";

export const RUN_URL = "https://github.com/Codertocat/Hello-World/actions/runs/30433642";
export const BLOB_HOST = "https://pipelines.actions.githubusercontent.com";

/** The results fixture, edited. */
export function results(edit: (r: ReturnType<typeof fixture>) => void = () => {}) {
  const r = fixture("results.improved.json");
  edit(r);
  return r;
}

/** Delivers workflow_run.completed with `conclusion`. */
export async function completed(
  probot: Probot,
  conclusion = "success",
  edit: (p: ReturnType<typeof fixture>) => void = () => {},
) {
  const payload = fixture("workflow_run.completed.json");
  payload.workflow_run.conclusion = conclusion;
  edit(payload);
  await probot.receive({ id: "a1b2c3d4-0000-11f1-8000-000000000001", name: "workflow_run", payload });
}

/** The first calls of every completed run: the request's check run, the PR, the config. */
export function start(scope: nock.Scope) {
  scope
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query(CHECKS_QUERY)
    .reply(200, checkRuns(checkRun(501, { status: "in_progress", details_url: RUN_URL })));
  scope.get(`${REPO}/pulls/2`).reply(200, fixture("pulls.get.json"));
  mockConfig(scope);
}

/**
 * Lists the artifact of request `requestId` (with `size`) and serves `body` through the redirect
 * GitHub answers with.
 */
export function artifact(
  scope: nock.Scope,
  body: Buffer | null,
  size = body?.length ?? 0,
  requestId = REQUEST_ID,
) {
  scope
    .get(`${REPO}/actions/runs/30433642/artifacts`)
    .query({ name: `perfloop-${requestId}`, per_page: "10" })
    .reply(200, {
      total_count: 1,
      artifacts: [{ id: 777, name: `perfloop-${requestId}`, size_in_bytes: size, expired: false }],
    });
  if (body === null) return;
  scope
    .get(`${REPO}/actions/artifacts/777/zip`)
    .reply(302, "", { Location: `${BLOB_HOST}/artifact/777.zip?sig=secret` });
  nock(BLOB_HOST)
    .get("/artifact/777.zip")
    .query(true)
    .reply(200, body, { "Content-Type": "application/zip" });
}

/** Captures the check-run conclusion and the sticky comment. */
export function finish(scope: nock.Scope, sticky: "create" | "edit" = "create") {
  const got: { check: Record<string, unknown>; sticky: string } = { check: {}, sticky: "" };
  scope
    .patch(`${REPO}/check-runs/501`, (b: Record<string, unknown>) => {
      got.check = b;
      return true;
    })
    .reply(200, {});
  const existing =
    sticky === "edit"
      ? [{ id: 77, body: "<!-- perfloop:sticky -->\nrunning", user: { type: "Bot" }, html_url: "x" }]
      : [];
  scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, existing);
  const capture = (b: { body: string }) => {
    got.sticky = b.body;
    return true;
  };
  if (sticky === "edit")
    scope.patch(`${REPO}/issues/comments/77`, capture).reply(200, { id: 77, html_url: "u" });
  else scope.post(`${REPO}/issues/2/comments`, capture).reply(201, { id: 78, html_url: "u" });
  return got;
}
