/**
 * The App's bounded memory: the LRU with TTL, the delivery log (a failed delivery is forgotten so a
 * redelivery retries it), the request memory, and reading "who asked" back from the text the
 * publish messages write.
 */
import { describe, expect, it } from "vitest";
import { DeliveryLog, oncePerDelivery } from "../../src/app/deliveries.ts";
import { TtlLru } from "../../src/app/lru.ts";
import { parseRequestedBy, recallRequest, toRequestInfo } from "../../src/app/request-info.ts";
import { RequestMemory } from "../../src/app/request-memory.ts";
import { phaseCheckOutput } from "../../src/publish/index.ts";

const REPO = { owner: "Codertocat", repo: "Hello-World" };

describe("TtlLru", () => {
  it("keeps at most maxEntries, evicting the least recently used", () => {
    const lru = new TtlLru<string, number>({ maxEntries: 3, ttlMs: 1_000 }, () => 0);
    for (const [k, v] of [
      ["a", 1],
      ["b", 2],
      ["c", 3],
    ] as const)
      lru.set(k, v);
    expect(lru.get("a")).toBe(1); // a is now the most recently used
    lru.set("d", 4);
    expect(lru.size).toBe(3);
    expect(lru.has("b")).toBe(false);
    expect([lru.get("a"), lru.get("c"), lru.get("d")]).toEqual([1, 3, 4]);
    for (let i = 0; i < 10_000; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(3);
  });
  it("forgets entries after the TTL from their last write", () => {
    let now = 0;
    const lru = new TtlLru<string, string>({ maxEntries: 10, ttlMs: 100 }, () => now);
    lru.set("a", "x");
    now = 99;
    expect(lru.get("a")).toBe("x");
    now = 100;
    expect(lru.has("a")).toBe(false);
    expect(lru.get("a")).toBeUndefined();
    expect(lru.size).toBe(0);
  });
  it("refuses limits that would not bound anything", () => {
    expect(() => new TtlLru({ maxEntries: 0, ttlMs: 1 })).toThrow(RangeError);
    expect(() => new TtlLru({ maxEntries: 1, ttlMs: 0 })).toThrow(RangeError);
  });
});

describe("DeliveryLog", () => {
  it("takes a delivery on once, in flight and after it is handled", async () => {
    const log = new DeliveryLog();
    expect(log.begin("d1")).toBe(true);
    expect(log.begin("d1")).toBe(false);
    log.end("d1", true);
    expect(log.begin("d1")).toBe(false);
    let runs = 0;
    expect(await oncePerDelivery(log, "d2", async () => void runs++)).toBe(true);
    expect(await oncePerDelivery(log, "d2", async () => void runs++)).toBe(false);
    expect(runs).toBe(1);
  });
  it("forgets a delivery whose handling failed, so a redelivery is handled again", async () => {
    const log = new DeliveryLog();
    await expect(
      oncePerDelivery(log, "d1", async () => {
        throw new Error("GitHub answered 502");
      }),
    ).rejects.toThrow("502");
    let runs = 0;
    expect(await oncePerDelivery(log, "d1", async () => void runs++)).toBe(true);
    expect(runs).toBe(1);
  });
  it("stays bounded", () => {
    const log = new DeliveryLog({ maxEntries: 100, ttlMs: 60_000 });
    for (let i = 0; i < 1_000; i++) log.end(`d${i}`, log.begin(`d${i}`));
    expect(log.size).toBe(100);
  });
});

describe("RequestMemory", () => {
  it("remembers requests by id and the last request of each pull request, per repository", () => {
    const memory = new RequestMemory();
    const base = { pr: 2, headSha: "a".repeat(40), actor: "octocat", via: "/optimize", at: 1 };
    memory.remember(REPO, { ...base, requestId: "r1", args: { rounds: 3 } });
    memory.remember(REPO, { ...base, requestId: "r2", args: { strategy: "llm" } });
    expect(memory.byId(REPO, "r1")?.args).toEqual({ rounds: 3 });
    expect(memory.lastOf(REPO, 2)?.requestId).toBe("r2");
    expect(memory.lastOf({ owner: "codertocat", repo: "hello-world" }, 2)?.requestId).toBe("r2");
    expect(memory.lastOf({ owner: "other", repo: "Hello-World" }, 2)).toBeUndefined();
    expect(memory.lastOf(REPO, 3)).toBeUndefined();
  });
});

describe("who asked", () => {
  it("reads back what the publish messages write", () => {
    const origin = {
      actor: "Codertocat",
      via: "/optimize",
      args: { rounds: 3, target: 12.5, strategy: "llm" as const },
    };
    const { summary } = phaseCheckOutput("Running on the GPU runner", toRequestInfo("r1", origin), {
      runUrl: "https://github.com/o/r/actions/runs/1",
    });
    expect(parseRequestedBy(summary)).toEqual(origin);
    const label = phaseCheckOutput(
      "Queued",
      toRequestInfo("r2", { actor: "x[bot]", via: "label perfloop:optimize", args: {} }),
      {},
    );
    expect(parseRequestedBy(label.summary)).toEqual({
      actor: "x[bot]",
      via: "label perfloop:optimize",
      args: {},
    });
    expect(parseRequestedBy("Queued: optimization requested. request `r3`")).toBeNull();
    expect(parseRequestedBy(null)).toBeNull();
  });
  it("recalls from memory first, else from a check run's summary, else nothing", () => {
    const memory = new RequestMemory();
    memory.remember(REPO, {
      requestId: "r1",
      pr: 2,
      headSha: "a".repeat(40),
      actor: "mona",
      via: "/optimize retry",
      args: {},
      at: 5,
    });
    expect(recallRequest(memory, REPO, "r1")).toEqual({
      actor: "mona",
      via: "/optimize retry",
      args: {},
      at: 5,
    });
    const run = {
      id: 1,
      externalId: "r2",
      status: "in_progress",
      conclusion: null,
      detailsUrl: null,
      htmlUrl: null,
      startedAt: null,
      summary: "Running: optimization requested by @hubot via `/optimize` (rounds 2).",
    };
    expect(recallRequest(memory, REPO, "r2", [run])).toEqual({
      actor: "hubot",
      via: "/optimize",
      args: { rounds: 2 },
    });
    expect(recallRequest(undefined, REPO, "r3", [run])).toEqual({});
  });
});
