/**
 * Lexical similarity for retrieval when no embedding endpoint is available: Okapi BM25 over the
 * entries' text (Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25 and Beyond",
 * Foundations and Trends in IR 3(4), 2009), with the usual constants k1 = 1.2, b = 0.75 and the
 * non-negative IDF ln(1 + (N − n + 0.5)/(n + 0.5)) (as in Lucene), so a term in every document
 * scores ≥ 0 rather than below zero.
 */

/** BM25 term-frequency saturation k1 (Robertson & Zaragoza 2009, §3.3). */
export const BM25_K1 = 1.2;
/** BM25 length normalisation (0: none, 1: full); 0.75 as in Robertson & Zaragoza 2009. */
export const BM25_B = 0.75;

/** Words too common in perfloop's texts to say anything. */
const STOP = new Set(
  "a an and are as at be by for from in into is it its of on or that the this to was were with".split(" "),
);

/**
 * Splits text into lower-case terms: words and identifiers, with snake_case, camelCase, dotted and
 * slashed paths also split into their parts (so `stem_uncached` matches "stem", and
 * `textstats/stem.py` matches "stem"); the whole identifier is kept too. Terms of one or two characters
 * (file extensions like "py", noise) and stop words are dropped.
 */
export function tokenize(text: string): string[] {
  const terms: string[] = [];
  for (const raw of text.match(/[A-Za-z0-9_./-]+/g) ?? []) {
    const whole = raw.toLowerCase().replace(/^[./-]+|[./-]+$/g, "");
    const pieces = raw.split(/[_./-]+/);
    const parts = pieces.flatMap((p) => [
      p.toLowerCase(),
      ...p
        .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
        .toLowerCase()
        .split(" "),
    ]);
    for (const t of new Set([whole, ...parts]))
      if (t.length > 2 && !STOP.has(t) && !/^\d+$/.test(t)) terms.push(t);
  }
  return terms;
}

/**
 * BM25 scores of each document for the query (same order as `documents`); 0 for a document sharing no
 * term with the query. Scores compare within one call only (they are not normalised).
 */
export function bm25Scores(query: string, documents: readonly string[]): number[] {
  const docs = documents.map(tokenize);
  const n = docs.length;
  if (n === 0) return [];
  const avgLength = docs.reduce((s, d) => s + d.length, 0) / n || 1;
  const documentFrequency = new Map<string, number>();
  for (const doc of docs)
    for (const t of new Set(doc)) documentFrequency.set(t, (documentFrequency.get(t) ?? 0) + 1);
  const queryTerms = [...new Set(tokenize(query))];
  return docs.map((doc) => {
    const tf = new Map<string, number>();
    for (const t of doc) tf.set(t, (tf.get(t) ?? 0) + 1);
    let score = 0;
    for (const term of queryTerms) {
      const f = tf.get(term);
      if (!f) continue;
      const df = documentFrequency.get(term) ?? 0;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      score += (idf * f * (BM25_K1 + 1)) / (f + BM25_K1 * (1 - BM25_B + (BM25_B * doc.length) / avgLength));
    }
    return score;
  });
}

/** Cosine similarity of two vectors (0 when either is all zeros or the lengths differ). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
