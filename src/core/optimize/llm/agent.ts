/**
 * One bounded rewrite session: the model reads the tree through tools and submits one patch.
 * Bounded by turns, tokens and wall clock. Tool errors, malformed tool calls, patches that do not
 * parse or do not apply all go back to the model as tool output, so a session survives its own
 * mistakes. HTTP retries (429, 5xx, timeouts) with exponential backoff are the openai client's
 * (`maxRetries`), which honours `retry-after` / `retry-after-ms`.
 */
import OpenAI from "openai";
import { computePatchedFiles, repoFileReader } from "../../patch/apply.ts";
import { parsePatch } from "../../patch/parse.ts";
import { runReadTool, TOOL_DEFINITIONS } from "./tools.ts";

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Connection and budget of one session. */
export interface AgentOptions {
  client: OpenAI;
  model: string;
  temperature?: number | undefined;
  /** Tree the tools read. */
  root: string;
  system: string;
  user: string;
  maxTurns: number;
  /** Tokens (prompt + completion) this session may still spend. */
  maxTokens: number;
  /** Wall-clock budget, ms. */
  timeoutMs: number;
}

/** A change a submitted patch makes (from the patch module). */
export type PatchedFile = Awaited<ReturnType<typeof computePatchedFiles>>["changed"][number];

/** How a session ended. */
export interface AgentOutcome {
  /** "submitted": a patch that parses and applies to the tree; otherwise why there is none. */
  status: "submitted" | "no-patch";
  reason: string;
  patchText: string | null;
  rationale: string;
  changes: PatchedFile[];
  /** Every message of the session (for prompt.md / response.json in the evidence). */
  transcript: Message[];
  usage: { calls: number; promptTokens: number; completionTokens: number };
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
 * Runs one session.
 * @throws ModelError when a request fails for good (after the client's retries); the caller records
 *   the round as failed and keeps its evidence.
 */
export async function runAgent(options: AgentOptions): Promise<AgentOutcome> {
  const transcript: Message[] = [
    { role: "system", content: options.system },
    { role: "user", content: options.user },
  ];
  const usage = { calls: 0, promptTokens: 0, completionTokens: 0 };
  const deadline = Date.now() + options.timeoutMs;
  const end = (status: AgentOutcome["status"], reason: string, found?: Submitted): AgentOutcome => ({
    status,
    reason,
    patchText: found?.patchText ?? null,
    rationale: found?.rationale ?? "",
    changes: found?.changes ?? [],
    transcript,
    usage,
  });

  for (let turn = 1; turn <= options.maxTurns; turn++) {
    if (Date.now() > deadline)
      return end("no-patch", `wall-clock budget of ${options.timeoutMs / 1000} s spent`);
    if (usage.promptTokens + usage.completionTokens >= options.maxTokens)
      return end("no-patch", `token budget of ${options.maxTokens} spent`);
    const completion = await complete(options, transcript, deadline);
    usage.calls += 1;
    usage.promptTokens += completion.usage?.prompt_tokens ?? 0;
    usage.completionTokens += completion.usage?.completion_tokens ?? 0;
    const message = completion.choices[0]?.message;
    if (!message) return end("no-patch", "the model returned no choice");
    transcript.push({
      role: "assistant",
      content: message.content ?? null,
      ...(message.tool_calls?.length ? { tool_calls: message.tool_calls } : {}),
    });

    const calls = (message.tool_calls ?? []).filter((c) => c.type === "function");
    if (calls.length === 0) {
      // Lenient: a patch pasted into the reply instead of a tool call still counts.
      if (message.content?.includes("*** Begin Patch")) {
        const checked = await checkPatch(options.root, message.content, "");
        if (checked.ok) return end("submitted", "patch given in the reply text", checked.value);
        transcript.push({
          role: "user",
          content: `${checked.error}\nCall submit_patch with a corrected patch.`,
        });
      } else {
        transcript.push({
          role: "user",
          content: "Call a tool: read or search the code, then submit_patch with your change.",
        });
      }
      continue;
    }
    for (const call of calls) {
      if (call.function.name !== "submit_patch") {
        transcript.push({
          role: "tool",
          tool_call_id: call.id,
          content: await runReadTool(options.root, call.function.name, call.function.arguments),
        });
        continue;
      }
      const args = parseArgs(call.function.arguments);
      const checked =
        typeof args?.patch === "string"
          ? await checkPatch(
              options.root,
              args.patch,
              typeof args.rationale === "string" ? args.rationale : "",
            )
          : {
              ok: false as const,
              error:
                'error: submit_patch needs a JSON object {"patch": "*** Begin Patch…", "rationale": "…"}.',
            };
      if (checked.ok) return end("submitted", "patch submitted", checked.value);
      transcript.push({ role: "tool", tool_call_id: call.id, content: checked.error });
    }
  }
  return end("no-patch", `no acceptable patch within ${options.maxTurns} turns`);
}

interface Submitted {
  patchText: string;
  rationale: string;
  changes: PatchedFile[];
}

async function checkPatch(
  root: string,
  patchText: string,
  rationale: string,
): Promise<{ ok: true; value: Submitted } | { ok: false; error: string }> {
  try {
    const patch = parsePatch(patchText);
    const { changed } = await computePatchedFiles(repoFileReader(root), patch);
    return { ok: true, value: { patchText, rationale, changes: changed } };
  } catch (error) {
    return { ok: false, error: `error: the patch was not accepted: ${(error as Error).message}` };
  }
}

async function complete(
  options: AgentOptions,
  messages: Message[],
  deadline: number,
): Promise<OpenAI.Chat.Completions.ChatCompletion> {
  try {
    return await options.client.chat.completions.create(
      {
        model: options.model,
        messages,
        tools: TOOL_DEFINITIONS,
        ...(options.temperature === undefined ? {} : { temperature: options.temperature }),
      },
      { signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())) },
    );
  } catch (error) {
    throw new ModelError(`model request failed: ${(error as Error).message}`, { cause: error });
  }
}

function parseArgs(text: string): Record<string, unknown> | null {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
