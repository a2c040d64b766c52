/**
 * The label trigger through `probot.receive` with GitHub's pull_request.labeled payload shape.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
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

const DELIVERY = "5e6f7a80-3b4c-11f1-8d9e-0a1b2c3d4e5f";
let probot: Probot;

eachTestProbot((p) => {
  probot = p;
});

async function labeled(name: string, edit: (p: ReturnType<typeof fixture>) => void = () => {}) {
  const payload = fixture("pull_request.labeled.json");
  payload.label.name = name;
  edit(payload);
  await probot.receive({ id: DELIVERY, name: "pull_request", payload });
}

describe("pull_request.labeled", () => {
  it("dispatches when the configured label is added, using the PR from the payload", async () => {
    const scope = api();
    mockConfig(scope);
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "admin", role_name: "maintain" });
    scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(CHECKS_QUERY).reply(200, checkRuns());
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(200, fixture("actions.get-workflow.json"));
    scope.post(`${REPO}/check-runs`).reply(201, checkRun(601, { external_id: DELIVERY }));
    scope
      .get(`${REPO}/commits/${HEAD}/check-runs`)
      .query(CHECKS_QUERY)
      .reply(200, checkRuns(checkRun(601, { external_id: DELIVERY })));
    let dispatch: { inputs?: Record<string, string> } = {};
    scope
      .post(`${REPO}/actions/workflows/perfloop.yml/dispatches`, (b: typeof dispatch) => {
        dispatch = b;
        return true;
      })
      .reply(204);
    scope.patch(`${REPO}/check-runs/601`).reply(200, {});
    scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, []);
    let sticky = "";
    scope
      .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
        sticky = b.body;
        return true;
      })
      .reply(201, { id: 1, html_url: "u" });
    await labeled("perfloop:optimize");
    expect(dispatch.inputs).toMatchObject({
      pr: "2",
      sha: HEAD,
      "request-id": DELIVERY,
      rounds: "",
      target: "",
      strategy: "",
    });
    expect(sticky).toContain("label perfloop:optimize");
    expect(sticky).toContain("appears here once it starts");
  });

  it("reads only the config for another label", async () => {
    const scope = api();
    mockConfig(scope);
    await labeled("bug");
  });

  it("honours a configured label name", async () => {
    const scope = api();
    mockConfig(
      scope,
      "test: pytest -q\nbenchmark:\n  command: python bench.py\napp:\n  label: speed-me-up\n",
    );
    await labeled("perfloop:optimize");
  });

  it("refuses a labeler without write permission", async () => {
    const scope = api();
    mockConfig(scope);
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "read", role_name: "triage" });
    let reply = "";
    scope
      .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
        reply = b.body;
        return true;
      })
      .reply(201, {});
    await labeled("perfloop:optimize");
    expect(reply).toContain("your permission: triage");
  });

  it("reports an invalid config when the default label is added", async () => {
    const scope = api();
    mockConfig(scope, "benchmark: {}\napp:\n  draft: maybe\n");
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "write", role_name: "write" });
    let reply = "";
    scope
      .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
        reply = b.body;
        return true;
      })
      .reply(201, {});
    await labeled("perfloop:optimize");
    expect(reply).toContain("is invalid");
    expect(reply).toContain("draft");
  });

  it("refuses a closed pull request", async () => {
    const scope = api();
    mockConfig(scope);
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "write", role_name: "write" });
    let reply = "";
    scope
      .post(`${REPO}/issues/2/comments`, (b: { body: string }) => {
        reply = b.body;
        return true;
      })
      .reply(201, {});
    await labeled("perfloop:optimize", (p) => {
      p.pull_request.state = "closed";
    });
    expect(reply).toContain("only on open pull requests");
  });
});
