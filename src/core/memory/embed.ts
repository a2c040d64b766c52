/**
 * Embeddings from the configured OpenAI-compatible endpoint (`client.embeddings.create`), used for
 * retrieval when the endpoint offers them. Many local endpoints do not: any error (404, unknown
 * model, timeout, a malformed answer) makes the caller fall back to BM25 — see retrieve.ts.
 */
import type OpenAI from "openai";

/** Turns texts into vectors. */
export interface Embedder {
  /** The embedding model's name (cached vectors are keyed by it). */
  model: string;
  /**
   * @returns one vector per text, in order.
   * @throws EmbeddingError on any failure.
   */
  embed(texts: string[]): Promise<number[][]>;
}

/** The endpoint could not give embeddings; `cause` holds the SDK's error. */
export class EmbeddingError extends Error {
  override name = "EmbeddingError";
}

/** Texts per request (the OpenAI API accepts up to 2,048 inputs; local servers often fewer). */
const BATCH = 64;

/**
 * An embedder over `client` with `model`. One try per request, no retries (the SDK's default of two
 * retries with back-off would make an endpoint without embeddings cost seconds per run), and
 * `timeoutMs` per request.
 */
export function openAiEmbedder(client: OpenAI, model: string, timeoutMs = 15_000): Embedder {
  return {
    model,
    async embed(texts) {
      const vectors: number[][] = [];
      for (let i = 0; i < texts.length; i += BATCH) {
        const input = texts.slice(i, i + BATCH).map((t) => t.slice(0, 8_000));
        let response: Awaited<ReturnType<OpenAI["embeddings"]["create"]>>;
        try {
          response = await client.embeddings.create({ model, input }, { maxRetries: 0, timeout: timeoutMs });
        } catch (error) {
          throw new EmbeddingError(`embeddings from ${model}: ${(error as Error).message}`, { cause: error });
        }
        const data = [...(response?.data ?? [])].sort((a, b) => a.index - b.index);
        if (data.length !== input.length || !data.every((d) => Array.isArray(d.embedding)))
          throw new EmbeddingError(
            `embeddings from ${model}: expected ${input.length} vectors, got ${data.length}`,
          );
        vectors.push(...data.map((d) => d.embedding as number[]));
      }
      return vectors;
    },
  };
}
