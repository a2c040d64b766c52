/**
 * Safe self-update: the Thompson-sampling bandit, the trust region (a drop of more than 10 points after
 * a change of version rolls back) and the policy that combines them over a real store.
 */
import { describe, expect, it } from "vitest";
import { createRng } from "../src/core/measure/stats.ts";
import { sampleBeta, sampleGamma, thompsonChoose } from "../src/core/memory/bandit.ts";
import {
  type ArmOutcome,
  insertOutcome,
  listRollbacks,
  savePromptVersion,
} from "../src/core/memory/history.ts";
import { migrate } from "../src/core/memory/migrations.ts";
import { type Arm, choosePolicy, currentArms, TUNER_VERSION } from "../src/core/memory/policy.ts";
import { type Database, loadSqlite } from "../src/core/memory/sqlite.ts";
import { judgeTrustRegion, TRUST_MAX_DROP_POINTS } from "../src/core/memory/trust-region.ts";

async function memoryDb(): Promise<Database> {
  const { DatabaseSync } = await loadSqlite();
  const db = new DatabaseSync(":memory:");
  migrate(db);
  return db;
}

/** Outcomes with ids 1…n: `policy` for each, success from the pattern ("1" / "0"). */
function outcomes(...runs: Array<[string, string]>): ArmOutcome[] {
  let id = 0;
  return runs.flatMap(([policy, pattern]) =>
    [...pattern].map((c) => ({
      id: ++id,
      runId: "r",
      category: "cpu-single-thread",
      arm: policy.split("@")[0] as string,
      version: policy,
      policy,
      success: c === "1",
    })),
  );
}

describe("trust region", () => {
  it("rolls back when the success rate drops by more than 10 points after a change", () => {
    const judgement = judgeTrustRegion(
      outcomes(["llm:focused@aaaa", "1101101011"], ["llm:algorithmic@bbbb", "00100"]),
      new Set(),
    );
    expect(judgement.rollback).toMatchObject({
      fromVersion: "llm:algorithmic@bbbb",
      toVersion: "llm:focused@aaaa",
      changeOutcomeId: 11,
      beforeRate: 0.7,
      afterRate: 0.2,
      beforeN: 10,
      afterN: 5,
    });
    expect(judgement.rollback?.reason).toMatch(/from 70% .* to 20% .*drop of 50 points > 10/);
  });

  it("keeps a change whose drop is within 10 points, and judges only with 5 outcomes a side", () => {
    // 60% → 50%: a drop of exactly 10 points is tolerated ("more than 10" rolls back).
    expect(TRUST_MAX_DROP_POINTS).toBe(10);
    expect(judgeTrustRegion(outcomes(["a@1", "1111100000"], ["b@2", "1010101010"]), new Set())).toEqual({
      rollback: null,
      why: "within the region",
    });
    expect(judgeTrustRegion(outcomes(["a@1", "1111111111"], ["b@2", "0000"]), new Set())).toEqual({
      rollback: null,
      why: "too few outcomes",
    });
    expect(judgeTrustRegion(outcomes(["a@1", "1111111111"]), new Set())).toEqual({
      rollback: null,
      why: "no change",
    });
  });

  it("uses a sliding window of 10 a side and never acts twice on one change", () => {
    // Long ago a@1 was poor, recently good: only the last 10 before the change count (rate 1.0).
    const history = outcomes(["a@1", `${"0".repeat(30)}${"1".repeat(10)}`], ["b@2", "1111100000000"]);
    const judgement = judgeTrustRegion(history, new Set());
    expect(judgement.rollback).toMatchObject({ beforeRate: 1, afterRate: 0.5, afterN: 10 });
    expect(judgeTrustRegion(history, new Set([41]))).toEqual({ rollback: null, why: "already judged" });
  });
});

describe("Thompson sampling", () => {
  it("draws Beta and Gamma variates with the right means", () => {
    const rng = createRng(7);
    const n = 20_000;
    let beta = 0;
    let gamma = 0;
    let small = 0;
    for (let i = 0; i < n; i++) {
      beta += sampleBeta(3, 7, rng);
      gamma += sampleGamma(2.5, rng);
      small += sampleGamma(0.5, rng);
    }
    expect(beta / n).toBeCloseTo(0.3, 2);
    expect(gamma / n).toBeCloseTo(2.5, 1);
    expect(small / n).toBeCloseTo(0.5, 1);
    expect(() => sampleBeta(0, 1, rng)).toThrow(RangeError);
  });

  it("is reproducible for a seed and learns the better arm", () => {
    const arms = [
      { id: "a", successes: 3, failures: 3 },
      { id: "b", successes: 1, failures: 1 },
    ];
    expect(thompsonChoose(arms, createRng(42))).toEqual(thompsonChoose(arms, createRng(42)));
    // Simulate 400 plays: arm "good" succeeds 70% of the time, "poor" 30%.
    const rng = createRng(1);
    const truth: Record<string, number> = { good: 0.7, poor: 0.3 };
    const record = {
      good: { id: "good", successes: 0, failures: 0 },
      poor: { id: "poor", successes: 0, failures: 0 },
    };
    let goodPlays = 0;
    for (let t = 0; t < 400; t++) {
      const { id } = thompsonChoose([record.poor, record.good], rng);
      const arm = record[id as "good" | "poor"];
      if (id === "good") goodPlays += 1;
      if (rng() < (truth[id] as number)) arm.successes += 1;
      else arm.failures += 1;
    }
    expect(goodPlays).toBeGreaterThan(300);
  });
});

describe("policy over the store", () => {
  const category = "cpu-single-thread";
  function record(db: Database, arm: Arm, policy: string, pattern: string) {
    for (const c of pattern)
      insertOutcome(
        db,
        { runId: "old", category, arm: arm.id, version: arm.version, policy, success: c === "1" },
        "2026-01-01T00:00:00.000Z",
      );
  }

  it("offers the tuner and one arm per prompt variant", () => {
    const arms = currentArms({ tune: true, llm: true });
    expect(arms.map((a) => a.id)).toEqual(["tune", "llm:focused", "llm:algorithmic"]);
    expect(arms[0]?.version).toBe(TUNER_VERSION);
    expect(arms[1]?.version).toMatch(/^llm:focused@[0-9a-f]{8}$/);
    expect(currentArms({ tune: false, llm: false })).toEqual([]);
  });

  it("rolls back to the last good version, records why, and blocks the bad one", async () => {
    const db = await memoryDb();
    const [tune, focused, algorithmic] = currentArms({ tune: true, llm: true }) as [Arm, Arm, Arm];
    record(db, focused, focused.version, "1101101011");
    record(db, algorithmic, algorithmic.version, "000010");
    const choice = choosePolicy(db, {
      category,
      runId: "run-3",
      arms: [tune, focused, algorithmic],
      preferred: "llm",
      rng: createRng(1),
    });
    expect(choice.primary.version).toBe(focused.version);
    expect(choice.reason).toMatch(
      /^trust region: rolled back from llm:algorithmic@\w+ to llm:focused@\w+; success rate fell from 70%/,
    );
    const [rollback] = listRollbacks(db, category);
    expect(rollback).toMatchObject({
      runId: "run-3",
      fromVersion: algorithmic.version,
      toVersion: focused.version,
      changeOutcomeId: 11,
    });

    // Later runs never pick the blocked version, whatever the draws.
    for (let seed = 0; seed < 30; seed++) {
      const next = choosePolicy(db, {
        category,
        runId: `run-${seed + 4}`,
        arms: [tune, focused, algorithmic],
        preferred: "llm",
        rng: createRng(seed),
      });
      expect(next.primary.version).not.toBe(algorithmic.version);
      expect(next.llm?.version).not.toBe(algorithmic.version);
    }
    expect(listRollbacks(db, category)).toHaveLength(1);
  });

  it("falls back to the stored text of an earlier prompt version when the current one is blocked", async () => {
    const db = await memoryDb();
    const [focused] = currentArms({ tune: false, llm: true }) as [Arm];
    const older: Arm = { ...focused, version: "llm:focused@00000000", system: "the old, good system prompt" };
    savePromptVersion(db, older.version, "focused", older.system as string);
    record(db, older, older.version, "1111111111");
    record(db, focused, focused.version, "00000"); // a perfloop upgrade changed the prompt, and it got worse
    const choice = choosePolicy(db, {
      category,
      runId: "run-x",
      arms: [focused],
      preferred: "llm",
      rng: createRng(3),
    });
    expect(choice.rollback?.fromVersion).toBe(focused.version);
    expect(choice.primary.version).toBe(older.version);
    expect(choice.llm?.system).toBe("the old, good system prompt");
  });

  it("plays by Thompson sampling with the verdict rule as a one-success prior, and says so", async () => {
    const db = await memoryDb();
    const arms = currentArms({ tune: true, llm: true });
    const choice = choosePolicy(db, { category, runId: "r", arms, preferred: "tune", rng: createRng(5) });
    expect(choice.rollback).toBeNull();
    expect(choice.reason).toMatch(
      /^Thompson sampling for cpu-single-thread: tune@1 0\/0 \(draw 0\.\d\d\), llm:focused@\w+ 0\/0/,
    );
    // The prompt: the primary when it is an LLM arm, else the greedy LLM arm (ties keep declared order).
    expect(choice.llm?.id).toBe(choice.primary.strategy === "llm" ? choice.primary.id : "llm:focused");
    // With no data, the preferred arm's Beta(2, 1) prior wins about half the draws (1/2 against 1/4 each).
    let tuneFirst = 0;
    for (let seed = 0; seed < 400; seed++)
      if (
        choosePolicy(db, { category, runId: "r", arms, preferred: "tune", rng: createRng(seed) }).primary
          .id === "tune"
      )
        tuneFirst += 1;
    expect(tuneFirst / 400).toBeGreaterThan(0.4);
    expect(tuneFirst / 400).toBeLessThan(0.6);
    const only = choosePolicy(db, {
      category,
      runId: "r2",
      arms: currentArms({ tune: true, llm: false }),
      preferred: "tune",
      rng: createRng(5),
    });
    expect(only.primary.version).toBe(TUNER_VERSION);
    expect(only.reason).toBe("one strategy arm available (tune@1)");
  });
});
