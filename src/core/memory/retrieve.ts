/**
 * Retrieval: which remembered successes and failures go into this run's prompt. Exact matches first
 * (issue 5): tier 1 = same bottleneck category and same location (file and function of a hot spot);
 * tier 2 = same location in another category, or the same category and file; tier 3 = the rest,
 * ranked by text similarity — cosine of embeddings when the endpoint offers them, BM25 otherwise —
 * and kept only when similar at all. Within a tier: more similar first, then newer.
 */
import type { HotSpot } from "../types.ts";
import type { Embedder } from "./embed.ts";
import { bm25Scores, cosine } from "./lexical.ts";
import type { MemoryEntry } from "./records.ts";

/** Entries retrieved at most (a prompt section of about 1–2k tokens). */
export const MAX_RETRIEVED = 8;
/**
 * Least cosine similarity for a tier-3 entry. 0.3 is a working threshold for OpenAI's
 * text-embedding-3 models, where unrelated technical texts score ≈ 0.1–0.25; a heuristic, not a
 * published constant.
 */
export const MIN_COSINE = 0.3;

/** What the run is about. */
export interface RetrievalQuery {
  /** The verdicts' categories, top first. */
  categories: string[];
  hotSpots: HotSpot[];
  /** Free text: the verdicts' rules and remedies, the hot functions. */
  text: string;
}

/** One retrieved entry with why it was chosen. */
export interface Retrieved {
  entry: MemoryEntry;
  tier: 1 | 2 | 3;
  /** Similarity used within the tier (cosine, or BM25 score). */
  similarity: number;
}

/** The retrieval and how similarity was computed. */
export interface RetrievalResult {
  items: Retrieved[];
  method: "embeddings" | "lexical" | "none";
  /** Why embeddings were not used, when they were tried and failed. */
  note: string | null;
}

/** Options of {@link retrieve}. */
export interface RetrieveOptions {
  limit?: number;
  embedder?: Embedder | null;
  /** Vectors already stored for `embedder.model`, by entry id; new ones are reported by `onVectors`. */
  cached?: Map<number, number[]>;
  onVectors?: (vectors: Map<number, number[]>) => void;
}

/** The text an entry is matched on. */
export function entryText(e: MemoryEntry): string {
  return [e.kind, e.category ?? "", e.strategy, e.file ?? "", e.function ?? "", e.summary].join(" ");
}

/**
 * Ranks `entries` for `query`.
 * @returns at most `limit` entries, best first; never throws (embedding errors fall back to BM25).
 */
export async function retrieve(
  entries: readonly MemoryEntry[],
  query: RetrievalQuery,
  options: RetrieveOptions = {},
): Promise<RetrievalResult> {
  const limit = options.limit ?? MAX_RETRIEVED;
  if (entries.length === 0) return { items: [], method: "none", note: null };
  const tiers = entries.map((e) => tierOf(e, query));
  let method: RetrievalResult["method"] = "lexical";
  let note: string | null = null;
  let similarity: number[] | null = null;
  if (options.embedder) {
    try {
      similarity = await embeddingSimilarity(entries, query, options.embedder, options);
      method = "embeddings";
    } catch (error) {
      note = `retrieval fell back to BM25: ${(error as Error).message}`;
    }
  }
  similarity ??= bm25Scores(query.text, entries.map(entryText));
  const keep = (i: number) =>
    (tiers[i] as number) < 3 ||
    (method === "embeddings" ? (similarity?.[i] ?? 0) >= MIN_COSINE : (similarity?.[i] ?? 0) > 0);
  const items = entries
    .map((entry, i) => ({ entry, tier: tiers[i] as 1 | 2 | 3, similarity: similarity?.[i] ?? 0, i }))
    .filter((x) => keep(x.i))
    .sort((a, b) => a.tier - b.tier || b.similarity - a.similarity || b.entry.id - a.entry.id)
    .slice(0, limit)
    .map(({ entry, tier, similarity: s }) => ({ entry, tier, similarity: s }));
  return { items, method, note };
}

/** 1: same category and location; 2: same location, or same category and file; 3: otherwise. */
export function tierOf(e: MemoryEntry, query: RetrievalQuery): 1 | 2 | 3 {
  const sameCategory = e.category !== null && query.categories.includes(e.category);
  const atLocation = query.hotSpots.some(
    (h) => h.file === e.file && (e.function === null || h.function === e.function),
  );
  const sameFile = e.file !== null && query.hotSpots.some((h) => h.file === e.file);
  if (sameCategory && atLocation) return 1;
  if (atLocation || (sameCategory && sameFile)) return 2;
  return 3;
}

async function embeddingSimilarity(
  entries: readonly MemoryEntry[],
  query: RetrievalQuery,
  embedder: Embedder,
  options: RetrieveOptions,
): Promise<number[]> {
  const cached = options.cached ?? new Map<number, number[]>();
  const missing = entries.filter((e) => !cached.has(e.id));
  const vectors = await embedder.embed([query.text, ...missing.map(entryText)]);
  const [queryVector, ...fresh] = vectors;
  const added = new Map<number, number[]>();
  missing.forEach((e, i) => {
    added.set(e.id, fresh[i] as number[]);
  });
  if (added.size > 0) options.onVectors?.(added);
  return entries.map((e) => cosine(queryVector ?? [], cached.get(e.id) ?? added.get(e.id) ?? []));
}

/**
 * One prompt line for a retrieved entry, e.g.
 * "- success (cpu-single-thread, textstats/stem.py `measure`): check the suffix first — +34.1% (run …, commit abc1234)".
 */
export function retrievedLine(r: Retrieved, fixes: ReadonlyMap<number, MemoryEntry>): string {
  const e = r.entry;
  const where = [e.category, e.file ? `${e.file}${e.function ? ` \`${e.function}\`` : ""}` : null]
    .filter(Boolean)
    .join(", ");
  const evidence = `run ${e.runId}${e.commit ? `, commit ${e.commit.slice(0, 7)}` : ""}`;
  const gain = e.gainPct === null ? "" : ` — measured ${e.gainPct >= 0 ? "+" : ""}${e.gainPct.toFixed(1)}%`;
  const fix = e.fixedBy !== null ? fixes.get(e.fixedBy) : undefined;
  const fixed = fix ? `; later fixed by: ${fix.summary.slice(0, 200)}` : "";
  return `- ${e.kind} (${where || "no location"}): ${e.summary.slice(0, 400)}${gain}${fixed} (${evidence})`;
}
