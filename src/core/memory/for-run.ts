/**
 * The memory session of one optimize run, built from what the loop knows after its baseline: the
 * config, the request, the model client (for embeddings), the machine, the verdict and the hot spots.
 * Keeps run.ts to sequencing.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import type OpenAI from "openai";
import type { Config } from "../config/schema.ts";
import type { ResultsRequest } from "../evidence/results-schema.ts";
import type { HotSpot, Verdict } from "../types.ts";
import { openAiEmbedder } from "./embed.ts";
import { gitHead, type MemorySession, type MemorySessionInput, startMemorySession } from "./session.ts";

/** What {@link memoryForRun} reads. */
export interface MemoryForRunInput {
  config: Config;
  repoDir: string;
  /** The resolved store file (session.ts `resolveStorePath`). */
  file: string;
  request?: ResultsRequest | undefined;
  model: OpenAI | null;
  hardware: MemorySessionInput["hardware"];
  verdicts: Verdict[];
  hotSpots: HotSpot[];
  startedAt: Date;
  seed: number;
}

/**
 * Opens the run's memory session.
 * - run id: `run-<start time>-<6 random hex>` (unique even when a request is retried);
 * - commit: the request's `headSha`, else `git rev-parse HEAD` in the repository, else unknown;
 * - strategies available: the tuner when knobs are declared and `strategy` is not `llm`, the model
 *   when there is a client and `strategy` is not `tune`; the verdict rule's preference as in
 *   strategies.ts `orderSources` (knobs first when one helps the top verdict or there is no verdict).
 * @returns the session; never throws (see session.ts).
 */
export async function memoryForRun(input: MemoryForRunInput): Promise<MemorySession> {
  const { config } = input;
  const top = input.verdicts[0]?.category;
  const knobsHelpTop = top !== undefined && config.tune.some((k) => k.helps.includes(top));
  return startMemorySession({
    memory: config.memory,
    repoDir: input.repoDir,
    file: input.file,
    runId: `run-${input.startedAt.toISOString()}-${randomBytes(3).toString("hex")}`,
    startedAt: input.startedAt,
    repository: input.request?.repository ?? path.basename(path.resolve(input.repoDir)),
    commit: input.request?.headSha ?? (await gitHead(input.repoDir)),
    hardware: input.hardware,
    verdicts: input.verdicts,
    hotSpots: input.hotSpots,
    embedder:
      input.model && config.memory.embedding_model
        ? openAiEmbedder(input.model, config.memory.embedding_model)
        : null,
    available: {
      tune: config.tune.length > 0 && config.strategy !== "llm",
      llm: input.model !== null && config.strategy !== "tune",
    },
    preferred: knobsHelpTop || input.verdicts.length === 0 ? "tune" : "llm",
    seed: input.seed,
  });
}
