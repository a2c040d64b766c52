/**
 * `/optimize` comments through `probot.receive` with GitHub's issue_comment.created payload shape:
 * authorization, config, workflow and command handling. Every expected API call is mocked and must
 * happen, and no other request may be made.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { accepted, DELIVERY, comment as deliver, dispatchPath, replyCapture } from "./comment-mocks.ts";
import { api, CHECKS_QUERY, checkRuns, eachTestProbot, fixture, HEAD, mockConfig, REPO } from "./helpers.ts";

let probot: Probot;
const comment = (body: string, edit?: Parameters<typeof deliver>[2], id?: string) =>
  deliver(probot, body, edit, id);

eachTestProbot((p) => {
  probot = p;
});

describe("/optimize comment", () => {
  it("dispatches for a commenter with write permission, at the default branch, with the inputs", async () => {
    const scope = api();
    accepted(scope);
    const sent: { dispatch?: unknown; sticky?: string; check?: unknown } = {};
    dispatchPath(scope, sent);
    await comment("Looks slow.\n/optimize --rounds 3 --target 20% --strategy llm");
    expect(sent.dispatch).toEqual({
      ref: "master",
      inputs: { pr: "2", sha: HEAD, "request-id": DELIVERY, rounds: "3", target: "20", strategy: "llm" },
      return_run_details: true,
    });
    expect(sent.check).toMatchObject({
      name: "perfloop",
      head_sha: HEAD,
      external_id: DELIVERY,
      status: "queued",
    });
    expect(sent.sticky).toMatch(/^<!-- perfloop:sticky -->/);
    expect(sent.sticky).toContain("queued on the GPU runner");
    expect(sent.sticky).toContain("https://github.com/Codertocat/Hello-World/actions/runs/30433642");
  });
  it("refuses a read-only commenter with one reply and no run", async () => {
    const scope = api();
    accepted(scope, { role: "read" });
    const reply = replyCapture(scope);
    await comment("/optimize");
    expect(reply.body).toContain("only people with write, maintain or admin permission");
    expect(reply.body).toContain("your permission: read");
  });
  it("refuses a bot that is not allow-listed, without a permission lookup", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).reply(201, {});
    mockConfig(scope);
    scope.get(`${REPO}/pulls/2`).reply(200, fixture("pulls.get.json"));
    const reply = replyCapture(scope);
    await comment("/optimize", (p) => {
      p.sender = { ...p.sender, login: "dependabot[bot]", type: "Bot" };
    });
    expect(reply.body).toContain("ignores requests from bots");
    expect(reply.body).toContain("dependabot[bot]");
  });
  it("refuses a fork pull request unless the config allows forks", async () => {
    const scope = api();
    accepted(scope, {
      pull: (p) => {
        p.head.repo = { ...p.head.repo, full_name: "mallory/Hello-World", fork: true };
      },
    });
    const reply = replyCapture(scope);
    await comment("/optimize");
    expect(reply.body).toContain("does not run pull requests from forks");
  });
  it("runs a fork pull request when app.allow_forks is true", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).reply(201, {});
    mockConfig(scope, "test: pytest -q\nbenchmark:\n  command: python bench.py\napp:\n  allow_forks: true\n");
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "admin", role_name: "admin" });
    const pull = fixture("pulls.get.json");
    pull.head.repo = { ...pull.head.repo, full_name: "mallory/Hello-World", fork: true };
    scope.get(`${REPO}/pulls/2`).reply(200, pull);
    const sent: { dispatch?: unknown } = {};
    dispatchPath(scope, sent);
    await comment("/optimize");
    expect(sent.dispatch).toMatchObject({ ref: "master", inputs: { pr: "2", sha: HEAD } });
  });
  it("replies with the workflow to add when the workflow is missing", async () => {
    const scope = api();
    accepted(scope);
    scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(CHECKS_QUERY).reply(200, checkRuns());
    scope.get(`${REPO}/actions/workflows/perfloop.yml`).reply(404, { message: "Not Found" });
    const reply = replyCapture(scope);
    await comment("/optimize");
    expect(reply.body).toContain("does not exist on the default branch");
    expect(reply.body).toContain("workflow_dispatch:");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JS template
    const runName = 'run-name: "perfloop #${{ inputs.pr }} @ ${{ inputs.sha }} [${{ inputs.request-id }}]"';
    expect(reply.body).toContain(runName);
    expect(reply.body.split("\n").some((line) => line.startsWith("/optimize"))).toBe(false);
  });
  it("replies with the offending keys of an invalid app: section (other keys are the runner's to check)", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).reply(201, {});
    mockConfig(
      scope,
      "test: pytest -q\nbenchmark:\n  command: python bench.py\nrounds: many\napp:\n  lable: x\n  stale_after_hours: -1\n",
    );
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "write", role_name: "write" });
    scope.get(`${REPO}/pulls/2`).reply(200, fixture("pulls.get.json"));
    const reply = replyCapture(scope);
    await comment("/optimize");
    expect(reply.body).toContain("is invalid");
    expect(reply.body).toContain("lable");
    expect(reply.body).toContain("stale_after_hours");
    expect(reply.body).not.toContain("rounds");
  });
  it("replies when the config file is missing on the default branch", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).reply(201, {});
    scope.get(`${REPO}/contents/.github%2Fperfloop.yml`).reply(404, { message: "Not Found" });
    scope
      .get("/repos/Codertocat/.github/contents/.github%2Fperfloop.yml")
      .reply(404, { message: "Not Found" });
    scope
      .get(`${REPO}/collaborators/Codertocat/permission`)
      .reply(200, { permission: "write", role_name: "write" });
    scope.get(`${REPO}/pulls/2`).reply(200, fixture("pulls.get.json"));
    const reply = replyCapture(scope);
    await comment("/optimize");
    expect(reply.body).toContain("was not found on the default branch");
  });
  it("answers help and malformed commands with the usage, without any lookup", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).twice().reply(201, {});
    const help = replyCapture(scope);
    await comment("/optimize help");
    expect(help.body).toContain("`/optimize cancel`");
    const bad = replyCapture(scope);
    await comment("/optimize --rounds lots --speed 9", undefined, "another-delivery");
    expect(bad.body).toContain("did not understand");
    expect(bad.body).toContain("`--rounds`");
  });
  it("ignores the command in code, quotes, HTML comments and inline code: no call to GitHub at all", async () => {
    const bodies = [
      "Try this:\n```\n/optimize --rounds 3\n```",
      "Indented:\n\n    /optimize",
      "> /optimize\n\nquoted above",
      "<!-- /optimize -->",
      "Hidden <!--\n/optimize\n--> here",
      "`/optimize` is the command",
    ];
    for (const [i, body] of bodies.entries()) await comment(body, undefined, `ignored-${i}`);
  });
  it("ignores comments without the command and comments on issues", async () => {
    await comment("nice work, maybe optimize later");
    await comment("/optimize", (p) => {
      delete p.issue.pull_request;
    });
  });
});
