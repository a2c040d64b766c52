/**
 * Knob tuning: no model needed. Knobs are declared in the config (an environment variable, or a
 * literal located in a file by a regular expression). The order of the search follows the verdict:
 * knobs that declare they help the top bottleneck go first. Each value becomes one candidate that
 * passes through the same gates as an LLM patch.
 *
 * The config may come from a pull request: a literal's file is read inside the tree only
 * (src/core/fs/inside.ts — never through `..` or a symbolic link out, never a FIFO or device), its
 * pattern runs on RE2 (src/core/config/regex.ts: linear time), and the edited file is written by the
 * loop only after the patch policy (src/core/patch/policy.ts) has checked the same path.
 */
import { MAX_LIMITS } from "../config/bounds.ts";
import { compilePattern } from "../config/regex.ts";
import type { Knob } from "../config/schema.ts";
import { RepositoryPathError, readInside } from "../fs/inside.ts";
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
 * @throws KnobError when the file is missing or refused, or the pattern matches nothing.
 */
export async function currentKnobValue(tree: string, knob: Knob): Promise<string | null> {
  if (!("literal" in knob)) return null;
  return (await locate(tree, knob)).group;
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
  const { text, group, start } = await locate(tree, knob);
  // The capture group's own position, not the first occurrence of its text in the match: in
  // `Pool(processes=4, chunksize=(\d+))` on "…=4, chunksize=4" the two differ.
  const after = text.slice(0, start) + value + text.slice(start + group.length);
  return {
    description: `${knob.name}: ${knob.literal.file} ${group} → ${value}`,
    changes: [{ path: knob.literal.file, before: text, after }],
    env: {},
  };
}

/**
 * The file of a literal knob and the first match of its pattern (RE2, multi-line: `^`/`$` at line
 * boundaries): the text, the first capture group and the group's start (UTF-16 index).
 * @throws KnobError when the file is missing, refused (outside the tree, not a regular file, larger
 *   than the largest file a candidate may have), or the pattern is not RE2 or matches nothing.
 */
async function locate(
  tree: string,
  knob: Extract<Knob, { literal: unknown }>,
): Promise<{ text: string; group: string; start: number }> {
  const { file, pattern } = knob.literal;
  let text: string | null;
  try {
    text = await readInside(tree, file, { maxBytes: MAX_LIMITS.fileBytes });
  } catch (error) {
    const why =
      error instanceof RepositoryPathError
        ? `refused: ${error.message}; literal.file must name a regular file inside the repository`
        : `cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`;
    throw new KnobError(`knob "${knob.name}": ${file} ${why}`, { cause: error });
  }
  if (text === null) throw new KnobError(`knob "${knob.name}": cannot read ${file} (ENOENT)`);
  let compiled: ReturnType<typeof compilePattern>;
  try {
    compiled = compilePattern(pattern, { multiline: true });
  } catch (error) {
    throw new KnobError(`knob "${knob.name}": pattern /${pattern}/ ${(error as Error).message}`, {
      cause: error,
    });
  }
  const matcher = compiled.matcher(text);
  const group = matcher.find() ? matcher.group(1) : null;
  if (group === null) {
    throw new KnobError(
      `knob "${knob.name}": pattern /${pattern}/ with a capture group matches nothing in ${file}`,
    );
  }
  return { text, group, start: matcher.start(1) };
}
