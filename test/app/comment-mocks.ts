/**
 * Mock sequences shared by the `/optimize` comment tests: the delivery, the calls every accepted
 * comment starts with (for one or many deliveries, any commenter), the full dispatch path (for any
 * request id), reply capture, and the "already running" answer with its lookup.
 */
import type nock from "nock";
import type { Probot } from "probot";
import {
  API,
  CHECKS_QUERY,
  checkRun,
  checkRuns,
  fixture,
  fixtureText,
  HEAD,
  mockConfig,
  REPO,
} from "./helpers.ts";

/** The delivery GUID of the comments (hence the request id of the runs they start). */
export const DELIVERY = "7c1d5a40-2f3e-11f1-9a5b-0b6c8e1f2a3d";

/** Delivers an issue_comment.created with `body` from `sender`. */
export async function comment(
  probot: Probot,
  body: string,
  edit: (p: ReturnType<typeof fixture>) => void = () => {},
  id = DELIVERY,
) {
  const payload = fixture("issue_comment.created.json");
  payload.comment.body = body;
  edit(payload);
  await probot.receive({ id, name: "issue_comment", payload });
}

/** An edit of the comment payload that makes `login` (a person) the commenter. */
export function by(login: string): (p: ReturnType<typeof fixture>) => void {
  return (p) => {
    p.sender = { ...p.sender, login, type: "User" };
  };
}

/**
 * The calls every accepted comment starts with: 👀, config, permission, the PR (`times` times each,
 * for that many deliveries; `login` is the commenter).
 */
export function accepted(
  scope: nock.Scope,
  opts: {
    role?: string;
    pull?: (p: ReturnType<typeof fixture>) => void;
    times?: number;
    login?: string;
  } = {},
) {
  const times = opts.times ?? 1;
  const login = opts.login ?? "Codertocat";
  scope
    .post(`${REPO}/issues/comments/492700400/reactions`, { content: "eyes" })
    .times(times)
    .reply(201, { id: 1, content: "eyes" });
  if (times === 1) mockConfig(scope);
  else
    scope.get(`${REPO}/contents/.github%2Fperfloop.yml`).times(times).reply(200, fixtureText("perfloop.yml"));
  scope
    .get(`${REPO}/collaborators/${login}/permission`)
    .times(times)
    .reply(200, {
      permission: opts.role === "read" ? "read" : "write",
      role_name: opts.role ?? "write",
      user: { login },
    });
  const pull = fixture("pulls.get.json");
  opts.pull?.(pull);
  scope.get(`${REPO}/pulls/2`).times(times).reply(200, pull);
}

/** Captures the body of the comment posted on PR #2. */
export function replyCapture(scope: nock.Scope): { body: string } {
  const got = { body: "" };
  scope
    .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
      got.body = b.body;
      return true;
    })
    .reply(201, { id: 99, html_url: "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-99" });
  return got;
}

/**
 * The "already running" answer: the lookup of an earlier answer among the PR's comments (none, or
 * `existing`), then the reply, captured.
 */
export function answerCapture(scope: nock.Scope, existing: unknown[] = []): { body: string } {
  scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, existing);
  return replyCapture(scope);
}

/** The full dispatch path after the checks: list, workflow, create, list, dispatch, phase, sticky. */
export function dispatchPath(
  scope: nock.Scope,
  sent: { dispatch?: unknown; sticky?: string; check?: unknown },
  request: { id?: string; checkRun?: number } = {},
) {
  const requestId = request.id ?? DELIVERY;
  const checkRunId = request.checkRun ?? 501;
  scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(CHECKS_QUERY).reply(200, checkRuns());
  scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
  scope
    .post(`${REPO}/check-runs`, (b: Record<string, unknown>) => {
      sent.check = b;
      return true;
    })
    .reply(201, checkRun(checkRunId, { external_id: requestId }));
  scope
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query(CHECKS_QUERY)
    .reply(200, checkRuns(checkRun(checkRunId, { external_id: requestId })));
  scope
    .post(`${REPO}/actions/workflows/perfloop.yml/dispatches`, (b: unknown) => {
      sent.dispatch = b;
      return true;
    })
    .reply(200, {
      workflow_run_id: 30433642,
      run_url: `${API}${REPO}/actions/runs/30433642`,
      html_url: "https://github.com/Codertocat/Hello-World/actions/runs/30433642",
    });
  scope.patch(`${REPO}/check-runs/${checkRunId}`).reply(200, checkRun(checkRunId));
  scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, []);
  scope
    .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
      sent.sticky = b.body;
      return true;
    })
    .reply(201, { id: 77, html_url: "https://github.com/Codertocat/Hello-World/pull/2#issuecomment-77" });
}
