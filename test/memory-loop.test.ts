/**
 * Memory across runs, end to end on the bundled example: two consecutive runs of the knob tuner where
 * the second skips a value remembered as breaking the tests and tries the remembered winner first
 * (fewer candidate evaluations), two runs with a mocked model where the second prompt carries the
 * first run's failure, a corrupt store that becomes a note instead of a crash, and `perfloop stats`.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import type { Results } from "../src/core/evidence/results-schema.ts";
import { runPerfloop } from "../src/core/loop/run.ts";
import { listEntries } from "../src/core/memory/records.ts";
import { defaultStorePath } from "../src/core/memory/session.ts";
import { openStoreForReading } from "../src/core/memory/store.ts";
import { createModelClient } from "../src/core/optimize/llm/agent.ts";
import { sink } from "./helpers/cli.ts";
import {
  BEHAVIOUR_CHANGING_PATCH,
  copyExample,
  MODEL_URL,
  PROTECTED_PATCH,
  scriptModel,
  TEST_BREAKING_PATCH,
  testConfig,
} from "./helpers/example.ts";

const dirs: string[] = [];
// The default store lives in the user's cache directory (memory/session.ts defaultStorePath): point
// XDG_CACHE_HOME at a scratch directory so these runs never touch the real one.
let cache = "";
const savedCache = process.env.XDG_CACHE_HOME;
beforeAll(async () => {
  nock.disableNetConnect();
  cache = await mkdtemp(path.join(tmpdir(), "perfloop-cache-"));
  dirs.push(cache);
  process.env.XDG_CACHE_HOME = cache;
});
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  if (savedCache === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCache;
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function scratch(): Promise<string> {
  const repo = await copyExample();
  dirs.push(repo);
  return repo;
}

/** The repository's default store, in the scratch cache directory. */
const storeOf = (repo: string): string => defaultStorePath(repo, { XDG_CACHE_HOME: cache });

describe("memory across runs: knob tuning", () => {
  // "'big'" makes lru_cache(maxsize='big') raise at import: the tests fail, deterministically.
  const config = testConfig({
    rounds: 3,
    tune: [
      {
        name: "stem-cache",
        literal: { file: "textstats/settings.py", pattern: "STEM_CACHE_SIZE = (\\S+)" },
        values: ["'big'", 1024],
        helps: ["cpu-single-thread"],
      },
    ],
  });
  const run = (repo: string, n: number) =>
    runPerfloop({ repoDir: repo, outDir: path.join(repo, `out${n}`), mode: "optimize", config, model: null });

  it("the second run skips the remembered failure and tries the remembered value first", async () => {
    const repo = await scratch();
    const first = await run(repo, 1);
    expect(first.rounds.map((r) => [r.description, r.gate === "tests" ? "tests" : "measured"])).toEqual([
      ["stem-cache: textstats/settings.py 64 → 'big'", "tests"],
      ["stem-cache: textstats/settings.py 64 → 1024", "measured"],
    ]);
    expect(first.rounds[0]?.reflection?.likelyCause).toMatch(/^the change altered behaviour/);
    const reflection = JSON.parse(await readFile(path.join(repo, "out1/rounds/1/reflection.json"), "utf8"));
    expect(reflection).toMatchObject({ gate: "tests", knob: { name: "stem-cache", value: "'big'" } });
    expect(reflection.testExcerpt).toMatch(/Error/);
    // No note but the one a busy machine may add (the verdict is then not learned: learn.ts).
    expect(first.memory?.notes.filter((n) => !/heavy CPU contention/.test(n))).toEqual([]);
    expect(first.memory?.store).toBe(storeOf(repo));
    expect(path.relative(repo, storeOf(repo)).startsWith("..")).toBe(true); // outside the repository

    const second = await run(repo, 2);
    expect(second.memory?.warmStart.skipped).toEqual([
      {
        knob: "stem-cache",
        value: "'big'",
        reason: expect.stringMatching(/^remembered failing the tests gate \(run run-/),
      },
    ]);
    expect(second.rounds.map((r) => r.description)).toEqual(["stem-cache: textstats/settings.py 64 → 1024"]);
    if (first.rounds[1]?.outcome === "accepted")
      expect(second.memory?.warmStart.first).toEqual(["stem-cache=1024"]);
    expect(second.rounds.length).toBeLessThan(first.rounds.length); // fewer candidate evaluations
    expect(second.memory?.policy?.version).toBe("tune@1");
    // The memory file never enters the trees candidates are built in, nor the final patch.
    expect(await readFile(path.join(repo, "out2/audit.log"), "utf8")).toMatch(
      /memory skip stem-cache='big': remembered failing/,
    );

    const out = sink();
    expect(await main(["stats", repo], { out, err: sink(), env: { XDG_CACHE_HOME: cache } })).toBe(0);
    expect(out.text).toMatch(/: 2 run\(s\)/);
    expect(out.text).toMatch(
      /3 candidate evaluation\(s\)|2 candidate evaluation\(s\), \d accepted, 0 skipped/,
    );
    expect(out.text).toMatch(/1 candidate evaluation\(s\), \d accepted, 1 skipped from memory/);
    const json = sink();
    expect(
      await main(["stats", repo, "--json"], { out: json, err: sink(), env: { XDG_CACHE_HOME: cache } }),
    ).toBe(0);
    expect(JSON.parse(json.text)[0]).toMatchObject({ runs: 2, candidates: 3, skipped: 1 });
  });
});

describe("memory across runs: a mocked model", () => {
  const model = () => createModelClient({ apiKey: "sk-test", baseURL: `${MODEL_URL}/v1` });
  const run = (repo: string, n: number): Promise<Results> =>
    runPerfloop({
      repoDir: repo,
      outDir: path.join(repo, `out${n}`),
      mode: "optimize",
      config: testConfig({ rounds: 1 }),
      model: model(),
    });

  it("survives a corrupt store, then recalls the first run's failure in the second run's prompt", async () => {
    const repo = await scratch();
    await mkdir(path.dirname(storeOf(repo)), { recursive: true });
    await writeFile(storeOf(repo), "not a database ".repeat(100));

    scriptModel([
      { tool: "submit_patch", args: { patch: TEST_BREAKING_PATCH, rationale: "shorter suffix rule" } },
    ]);
    const first = await run(repo, 1);
    expect(first.status, first.message).not.toBe("error");
    expect(first.rounds[0]).toMatchObject({ outcome: "rejected", gate: "tests" });
    expect(first.memory?.notes[0]).toMatch(
      /memory store .*memory\.sqlite was unreadable \(file is not a database\): it was moved to .*corrupt-.* and a fresh, empty store was created/,
    );

    const received = scriptModel([
      // Refused when made (the session goes on), then a change that keeps the output but not what
      // `measure` returns: behaviour capture rejects it.
      { tool: "submit_patch", args: { patch: PROTECTED_PATCH, rationale: "x" } },
      { tool: "submit_patch", args: { patch: BEHAVIOUR_CHANGING_PATCH, rationale: "cap the measure" } },
    ]);
    const second = await run(repo, 2);
    expect(second.rounds[0]?.gate, JSON.stringify([second.rounds, second.memory])).toBe("behaviour");
    // nock's body matcher also sees the (unmatched) embeddings request: pick the chat request.
    const chat = received.find((r) => Array.isArray(r.messages));
    const prompt = chat?.messages.find((m) => m.role === "user")?.content ?? "";
    expect(prompt).toMatch(/## From earlier runs on this repository/);
    expect(prompt).toMatch(
      /- failure \((cpu-single-thread, )?textstats\/stem\.py `\w+`\): LLM rewrite of textstats\/stem\.py \(candidate 1\) — tests: the change altered behaviour: test_rules fails/,
    );
    // The endpoint has no embeddings (nock refuses the call): retrieval fell back to BM25 and said so.
    expect(second.memory).toMatchObject({ retrieval: "lexical", retrieved: 1 });
    expect(second.memory?.notes.join("\n")).toMatch(
      /retrieval fell back to BM25: embeddings from text-embedding-3-small/,
    );
    expect(second.memory?.policy?.version).toMatch(/^llm:(focused|algorithmic)@[0-9a-f]{8}$/);
    expect(await readFile(path.join(repo, "out2/rounds/1/candidates/1/prompt.md"), "utf8")).toMatch(
      /From earlier runs/,
    );

    const db = await openStoreForReading(storeOf(repo));
    const entries = listEntries(db);
    db.close();
    expect(entries.map((e) => [e.kind, e.numbers.gate])).toEqual([
      ["failure", "behaviour"],
      ["failure", "tests"],
    ]);
  });
});
