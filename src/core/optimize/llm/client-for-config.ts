/**
 * The model client a run uses, decided from the config and the key at hand: the same rules for the
 * CLI and the Action (README.md, "Using a model"). No model configured, `strategy: tune`, or no key
 * for a hosted endpoint means knob tuning only, with a sentence saying how to enable rewrites.
 */
import type OpenAI from "openai";
import type { Config } from "../../config/schema.ts";
import { createModelClient } from "./agent.ts";

/** The variable the key is read from when `model.api_key_env` is not set (the config schema's default). */
const DEFAULT_KEY_VARIABLE = "OPENAI_API_KEY";

/** The client (null = no model, knob tuning only) and, when there is none, why (one sentence). */
export interface ModelChoice {
  client: OpenAI | null;
  note: string | null;
}

/**
 * Chooses the model client for `config`.
 * @param apiKey the key (from the variable `model.api_key_env`, or the Action's `api-key` input);
 *   empty or undefined is fine for a `base_url` endpoint that needs none (vLLM, Ollama).
 * @param how what the user should do to configure a model, e.g. "pass --model NAME" or "set the
 *   `model` input", and to provide the key held by a variable; used in the note.
 */
export function modelClientFor(
  config: Config,
  apiKey: string | undefined,
  how: { model: string; key: (variable: string) => string } = {
    model: "pass --model NAME",
    key: (variable) => `export ${variable}=<your key>`,
  },
): ModelChoice {
  if (config.strategy === "tune") return { client: null, note: null };
  if (!config.model)
    return {
      client: null,
      note: `LLM rewrites are off (knob tuning only): add \`model:\` to .github/perfloop.yml or ${how.model}, and provide the API key (${how.key(DEFAULT_KEY_VARIABLE)}; another variable: \`model.api_key_env\` or --api-key-env).`,
    };
  if (!apiKey && !config.model.base_url)
    return {
      client: null,
      note: `LLM rewrites are off: no API key (${config.model.api_key_env} is not set: ${how.key(config.model.api_key_env)}), and no base URL of a local endpoint (vLLM, Ollama) that needs none.`,
    };
  return {
    // Local endpoints (Ollama, vLLM) accept any key; the SDK insists on a non-empty one.
    client: createModelClient({
      apiKey: apiKey || "no-key-needed",
      baseURL: config.model.base_url,
      timeoutMs: 120_000,
    }),
    note: null,
  };
}
