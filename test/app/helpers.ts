/**
 * Test helpers for the App: a Probot instance with the app loaded (token auth, no retries or
 * throttling), webhook payload fixtures (test/fixtures/github, see SOURCES.md), a nock scope for
 * api.github.com that records unexpected requests, check-run objects as GitHub returns them, and a
 * zip writer for artifacts.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { crc32, deflateRawSync } from "node:zlib";
import nock from "nock";
import { type ApplicationFunction, Probot, ProbotOctokit } from "probot";
import { afterEach, beforeEach, expect } from "vitest";
import perfloopApp from "../../src/app/index.ts";

export const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/github");
export const API = "https://api.github.com";
export const REPO = "/repos/Codertocat/Hello-World";
export const HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";
/** The request id of the results fixtures (the delivery GUID of the original comment). */
export const REQUEST_ID = "9f3b4a2e-1c0d-11f1-8e2b-6b1c2d3e4f50";
/** Query of the check-run listing the App makes. */
export const CHECKS_QUERY = { check_name: "perfloop", filter: "all", per_page: "100" };

/** A fixture file's text. */
export function fixtureText(name: string): string {
  return readFileSync(path.join(FIXTURES, name), "utf8");
}

/** A fresh copy of a JSON fixture (webhook payloads are deep; tests index into them freely). */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are arbitrary JSON read by tests
export function fixture(name: string): any {
  return JSON.parse(fixtureText(name));
}

/** A Probot with perfloop (or `app`) loaded, as the Probot testing docs set it up. */
export function makeProbot(app: ApplicationFunction = perfloopApp): Probot {
  const probot = new Probot({
    githubToken: "test",
    logLevel: "fatal",
    // The function form, as Probot's testing docs show: Probot passes its own `throttle` options per
    // instance, which would override an object given here (and space write requests 1 s apart).
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      retry: { enabled: false },
      throttle: { enabled: false },
    })),
  });
  probot.load(app);
  return probot;
}

/** Requests nock did not match, collected per test (the "no other call" assertion). */
export const unmatched: string[] = [];
nock.emitter.on(
  "no match",
  (req: { method?: string; path?: string; options?: { method?: string; path?: string } }) => {
    unmatched.push(`${req.method ?? req.options?.method ?? "?"} ${req.path ?? req.options?.path ?? "?"}`);
  },
);

/** Resets nock before a test: no network, no leftover mocks. */
export function resetNock(): void {
  nock.cleanAll();
  nock.disableNetConnect();
  unmatched.length = 0;
}

/**
 * The App tests' per-test set-up: nock reset and a fresh Probot (perfloop, or `app`) before each
 * test, handed to `use`; after each, every mock used and nothing else requested.
 */
export function eachTestProbot(use: (probot: Probot) => void, app?: ApplicationFunction): void {
  beforeEach(() => {
    resetNock();
    use(makeProbot(app));
  });
  afterEach(() => {
    expect(leftovers()).toEqual({ pending: [], unmatched: [] });
  });
}

/** Asserts every mock was used and nothing else was requested; returns the leftovers for the message. */
export function leftovers(): { pending: string[]; unmatched: string[] } {
  return { pending: nock.pendingMocks(), unmatched: [...unmatched] };
}

/** The GitHub API scope. */
export function api(): nock.Scope {
  return nock(API);
}

/** The config file answer of Probot's loader (raw YAML). */
export function mockConfig(scope: nock.Scope, yaml = fixtureText("perfloop.yml")): nock.Scope {
  return scope.get(`${REPO}/contents/.github%2Fperfloop.yml`).reply(200, yaml);
}

/** A check run as "List check runs for a Git reference" returns it. */
export function checkRun(id: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    name: "perfloop",
    head_sha: HEAD,
    external_id: REQUEST_ID,
    status: "queued",
    conclusion: null,
    details_url: null,
    html_url: `https://github.com/Codertocat/Hello-World/runs/${id}`,
    started_at: new Date().toISOString(),
    completed_at: null,
    output: { title: "Queued on the GPU runner", summary: "", text: null, annotations_count: 0 },
    app: { id: 1, slug: "perfloop" },
    ...over,
  };
}

/** The listing body for check runs. */
export function checkRuns(...runs: Record<string, unknown>[]): {
  total_count: number;
  check_runs: Record<string, unknown>[];
} {
  return { total_count: runs.length, check_runs: runs };
}

/** A zip archive (stored or deflated entries) as upload-artifact produces one. */
export function zip(entries: Record<string, Buffer | string>, method: 0 | 8 = 8): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const packed = method === 8 ? deflateRawSync(data) : data;
    const nameBytes = Buffer.from(name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, packed);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + packed.length;
  }
  const cd = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(Object.keys(entries).length, 8);
  eocd.writeUInt16LE(Object.keys(entries).length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, eocd]);
}
