/**
 * Knob tuning: no model needed. Knobs are declared in the config (an environment variable, or a
 * literal located in a file by a regular expression). The order of the search follows the verdict:
 * knobs that declare they help the top bottleneck go first. Each value becomes one candidate that
 * passes through the same gates as an LLM patch.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Knob } from "../config/schema.ts";
import type { Verdict } from "../types.ts";

/** One value of one knob to try. */
export interface KnobTrial {
  knob: Knob;
  value: string;
}

/** A knob that cannot be applied (file missing, pattern not found); the message says which. */
export class KnobError extends Error {
  override name = "KnobError";
}

/** What a trial changes: a file edit for a literal knob, an environment value for an env knob. */
export interface KnobChange {
  description: string;
  changes: Array<{ path: string; before: string; after: string }>;
  env: Record<string, string>;
}

/**
 * Orders the trials: knobs whose `helps` names a verdict's category come first, in verdict order
 * (the verdicts are sorted by share of run time); then the others in config order. Values keep the
 * order the config lists them in (the user knows the sensible progression); the value a literal
 * knob already has is skipped.
 * @param current the knob's current value by name (from {@link currentKnobValue}), when known.
 */
export function planKnobTrials(
  knobs: Knob[],
  verdicts: Verdict[],
  current: Record<string, string | null> = {},
): KnobTrial[] {
  const rank = (knob: Knob): number => {
    const index = verdicts.findIndex((v) => knob.helps.includes(v.category));
    return index === -1 ? verdicts.length : index;
  };
  const ordered = knobs
    .map((knob, i) => ({ knob, i }))
    .sort((a, b) => rank(a.knob) - rank(b.knob) || a.i - b.i);
  return ordered.flatMap(({ knob }) =>
    knob.values
      .map(String)
      .filter((value) => value !== current[knob.name])
      .map((value) => ({ knob, value })),
  );
}

/**
 * The value a literal knob has in `tree` now; null for env knobs.
 * @throws KnobError when the file is missing or the pattern matches nothing.
 */
export async function currentKnobValue(tree: string, knob: Knob): Promise<string | null> {
  if (!("literal" in knob)) return null;
  const { match } = await locate(tree, knob);
  return match[1] ?? null;
}

/**
 * The change a trial makes in `tree`.
 * @throws KnobError when a literal cannot be located.
 */
export async function knobChange(tree: string, trial: KnobTrial): Promise<KnobChange> {
  const { knob, value } = trial;
  if ("env" in knob) {
    return { description: `${knob.name}: ${knob.env}=${value}`, changes: [], env: { [knob.env]: value } };
  }
  const { text, match } = await locate(tree, knob);
  const group = match[1] ?? "";
  // The capture group's own position (the `d` flag), not the first occurrence of its text in the match:
  // in `Pool(processes=4, chunksize=(\d+))` on "…=4, chunksize=4" the two differ.
  const groupStart = match.indices?.[1]?.[0] ?? (match.index ?? 0) + match[0].indexOf(group);
  const after = text.slice(0, groupStart) + value + text.slice(groupStart + group.length);
  return {
    description: `${knob.name}: ${knob.literal.file} ${group} → ${value}`,
    changes: [{ path: knob.literal.file, before: text, after }],
    env: {},
  };
}

async function locate(
  tree: string,
  knob: Extract<Knob, { literal: unknown }>,
): Promise<{ text: string; match: RegExpMatchArray }> {
  const file = path.join(tree, knob.literal.file);
  const text = await readFile(file, "utf8").catch((error: unknown) => {
    throw new KnobError(
      `knob "${knob.name}": cannot read ${knob.literal.file} (${(error as NodeJS.ErrnoException).code ?? error})`,
      { cause: error },
    );
  });
  const match = text.match(new RegExp(knob.literal.pattern, "md"));
  if (!match || match[1] === undefined) {
    throw new KnobError(
      `knob "${knob.name}": pattern /${knob.literal.pattern}/ with a capture group matches nothing in ${knob.literal.file}`,
    );
  }
  return { text, match };
}
