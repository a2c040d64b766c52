/**
 * One run's use of the memory store: opened after the baseline (so the verdict and hot spots are
 * known), it forgets what is stale, retrieves what is relevant for the prompt, chooses the strategy
 * policy, warm-starts the tuner, files every candidate's outcome, and closes the run's row at the end.
 * Memory must never break a run: a store that fails while in use is dropped for the rest of the run
 * with a note, and every method then does nothing.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { CONFIG_PATH, ConfigError, leavesRepository } from "../config/load.ts";
import type { MemoryConfig } from "../config/schema.ts";
import type { MemorySummary, Results } from "../evidence/results-schema.ts";
import { isWithin, realInsideSync, realPathSync } from "../fs/inside.ts";
import { createRng } from "../measure/stats.ts";
import type { KnobTrial } from "../optimize/knobs.ts";
import type { HotSpot, Verdict } from "../types.ts";
import type { Embedder } from "./embed.ts";
import { describeHardware, hardwareFingerprint } from "./fingerprint.ts";
import { type Forgotten, forget } from "./forget.ts";
import { insertRetrieval, listRuns, markUsed, upsertRun } from "./history.ts";
import { learningCategory, learnRound, type RoundFacts } from "./learn.ts";
import { type Arm, choosePolicy, currentArms, type PolicyChoice, TUNER_VERSION } from "./policy.ts";
import { embeddingsOf, knobResultsFor, listEntries, markWinners, setEmbedding } from "./records.ts";
import { type Retrieved, retrieve, retrievedLine } from "./retrieve.ts";
import type { Database } from "./sqlite.ts";
import { openStore } from "./store.ts";
import { knobKey, planWarmStart, type WarmStartPlan } from "./warm-start.ts";

/** What a session needs. */
export interface MemorySessionInput {
  memory: MemoryConfig;
  repoDir: string;
  /** The resolved store file (see {@link resolveStorePath}). */
  file: string;
  runId: string;
  startedAt: Date;
  /** owner/name, else the directory name; the commit (request headSha or git HEAD) when known. */
  repository: string;
  commit: string | null;
  hardware: { cpu: string; cores: number; memoryBytes: number; os: string; gpus: string[] };
  verdicts: Verdict[];
  hotSpots: HotSpot[];
  embedder: Embedder | null;
  /** Strategies this run can use, and the one the verdict rule prefers (docs/design.md, "Order of strategies"). */
  available: { tune: boolean; llm: boolean };
  preferred: "llm" | "tune";
  /**
   * The run's seed. The bandit's generator is `createRng(seed + runs already in the store)`: each run
   * draws differently, and a run's draws are reproducible from its seed and the store.
   */
  seed: number;
}

/**
 * The store file of a run, by precedence:
 * 1. `override` — the CLI's `--memory`, the Action's `memory-path` input: the user's own choice,
 *    trusted, resolved against `repoDir` and allowed anywhere;
 * 2. `memory.path` of the config — which may come from a pull request: resolved against the
 *    repository and required to stay inside it once symbolic links are followed;
 * 3. else {@link defaultStorePath}, outside every repository.
 * @param env where XDG_CACHE_HOME and HOME are read (default process.env).
 * @throws ConfigError naming `memory.path` when it leaves the repository (the schema already refuses
 *   absolute paths, `~` and `..`; config/keys.ts).
 */
export function resolveStorePath(
  memory: MemoryConfig,
  repoDir: string,
  override?: string,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (override !== undefined) return path.resolve(repoDir, override);
  if (memory.path === undefined) return defaultStorePath(repoDir, env);
  const inside = realInsideSync(repoDir, memory.path);
  if (inside === null) throw new ConfigError(CONFIG_PATH, [leavesRepository("memory.path", memory.path)]);
  return path.resolve(repoDir, memory.path);
}

/**
 * The default store of the repository at `repoDir`: one SQLite file per repository (the store keeps
 * no repository column on its entries, and forgetting drops entries whose files are gone, so two
 * repositories must never share one), in the user's cache directory —
 * `$XDG_CACHE_HOME/perfloop/<name>-<hash>/memory.sqlite`, else `$HOME/.cache/perfloop/…` (XDG Base
 * Directory specification; a relative XDG_CACHE_HOME is ignored, as it says). `<name>` is the
 * repository directory's name (letters, digits, `.`, `_`, `-`, at most 40) and `<hash>` the first
 * 12 hex digits of the SHA-256 of its real path. Never inside the repository: when the cache
 * directory is (the repository is the home directory), the system's temporary directory is used, and
 * when that is too, ":memory:" (a store that lasts one run).
 */
export function defaultStorePath(repoDir: string, env: NodeJS.ProcessEnv = process.env): string {
  const repoReal = realPathSync(repoDir) ?? path.resolve(repoDir);
  const name =
    path
      .basename(repoReal)
      .replace(/[^A-Za-z0-9._-]/g, "_")
      .slice(0, 40) || "root";
  const hash = createHash("sha256").update(repoReal).digest("hex").slice(0, 12);
  const home = env.HOME && path.isAbsolute(env.HOME) ? env.HOME : homedir();
  const caches = [
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : path.join(home, ".cache"),
    path.join(tmpdir(), "perfloop-cache"),
  ];
  for (const cache of caches) {
    const file = path.join(cache, "perfloop", `${name}-${hash}`, "memory.sqlite");
    const real = realPathSync(file);
    if (real !== null && !isWithin(repoReal, real)) return file;
  }
  return ":memory:";
}

/** The commit of `repoDir` (git HEAD), or null when it is not a git checkout or git is missing. */
export async function gitHead(repoDir: string): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)("git", ["rev-parse", "HEAD"], {
      cwd: repoDir,
      timeout: 5_000,
    });
    return /^[0-9a-f]{40}$/.test(stdout.trim()) ? stdout.trim() : null;
  } catch {
    return null;
  }
}

/** The session the loop talks to. */
export interface MemorySession {
  /** The strategy policy of this run (null without a store or arms). */
  readonly policy: PolicyChoice | null;
  /** Prompt lines recalled from earlier runs. */
  readonly remembered: string[];
  /** Applies the warm start to the tuner's planned trials. */
  warmStart(trials: KnobTrial[], current: Record<string, string | null>): WarmStartPlan;
  /** Files one evaluated candidate. */
  recordRound(facts: RoundFacts): void;
  /** The part of results.json about memory. */
  summary(): MemorySummary;
  /** Closes the run's row with its results and marks the verified knob winners. */
  finishRun(results: Results): void;
  close(): void;
}

/**
 * Opens the store and prepares the run's memory.
 * @returns the session; never throws (failures become notes and an inert session).
 */
export async function startMemorySession(input: MemorySessionInput): Promise<MemorySession> {
  const notes: string[] = [];
  let db: Database | null = null;
  let file = input.file;
  try {
    const opened = await openStore(input.file);
    db = opened.db;
    file = opened.file;
    notes.push(...opened.notes);
  } catch (error) {
    notes.push(`memory is off for this run: ${(error as Error).message}`);
  }
  const fingerprint = hardwareFingerprint(input.hardware);
  // A verdict made under heavy contention is not learned (learn.ts, learningCategory).
  const learning = learningCategory(input.verdicts);
  const category = learning.category;
  if (learning.note) notes.push(learning.note);
  const createdAt = input.startedAt.toISOString();
  const counts = { candidates: 0, accepted: 0 };
  let forgotten: Forgotten = { codeGone: 0, aged: 0, capped: 0 };
  let retrieval: MemorySummary["retrieval"] = "none";
  let retrieved: Array<Retrieved & { retrievalId: number }> = [];
  let remembered: string[] = [];
  let policy: PolicyChoice | null = null;
  let plan: WarmStartPlan | null = null;
  let deferredAtStart: WarmStartPlan["skipped"] = []; // the tuner may re-queue them later
  const winnerRetrievals = new Map<string, number>(); // "knob=value" → retrieval id
  const acceptedKnobs = new Map<string, string>(); // knob key → value in the best state

  /** Runs `work` on the store; on a SQLite error, notes it and drops the store for the rest of the run. */
  const use = <T>(what: string, fallback: T, work: (store: Database) => T): T => {
    if (!db) return fallback;
    try {
      return work(db);
    } catch (error) {
      notes.push(
        `memory store ${file} failed while ${what} (${(error as Error).message}); memory is off for the rest of this run`,
      );
      try {
        db.close();
      } catch {}
      db = null;
      return fallback;
    }
  };
  const runRow = (status: string | null, improvementPct: number | null) => ({
    id: input.runId,
    repository: input.repository,
    commit: input.commit,
    fingerprint,
    startedAt: createdAt,
    status,
    category,
    improvementPct,
    candidates: counts.candidates,
    accepted: counts.accepted,
    skipped: plan?.skipped.length ?? 0,
  });

  if (db) {
    try {
      forgotten = await forget(db, {
        repoDir: input.repoDir,
        maxAgeDays: input.memory.max_age_days,
        maxEntries: input.memory.max_entries,
        now: input.startedAt,
      });
    } catch (error) {
      notes.push(`forgetting failed (${(error as Error).message}); stale entries stay until the next run`);
    }
  }
  const rng = createRng(input.seed + use("counting runs", 0, (store) => listRuns(store).length));
  use("recording the run", undefined, (store) => upsertRun(store, runRow(null, null)));
  // Recalled entries go into the model's prompt: without a model there is no prompt to fill.
  const entries = input.available.llm ? use("reading entries", [], listEntries) : [];
  if (db && entries.length > 0 && input.available.llm) {
    const model = input.embedder?.model;
    const result = await retrieve(
      entries,
      {
        categories: input.verdicts.map((v) => v.category),
        hotSpots: input.hotSpots,
        text: queryText(input.verdicts, input.hotSpots),
      },
      {
        embedder: input.embedder,
        cached: model ? use("reading embeddings", new Map(), (s) => embeddingsOf(s, model)) : new Map(),
        onVectors: (vectors) =>
          use("caching embeddings", undefined, (s) => {
            for (const [id, v] of vectors) setEmbedding(s, id, model ?? "", v);
          }),
      },
    );
    if (result.note) notes.push(result.note);
    retrieval = result.method;
    const byId = new Map(entries.map((e) => [e.id, e]));
    retrieved = result.items.map((r) => ({
      ...r,
      retrievalId: use("recording a retrieval", -1, (s) =>
        insertRetrieval(s, input.runId, "prompt", { entryId: r.entry.id }),
      ),
    }));
    remembered = retrieved.map((r) => retrievedLine(r, byId));
  }
  const arms = currentArms(input.available);
  if (arms.length > 0)
    policy = use("choosing the strategy", null, (store) =>
      choosePolicy(store, { category, runId: input.runId, arms, preferred: input.preferred, rng }),
    );
  if (!policy && arms.length > 0) {
    const first = arms.find((a) => a.strategy === input.preferred) ?? (arms[0] as Arm);
    policy = {
      category,
      primary: first,
      llm: arms.find((a) => a.strategy === "llm") ?? null,
      reason: "no store: the verdict rule",
      rollback: null,
    };
  }

  const armOf = (strategy: "llm" | "tune") =>
    strategy === "tune"
      ? { id: "tune", version: TUNER_VERSION }
      : { id: policy?.llm?.id ?? "llm", version: policy?.llm?.version ?? "llm" };

  return {
    policy,
    remembered,
    warmStart(trials, current) {
      const results = use("reading knob results", [], (s) => knobResultsFor(s, fingerprint));
      plan = planWarmStart(trials, results, current, input.commit);
      deferredAtStart = [...plan.deferred.values()].flat();
      for (const r of plan.remembered)
        winnerRetrievals.set(
          `${r.trial.knob.name}=${r.trial.value}`,
          use("recording a retrieval", -1, (s) =>
            insertRetrieval(s, input.runId, "warm-start", { knobResultId: r.resultId }),
          ),
        );
      return plan;
    },
    recordRound(facts) {
      counts.candidates += 1;
      if (facts.outcome === "accepted") counts.accepted += 1;
      if (facts.outcome === "accepted" && facts.knob)
        acceptedKnobs.set(knobKey(facts.knob.knob), facts.knob.value);
      use("recording a round", undefined, (s) => {
        learnRound(
          s,
          {
            runId: input.runId,
            commit: input.commit,
            createdAt: new Date().toISOString(),
            category,
            fingerprint,
            hotSpots: input.hotSpots,
            arm: armOf(facts.strategy),
            policy: policy?.primary.version ?? armOf(facts.strategy).version,
          },
          facts,
        );
        if (facts.outcome !== "accepted") return;
        const used = facts.knob
          ? [winnerRetrievals.get(`${facts.knob.knob.name}=${facts.knob.value}`) ?? -1]
          : retrieved
              .filter((r) => r.entry.file !== null && facts.files.includes(r.entry.file))
              .map((r) => r.retrievalId);
        markUsed(
          s,
          used.filter((id) => id >= 0),
        );
        upsertRun(s, runRow(null, null));
      });
    },
    summary() {
      const heldBack = (xs: WarmStartPlan["skipped"]) =>
        xs.map((h) => ({ knob: h.trial.knob.name, value: h.trial.value, reason: h.reason }));
      return {
        store: file,
        fingerprint,
        hardware: describeHardware(input.hardware),
        notes: [...notes],
        retrieval,
        retrieved: retrieved.length,
        warmStart: {
          first: plan?.remembered.map((r) => `${r.trial.knob.name}=${r.trial.value}`) ?? [],
          skipped: heldBack(plan?.skipped ?? []),
          deferred: heldBack(deferredAtStart),
        },
        forgotten,
        policy: policy ? { category, version: policy.primary.version, reason: policy.reason } : null,
        rollback: policy?.rollback
          ? `${policy.rollback.fromVersion} → ${policy.rollback.toVersion}: ${policy.rollback.reason}`
          : null,
      };
    },
    finishRun(results) {
      use("closing the run", undefined, (s) => {
        const improved = results.status === "improved";
        upsertRun(s, runRow(results.status, improved ? (results.final?.primary.improvementPct ?? 0) : 0));
        if (improved)
          markWinners(
            s,
            input.runId,
            [...acceptedKnobs].map(([key, value]) => ({ knobKey: key, value })),
          );
      });
    },
    close() {
      use("closing", undefined, (s) => s.close());
      db = null;
    },
  };
}

/** The retrieval query's text: the verdicts' rules and remedies, and the hot functions. */
function queryText(verdicts: Verdict[], hotSpots: HotSpot[]): string {
  return [
    ...verdicts.map((v) => `${v.category} ${v.rule} ${v.remedies.join(" ")}`),
    ...hotSpots.slice(0, 10).map((h) => `${h.file} ${h.function}`),
  ].join("\n");
}
