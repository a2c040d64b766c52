/**
 * The performance gate's App trigger (docs/github-app.md, "The performance gate") through
 * `probot.receive`: a push to a pull request (`pull_request.synchronize`) with `app.gate: true`
 * creates the `perfloop gate` check run and dispatches with `mode: gate` and the PR's base, without
 * a comment; nothing happens with the gate off, for a fork or a bot not allowed, or on a
 * redelivery; `workflow_run` events and the runner's live checklist of a `gate-…` request touch
 * the gate's check run only, and its results conclude it (the report goes into the sticky comment).
 * Every expected API call must happen, and no other.
 */

import type nock from "nock";
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { createAppMemory } from "../../src/app/app-memory.ts";
import { onCheckRunCreated } from "../../src/app/handlers.ts";
import {
  api,
  checkRun,
  checkRuns,
  eachTestProbot,
  fixture,
  fixtureText,
  HEAD,
  makeProbot,
  mockConfig,
  REPO,
  zip,
} from "./helpers.ts";
import { artifact, finish, RUN_URL, results } from "./results-mocks.ts";

const DELIVERY = "3a4b5c6d-7e8f-11f1-9a0b-1c2d3e4f5a6b";
const GATE_ID = `gate-${DELIVERY}`;
const BASE = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e";
const GATE_QUERY = { check_name: "perfloop gate", filter: "all", per_page: "100" };
const GATE_ON = `${fixtureText("perfloop.yml")}  gate: true\n`;

let probot: Probot;

eachTestProbot((p) => {
  probot = p;
});

async function pushed(edit: (p: ReturnType<typeof fixture>) => void = () => {}, id = DELIVERY) {
  const payload = fixture("pull_request.synchronize.json");
  edit(payload);
  await probot.receive({ id, name: "pull_request", payload });
}

/** The calls of a gate that starts: config, the gate's check runs, the workflow, the check run. */
function starting(scope: nock.Scope, workflow: "active" | "missing" = "active") {
  const got: { check: Record<string, unknown> } = { check: {} };
  mockConfig(scope, GATE_ON);
  scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(GATE_QUERY).reply(200, checkRuns());
  if (workflow === "active")
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
  else scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(404, { message: "Not Found" });
  scope
    .post(`${REPO}/check-runs`, (b: Record<string, unknown>) => {
      got.check = b;
      return true;
    })
    .reply(201, checkRun(701, { name: "perfloop gate", external_id: GATE_ID }));
  return got;
}

/** Captures a PATCH of check run `id`. */
function patchCapture(scope: nock.Scope, id: number): { body: Record<string, unknown> } {
  const got = { body: {} as Record<string, unknown> };
  scope
    .patch(`${REPO}/check-runs/${id}`, (b: Record<string, unknown>) => {
      got.body = b;
      return true;
    })
    .reply(200, {});
  return got;
}

describe("pull_request.synchronize with app.gate", () => {
  it("creates the perfloop gate check run and dispatches mode gate with the PR's base, no comment", async () => {
    const scope = api();
    const got = starting(scope);
    let dispatch: { ref?: string; inputs?: Record<string, string> } = {};
    scope
      .post(`${REPO}/actions/workflows/perfloop.yml/dispatches`, (b: typeof dispatch) => {
        dispatch = b;
        return true;
      })
      .reply(204);
    await pushed();
    expect(got.check).toMatchObject({
      name: "perfloop gate",
      head_sha: HEAD,
      external_id: GATE_ID,
      status: "queued",
    });
    expect(dispatch.ref).toBe("master");
    expect(dispatch.inputs).toEqual({
      pr: "2",
      sha: HEAD,
      "request-id": GATE_ID,
      rounds: "",
      target: "",
      strategy: "",
      mode: "gate",
      base: BASE,
    });
  });

  it("links the run on the check run when GitHub returns it", async () => {
    const scope = api();
    starting(scope);
    scope
      .post(`${REPO}/actions/workflows/perfloop.yml/dispatches`)
      .reply(200, { workflow_run_id: 30433642, html_url: RUN_URL });
    const update = patchCapture(scope, 701);
    await pushed();
    expect(update.body).toMatchObject({ details_url: RUN_URL });
    expect(JSON.stringify(update.body)).toContain("performance gate");
  });

  it("reads only the config when app.gate is off (the default)", async () => {
    mockConfig(api());
    await pushed();
  });

  it("reads only the config for a fork's pull request without app.allow_forks", async () => {
    mockConfig(api(), GATE_ON);
    await pushed((p) => {
      p.pull_request.head.repo = { ...p.pull_request.head.repo, full_name: "someone/Hello-World" };
    });
  });

  it("reads only the config for a bot's pull request not in app.allow_bots", async () => {
    mockConfig(api(), GATE_ON);
    await pushed((p) => {
      p.pull_request.user = { ...p.pull_request.user, login: "renovate[bot]", type: "Bot" };
    });
  });

  it("ignores a redelivery", async () => {
    const scope = api();
    starting(scope);
    scope.post(`${REPO}/actions/workflows/perfloop.yml/dispatches`).reply(204);
    await pushed();
    await pushed();
  });

  it("does nothing when the gate's check run of this delivery exists", async () => {
    const scope = api();
    mockConfig(scope, GATE_ON);
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(GATE_QUERY)
      .reply(200, checkRuns(checkRun(701, { name: "perfloop gate", external_id: GATE_ID })));
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
    await pushed();
  });

  it("fails the check run, with no comment, when the workflow is missing", async () => {
    const scope = api();
    starting(scope, "missing");
    const end = patchCapture(scope, 701);
    await pushed();
    expect(end.body).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(JSON.stringify(end.body)).toContain("does not exist on the default branch");
  });

  it("fails the check run with GitHub's words when the dispatch is refused", async () => {
    const scope = api();
    starting(scope);
    scope
      .post(`${REPO}/actions/workflows/perfloop.yml/dispatches`)
      .reply(422, { message: 'Unexpected inputs provided: ["mode", "base"]' });
    const end = patchCapture(scope, 701);
    await pushed();
    expect(end.body).toMatchObject({ status: "completed", conclusion: "failure" });
    expect(JSON.stringify(end.body)).toContain("Unexpected inputs provided");
  });
});

describe("workflow_run of a gate", () => {
  const title = `perfloop #2 @ ${HEAD} [${GATE_ID}]`;
  const gateRun = (over: Record<string, unknown> = {}) =>
    checkRun(501, { name: "perfloop gate", external_id: GATE_ID, status: "in_progress", ...over });

  it("in_progress: shows the phase on the gate's check run only", async () => {
    const scope = api();
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(GATE_QUERY)
      .reply(200, checkRuns(gateRun({ status: "queued" })));
    const update = patchCapture(scope, 501);
    const payload = fixture("workflow_run.in_progress.json");
    payload.workflow_run.display_title = title;
    await probot.receive({ id: "b2c3d4e5-0000-11f1-8000-000000000002", name: "workflow_run", payload });
    expect(update.body).toMatchObject({ status: "in_progress", details_url: RUN_URL });
  });

  it("completed: publishes the gate's results to its check run (no follow-up PR) and the report", async () => {
    const scope = api();
    scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(GATE_QUERY).reply(200, checkRuns(gateRun()));
    scope.get(`${REPO}/pulls/2`).reply(200, fixture("pulls.get.json"));
    mockConfig(scope, GATE_ON);
    const gateResults = results((r) => {
      r.mode = "gate";
      r.status = "passed";
      r.request.requestId = GATE_ID;
      r.gate = {
        base: { ref: "master", sha: BASE },
        head: { ref: "changes", sha: HEAD },
        thresholdPct: 5,
        verdict: "passed",
        reason: "the head is not slower than 5%",
        changePct: -1.2,
        ciPct: [-2.5, 0.3],
        grown: [],
      };
    });
    // A patch in a gate's bundle is never applied: no git call is mocked.
    const body = zip({
      "results.json": JSON.stringify(gateResults),
      "final.patch": fixtureText("final.patch"),
    });
    artifact(scope, body, body.length, GATE_ID);
    const got = finish(scope);
    // The head's line joins the performance history: no data branch yet, so a root commit.
    let appended = "";
    scope.get(`${REPO}/git/ref/heads%2Fperfloop-data`).reply(404, { message: "Not Found" });
    scope
      .post(`${REPO}/git/blobs`, (b: { content: string }) => {
        appended = b.content;
        return true;
      })
      .reply(201, { sha: "b".repeat(40) });
    scope.post(`${REPO}/git/trees`).reply(201, { sha: "c".repeat(40) });
    scope
      .post(`${REPO}/git/commits`, (b: { parents: string[] }) => b.parents.length === 0)
      .reply(201, { sha: "d".repeat(40) });
    scope.post(`${REPO}/git/refs`, { ref: "refs/heads/perfloop-data", sha: "d".repeat(40) }).reply(201, {});
    const payload = fixture("workflow_run.completed.json");
    payload.workflow_run.display_title = title;
    await probot.receive({ id: "a1b2c3d4-0000-11f1-8000-000000000009", name: "workflow_run", payload });
    expect(got.check).toMatchObject({ status: "completed", conclusion: "success" });
    expect(got.sticky).toContain(GATE_ID);
    expect(JSON.parse(appended.trim())).toMatchObject({ commit: HEAD, kind: "gate", pr: 2 });
  });
});

describe("live progress of a gate", () => {
  it("copies the runner's checklist into the gate's check run only, no comment", async () => {
    const memory = createAppMemory();
    const mirroring = makeProbot((app) => {
      app.on(
        "check_run.created",
        onCheckRunCreated({ memory, mirrorTiming: { intervalMs: 5, maxMs: 60_000 } }),
      );
    });
    const progress = (status: string) => ({
      id: 128620228,
      name: "perfloop progress",
      head_sha: HEAD,
      external_id: `2/${GATE_ID}`,
      status,
      conclusion: status === "completed" ? "neutral" : null,
      details_url: RUN_URL,
      output: { title: "perfloop is running", summary: "…", text: "- [x] base: bench\n- [ ] head: bench" },
    });
    const scope = api();
    scope.get(`${REPO}/check-runs/128620228`).reply(200, progress("in_progress"));
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(GATE_QUERY)
      .reply(
        200,
        checkRuns(checkRun(501, { name: "perfloop gate", external_id: GATE_ID, status: "in_progress" })),
      );
    const update = patchCapture(scope, 501);
    scope.get(`${REPO}/check-runs/128620228`).reply(200, progress("completed"));
    const payload = fixture("check_run.created.json");
    payload.check_run.external_id = `2/${GATE_ID}`;
    await mirroring.receive({ id: "progress-gate-1", name: "check_run", payload });
    for (let i = 0; i < 500 && memory.mirrors.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(memory.mirrors.size).toBe(0);
    expect(JSON.stringify(update.body)).toContain("head: bench");
    expect(update.body).toMatchObject({ status: "in_progress" });
  });
});
