/**
 * One bounded rewrite session: the model reads the tree, edits its own workspace (edits.ts), runs the
 * tests, screens and profiles its change (a Workbench from the loop), and submits. Bounded by turns,
 * tokens, wall clock and the execution tools' wall time. Tool errors, malformed tool calls, refused
 * patches and failing tests all go back to the model as tool output, so a session survives its own
 * mistakes; an endpoint answer that is not a chat completion ends the session with a recorded reason.
 * HTTP retries (429, 5xx, timeouts) with exponential backoff are the openai client's (`maxRetries`),
 * which honours `retry-after` / `retry-after-ms`.
 */
import OpenAI from "openai";
import { CancelledError } from "../../exec/cancel.ts";
import type { PolicyChange } from "../../patch/policy.ts";
import { compactTranscript } from "./compact.ts";
import { applyEdit, EditError, type SessionWorkspace, workspaceChanges, workspaceDiff } from "./edits.ts";
import {
  EXECUTION_TOOLS,
  SESSION_TOOL_DEFINITIONS,
  type ToolReport,
  type Workbench,
} from "./session-tools.ts";
import { READ_TOOL_DEFINITIONS, runReadTool } from "./tools.ts";

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** One line of a session's log (rounds/<n>/candidates/<k>/session.jsonl). Times in ms. */
export type SessionLogEntry =
  | {
      type: "model";
      turn: number;
      ms: number;
      promptTokens: number;
      completionTokens: number;
      text: string | null;
    }
  | { type: "tool"; turn: number; name: string; args: string; ms: number; result: string }
  | { type: "end"; status: AgentOutcome["status"]; reason: string };

/** Connection and budgets of one session. */
export interface AgentOptions {
  client: OpenAI;
  model: string;
  temperature?: number | undefined;
  system: string;
  user: string;
  /** The session's workspace: reading tools read `workspace.tree`, edits land there. */
  workspace: SessionWorkspace;
  /** Runs tests, screens and profiles; null = no execution tools offered. */
  workbench: Workbench | null;
  /** Runs a side of `run_benchmark` when the model does not say (`model.screen_runs`). */
  screenRuns: number;
  maxTurns: number;
  /** Tokens (prompt + completion) this session may spend. */
  maxTokens: number;
  /** Wall-clock budget of the session, ms. */
  timeoutMs: number;
  /** Wall time the execution tools may use, ms. */
  toolTimeMs: number;
  /** Estimated prompt size past which old tool outputs are compacted, tokens. */
  contextTokens: number;
  /** Receives every model call and tool call as it happens (the session log); must not throw. */
  log?: (entry: SessionLogEntry) => void | Promise<void>;
  /** The run's stop (SIGINT, SIGTERM, `timeouts.total`): aborts the model request in flight. */
  signal?: AbortSignal | undefined;
}

/** How a session ended. */
export interface AgentOutcome {
  /**
   * "submitted": the workspace changes something and the model submitted it; "no-patch": a budget
   * ran out or the endpoint's answer was unusable; "model-error": a request failed for good (after
   * the client's retries: a bad key, an unknown model, the endpoint down).
   */
  status: "submitted" | "no-patch" | "model-error";
  reason: string;
  /** The workspace's diff against the session's start (null without a submission). */
  patchText: string | null;
  rationale: string;
  changes: PolicyChange[];
  /** Every message of the session (compacted outputs as sent). */
  transcript: Message[];
  usage: { calls: number; promptTokens: number; completionTokens: number };
  /** Execution-tool calls and their wall time, ms. */
  tools: { calls: number; ms: number; byName: Record<string, number> };
}

/** The model endpoint could not be used at all (bad key, unknown model, retries exhausted). */
export class ModelError extends Error {
  override name = "ModelError";
}

/**
 * Makes an OpenAI-compatible client (OpenAI, Azure OpenAI's v1 endpoint, vLLM, Ollama, …).
 * @param timeoutMs per request, ms; retries: 4 with the SDK's exponential backoff.
 */
export function createModelClient(options: {
  apiKey: string;
  baseURL?: string | undefined;
  timeoutMs?: number;
}): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    maxRetries: 4,
    timeout: options.timeoutMs ?? 120_000,
  });
}

/**
 * Runs one session. A request that fails for good ends it with status "model-error" (its usage so
 * far kept); the run goes on.
 * @throws CancelledError when the run is stopped (`signal`, or a workbench command).
 */
export async function runAgent(options: AgentOptions): Promise<AgentOutcome> {
  const transcript: Message[] = [
    { role: "system", content: options.system },
    { role: "user", content: options.user },
  ];
  const usage = { calls: 0, promptTokens: 0, completionTokens: 0 };
  const tools = { calls: 0, ms: 0, byName: {} as Record<string, number> };
  const deadline = Date.now() + options.timeoutMs;
  const log = async (entry: SessionLogEntry) => {
    await options.log?.(entry);
  };
  const end = async (
    status: AgentOutcome["status"],
    reason: string,
    found?: Submission,
  ): Promise<AgentOutcome> => {
    await log({ type: "end", status, reason });
    return {
      status,
      reason,
      patchText: found ? await workspaceDiff(options.workspace) : null,
      rationale: found?.rationale ?? "",
      changes: found?.changes ?? [],
      transcript,
      usage,
      tools,
    };
  };

  for (let turn = 1; turn <= options.maxTurns; turn++) {
    CancelledError.throwIfAborted(options.signal);
    if (Date.now() > deadline)
      return end("no-patch", `wall-clock budget of ${options.timeoutMs / 1000} s spent`);
    if (usage.promptTokens + usage.completionTokens >= options.maxTokens)
      return end("no-patch", `token budget of ${options.maxTokens} spent`);
    compactTranscript(transcript, options.contextTokens);
    const started = performance.now();
    const completion = await complete(options, transcript, deadline);
    if (completion instanceof ModelError)
      return Date.now() >= deadline
        ? end("no-patch", `wall-clock budget of ${options.timeoutMs / 1000} s spent during a model call`)
        : end("model-error", completion.message);
    usage.calls += 1;
    const message = chatMessage(completion);
    if (typeof message === "string") return end("no-patch", message);
    usage.promptTokens += completion.usage?.prompt_tokens ?? 0;
    usage.completionTokens += completion.usage?.completion_tokens ?? 0;
    await log({
      type: "model",
      turn,
      ms: Math.round(performance.now() - started),
      promptTokens: completion.usage?.prompt_tokens ?? 0,
      completionTokens: completion.usage?.completion_tokens ?? 0,
      text: message.content ?? null,
    });
    transcript.push({
      role: "assistant",
      content: message.content ?? null,
      ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}),
    });

    const calls = (message.tool_calls ?? []).filter((c) => c.type === "function");
    if (calls.length === 0) {
      // Lenient: a patch pasted into the reply instead of a tool call is applied as an edit.
      const text = message.content ?? "";
      const reply = text.includes("*** Begin Patch")
        ? `${(await applyEdit(options.workspace, text.slice(text.indexOf("*** Begin Patch")))).message}\nUse the tools: apply_patch to edit, run_tests and run_benchmark to check, submit to finish.`
        : "Call a tool: read the code, apply_patch your change, check it with run_tests / run_benchmark, then submit.";
      transcript.push({ role: "user", content: reply });
      continue;
    }
    for (const call of calls) {
      const name = call.function.name;
      const args = call.function.arguments;
      const callStarted = performance.now();
      const result = await runTool(options, name, args, tools);
      await log({
        type: "tool",
        turn,
        name,
        args,
        ms: Math.round(performance.now() - callStarted),
        result: result.text,
      });
      transcript.push({ role: "tool", tool_call_id: call.id, content: result.text });
      if (result.submitted !== undefined) return end("submitted", "submitted", result.submitted);
    }
  }
  return end("no-patch", `no submission within ${options.maxTurns} turns`);
}

/** An accepted submission: the rationale and the workspace's change (read once, at submit). */
interface Submission {
  rationale: string;
  changes: PolicyChange[];
}

/** A tool's text, and the submission when the call was an accepted one. */
interface ToolResult {
  text: string;
  submitted?: Submission;
}

async function runTool(
  options: AgentOptions,
  name: string,
  rawArgs: string,
  tools: AgentOutcome["tools"],
): Promise<ToolResult> {
  const ws = options.workspace;
  const args = parseArgs(rawArgs);
  if (args === null && (name === "apply_patch" || name === "submit_patch"))
    return { text: `error: ${name} needs a JSON object {"patch": "*** Begin Patch…"}.` };
  if (args === null)
    return {
      text: `error: the arguments of ${name} are not a JSON object. Send e.g. {"patch": "*** Begin Patch…"} or {}.`,
    };
  if (name === "apply_patch" || name === "submit_patch") {
    // `submit_patch` {patch, rationale} (the one-shot form of earlier versions) = apply_patch + submit.
    if (typeof args.patch !== "string")
      return { text: `error: ${name} needs a JSON object {"patch": "*** Begin Patch…"}.` };
    const edit = await applyEdit(ws, args.patch);
    if (!edit.ok || name === "apply_patch") return { text: edit.message };
    return submit(ws, args.rationale);
  }
  if (name === "submit") return submit(ws, args.rationale);
  if (name === "diff") return { text: (await workspaceDiff(ws)) || "no change yet: use apply_patch" };
  if (EXECUTION_TOOLS.has(name)) {
    if (!options.workbench) return { text: `error: ${name} is not available in this session` };
    if (tools.ms >= options.toolTimeMs)
      return {
        text: `error: the execution-tool budget of ${options.toolTimeMs / 1000} s for this session is spent; submit your change or keep reading`,
      };
    const started = performance.now();
    const report = await execute(options.workbench, ws, name, args, options.screenRuns);
    // The command's own time: waiting for another session's command does not count.
    const ms = report.ms ?? performance.now() - started;
    tools.calls += 1;
    tools.ms += ms;
    tools.byName[name] = (tools.byName[name] ?? 0) + 1;
    return {
      text: `${report.text}\n(${name} took ${(ms / 1000).toFixed(1)} s; ${Math.max(0, (options.toolTimeMs - tools.ms) / 1000).toFixed(0)} s of tool time left)`,
    };
  }
  return { text: await runReadTool(ws.tree, name, rawArgs) };
}

function execute(
  workbench: Workbench,
  ws: SessionWorkspace,
  name: string,
  args: Record<string, unknown>,
  screenRuns: number,
): Promise<ToolReport> {
  if (name === "run_tests")
    return workbench.runTests(
      ws.tree,
      typeof args.filter === "string" && args.filter.trim() ? args.filter.trim() : null,
    );
  if (name === "run_benchmark") {
    const asked = typeof args.runs === "number" && Number.isInteger(args.runs) ? args.runs : screenRuns;
    return workbench.runBenchmark(ws.start, ws.tree, Math.min(Math.max(1, asked), 20));
  }
  return workbench.profile(ws.tree);
}

async function submit(ws: SessionWorkspace, rationale: unknown): Promise<ToolResult> {
  let changes: PolicyChange[];
  try {
    changes = await workspaceChanges(ws);
  } catch (error) {
    if (!(error instanceof EditError)) throw error;
    return { text: `error: ${error.message}; restore the file with apply_patch, then submit` };
  }
  if (changes.length === 0)
    return { text: "error: your workspace changes nothing yet; apply_patch a change before you submit" };
  return {
    text: "submitted",
    submitted: { rationale: typeof rationale === "string" ? rationale : "", changes },
  };
}

/**
 * The assistant message of a completion, or why there is none: an endpoint that answers 200 with
 * another body (an error page, a proxy's JSON) must end this session, not crash the run.
 */
function chatMessage(
  completion: OpenAI.Chat.Completions.ChatCompletion,
): OpenAI.Chat.Completions.ChatCompletionMessage | string {
  const body = completion as unknown as { choices?: unknown };
  if (!body || typeof body !== "object" || !Array.isArray(body.choices))
    return `the model endpoint answered with something that is not a chat completion: ${JSON.stringify(completion)?.slice(0, 200) ?? String(completion)}`;
  const message = (body.choices[0] as { message?: unknown } | undefined)?.message;
  if (!message || typeof message !== "object") return "the model returned no choice";
  return message as OpenAI.Chat.Completions.ChatCompletionMessage;
}

/** The completion, or the ModelError that ends the session (returned, so usage so far is kept). */
async function complete(
  options: AgentOptions,
  messages: Message[],
  deadline: number,
): Promise<OpenAI.Chat.Completions.ChatCompletion | ModelError> {
  try {
    return await options.client.chat.completions.create(
      {
        model: options.model,
        messages,
        tools: [
          ...READ_TOOL_DEFINITIONS,
          ...SESSION_TOOL_DEFINITIONS.filter(
            (t) => options.workbench || !EXECUTION_TOOLS.has(t.function.name),
          ),
        ],
        ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      },
      {
        signal: AbortSignal.any([
          AbortSignal.timeout(Math.max(1000, deadline - Date.now())),
          ...(options.signal ? [options.signal] : []),
        ]),
      },
    );
  } catch (error) {
    CancelledError.throwIfAborted(options.signal);
    return new ModelError(`model request failed: ${(error as Error).message}`, { cause: error });
  }
}

function parseArgs(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text || "{}") as unknown;
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
