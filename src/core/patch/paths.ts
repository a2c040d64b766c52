// Path safety for patches: what a path's text alone reveals (absolute, `..`, odd characters) and
// where it really lives once symbolic links are followed. Used by policy.ts (to report) and
// apply.ts (to refuse reading or writing outside the repository).
import { lstat, realpath } from "node:fs/promises";
import { basename, dirname, join, relative, sep } from "node:path";
import type { PolicyViolation } from "./policy.ts";

/**
 * Violations visible from the text of `p` alone: absolute (POSIX `/`, Windows `C:` or `\\`, and `~`,
 * which a model means as the home directory), a `..` segment (split on `/` and `\\`), and invalid
 * paths (empty, backslash, NUL/control characters, trailing `/`). Empty when `p` is a plain relative path.
 */
export function lexicalViolations(p: string): PolicyViolation[] {
  const out: PolicyViolation[] = [];
  const shown = JSON.stringify(p);
  if (p.startsWith("/") || p.startsWith("\\") || /^[A-Za-z]:/.test(p) || p.startsWith("~")) {
    out.push({
      path: p,
      rule: "absolute-path",
      message: `Path ${shown} is absolute; write paths relative to the repository root, such as "src/module.py".`,
    });
  }
  if (p.split(/[/\\]/).includes("..")) {
    out.push({
      path: p,
      rule: "parent-traversal",
      message: `Path ${shown} contains a '..' segment; paths must stay inside the repository, relative to its root, without '..'.`,
    });
  }
  const problems: string[] = [];
  if (p.trim() === "") problems.push("is empty");
  if (p.includes("\\")) problems.push("contains a backslash (use '/' between directories)");
  if ([...p].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) {
    problems.push("contains a NUL or control character");
  }
  if (p.endsWith("/")) problems.push("ends with '/' (name a file, not a directory)");
  if (problems.length > 0) {
    out.push({ path: p, rule: "invalid-path", message: `Path ${shown} ${problems.join(" and ")}.` });
  }
  return out;
}

/** `p` with empty and `.` segments removed. */
export function normalize(p: string): string {
  return p
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}

/** Whether anything (a symlink included, dangling or not) is at the absolute path `p`. */
async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where `rel` really lives: realpath of its nearest existing ancestor (a dangling symlink counts
 * as leaving) plus the rest. Returns the repository-relative real path, or null when it leaves
 * realpath(root).
 */
export async function realRelative(root: string, rootReal: string, rel: string): Promise<string | null> {
  let probe = join(root, rel);
  const rest: string[] = [];
  while (!(await exists(probe))) {
    const up = dirname(probe);
    if (up === probe) return null;
    rest.unshift(basename(probe));
    probe = up;
  }
  const real = await realpath(probe).catch(() => null);
  if (real === null) return null;
  const inside = relative(rootReal, join(real, ...rest));
  if (inside === ".." || inside.startsWith(`..${sep}`) || inside.startsWith(sep)) return null;
  return inside.split(sep).join("/");
}
