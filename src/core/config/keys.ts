/**
 * Schemas of the config keys that name files or hold regular expressions. The config may come from
 * a pull request: a path key is a plain repository-relative path (no absolute path, no `~`, no
 * `..`), and a pattern compiles with RE2 (src/core/config/regex.ts). Whether a path leaves the
 * repository through a symbolic link is checked where the repository is known (load.ts
 * `checkConfigPaths`). README.md, "Configuration".
 */
import { z } from "zod";
import { relativePathProblem } from "../fs/inside.ts";
import { MAX_GLOBS } from "./bounds.ts";
import { patternProblem } from "./regex.ts";

/**
 * A file path relative to the repository root, e.g. `textstats/settings.py`.
 * Issue message: "a path relative to the repository root, without '..' (like "<example>"); this one <problem>".
 */
export function relativeFile(example: string) {
  return z.string().superRefine((p, ctx) => {
    const problem = relativePathProblem(p);
    if (problem !== null)
      ctx.addIssue({
        code: "custom",
        message: `a path relative to the repository root, without '..' (like "${example}"); this one ${problem}`,
      });
  });
}

/**
 * A list of globs relative to the repository root (picomatch syntax), at most {@link MAX_GLOBS}.
 * A glob that is absolute, starts with `~` or has a `..` segment is refused: it could only ever
 * name files outside the repository.
 */
export function relativeGlobs() {
  return z
    .array(
      z.string().superRefine((glob, ctx) => {
        const problem = relativePathProblem(glob);
        if (problem !== null)
          ctx.addIssue({
            code: "custom",
            message: `a glob relative to the repository root, without '..' (like "src/**"); this one ${problem}`,
          });
      }),
    )
    .max(MAX_GLOBS, `at most ${MAX_GLOBS} globs`);
}

/** A regular expression in RE2 syntax with at least one capture group (regex.ts `patternProblem`). */
export function re2Pattern() {
  return z.string().superRefine((source, ctx) => {
    const problem = patternProblem(source);
    if (problem !== null) ctx.addIssue({ code: "custom", message: problem });
  });
}
