/**
 * Keeps a session's conversation within `model.context_tokens`: when the estimated size passes the
 * budget, the oldest tool outputs are replaced by a one-line stub (their first line and length), the
 * newest few kept whole. The model can always call the tool again; the session log keeps every
 * output in full. Tokens are estimated at 4 characters a token (OpenAI's rule of thumb for English
 * text and code), which is all a budget check needs.
 */
import type OpenAI from "openai";

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

/** Characters per token of the estimate. */
export const CHARS_PER_TOKEN = 4;
/** Tool outputs never compacted: the most recent ones. */
const KEEP_RECENT = 4;
/** Outputs shorter than this are not worth compacting, characters. */
const MIN_COMPACTED = 400;

/** Estimated tokens of a conversation (content and tool-call arguments). */
export function estimateTokens(messages: Message[]): number {
  let chars = 0;
  for (const m of messages) {
    if (typeof m.content === "string") chars += m.content.length;
    if (m.role === "assistant")
      for (const call of m.tool_calls ?? [])
        if (call.type === "function") chars += call.function.arguments.length;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/**
 * Compacts old tool outputs in place until the estimate is within `budgetTokens` or nothing is left
 * to compact. System and user messages, the assistant's own text and the last KEEP_RECENT tool
 * outputs are never touched.
 * @returns how many outputs were compacted now.
 */
export function compactTranscript(messages: Message[], budgetTokens: number): number {
  if (estimateTokens(messages) <= budgetTokens) return 0;
  const tools = messages.filter((m) => m.role === "tool");
  let compacted = 0;
  for (const m of tools.slice(0, Math.max(0, tools.length - KEEP_RECENT))) {
    if (typeof m.content !== "string" || m.content.length < MIN_COMPACTED) continue;
    if (m.content.startsWith("[compacted by perfloop")) continue;
    const first = m.content.split("\n", 1)[0]?.slice(0, 160) ?? "";
    m.content = `[compacted by perfloop to save context: ${m.content.length} characters; first line: ${first}. Call the tool again if you need it.]`;
    compacted += 1;
    if (estimateTokens(messages) <= budgetTokens) break;
  }
  return compacted;
}
