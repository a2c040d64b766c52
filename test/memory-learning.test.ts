/**
 * What memory learns and forgets: the knob warm start's rules, forgetting (code gone, age, size cap),
 * the rows one candidate leaves, and the figures `perfloop stats` prints.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import type { Knob } from "../src/core/config/schema.ts";
import { forget } from "../src/core/memory/forget.ts";
import { insertRetrieval, listRuns, markUsed, upsertRun } from "../src/core/memory/history.ts";
import { learnRound, type RoundFacts } from "../src/core/memory/learn.ts";
import { migrate } from "../src/core/memory/migrations.ts";
import {
  insertEntry,
  insertKnobResult,
  type KnobResult,
  knobResultsFor,
  listEntries,
  markWinners,
} from "../src/core/memory/records.ts";
import { type Database, loadSqlite } from "../src/core/memory/sqlite.ts";
import { computeStats, formatStats, slope } from "../src/core/memory/stats.ts";
import { knobKey, planWarmStart } from "../src/core/memory/warm-start.ts";
import type { KnobTrial } from "../src/core/optimize/knobs.ts";
import { reflect } from "../src/core/reflect/reflection.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function memoryDb(): Promise<Database> {
  const { DatabaseSync } = await loadSqlite();
  const db = new DatabaseSync(":memory:");
  migrate(db);
  return db;
}

const config = parseConfig({
  test: "true",
  benchmark: { command: "true" },
  tune: [
    {
      name: "cache",
      literal: { file: "settings.py", pattern: "SIZE = (\\d+)" },
      values: [256, 1024, 4096, 16384],
    },
    { name: "threads", env: "THREADS", values: [2, 4] },
  ],
});
const [cache, threads] = config.tune as [Knob, Knob];
const trials = (knob: Knob, values: string[]): KnobTrial[] => values.map((value) => ({ knob, value }));

let id = 0;
function result(knob: Knob, value: string, partial: Partial<KnobResult>): KnobResult {
  return {
    id: ++id,
    runId: "run-1",
    commit: "c1",
    createdAt: "2026-01-01T00:00:00.000Z",
    knob: knob.name,
    knobKey: knobKey(knob),
    value,
    file: "literal" in knob ? knob.literal.file : null,
    fingerprint: "fp",
    outcome: "accepted",
    gate: null,
    verdict: "faster",
    effectPct: 20,
    reason: "",
    winner: false,
    ...partial,
  };
}

describe("knob warm start", () => {
  const planned = [...trials(cache, ["256", "1024", "4096", "16384"]), ...trials(threads, ["2", "4"])];

  it("tries the remembered winner first and holds back what it beat in that run", () => {
    const remembered = [
      result(cache, "256", {}),
      result(cache, "1024", { winner: true }),
      result(cache, "4096", { outcome: "rejected", gate: "performance", verdict: "no significant change" }),
    ];
    const plan = planWarmStart(planned, remembered, { cache: "64" }, "c2");
    expect(plan.trials.map((t) => `${t.knob.name}=${t.value}`)).toEqual([
      "cache=1024",
      "cache=16384",
      "threads=2",
      "threads=4",
    ]);
    expect(plan.remembered.map((r) => r.trial.value)).toEqual(["1024"]);
    expect(plan.deferred.get("cache")?.map((d) => [d.trial.value, d.reason])).toEqual([
      ["256", "lost to 1024 in run run-1 on this machine"],
      ["4096", "lost to 1024 in run run-1 on this machine"],
    ]);
    expect(plan.skipped).toEqual([]);
  });

  it("skips values that broke the tests or were slower, and no-change values on the same commit", () => {
    const remembered = [
      result(cache, "4096", {
        outcome: "rejected",
        gate: "tests",
        verdict: null,
        reason: "tests failed: exit code 1",
      }),
      result(cache, "16384", { outcome: "rejected", gate: "performance", verdict: "slower" }),
      result(threads, "2", {
        outcome: "rejected",
        gate: "performance",
        verdict: "no significant change",
        commit: "c2",
      }),
      result(threads, "4", {
        outcome: "rejected",
        gate: "performance",
        verdict: "no significant change",
        commit: "c1",
      }),
      result(cache, "256", { outcome: "rejected", gate: "performance", verdict: "inconclusive" }),
    ];
    const plan = planWarmStart(planned, remembered, {}, "c2");
    expect(plan.skipped.map((s) => [s.trial.value, s.reason.split(" (")[0]])).toEqual([
      ["4096", "remembered failing the tests gate"],
      ["16384", "remembered slower"],
      ["2", "remembered with no significant change on this same commit"],
    ]);
    // Inconclusive and other-commit results are not failures: those values are still tried.
    expect(plan.trials.map((t) => t.value)).toEqual(["256", "1024", "4"]);
  });

  it("lets the newest result of a value decide, and ignores other knobs' results", () => {
    const other: Knob = { ...cache, literal: { file: "other.py", pattern: "SIZE = (\\d+)" } } as Knob;
    const remembered = [
      result(cache, "4096", { outcome: "rejected", gate: "tests", verdict: null }),
      result(cache, "4096", { outcome: "accepted" }), // newer: fixed since
      result(other, "1024", { winner: true }),
    ];
    const plan = planWarmStart(trials(cache, ["1024", "4096"]), remembered, {}, null);
    expect(plan.skipped).toEqual([]);
    expect(plan.trials.map((t) => t.value)).toEqual(["4096", "1024"]); // accepted before: first, holds nothing back
    expect(plan.deferred.size).toBe(0);
  });
});

describe("forgetting", () => {
  it("drops rows whose file or function is gone, rows past the age limit, and rows over the cap", async () => {
    const repo = await mkdtemp(path.join(tmpdir(), "perfloop-forget-"));
    dirs.push(repo);
    await mkdir(path.join(repo, "src"));
    await writeFile(path.join(repo, "src/app.py"), "def kept():\n    return 1\n");
    const db = await memoryDb();
    const base = {
      runId: "r",
      commit: null,
      category: "cpu-single-thread",
      strategy: "llm" as const,
      signature: null,
      gainPct: null,
      numbers: {},
    };
    const now = new Date("2026-06-01T00:00:00.000Z");
    const add = (
      file: string | null,
      fn: string | null,
      summary: string,
      createdAt = "2026-05-30T00:00:00.000Z",
    ) => insertEntry(db, { ...base, kind: "success", file, function: fn, summary, createdAt });
    add("src/app.py", "kept", "kept");
    add("src/app.py", "<module>", "module-level: not checked");
    add("src/app.py", "removed_function", "function gone");
    add("src/deleted.py", null, "file gone");
    add(null, null, "too old", "2025-01-01T00:00:00.000Z");
    insertKnobResult(db, {
      ...result(cache, "256", {}),
      file: "settings.py",
      createdAt: "2026-05-30T00:00:00.000Z",
    });
    const dropped = await forget(db, { repoDir: repo, maxAgeDays: 180, maxEntries: 1000, now });
    expect(dropped).toEqual({ codeGone: 3, aged: 1, capped: 0 });
    expect(
      listEntries(db)
        .map((e) => e.summary)
        .sort(),
    ).toEqual(["kept", "module-level: not checked"]);
    expect(knobResultsFor(db, "fp")).toEqual([]); // settings.py does not exist in this repo

    for (let i = 0; i < 5; i++) add(null, null, `new ${i}`);
    const capped = await forget(db, { repoDir: repo, maxAgeDays: 180, maxEntries: 3, now });
    expect(capped.capped).toBe(4);
    expect(listEntries(db).map((e) => e.summary)).toEqual(["new 4", "new 3", "new 2"]);
  });
});

describe("learning from a round, and the stats", () => {
  const ctx = {
    runId: "run-1",
    commit: "abc",
    createdAt: "2026-01-01T00:00:00.000Z",
    category: "cpu-single-thread",
    fingerprint: "fp",
    hotSpots: [
      { file: "textstats/stem.py", line: 1, function: "measure", selfPct: 50, cumulativePct: 60, calls: 1 },
    ],
    arm: { id: "llm:focused", version: "llm:focused@1" },
    policy: "llm:focused@1",
  };
  const facts = (partial: Partial<RoundFacts>): RoundFacts => ({
    n: 1,
    strategy: "llm",
    description: "LLM rewrite of textstats/stem.py",
    rationale: "check the suffix first",
    files: ["textstats/stem.py"],
    knob: null,
    outcome: "accepted",
    gate: null,
    reason: "",
    comparison: null,
    reflection: null,
    ...partial,
  });

  it("files a failure with its signature, then marks it fixed by a later success at the same place", async () => {
    const db = await memoryDb();
    const rejected = facts({ outcome: "rejected", gate: "tests", reason: "tests failed" });
    const reflection = reflect({
      ...rejected,
      round: 1,
      gate: "tests",
      knob: null,
      comparison: null,
      testLog: "FAIL: test_rules (t.StemTest)\nAssertionError: 'poni' != 'pony'",
      hotSpots: ctx.hotSpots,
      minImprovementPct: 5,
    });
    learnRound(db, ctx, { ...rejected, reflection });
    const success = learnRound(db, ctx, facts({}));
    const [s, f] = listEntries(db);
    expect(f).toMatchObject({
      kind: "failure",
      file: "textstats/stem.py",
      function: "measure",
      signature: reflection.signature,
      fixedBy: success.entryId,
    });
    expect(f?.summary).toMatch(/tests: the change altered behaviour: test_rules fails/);
    expect(s).toMatchObject({
      kind: "success",
      summary: "LLM rewrite of textstats/stem.py: check the suffix first",
    });
    // Model errors and inconclusive measurements say nothing about the strategy: no failure, no outcome.
    expect(learnRound(db, ctx, facts({ outcome: "rejected", gate: "error", reason: "model down" }))).toEqual({
      entryId: null,
      knobResultId: null,
      counted: false,
    });
  });

  it("records knob results and winners; stats give success rate, slope, reuse and skips", async () => {
    const db = await memoryDb();
    const run = (
      id: string,
      startedAt: string,
      status: string,
      improvementPct: number,
      candidates: number,
      accepted: number,
      skipped = 0,
    ) =>
      upsertRun(db, {
        id,
        repository: "octo/textstats",
        commit: null,
        fingerprint: "fp",
        startedAt,
        status,
        category: "cpu-single-thread",
        improvementPct,
        candidates,
        accepted,
        skipped,
      });
    run("a", "2026-01-01T00:00:00Z", "no-improvement", 0, 3, 1);
    run("b", "2026-01-08T00:00:00Z", "improved", 40, 2, 2);
    run("c", "2026-01-15T00:00:00Z", "improved", 60, 1, 1, 2);
    const knobFacts = facts({
      strategy: "tune",
      knob: { knob: cache, value: "1024" },
      files: ["settings.py"],
    });
    learnRound(
      db,
      { ...ctx, runId: "c", arm: { id: "tune", version: "tune@1" }, policy: "tune@1" },
      knobFacts,
    );
    markWinners(db, "c", [{ knobKey: knobKey(cache), value: "1024" }]);
    expect(knobResultsFor(db, "fp")[0]).toMatchObject({ value: "1024", winner: true, file: "settings.py" });
    const used = insertRetrieval(db, "c", "warm-start", { knobResultId: 1 });
    insertRetrieval(db, "c", "prompt", { entryId: 1 });
    markUsed(db, [used]);

    const [stats] = computeStats(db);
    expect(stats).toMatchObject({
      repository: "octo/textstats",
      runs: 3,
      improvedRuns: 2,
      finishedRuns: 3,
      acceptedCandidates: 4,
      candidates: 6,
      retrieved: 2,
      reused: 1,
      reuseRate: 0.5,
      skipped: 2,
      rollbacks: [],
    });
    expect(stats?.successRate).toBeCloseTo(2 / 3);
    expect(stats?.improvementSlope).toBeCloseTo(30); // 0, 40, 60 → 30 points per run
    const text = formatStats("/repo/.perfloop/memory.sqlite", computeStats(db));
    expect(text).toMatch(/success rate: 2\/3 runs improved \(67%\); 4\/6 candidates accepted \(67%\)/);
    expect(text).toMatch(/improvement slope: \+30\.00 points per run; latest run 60\.0%/);
    expect(text).toMatch(
      /memory reuse: 1\/2 retrieved entries used by an accepted candidate \(50%\); 2 knob value\(s\) skipped/,
    );
    expect(text).toMatch(
      /2026-01-15T00:00:00 improved 60\.0%: 1 candidate evaluation\(s\), 1 accepted, 2 skipped from memory/,
    );
    expect(text).toMatch(/rollbacks: none/);
    expect(listRuns(db).map((r) => r.id)).toEqual(["a", "b", "c"]);
  });

  it("slope of too few points is unknown", () => {
    expect(slope([])).toBeNull();
    expect(slope([5])).toBeNull();
    expect(slope([1, 2, 3])).toBeCloseTo(1);
  });
});
