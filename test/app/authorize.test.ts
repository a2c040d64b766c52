/**
 * Who may run perfloop, from GitHub's "Get repository permissions for a user" answers (recorded
 * shape: test/fixtures/github-surface, see SOURCES.md). The legacy `permission` is the base access
 * (maintain → write, triage → read, a custom role → its base role); `role_name` names the role.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Octokit } from "@octokit/rest";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { actorRole, mayTrigger, refuseActor } from "../../src/app/authorize.ts";

const SURFACE = path.resolve(import.meta.dirname, "../fixtures/github-surface");
const REPO = { owner: "o", repo: "r" };
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const client = new Octokit({ auth: "t", log: quiet });
const octocat = { login: "octocat", type: "User" };

/** Mocks the permission lookup for octocat with a recorded-shape answer. */
function permission(status: number, body: unknown) {
  nock("https://api.github.com")
    .get("/repos/o/r/collaborators/octocat/permission")
    .reply(status, body as object);
}

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(path.join(SURFACE, name), "utf8"));
}

beforeEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
});

describe("custom repository roles", () => {
  it("accepts a custom role whose base permission is write", async () => {
    permission(200, fixture("collaborator-permission.custom-write.json"));
    const role = await actorRole(client, REPO, octocat);
    expect(role).toEqual({ permission: "write", roleName: "perf-engineer" });
    expect(refuseActor(octocat, role, null)).toBeNull();
  });

  it("refuses triage (base permission read) with a clear message", async () => {
    permission(200, fixture("collaborator-permission.triage.json"));
    const role = await actorRole(client, REPO, octocat);
    expect(refuseActor(octocat, role, null)).toBe(
      "@octocat, only people with write, maintain or admin permission on this repository (or a custom role based on write or maintain) can run perfloop (your permission: triage).",
    );
  });

  it("refuses a custom role based on read, naming it, and a non-collaborator (404)", async () => {
    permission(200, { permission: "read", role_name: "auditor", user: { login: "octocat" } });
    expect(refuseActor(octocat, await actorRole(client, REPO, octocat), null)).toContain(
      "(your permission: auditor, a custom role with read access)",
    );
    permission(404, { message: "Not Found" });
    expect(await actorRole(client, REPO, octocat)).toEqual({ permission: "none", roleName: "none" });
  });

  it("accepts maintain and admin, and answers without role_name (older GitHub Enterprise Server)", async () => {
    expect(mayTrigger({ permission: "write", roleName: "maintain" })).toBe(true);
    expect(mayTrigger({ permission: "admin", roleName: "admin" })).toBe(true);
    expect(mayTrigger("maintain")).toBe(true);
    expect(mayTrigger({ permission: "read", roleName: "read" })).toBe(false);
    expect(mayTrigger(null)).toBe(false);
    permission(200, { permission: "write", user: { login: "octocat" } });
    expect(await actorRole(client, REPO, octocat)).toEqual({ permission: "write", roleName: "write" });
  });

  it("never looks bots up and refuses them unless allow-listed", async () => {
    const bot = { login: "renovate[bot]", type: "Bot" };
    expect(await actorRole(client, REPO, bot)).toBeNull();
    expect(refuseActor(bot, null, null)).toContain("is not in `app.allow_bots`");
  });
});
