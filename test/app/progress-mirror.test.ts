/**
 * Live progress in App mode (src/app/progress-mirror.ts) through `probot.receive`: the runner's
 * `perfloop progress` check run is polled, each new checklist is copied into the App's check run
 * and the sticky comment (once, not at every poll), the copy ends when the runner concludes its
 * check run or when the results arrive, and check runs of other apps or names are ignored. Every
 * expected API call is mocked and must happen, and no other request may be made.
 */
import type { Probot } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AppMemory, createAppMemory } from "../../src/app/app-memory.ts";
import { onCheckRunCreated, onWorkflowRun } from "../../src/app/handlers.ts";
import {
  api,
  CHECKS_QUERY,
  checkRun,
  checkRuns,
  fixture,
  HEAD,
  leftovers,
  makeProbot,
  REPO,
  REQUEST_ID,
  resetNock,
} from "./helpers.ts";

const PROGRESS_ID = 128620228;
const RUN_URL = "https://github.com/Codertocat/Hello-World/actions/runs/30433642";

let probot: Probot;
let memory: AppMemory;

beforeEach(() => {
  resetNock();
  memory = createAppMemory();
  const opts = { memory, mirrorTiming: { intervalMs: 5, maxMs: 60_000 } };
  probot = makeProbot((app) => {
    app.on("check_run.created", onCheckRunCreated(opts));
    app.on("workflow_run.completed", onWorkflowRun(opts));
  });
});
afterEach(() => {
  expect(leftovers()).toEqual({ pending: [], unmatched: [] });
});

/** The runner's progress check run as "Get a check run" returns it. */
function progress(text: string | null, status = "in_progress") {
  return {
    id: PROGRESS_ID,
    name: "perfloop progress",
    head_sha: HEAD,
    external_id: `2/${REQUEST_ID}`,
    status,
    conclusion: status === "completed" ? "neutral" : null,
    details_url: RUN_URL,
    output: { title: "perfloop is running", summary: "…", text },
  };
}

/** Resolves once no mirror runs (or fails the test after 5 s). */
async function mirrorsEnded(): Promise<void> {
  for (let i = 0; i < 500 && memory.mirrors.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(memory.mirrors.size).toBe(0);
}

/**
 * One copy of a checklist: the App's check runs listed, its check run and the comment written —
 * the first copy finds (lists) the sticky comment and creates it, later ones edit it by id without
 * listing the pull request's comments again.
 */
function expectCopy(writes: { check: string[]; comment: string[] }, comment: "first" | "known") {
  const scope = api();
  scope
    .get(`${REPO}/commits/${HEAD}/check-runs`)
    .query(CHECKS_QUERY)
    .reply(200, checkRuns(checkRun(501, { status: "in_progress", details_url: RUN_URL })));
  scope.patch(`${REPO}/check-runs/501`).reply(200, {});
  if (comment === "known") scope.patch(`${REPO}/issues/comments/9`).reply(200, { id: 9, html_url: "u" });
  else {
    scope.get(`${REPO}/issues/2/comments`).query({ per_page: "100" }).reply(200, []);
    scope.post(`${REPO}/issues/2/comments`).reply(201, { id: 9, html_url: "u" });
  }
  // Bodies are read from the scope's request events (a body matcher may be tried on other requests).
  scope.on("request", (_req: unknown, _interceptor: unknown, body: string) => {
    if (!body) return; // the GETs
    const sent = JSON.parse(body) as { body?: string; output?: { summary?: string } };
    if (sent.output) writes.check.push(sent.output.summary ?? "");
    else writes.comment.push(sent.body ?? "");
  });
}

describe("live progress in App mode", () => {
  it("copies each new checklist once into the check run and the comment, until the runner concludes", async () => {
    const writes = { check: [] as string[], comment: [] as string[] };
    const first = "- [x] setup: make\n- [ ] baseline measurement: bench";
    const second = `${first.replace("[ ] baseline", "[x] baseline")}\n- [ ] round 1/3 [tune] cache 64 → 256`;
    const get = api().get(`${REPO}/check-runs/${PROGRESS_ID}`);
    get.reply(200, progress(null)); // created, no checklist yet: nothing to copy
    api().get(`${REPO}/check-runs/${PROGRESS_ID}`).reply(200, progress(first));
    expectCopy(writes, "first");
    api().get(`${REPO}/check-runs/${PROGRESS_ID}`).times(2).reply(200, progress(first)); // unchanged
    api()
      .get(`${REPO}/check-runs/${PROGRESS_ID}`)
      .reply(200, progress(`${second}<!-- perfloop:sticky -->`));
    expectCopy(writes, "known");
    api().get(`${REPO}/check-runs/${PROGRESS_ID}`).reply(200, progress(second, "completed"));

    await probot.receive({ id: "progress-1", name: "check_run", payload: fixture("check_run.created.json") });
    await mirrorsEnded();

    expect(writes.comment).toHaveLength(2);
    expect(writes.comment[0]).toMatch(/^<!-- perfloop:sticky -->\n### perfloop · 🏃 running\n/);
    expect(writes.comment[0]).toContain(`[workflow run](${RUN_URL})`);
    expect(writes.comment[0]).toContain(first);
    expect(writes.comment[1]).toContain(second);
    // The runner's text cannot carry the sticky marker a second time.
    expect(writes.comment[1]?.match(/<!-- perfloop:sticky -->/g)).toHaveLength(1);
    expect(writes.check[1]).toMatch(/^Running on the GPU runner: optimization requested/);
    expect(writes.check[1]).toContain(second);
  });

  it("stops copying when the results arrive, before the report is written", async () => {
    // The mirror polls an unchanged checklist until the workflow_run.completed handler stops it.
    api().get(`${REPO}/check-runs/${PROGRESS_ID}`).times(1000).optionally().reply(200, progress(null));
    await probot.receive({ id: "progress-2", name: "check_run", payload: fixture("check_run.created.json") });
    expect(memory.mirrors.size).toBe(1);
    // The results flow finds no active request (nothing to publish here): what matters is that the
    // mirror has ended by the time it looks.
    const scope = api();
    scope.get(`${REPO}/commits/${HEAD}/check-runs`).query(CHECKS_QUERY).reply(200, checkRuns());
    await probot.receive({
      id: "done-1",
      name: "workflow_run",
      payload: fixture("workflow_run.completed.json"),
    });
    expect(memory.mirrors.size).toBe(0);
  });

  it("ignores check runs of other names, of other apps, and malformed external ids", async () => {
    const other = fixture("check_run.created.json");
    other.check_run.name = "lint";
    const foreign = fixture("check_run.created.json");
    foreign.check_run.app.slug = "octocoders-linter";
    const malformed = fixture("check_run.created.json");
    malformed.check_run.external_id = "not-a-request";
    for (const [i, payload] of [other, foreign, malformed].entries())
      await probot.receive({ id: `ignored-${i}`, name: "check_run", payload });
    expect(memory.mirrors.size).toBe(0);
  });
});
