/**
 * The estimated cost of the tokens a session spent: tokens × price. The price is `model.price` when
 * the config gives one, else the list price of a few well-known models, else unknown (null) — an
 * estimate is never invented for a model perfloop has no price for.
 */

/** USD per million tokens, prompt (input) and completion (output). */
export interface TokenPrice {
  input: number;
  output: number;
}

/**
 * List prices, USD per million tokens, from OpenAI's API pricing page (platform.openai.com/pricing,
 * standard tier, read 2025). Cached-input discounts are ignored, so the estimate errs high.
 */
export const LIST_PRICES: Readonly<Record<string, TokenPrice>> = {
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  o3: { input: 2, output: 8 },
  "o4-mini": { input: 1.1, output: 4.4 },
  "gpt-5": { input: 1.25, output: 10 },
  "gpt-5-mini": { input: 0.25, output: 2 },
};

/** The price in force: the configured one, else the list price of `model` (exact name), else null. */
export function priceFor(model: string, configured?: TokenPrice): TokenPrice | null {
  return configured ?? LIST_PRICES[model] ?? null;
}

/**
 * Estimated cost, USD, of `promptTokens` + `completionTokens` at `price`; null when the price is
 * unknown. Rounded to 1/10000 of a dollar.
 */
export function estimateCostUsd(
  usage: { promptTokens: number; completionTokens: number },
  price: TokenPrice | null,
): number | null {
  if (price === null) return null;
  const usd = (usage.promptTokens * price.input + usage.completionTokens * price.output) / 1e6;
  return Math.round(usd * 10_000) / 10_000;
}
