/**
 * The Action end to end in mode pr: the runner called as the entry calls it, with the step's
 * environment as the Actions runtime sets it (INPUT_*, GITHUB_*, summary and output files), the real
 * `@actions/core` (failures and groups recorded), a git "server" holding the bundled example, the
 * artifact upload injected at the `@actions/artifact` boundary, and nock for GitHub and the model.
 */
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { octokitFactory } from "../../src/action/deps.ts";
import { main } from "../../src/action/main.ts";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { runPerfloop } from "../../src/core/loop/run.ts";
import { GOOD_PATCH, scriptModel } from "../helpers/example.ts";
import {
  API,
  API_KEY,
  type Fixture,
  makeFixture,
  OWNER,
  REPO,
  readOutputs,
  readTree,
  recordingCore,
  replayLoop,
  repoGit,
  setEnv,
  stepEnv,
  TOKEN,
} from "./helpers.ts";

const REQUEST_ID = "9f3b4a2e-1c0d-11f1-8e2b-6b1c2d3e4f50";
const PATH = `/repos/${OWNER}/${REPO}`;
let fx: Fixture;
let restore: () => void = () => {};
const unmatched: string[] = [];
nock.emitter.on("no match", (req: { method?: string; path?: string }) =>
  unmatched.push(`${req.method} ${req.path}`),
);

beforeAll(async () => {
  fx = await makeFixture();
  nock.disableNetConnect();
});
afterEach(() => {
  restore();
  nock.cleanAll();
  unmatched.length = 0;
  process.exitCode = undefined;
});
afterAll(async () => {
  nock.enableNetConnect();
  await rm(fx.root, { recursive: true, force: true });
});

/** The evidence of the first test's real loop run, replayed by later tests. */
let recorded: string | null = null;

/** Runs the Action with `inputs` (over action.yml's defaults) and returns what it did. */
async function runAction(
  inputs: Record<string, string>,
  extraEnv: Record<string, string> = {},
  runLoop: typeof runPerfloop = runPerfloop,
) {
  restore = setEnv(await stepEnv(fx, inputs, extraEnv));
  const core = recordingCore();
  const uploads: Array<{ name: string; files: string[]; root: string }> = [];
  const clients: string[] = [];
  await main({
    core,
    upload: async (name, files, root) => {
      uploads.push({ name, files, root });
      return { id: 901, size: 1234 };
    },
    github: (token, apiUrl) => {
      clients.push(apiUrl);
      return octokitFactory(token, apiUrl);
    },
    env: process.env,
    runLoop,
  });
  return {
    core,
    uploads,
    clients,
    outputs: await readOutputs(fx.outputFile),
    summary: await readFile(fx.summaryFile, "utf8"),
  };
}

describe("mode pr", () => {
  it("publish: app — checks out the PR head aside, runs the loop with the model, summarizes, uploads perfloop-<id>, writes only its progress check run; no secret reaches the bundle", async () => {
    const memoryPath = path.join(fx.root, "memory", "memory.sqlite");
    scriptModel([{ tool: "submit_patch", args: { patch: GOOD_PATCH, rationale: "suffix first" } }]);
    // The requests to GitHub: the pull request's files, read for the focus (README, "Focus on the
    // pull request"; the PR touched `stem_uncached`'s body), and the live checklist in the
    // `perfloop progress` check run the App copies (docs/github-app.md). Nothing else.
    const progress: { created?: Record<string, unknown>; updates: Record<string, unknown>[] } = {
      updates: [],
    };
    const files = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } })
      .post(`${PATH}/check-runs`)
      .reply(201, { id: 77, status: "queued" })
      .patch(`${PATH}/check-runs/77`)
      .times(200)
      .optionally()
      .reply(200, {})
      .on("request", (_req: unknown, _i: unknown, body: string) => {
        if (!body) return;
        const sent = JSON.parse(body) as Record<string, unknown>;
        if (sent.name) progress.created = sent;
        else progress.updates.push(sent);
      })
      .get(`${PATH}/pulls/7/files`)
      .query({ per_page: "100" })
      .reply(200, [
        {
          filename: "textstats/stem.py",
          status: "modified",
          patch:
            "@@ -40,3 +40,3 @@ def stem_uncached(word):\n     for suffix, replacement, min_measure in RULES:\n-        candidate = word[:-len(suffix)]\n+        candidate = word[: len(word) - len(suffix)]\n         m = measure(candidate)",
        },
      ]);
    const run = await runAction(
      {
        pr: "7",
        sha: fx.headSha,
        "request-id": REQUEST_ID,
        rounds: "1",
        strategy: "llm",
        "api-key": API_KEY,
        "github-token": TOKEN,
        "memory-path": memoryPath,
      },
      // What users often put into a step's env: must not reach the user's commands or the bundle.
      { OPENAI_API_KEY: API_KEY, GITHUB_TOKEN: TOKEN },
    );
    expect(run.core.failures).toEqual([]);
    recorded = path.join(fx.runnerTemp, "perfloop", REQUEST_ID, "evidence");

    // The artifact the App looks for: perfloop-<request id>, results.json at its root.
    const out = path.join(fx.runnerTemp, "perfloop", REQUEST_ID, "evidence");
    expect(run.uploads).toHaveLength(1);
    expect(run.uploads[0]?.name).toBe(`perfloop-${REQUEST_ID}`);
    expect(run.uploads[0]?.root).toBe(out);
    expect(run.uploads[0]?.files).toEqual(
      expect.arrayContaining([
        path.join(out, "results.json"),
        path.join(out, "report.md"),
        path.join(out, "final.patch"),
      ]),
    );
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(results.status, results.message).toBe("improved");
    expect(results.request).toEqual({
      trigger: "workflow",
      repository: `${OWNER}/${REPO}`,
      pr: 7,
      headSha: fx.headSha,
      requestId: REQUEST_ID,
      runUrl: `${fx.serverUrl}/${OWNER}/${REPO}/actions/runs/4242`,
    });
    // The config came from the workflow's commit (main), not from the PR, whose `test` is `exit 3`.
    expect(results.benchmark.test).toBe("python3 -m unittest discover -s tests -q");
    if (results.memory) expect(results.memory.store).toBe(memoryPath);

    // One client: it read the PR's files and kept the progress check run, concluded neutral.
    expect(run.clients).toEqual([API]);
    expect(progress.created).toMatchObject({ name: "perfloop progress", external_id: `7/${REQUEST_ID}` });
    expect(progress.updates.at(-1)).toMatchObject({ status: "completed", conclusion: "neutral" });
    expect(JSON.stringify(progress.updates)).toMatch(/round 1\/1/);
    expect({ pending: files.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
    expect(results.focus?.changedFunctions).toBeGreaterThanOrEqual(1);
    expect(results.focus?.text).toMatch(/lies in lines this pull request changed \(1 changed line\)/);
    expect(results.hotSpots[0]?.function).toBe("stem_uncached");

    // Outputs, job summary, log groups, masking.
    expect(run.outputs.verdict).toBe("improved");
    expect(Number(run.outputs.speedup)).toBeGreaterThan(1.05);
    expect(run.outputs.results).toBe(path.join(out, "results.json"));
    expect(run.outputs.patch).toBe(path.join(out, "final.patch"));
    expect(run.summary).toContain(`**perfloop** on \`${fx.headSha.slice(0, 12)}\`: **improved**`);
    expect(run.summary).toMatch(/\| metric +\| baseline median/);
    expect(run.core.groups[0]).toBe("perfloop ▸ checkout");
    expect(run.core.groups).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^perfloop ▸ baseline measurement/),
        expect.stringMatching(/^perfloop ● round 1\/1 \[llm\]/),
        expect.stringMatching(/^perfloop ▸ final measurement/),
      ]),
    );
    expect(run.core.masked).toEqual(expect.arrayContaining([API_KEY, TOKEN]));

    // Secrets: setup ran `env` (its output is in setup.log); no file of the bundle holds a secret.
    const bundle = await readTree(out);
    expect(bundle.get("setup.log")).toMatch(/^PATH=/m);
    expect(bundle.get("setup.log")).not.toMatch(/^(INPUT_|ACTIONS_|GITHUB_TOKEN)/m);
    for (const [file, text] of bundle) {
      expect(text.includes(API_KEY), `${file} holds the API key`).toBe(false);
      expect(text.includes(TOKEN), `${file} holds the token`).toBe(false);
    }
    // The workflow's own checkout is untouched; the Action's checkout was removed.
    expect(await readdir(fx.workspace)).toEqual(["untouched.txt"]);
    expect(await readdir(path.join(fx.runnerTemp, "perfloop", REQUEST_ID))).toEqual(["evidence"]);
  });

  it("publish: action — comment, check run and follow-up PR through the API with the token", async () => {
    if (!recorded) throw new Error("needs the first test's bundle");
    const blob = repoGit(fx, "rev-parse", `${fx.headSha}:textstats/stem.py`);
    const tree = repoGit(fx, "rev-parse", `${fx.headSha}^{tree}`);
    const stem = repoGit(fx, "show", `${fx.headSha}:textstats/stem.py`);
    const branch = `perfloop/pr-7-${fx.headSha.slice(0, 7)}`;
    const got: Record<string, unknown> = {};
    // nock may show a body matcher other requests' bodies too: each capture keeps the first body
    // with the fields its request has, and says no to the others.
    const capture =
      (key: string, fields: string[]) =>
      (body: unknown): boolean => {
        if (typeof body !== "object" || body === null || !fields.every((f) => f in body)) return false;
        got[key] ??= body;
        return true;
      };
    const api = nock(API, { reqheaders: { authorization: `token ${TOKEN}` } });
    api.get(`${PATH}/pulls/7/files`).query({ per_page: "100" }).reply(200, []);
    api.get(`${PATH}/pulls/7`).reply(200, {
      number: 7,
      head: { ref: "feature", sha: fx.headSha, repo: { full_name: `${OWNER}/${REPO}` } },
    });
    api
      .get(`${PATH}/git/trees/${fx.headSha}`)
      .query({ recursive: "1" })
      .reply(200, {
        sha: tree,
        truncated: false,
        tree: [{ path: "textstats/stem.py", mode: "100644", type: "blob", sha: blob }],
      });
    api
      .get(`${PATH}/git/blobs/${blob}`)
      .reply(200, { content: Buffer.from(`${stem}\n`).toString("base64"), encoding: "base64" });
    api.post(`${PATH}/git/blobs`, capture("blob", ["content", "encoding"])).reply(201, { sha: "b1" });
    api.post(`${PATH}/git/trees`, capture("tree", ["tree"])).reply(201, { sha: "t1" });
    api.post(`${PATH}/git/commits`, capture("commit", ["message", "parents"])).reply(201, { sha: "c1" });
    api.post(`${PATH}/git/refs`, capture("ref", ["ref", "sha"])).reply(201, {});
    api
      .get(`${PATH}/pulls`)
      .query({ state: "open", head: `${OWNER}:${branch}`, per_page: "1" })
      .reply(200, []);
    api
      .post(`${PATH}/pulls`, capture("pull", ["head", "base", "title"]))
      .reply(201, { number: 8, html_url: `https://github.com/${OWNER}/${REPO}/pull/8` });
    // Live progress: the check run is created in progress at the start, and the sticky comment
    // carries the checklist (updated as often as the run's events ask); the publication concludes
    // that check run and replaces the comment with the report. Bodies are told apart by their keys.
    const checkPatches: Array<Record<string, unknown>> = [];
    const comments: string[] = [];
    api
      .post(`${PATH}/check-runs`, capture("checkCreate", ["name", "head_sha"]))
      .reply(201, { id: 55, status: "queued" });
    api
      .patch(`${PATH}/check-runs/55`, (b: unknown) => {
        if (typeof b !== "object" || b === null || !("output" in b) || "body" in b) return false;
        checkPatches.push(b as Record<string, unknown>);
        return true;
      })
      .reply(200, {})
      .persist();
    // Live progress lists the comments once, posts its comment and then edits it by id; the
    // publication lists again (finding no sticky comment here) and posts the report. The bodies
    // show the live checklist first and the report last.
    api.get(`${PATH}/issues/7/comments`).query({ per_page: "100" }).reply(200, []).persist();
    api
      .post(`${PATH}/issues/7/comments`, (b: unknown) => {
        if (typeof b !== "object" || b === null || !("body" in b) || typeof b.body !== "string") return false;
        comments.push(b.body);
        return true;
      })
      .reply(201, { id: 3, html_url: `https://github.com/${OWNER}/${REPO}/pull/7#issuecomment-3` })
      .persist();
    api
      .patch(`${PATH}/issues/comments/3`, (b: unknown) => {
        if (typeof b !== "object" || b === null || !("body" in b) || typeof b.body !== "string") return false;
        comments.push(b.body);
        return true;
      })
      .optionally()
      .reply(200, { id: 3, html_url: `https://github.com/${OWNER}/${REPO}/pull/7#issuecomment-3` })
      .persist();

    const run = await runAction(
      { pr: "7", sha: fx.headSha, "request-id": "req-action-1", publish: "action", "github-token": TOKEN },
      {},
      replayLoop(recorded),
    );
    expect(run.core.failures).toEqual([]);
    // Persisted interceptors (the live updates, which come as often as the run's events ask) are
    // listed by nock as pending whether they were used or not: the rest must all have been used.
    const persisted = [`${API}:443${PATH}/issues/7/comments`, `${API}:443${PATH}/check-runs/55`];
    expect({
      pending: api.pendingMocks().filter((m) => !persisted.some((p) => m.endsWith(p))),
      unmatched,
    }).toEqual({ pending: [], unmatched: [] });
    expect(run.clients).toEqual([API]);

    const blobText = Buffer.from((got.blob as { content: string }).content, "base64").toString("utf8");
    expect(blobText).toContain("if not word.endswith(suffix):");
    expect(got.commit).toMatchObject({ parents: [fx.headSha] });
    expect(got.ref).toEqual({ ref: `refs/heads/${branch}`, sha: "c1" });
    expect(got.pull).toMatchObject({ head: branch, base: "feature", draft: true });
    expect(got.checkCreate).toMatchObject({
      name: "perfloop",
      head_sha: fx.headSha,
      external_id: "req-action-1",
    });
    expect(checkPatches[0]).toMatchObject({
      status: "in_progress",
      output: { title: "perfloop is running" },
    });
    expect(checkPatches.at(-1)).toMatchObject({ status: "completed", conclusion: "success" });
    expect(comments[0]).toMatch(/^<!-- perfloop:sticky -->\n### perfloop is running, asked by @/);
    expect(comments.at(-1)).toMatch(/^<!-- perfloop:sticky -->\n## perfloop · improved/);
    expect(comments.at(-1)).toMatch(/Follow-up PR:\*\* #8 \(opened/);
    expect(run.outputs["follow-up-pr"]).toBe(`https://github.com/${OWNER}/${REPO}/pull/8`);
    expect(run.outputs.verdict).toBe("improved");
    expect(run.uploads[0]?.name).toBe("perfloop-req-action-1");
  });

  it("fails with every bad input named, before any work", async () => {
    const run = await runAction({
      mode: "fast",
      rounds: "many",
      target: "150%",
      publish: "github",
      sha: "main",
    });
    expect(run.core.failures).toHaveLength(1);
    const message = run.core.failures[0] ?? "";
    expect(message).toMatch(/^perfloop's inputs are invalid:/);
    expect(message).toContain('input `mode`: found "fast", expected pr, scan or gate');
    expect(message).toContain('input `rounds`: found "many", expected an integer from 1 to 50');
    expect(message).toContain('input `target`: found "150%", expected a percentage above 0 and below 100');
    expect(message).toContain('input `publish`: found "github", expected app, action or none');
    expect(message).toContain('input `sha`: found "main", expected a full commit SHA (40 hex digits)');
    expect(run.uploads).toEqual([]);
  });

  it("fails clearly when publish: action has no token", async () => {
    const run = await runAction({ pr: "7", sha: fx.headSha, publish: "action", "github-token": "" });
    expect(run.core.failures).toEqual([
      expect.stringContaining(
        "input `github-token`: found nothing, expected a token because `publish: action` posts the comment, the check run and the follow-up PR with it",
      ),
    ]);
    expect(run.clients).toEqual([]);
    expect(run.uploads).toEqual([]);
  });

  it("reports a missing config on the PR (publish: action) and fails the step", async () => {
    const api = nock(API);
    api.get(`${PATH}/pulls/7`).reply(200, {
      number: 7,
      head: { ref: "feature", sha: fx.headSha, repo: { full_name: `${OWNER}/${REPO}` } },
    });
    api.post(`${PATH}/check-runs`).reply(201, { id: 56, status: "queued" });
    let conclusion: unknown;
    api
      .patch(`${PATH}/check-runs/56`, (b: { conclusion?: string }) => {
        conclusion = b.conclusion;
        return true;
      })
      .reply(200, {});
    api.get(`${PATH}/issues/7/comments`).query({ per_page: "100" }).reply(200, []);
    api.post(`${PATH}/issues/7/comments`).reply(201, { id: 4, html_url: "https://github.com/x" });

    const run = await runAction({
      pr: "7",
      sha: fx.headSha,
      "request-id": "req-missing-config",
      publish: "action",
      "github-token": TOKEN,
      "working-directory": "services/api",
    });
    expect(run.core.failures).toEqual([
      expect.stringMatching(
        /^services\/api\/\.github\/perfloop\.yml does not exist at [0-9a-f]{12} \(the workflow's commit/,
      ),
    ]);
    expect(conclusion).toBe("failure");
    expect({ pending: api.pendingMocks(), unmatched }).toEqual({ pending: [], unmatched: [] });
  });

  it("fails with git's words when the commit cannot be fetched", async () => {
    const run = await runAction({ pr: "7", sha: "0".repeat(40), "request-id": "req-unknown-sha" });
    expect(run.core.failures).toEqual([expect.stringMatching(/^git fetch failed: /)]);
    expect(run.uploads).toEqual([]);
  });
});
