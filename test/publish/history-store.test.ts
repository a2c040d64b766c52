/**
 * The performance history on the `perfloop-data` branch (src/publish/history-store.ts), against a
 * nocked GitHub: read through ref → commit → tree → blob; appended as a child commit, read again
 * and retried when another job moved the branch in between (422).
 */
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { appendHistory, HISTORY_SCHEMA, type HistoryRecord } from "../../src/core/history/record.ts";
import { appendHistoryStore, readHistoryStore } from "../../src/publish/history-store.ts";

const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "t", log: quiet, request: { retries: 0 } });
const repo = { owner: "o", repo: "r" };
const P = "/repos/o/r";
const sha = (c: string) => c.repeat(40);

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

function rec(i: number): HistoryRecord {
  return {
    schema: HISTORY_SCHEMA,
    commit: String(i).repeat(40),
    date: `2026-12-0${i}T00:00:00.000Z`,
    kind: "gate",
    benchmark: "b",
    metric: "wall time",
    unit: "ms",
    direction: "lower",
    median: 100 + i,
    ci: [99, 101 + i],
    n: 10,
    cvPct: 1,
    status: "passed",
    machine: "aaaaaaaaaaaa",
    machineName: "m",
  };
}

/** The branch at commit `head` holding `text` in history.jsonl. */
function branchHolds(api: nock.Scope, head: string, text: string) {
  api.get(`${P}/git/ref/heads%2Fperfloop-data`).reply(200, { object: { sha: head } });
  api.get(`${P}/git/commits/${head}`).reply(200, { sha: head, tree: { sha: sha("e") } });
  api
    .get(`${P}/git/trees/${sha("e")}`)
    .reply(200, { tree: [{ path: "history.jsonl", type: "blob", sha: sha("f") }] });
  api
    .get(`${P}/git/blobs/${sha("f")}`)
    .reply(200, { content: Buffer.from(text).toString("base64"), encoding: "base64" });
}

describe("the history store", () => {
  it("reads the records on the branch; no branch is an empty history", async () => {
    const api = nock("https://api.github.com");
    branchHolds(api, sha("1"), appendHistory("", [rec(1), rec(2)]));
    expect((await readHistoryStore(client, repo)).map((r) => r.median)).toEqual([101, 102]);
    api.get(`${P}/git/ref/heads%2Fperfloop-data`).reply(404, { message: "Not Found" });
    expect(await readHistoryStore(client, repo)).toEqual([]);
    expect(api.pendingMocks()).toEqual([]);
  });

  it("appends as a child commit, and retries on top of a branch another job moved", async () => {
    const api = nock("https://api.github.com");
    const blobs: string[] = [];
    // First attempt: the branch at 1…, but the update is refused (moved meanwhile).
    branchHolds(api, sha("1"), appendHistory("", [rec(1)]));
    // Second attempt: the branch at 2…, holding another job's line too.
    branchHolds(api, sha("2"), appendHistory("", [rec(1), rec(2)]));
    api
      .post(`${P}/git/blobs`)
      .times(2)
      .reply(201, { sha: sha("b") })
      .on("request", (_r: unknown, _i: unknown, body: string) => {
        if (body.includes("content")) blobs.push((JSON.parse(body) as { content: string }).content);
      });
    api
      .post(`${P}/git/trees`)
      .times(2)
      .reply(201, { sha: sha("c") });
    api
      .post(`${P}/git/commits`, { message: /perfloop history/, tree: sha("c"), parents: [sha("1")] })
      .reply(201, { sha: sha("d") });
    api
      .post(`${P}/git/commits`, { message: /perfloop history/, tree: sha("c"), parents: [sha("2")] })
      .reply(201, { sha: sha("9") });
    api.patch(`${P}/git/refs/heads%2Fperfloop-data`).reply(422, { message: "Update is not a fast forward" });
    api.patch(`${P}/git/refs/heads%2Fperfloop-data`, { sha: sha("9") }).reply(200, {});
    expect(await appendHistoryStore(client, repo, [rec(3)])).toBe(sha("9"));
    expect(blobs.at(-1)?.trim().split("\n")).toHaveLength(3); // the other job's line is kept
    expect(api.pendingMocks()).toEqual([]);
  });
});
