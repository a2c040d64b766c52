/**
 * Retrieval: exact category + location first, then similarity — embeddings from the endpoint when it
 * has them (a real OpenAI client against nock), BM25 when it does not — and the lexical scorer itself.
 */
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Embedder, EmbeddingError, openAiEmbedder } from "../src/core/memory/embed.ts";
import { bm25Scores, cosine, tokenize } from "../src/core/memory/lexical.ts";
import type { MemoryEntry } from "../src/core/memory/records.ts";
import { type RetrievalQuery, retrieve, retrievedLine, tierOf } from "../src/core/memory/retrieve.ts";
import { createModelClient } from "../src/core/optimize/llm/agent.ts";
import type { HotSpot } from "../src/core/types.ts";

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

let nextId = 1;
function entry(partial: Partial<MemoryEntry>): MemoryEntry {
  return {
    id: nextId++,
    kind: "success",
    runId: "run-1",
    commit: null,
    createdAt: "2026-01-01T00:00:00.000Z",
    category: "cpu-single-thread",
    strategy: "llm",
    file: null,
    function: null,
    summary: "",
    signature: null,
    gainPct: null,
    numbers: {},
    fixedBy: null,
    ...partial,
  };
}

const hot: HotSpot[] = [
  { file: "textstats/stem.py", line: 29, function: "measure", selfPct: 60, cumulativePct: 70, calls: 1000 },
  {
    file: "textstats/__main__.py",
    line: 10,
    function: "top_stems",
    selfPct: 10,
    cumulativePct: 95,
    calls: 1,
  },
];
const query: RetrievalQuery = {
  categories: ["cpu-single-thread"],
  hotSpots: hot,
  text: "cpu-single-thread one core busy better algorithm vectorize textstats/stem.py measure",
};

describe("retrieval tiers", () => {
  const exact = entry({
    file: "textstats/stem.py",
    function: "measure",
    summary: "check the suffix before the measure",
  });
  const otherCategory = entry({
    category: "disk-io",
    file: "textstats/stem.py",
    function: "measure",
    summary: "x",
  });
  const sameFile = entry({ file: "textstats/stem.py", function: "stem", summary: "cache stems" });
  const similar = entry({ category: "waiting", file: "lib/other.py", summary: "vectorize the measure loop" });
  const unrelated = entry({ category: "waiting", file: "lib/net.py", summary: "batch network round trips" });

  it("ranks exact category+location first, then location or category+file, then similar text", async () => {
    expect(tierOf(exact, query)).toBe(1);
    expect(tierOf(otherCategory, query)).toBe(2);
    expect(tierOf(sameFile, query)).toBe(2);
    expect(tierOf(similar, query)).toBe(3);
    const result = await retrieve([unrelated, similar, sameFile, otherCategory, exact], query);
    expect(result.method).toBe("lexical");
    const ids = result.items.map((r) => r.entry.id);
    expect(ids[0]).toBe(exact.id);
    expect(new Set(ids.slice(1, 3))).toEqual(new Set([sameFile.id, otherCategory.id]));
    expect(ids[3]).toBe(similar.id);
    // Tier 3 keeps only entries that share terms with the query: the network one is left out.
    expect(result.items.map((r) => r.entry.id)).not.toContain(unrelated.id);
    expect(result.items.map((r) => r.tier)).toEqual([1, 2, 2, 3]);
  });

  it("honours the limit and returns nothing for an empty store", async () => {
    expect((await retrieve([], query)).method).toBe("none");
    const many = Array.from({ length: 20 }, () =>
      entry({ file: "textstats/stem.py", function: "measure", summary: "s" }),
    );
    expect((await retrieve(many, query, { limit: 5 })).items).toHaveLength(5);
  });

  it("uses embeddings when the embedder works, caching new vectors", async () => {
    const vectors: Record<string, number[]> = { query: [1, 0], a: [0.9, 0.1], b: [0, 1] };
    const a = entry({ category: "waiting", file: "x.py", summary: "alpha" });
    const b = entry({ category: "waiting", file: "y.py", summary: "beta" });
    const calls: string[][] = [];
    const embedder: Embedder = {
      model: "fake",
      async embed(texts) {
        calls.push(texts);
        return texts.map(
          (t) =>
            (t.includes("alpha") ? vectors.a : t.includes("beta") ? vectors.b : vectors.query) as number[],
        );
      },
    };
    const cached = new Map<number, number[]>();
    const result = await retrieve([b, a], query, {
      embedder,
      cached,
      onVectors: (v) => {
        for (const [id, x] of v) cached.set(id, x);
      },
    });
    expect(result.method).toBe("embeddings");
    expect(result.items.map((r) => r.entry.id)).toEqual([a.id]); // b's cosine 0 < threshold
    expect(cached.size).toBe(2);
    await retrieve([b, a], query, { embedder, cached });
    expect(calls[1]).toHaveLength(1); // only the query: the entries' vectors came from the cache
  });

  it("falls back to BM25 when the embedder fails, saying why", async () => {
    const embedder: Embedder = {
      model: "none",
      embed: async () => {
        throw new EmbeddingError("embeddings from none: 404 model not found");
      },
    };
    const result = await retrieve(
      [entry({ category: "waiting", summary: "vectorize the measure loop" })],
      query,
      { embedder },
    );
    expect(result.method).toBe("lexical");
    expect(result.note).toMatch(/fell back to BM25: embeddings from none: 404/);
    expect(result.items).toHaveLength(1);
  });

  it("formats a retrieved entry with its evidence and its later fix", async () => {
    const fix = entry({ summary: "suffix first", gainPct: 34.2 });
    const failed = entry({
      kind: "failure",
      file: "textstats/stem.py",
      function: "measure",
      summary: "rewrote the rules — tests: changed behaviour",
      fixedBy: fix.id,
      commit: "0123456789abcdef",
    });
    const line = retrievedLine({ entry: failed, tier: 1, similarity: 1 }, new Map([[fix.id, fix]]));
    expect(line).toBe(
      "- failure (cpu-single-thread, textstats/stem.py `measure`): rewrote the rules — tests: changed behaviour; later fixed by: suffix first (run run-1, commit 0123456)",
    );
    expect(retrievedLine({ entry: fix, tier: 3, similarity: 0 }, new Map())).toMatch(/— measured \+34\.2%/);
  });
});

describe("embeddings from an OpenAI-compatible endpoint", () => {
  const client = () => createModelClient({ apiKey: "sk-test", baseURL: "http://model.test/v1" });

  it("returns the vectors in input order", async () => {
    nock("http://model.test")
      .post(
        "/v1/embeddings",
        (body: { model: string; input: string[] }) => body.model === "emb" && body.input.length === 2,
      )
      .reply(200, {
        object: "list",
        model: "emb",
        data: [
          { object: "embedding", index: 1, embedding: [0, 1] },
          { object: "embedding", index: 0, embedding: [1, 0] },
        ],
        usage: { prompt_tokens: 2, total_tokens: 2 },
      });
    expect(await openAiEmbedder(client(), "emb").embed(["a", "b"])).toEqual([
      [1, 0],
      [0, 1],
    ]);
  });

  it("throws EmbeddingError at once (no retries) when the endpoint has no embeddings", async () => {
    const scope = nock("http://model.test")
      .post("/v1/embeddings")
      .reply(404, { error: { message: "not found" } });
    const started = Date.now();
    await expect(openAiEmbedder(client(), "emb").embed(["a"])).rejects.toThrow(EmbeddingError);
    expect(scope.isDone()).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("BM25 and cosine", () => {
  it("splits identifiers and paths into terms", () => {
    const terms = tokenize("stem_uncached textstats/stem.py camelCase");
    expect(terms).not.toContain("py");
    expect(terms).toEqual(
      expect.arrayContaining([
        "stem_uncached",
        "stem",
        "uncached",
        "textstats/stem.py",
        "textstats",
        "camelcase",
        "camel",
        "case",
      ]),
    );
  });

  it("scores matching documents above others and rarer terms higher", () => {
    const scores = bm25Scores("measure vectorize", [
      "vectorize the measure loop",
      "batch network calls",
      "measure twice",
    ]);
    expect(scores[0]).toBeGreaterThan(scores[2] as number);
    expect(scores[2]).toBeGreaterThan(0);
    expect(scores[1]).toBe(0);
  });

  it("cosine of parallel, orthogonal and mismatched vectors", () => {
    expect(cosine([1, 2], [2, 4])).toBeCloseTo(1);
    expect(cosine([1, 0], [0, 3])).toBe(0);
    expect(cosine([1], [1, 2])).toBe(0);
  });
});
