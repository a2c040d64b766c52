/**
 * Live progress on the pull request (src/action/live-progress.ts), against a nocked GitHub with
 * short intervals: the check run created in progress, the sticky comment and the check run's output
 * carrying the checklist as phases and rounds pass, the last state written at stop, and a GitHub
 * failure reported as a warning, never thrown.
 */
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startLiveProgress } from "../../src/action/live-progress.ts";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "test-token", log: quiet, request: { retries: 0 } });
const REPO = "/repos/o/r";
const SHA = "0123456789abcdef0123456789abcdef01234567";
/** How long a test waits for a write it expects (a generous bound: a busy runner is slow). */
const WAIT = { timeout: 10_000, interval: 10 };

/** Starts live progress on PR 7 of o/r with short intervals; `over` sets the rest. */
function start(over: Partial<Parameters<typeof startLiveProgress>[0]> & { requestId: string }) {
  return startLiveProgress({
    client,
    repo: { owner: "o", repo: "r" },
    pr: 7,
    headSha: SHA,
    links: {},
    warn: () => {},
    intervals: { minMs: 20, quietMs: 200 },
    ...over,
  });
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe("live progress", () => {
  it("creates the check run, then keeps it and the sticky comment's checklist current", async () => {
    const checkOutputs: string[] = [];
    const comments: string[] = [];
    const api = nock("https://api.github.com");
    api.post(`${REPO}/check-runs`).reply(201, { id: 55, status: "queued", external_id: "req-1" });
    api
      .patch(`${REPO}/check-runs/55`, (body: { output?: { summary?: string } }) => {
        if (typeof body.output?.summary !== "string") return false;
        checkOutputs.push(body.output.summary);
        return true;
      })
      .times(10)
      .reply(200, {});
    api.get(`${REPO}/issues/7/comments`).query({ per_page: "100" }).reply(200, []);
    api
      .post(`${REPO}/issues/7/comments`, (body: { body?: string }) => {
        if (typeof body.body !== "string") return false;
        comments.push(body.body);
        return true;
      })
      .reply(201, { id: 3, html_url: "https://github.com/o/r/pull/7#issuecomment-3" });
    // No second listing: later updates edit the comment by id (a second GET would be unmatched,
    // and the update would end in a warning).
    api
      .patch(`${REPO}/issues/comments/3`, (body: { body?: string }) => {
        if (typeof body.body !== "string") return false;
        comments.push(body.body);
        return true;
      })
      .times(10)
      .reply(200, { id: 3, html_url: "https://github.com/o/r/pull/7#issuecomment-3" });

    const warnings: string[] = [];
    const live = await start({
      requestId: "req-1",
      links: { runUrl: "https://github.com/o/r/actions/runs/9" },
      requestedBy: "octocat",
      warn: (m) => warnings.push(m),
    });
    expect(live.checkRunId).toBe(55);
    // Each event's write is awaited (not slept for): what is asserted is that the checklist is
    // written between events, whatever the machine's load.
    const written = (text: string) =>
      vi.waitFor(() => expect(comments.some((c) => c.includes(text))).toBe(true), WAIT);
    live.onEvent({ type: "phase", phase: "setup", detail: "make" });
    await written("- [ ] setup: make");
    live.onEvent({ type: "phase", phase: "baseline measurement", detail: "bench" });
    live.onEvent({ type: "round-start", n: 1, total: 3, strategy: "tune", description: "cache 64 → 256" });
    await written("round 1/3 [tune] cache 64 → 256");
    live.onEvent({
      type: "round-end",
      n: 1,
      outcome: "accepted",
      reason: "B is 30% better",
      bestImprovementPct: 30,
    });
    await live.stop();

    expect(warnings).toEqual([]);
    const last = comments.at(-1) ?? "";
    expect(last).toMatch(/^<!-- perfloop:sticky -->\n### perfloop is running, asked by @octocat/);
    expect(last).toMatch(
      /- \[x\] setup: make\n- \[x\] baseline measurement: bench\n- \[x\] round 1\/3 \[tune\] cache 64 → 256 — accepted: B is 30% better/,
    );
    expect(last).toMatch(/Best so far: 30\.0% better/);
    // The checklist changed at every phase and round, and the check run carried the same text.
    expect(comments.length).toBeGreaterThanOrEqual(3);
    expect(new Set(comments).size).toBe(comments.length);
    expect(checkOutputs.at(-1)).toBe(last.replace("<!-- perfloop:sticky -->\n", ""));
  });

  it("with publish: app, keeps the checklist in a `perfloop progress` check run only, concluded neutral", async () => {
    const created: Record<string, unknown>[] = [];
    const updates: { status?: string; conclusion?: string; output?: { summary?: string; text?: string } }[] =
      [];
    const api = nock("https://api.github.com");
    api
      .post(`${REPO}/check-runs`, (body: Record<string, unknown>) => {
        created.push(body);
        return true;
      })
      .reply(201, { id: 56, status: "queued", external_id: "7/req-2" });
    api
      .patch(`${REPO}/check-runs/56`, (body: (typeof updates)[number]) => {
        updates.push(body);
        return true;
      })
      .times(10)
      .reply(200, {});
    // No comment requests are mocked: one would be unmatched and end in a warning.
    const warnings: string[] = [];
    const live = await start({
      requestId: "req-2",
      links: { runUrl: "https://github.com/o/r/actions/runs/9" },
      channel: "progress-check",
      warn: (m) => warnings.push(m),
    });
    live.onEvent({ type: "phase", phase: "setup", detail: "make" });
    await vi.waitFor(
      () => expect(updates.some((u) => u.output?.text === "- [ ] setup: make")).toBe(true),
      WAIT,
    );
    live.onEvent({ type: "phase", phase: "baseline measurement", detail: "bench" });
    await live.stop();

    expect(warnings).toEqual([]);
    expect(created).toEqual([
      expect.objectContaining({ name: "perfloop progress", external_id: "7/req-2", head_sha: SHA }),
    ]);
    const running = updates.filter((u) => u.status === "in_progress");
    // The text is the checklist alone (what the App copies); the summary has the header too.
    expect(running.map((u) => u.output?.text)).toContain("- [ ] setup: make");
    expect(running.at(-1)?.output?.summary).toMatch(/^### perfloop is running\n\n\[Workflow run\]/);
    // The last state goes with the conclusion.
    const last = updates.at(-1);
    expect(last).toMatchObject({ status: "completed", conclusion: "neutral" });
    expect(last?.output?.text).toBe("- [x] setup: make\n- [ ] baseline measurement: bench");
    expect(last?.output?.summary).toContain("verdict and report are in the `perfloop` check run");
  });

  it("mode gate: the check run is `perfloop gate`, created at the start so a required check is pending", async () => {
    let created: Record<string, unknown> | undefined;
    nock("https://api.github.com")
      .post(`${REPO}/check-runs`)
      .reply(201, { id: 57, status: "queued" })
      .on("request", (_req: unknown, _i: unknown, body: string) => {
        created = JSON.parse(body) as Record<string, unknown>;
      });
    const live = await start({
      requestId: "gate-1",
      checkName: "perfloop gate",
      intervals: { minMs: 1_000_000, quietMs: 1_000_000 },
    });
    expect(live.checkRunId).toBe(57);
    expect(created).toMatchObject({ name: "perfloop gate", external_id: "gate-1", head_sha: SHA });
    nock.cleanAll(); // the first checklist write is not what this test is about
    await live.stop().catch(() => {});
  });

  it("warns and goes quiet when GitHub refuses the check run; never throws", async () => {
    nock("https://api.github.com")
      .post(`${REPO}/check-runs`)
      .reply(403, { message: "Resource not accessible by integration" });
    const warnings: string[] = [];
    const live = await start({
      requestId: "req-1",
      warn: (m) => warnings.push(m),
      intervals: { minMs: 1, quietMs: 1 },
    });
    live.onEvent({ type: "phase", phase: "setup" });
    await live.stop();
    expect(live.checkRunId).toBeNull();
    expect(warnings).toEqual([
      expect.stringMatching(
        /live progress is off: the check run could not be created \(Resource not accessible/,
      ),
    ]);
  });
});
