/**
 * The LLM rewrite (docs/agent.md): `model.candidates` independent agent sessions a round, each in
 * its own workspace with the execution tools (workbench.ts), each steered to a different idea — the
 * verdict's remedies and the hot spots in turn, and, when a temperature is configured, a little more
 * of it per session. Model calls run concurrently; every command goes through `ctx.exclusive`, so
 * measurements never overlap. Each session's prompt, log and outcome go to
 * rounds/<n>/candidates/<k>/{prompt.md,session.jsonl,response.json}.
 */
import { rm } from "node:fs/promises";
import type OpenAI from "openai";
import type { ModelConfig } from "../config/schema.ts";
import { CancelledError } from "../exec/cancel.ts";
import { type AgentOutcome, runAgent, type SessionLogEntry } from "../optimize/llm/agent.ts";
import { estimateCostUsd, priceFor } from "../optimize/llm/cost.ts";
import type { SessionWorkspace } from "../optimize/llm/edits.ts";
import { buildUserPrompt, SYSTEM_PROMPT } from "../optimize/llm/prompt.ts";
import { EXECUTION_TOOLS } from "../optimize/llm/session-tools.ts";
import type { HotSpot, Verdict } from "../types.ts";
import { type LoopContext, patchPolicyOf } from "./context.ts";
import type { CandidateSource, RoundView, SourcedCandidate } from "./strategies.ts";
import { createWorkbench } from "./workbench.ts";
import { cloneTree } from "./workspace.ts";

/** Settings of the LLM source. */
export interface LlmSourceOptions {
  client: OpenAI;
  model: ModelConfig;
  verdicts: Verdict[];
  /** The system prompt (a variant chosen by the bandit); default {@link SYSTEM_PROMPT}. */
  system?: string;
  /** Lines recalled from earlier runs, for the prompt. */
  remembered?: string[];
  /** One paragraph on the pull request's changed lines (focus), for the prompt; absent = no PR. */
  pullRequest?: string;
}

/** Bytes of a session-log line's tool result kept (the model saw all of it; the log is evidence). */
const LOG_RESULT_BYTES = 8000;

/**
 * The LLM source. Stops after two consecutive rounds in which every session failed at the endpoint,
 * or when the run's token budget (`model.max_tokens`) is spent.
 */
export function llmSource(ctx: LoopContext, options: LlmSourceOptions): CandidateSource {
  let tokensUsed = 0;
  let failedRounds = 0;
  const price = priceFor(options.model.name, options.model.price);
  return {
    strategy: "llm",
    async next(view) {
      const remaining = options.model.max_tokens - tokensUsed;
      if (failedRounds >= 2 || remaining <= 0) return [];
      const count = options.model.candidates;
      ctx.emit({
        type: "phase",
        phase: `round ${view.n}: model`,
        detail: `${count} session(s) of ${options.model.name}: each edits its own workspace, runs the tests, screens and profiles its idea`,
      });
      const perSession = Math.max(1, Math.min(options.model.session_tokens, Math.floor(remaining / count)));
      // Settled, not Promise.all: a session throws only when the run is stopped, and then the
      // others end too (the same signal); every session has finished before the round goes on.
      // One prompt a round (it reads the hot code and the instructions); each session adds its angle.
      const prompt = await buildUserPrompt({
        root: ctx.workspace.best,
        verdicts: options.verdicts,
        hotSpots: view.hotSpots,
        benchmarkCommand: ctx.config.benchmark.command,
        testCommand: ctx.config.test,
        paths: ctx.config.paths,
        protect: ctx.config.protect,
        bestWallMs: view.bestWallMs,
        bestImprovementPct: view.bestImprovementPct,
        failures: view.failures,
        remembered: options.remembered ?? [],
        ...(options.pullRequest ? { pullRequest: options.pullRequest } : {}),
      });
      const settled = await Promise.allSettled(
        Array.from({ length: count }, (_, i) =>
          session(
            ctx,
            options,
            view,
            i + 1,
            `${prompt}\n\n## Your angle\n${angleFor(i + 1, count, options.verdicts, view.hotSpots)}`,
            perSession,
          ),
        ),
      );
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
      if (failed) throw failed.reason;
      const sessions = settled.map(
        (s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof session>>>).value,
      );
      const candidates = sessions.map(({ candidate }) => candidate);
      for (const c of candidates) {
        tokensUsed += c.tokens;
        if (c.session && c.usage) c.session.costUsd = estimateCostUsd(c.usage, price);
      }
      failedRounds = sessions.every((s) => s.modelError) ? failedRounds + 1 : 0;
      return candidates;
    },
  };
}

/** The idea session `k` of `count` is steered to: the remedies and hot spots in turn. */
export function angleFor(k: number, count: number, verdicts: Verdict[], hotSpots: HotSpot[]): string {
  const remedies = verdicts.flatMap((v) => v.remedies.map((r) => `${r} (for ${v.category})`));
  const spots = hotSpots.slice(0, 3).map((h) => `${h.file}:${h.line} \`${h.function}\``);
  const remedy = remedies.length > 0 ? remedies[(k - 1) % remedies.length] : null;
  const spot = spots.length > 0 ? spots[(k - 1) % spots.length] : null;
  const parts = [
    `You are candidate ${k} of ${count} this round; the others work on other ideas, so take this angle.`,
    spot ? `Start from ${spot}.` : null,
    remedy ? `Idea to try first: ${remedy}.` : null,
    k % 2 === 0
      ? "Prefer removing work (a better algorithm, skipping or caching work) over micro-optimizations."
      : null,
  ];
  return parts.filter(Boolean).join(" ");
}

async function session(
  ctx: LoopContext,
  options: LlmSourceOptions,
  view: RoundView,
  k: number,
  user: string,
  maxTokens: number,
): Promise<{ candidate: SourcedCandidate; modelError: boolean }> {
  const dir = `rounds/${view.n}/candidates/${k}`;
  const system = options.system ?? SYSTEM_PROMPT;
  await ctx.evidence.text(`${dir}/prompt.md`, `# System\n\n${system}\n\n# User\n\n${user}\n`);
  const base = {
    strategy: "llm" as const,
    description: `LLM rewrite, candidate ${k} (${options.model.name})`,
    changes: [],
    env: {},
  };
  const workspace: SessionWorkspace = {
    start: ctx.workspace.best,
    tree: await cloneTree(ctx.workspace, ctx.workspace.best, `session-${view.n}-${k}`),
    policy: patchPolicyOf(ctx),
    touched: new Set(),
  };
  const lines: string[] = [];
  const log = async (entry: SessionLogEntry) => {
    const kept =
      entry.type === "tool" ? { ...entry, result: entry.result.slice(0, LOG_RESULT_BYTES) } : entry;
    lines.push(JSON.stringify({ at: new Date().toISOString(), ...kept }));
    if (entry.type === "tool")
      ctx.emit({
        type: "agent",
        n: view.n,
        k,
        tool: entry.name,
        summary:
          entry.result
            .split("\n")
            .find((l) => l.trim() && !l.startsWith("$ "))
            ?.slice(0, 160) ?? "",
      });
    // The execution tools write their own audit lines (workbench.ts), with their outcome.
    if (entry.type === "tool" && !EXECUTION_TOOLS.has(entry.name))
      await ctx.evidence.audit(
        `agent ${entry.name}`,
        `round ${view.n}, candidate ${k}: ${entry.result.split("\n", 1)[0]?.slice(0, 200)}`,
      );
  };
  // Without a sandbox the execution tools would hand the model a shell on the host: none then.
  const workbench =
    ctx.isolation.mode === "none"
      ? null
      : createWorkbench(ctx, { n: view.n, k, env: view.best.env, reference: view.best.baselineOutput });
  try {
    const outcome = await runAgent({
      client: options.client,
      model: options.model.name,
      temperature:
        options.model.temperature === undefined
          ? undefined
          : Math.min(2, options.model.temperature + 0.2 * (k - 1)),
      system,
      user,
      workspace,
      workbench,
      screenRuns: options.model.screen_runs,
      maxTurns: options.model.max_turns,
      maxTokens,
      // A session never runs past the run's own deadline (timeouts.total less the final A/B).
      timeoutMs: Math.max(0, Math.min(options.model.timeout * 1000, ctx.deadline - Date.now())),
      toolTimeMs: options.model.tool_time * 1000,
      contextTokens: options.model.context_tokens,
      log,
      signal: ctx.signal,
    });
    await ctx.evidence.json(`${dir}/response.json`, responseOf(outcome));
    return { candidate: candidateOf(base, outcome, k), modelError: outcome.status === "model-error" };
  } catch (error) {
    // A stop ends the round; anything else (an I/O error in the session's tree, say) ends this
    // candidate only, with its reason, and the other sessions' work goes on.
    if (error instanceof CancelledError) throw error;
    const reason = `the session failed: ${(error as Error).message}`;
    await ctx.evidence.json(`${dir}/response.json`, { status: "error", reason });
    await ctx.evidence.audit(
      "agent session failed",
      `round ${view.n}, candidate ${k}: ${(error as Error).stack ?? reason}`,
    );
    return {
      candidate: { ...base, rationale: "", tokens: 0, failure: { gate: "error", reason } },
      modelError: false,
    };
  } finally {
    await ctx.evidence.text(`${dir}/session.jsonl`, lines.length > 0 ? `${lines.join("\n")}\n` : "");
    await rm(workspace.tree, { recursive: true, force: true });
  }
}

function candidateOf(
  base: { strategy: "llm"; description: string; changes: never[]; env: Record<string, string> },
  outcome: AgentOutcome,
  k: number,
): SourcedCandidate {
  const tokens = outcome.usage.promptTokens + outcome.usage.completionTokens;
  const session = {
    k,
    turns: outcome.usage.calls,
    toolCalls: outcome.tools.calls,
    toolMs: Math.round(outcome.tools.ms),
    costUsd: null,
    patchText: outcome.patchText,
  };
  if (outcome.status !== "submitted")
    return {
      ...base,
      rationale: "",
      tokens,
      usage: outcome.usage,
      session,
      failure: { gate: outcome.status === "model-error" ? "error" : "parse", reason: outcome.reason },
    };
  const files = outcome.changes.map((c) => c.path);
  return {
    ...base,
    description: `LLM rewrite of ${files.join(", ")} (candidate ${k})`,
    rationale: outcome.rationale,
    changes: outcome.changes,
    tokens,
    usage: outcome.usage,
    session,
  };
}

function responseOf(outcome: AgentOutcome): Record<string, unknown> {
  return {
    status: outcome.status,
    reason: outcome.reason,
    usage: outcome.usage,
    tools: outcome.tools,
    patch: outcome.patchText,
    rationale: outcome.rationale,
    transcript: outcome.transcript,
  };
}
