/**
 * `/optimize status`, `/optimize retry` and `/optimize help` through `probot.receive`. Every
 * expected API call is mocked and must happen, and no other request may be made.
 */
import type { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/app/command.ts";
import { accepted, DELIVERY, comment as deliver, dispatchPath, replyCapture } from "./comment-mocks.ts";
import { api, CHECKS_QUERY, checkRun, checkRuns, eachTestProbot, HEAD, REPO } from "./helpers.ts";

let probot: Probot;
const comment = (body: string, edit?: Parameters<typeof deliver>[2], id?: string) =>
  deliver(probot, body, edit, id);

const RUN_URL = "https://github.com/Codertocat/Hello-World/actions/runs/30433642";

eachTestProbot((p) => {
  probot = p;
});

/** Starts a run with arguments (request DELIVERY, check run 501), as a maintainer would. */
async function startRun(body = "/optimize --rounds 3 --target 20% --strategy llm") {
  const scope = api();
  accepted(scope);
  const sent: { dispatch?: unknown } = {};
  dispatchPath(scope, sent);
  await comment(body);
  expect(sent.dispatch).toBeDefined();
}

/** The check runs of the head commit, as the next listing returns them. */
function listing(...runs: Record<string, unknown>[]) {
  api()
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query(CHECKS_QUERY)
    .reply(200, checkRuns(...runs));
}

describe("/optimize status", () => {
  it("a running run: phase, workflow run link, request id, start time and who asked", async () => {
    await startRun();
    const scope = api();
    accepted(scope);
    const tenMinutesAgo = new Date(Date.now() - 10 * 60_000).toISOString();
    listing(
      checkRun(501, {
        external_id: DELIVERY,
        status: "in_progress",
        details_url: RUN_URL,
        started_at: tenMinutesAgo,
      }),
    );
    const reply = replyCapture(scope);
    await comment("/optimize status", undefined, "status-1");
    expect(reply.body).toContain("**perfloop status** · 🏃 running · `ec26c3e` (the head commit)");
    expect(reply.body).toContain(`- workflow run: ${RUN_URL}`);
    expect(reply.body).toContain(`- request: \`${DELIVERY}\``);
    expect(reply.body).toContain(
      `- started: ${tenMinutesAgo.slice(0, 16).replace("T", " ")} UTC (10 minutes ago)`,
    );
    expect(reply.body).toContain(
      "- requested by: @Codertocat via `/optimize` (rounds 3, target 20%, strategy llm)",
    );
    expect(parseCommand(reply.body)).toBeNull();
  });

  it("after a restart (or on another replica), who asked is read back from the check run's summary", async () => {
    const scope = api();
    accepted(scope);
    listing(
      checkRun(501, {
        external_id: DELIVERY,
        status: "in_progress",
        details_url: RUN_URL,
        output: {
          title: "Running on the GPU runner",
          summary:
            "Running on the GPU runner: optimization requested by @monalisa via `/optimize` (rounds 2).",
          text: null,
          annotations_count: 0,
        },
      }),
    );
    const reply = replyCapture(scope);
    await comment("/optimize status");
    expect(reply.body).toContain("- requested by: @monalisa via `/optimize` (rounds 2)");
  });

  it("a finished run: its conclusion; who asked is said to be unknown after a restart", async () => {
    const scope = api();
    accepted(scope);
    listing(
      checkRun(400, { external_id: "older", status: "completed", conclusion: "failure" }),
      checkRun(501, {
        external_id: DELIVERY,
        status: "completed",
        conclusion: "success",
        details_url: RUN_URL,
      }),
    );
    const reply = replyCapture(scope);
    await comment("/optimize status");
    expect(reply.body).toContain("✅ finished: verified improvement");
    expect(reply.body).toContain(RUN_URL);
    expect(reply.body).toContain(`\`${DELIVERY}\``);
    expect(reply.body).toContain("requested by: not known to the App");
  });

  it("no run yet, on a closed pull request too (status only reads)", async () => {
    const scope = api();
    accepted(scope, {
      pull: (p) => {
        p.state = "closed";
      },
    });
    listing();
    const reply = replyCapture(scope);
    await comment("/optimize status");
    expect(reply.body).toContain("has no run on this pull request's head commit `ec26c3e` yet");
  });

  it("is refused to a commenter without write permission", async () => {
    const scope = api();
    accepted(scope, { role: "read" });
    const reply = replyCapture(scope);
    await comment("/optimize status");
    expect(reply.body).toContain("only people with write, maintain or admin permission");
  });
});

describe("/optimize retry", () => {
  it("starts a run with the arguments of the pull request's last run", async () => {
    await startRun();
    const scope = api();
    accepted(scope);
    const sent: { dispatch?: unknown; sticky?: string } = {};
    dispatchPath(scope, sent, { id: "retry-1", checkRun: 502 });
    await comment("/optimize retry", undefined, "retry-1");
    expect(sent.dispatch).toMatchObject({
      inputs: { "request-id": "retry-1", rounds: "3", target: "20", strategy: "llm" },
    });
    expect(sent.sticky).toContain(
      "requested by @Codertocat via `/optimize retry` (rounds 3, target 20%, strategy llm)",
    );
  });

  it("is refused when no earlier run is known", async () => {
    const scope = api();
    accepted(scope);
    listing();
    const reply = replyCapture(scope);
    await comment("/optimize retry");
    expect(reply.body).toContain("perfloop knows no earlier run on this pull request to retry");
  });

  it("is refused when the last run's arguments are no longer known", async () => {
    const scope = api();
    accepted(scope);
    listing(checkRun(400, { external_id: "older", status: "completed", conclusion: "failure" }));
    const reply = replyCapture(scope);
    await comment("/optimize retry");
    expect(reply.body).toContain("no longer knows the arguments of this pull request's last run");
  });
});

describe("/optimize help", () => {
  it("lists every subcommand and argument, without any lookup, and never triggers itself", async () => {
    const scope = api();
    scope.post(`${REPO}/issues/comments/492700400/reactions`).reply(201, {});
    const reply = replyCapture(scope);
    await comment("/optimize help");
    for (const word of [
      "`/optimize status`",
      "`/optimize retry`",
      "`/optimize cancel`",
      "`/optimize help`",
      "`--rounds`",
      "`--target`",
      "`--strategy`",
    ])
      expect(reply.body).toContain(word);
    expect(parseCommand(reply.body)).toBeNull();
  });
});
