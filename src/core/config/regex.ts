/**
 * Regular expressions from the config (`benchmark.metric.pattern`, a knob's `literal.pattern`) come
 * from a pull request like the rest of the config: they run on re2js, a pure-JavaScript port of RE2,
 * whose matching time is linear in the input (no catastrophic backtracking: `^(a+)+$` on a long
 * "aaa…b" line takes as long as reading it). RE2 syntax has no backreferences and no lookaround.
 * README.md, "Configuration".
 */
import { RE2JS } from "re2js";

/** The longest pattern accepted from the config, characters (a metric or literal pattern is one line). */
export const MAX_PATTERN_LENGTH = 1000;

/** A config pattern that does not compile as RE2, or has no capture group. */
export class PatternError extends Error {
  override name = "PatternError";
}

/**
 * Compiles a config pattern with RE2 semantics.
 * @param options.multiline `^` and `$` match at line boundaries (`\n`), not only at the ends.
 * @throws PatternError naming what RE2 refused (e.g. "invalid escape sequence: `\1`"), or saying
 *   that there is no capture group.
 */
export function compilePattern(source: string, options: { multiline?: boolean } = {}): RE2JS {
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, options.multiline ? RE2JS.MULTILINE : 0);
  } catch (error) {
    const why = (error as Error).message.replace(/^error parsing regexp: /, "");
    throw new PatternError(`not valid RE2 syntax (${why})`, { cause: error });
  }
  if (compiled.groupCount() < 1) throw new PatternError("has no capture group");
  return compiled;
}

/**
 * Why `source` cannot be a config pattern, as the end of "expected …" in a config message; null when
 * it compiles as RE2 with at least one capture group and is at most {@link MAX_PATTERN_LENGTH} long.
 */
export function patternProblem(source: string): string | null {
  if (source.length > MAX_PATTERN_LENGTH) return `a pattern of at most ${MAX_PATTERN_LENGTH} characters`;
  try {
    compilePattern(source);
    return null;
  } catch (error) {
    return `a regular expression in RE2 syntax (no backreferences, lookahead or lookbehind) with one capture group; this one is ${(error as Error).message}`;
  }
}

/**
 * The first capture group of the LAST line of `text` (lines split on `\n`) that `pattern` matches
 * with that group taking part and `accept` returning true for it.
 * @returns the group's text, or null when no line qualifies.
 */
export function lastLineGroup(
  text: string,
  pattern: RE2JS,
  accept: (group: string) => boolean = () => true,
): string | null {
  let end = text.length;
  while (end >= 0) {
    const start = end === 0 ? 0 : text.lastIndexOf("\n", end - 1) + 1;
    const line = text.slice(start, end);
    if (pattern.test(line)) {
      const matcher = pattern.matcher(line);
      if (matcher.find()) {
        const group = matcher.group(1);
        if (group !== null && accept(group)) return group;
      }
    }
    if (start === 0) break;
    end = start - 1;
  }
  return null;
}
