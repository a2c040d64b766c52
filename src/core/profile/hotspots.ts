/**
 * Hot spots of a profiled command: per-function times from every profiled process (Python and
 * Node), merged, as shares of the whole profiled time, restricted to the repository's own files.
 * docs/design.md, "Profiling".
 */

import path from "node:path";
import { realPathSync } from "../fs/inside.ts";
import type { HotSpot } from "../types.ts";
import { cpuProfileFunctionTimes, nodeProfileEnv } from "./node.ts";
import { type ProfileFile, readProfileDir } from "./profile-dir.ts";
import { pythonFunctionTimes, pythonProfileEnv } from "./python.ts";

/**
 * Times of one function in one profiled process (or thread), as a profiler reports them.
 * `file` is an absolute path where the profiler knows one (else its own marker: `~` for Python
 * built-ins, "" or `node:…` for Node internals); `line` is 1-based (0 when unknown);
 * `calls` is the call count (cProfile) or null (sampling profilers); `selfMs` is time in the
 * function itself and `cumulativeMs` time with its callees (recursion counted once), ms.
 */
export type RawFunctionTimes = {
  file: string;
  line: number;
  function: string;
  calls: number | null;
  selfMs: number;
  cumulativeMs: number;
};

/** Options of toHotSpots / readHotSpots. */
export interface HotSpotOptions {
  /** At most this many hot spots, after sorting (default 15). */
  limit?: number;
  /** Drop hot spots whose selfPct is below this, % (default: keep all). */
  minSelfPct?: number;
}

/** Directory names whose contents are third-party code even inside the repository. */
const THIRD_PARTY_DIRS = new Set(["node_modules", "site-packages", "dist-packages", "__pypackages__"]);

/** `file` with its links resolved (fs/inside.ts realPathSync), else as given. */
function realpathOr(file: string): string {
  return realPathSync(file) ?? path.resolve(file);
}

/**
 * Returns a function mapping a profiler's file to its path relative to `repoRoot` (POSIX
 * separators), or null when it is not the repository's own code: not an absolute path, real path
 * (symlinks resolved, as for the root) outside the root, or under a third-party directory
 * (THIRD_PARTY_DIRS, or `lib/pythonX.Y/`, the standard library of a virtualenv/conda env kept in
 * the repository).
 */
export function repoPathResolver(repoRoot: string): (file: string) => string | null {
  const root = realpathOr(path.resolve(repoRoot));
  const cache = new Map<string, string | null>();
  return (file) => {
    const cached = cache.get(file);
    if (cached !== undefined || cache.has(file)) return cached ?? null;
    let result: string | null = null;
    if (path.isAbsolute(file)) {
      const rel = path.relative(root, realpathOr(file));
      const inside = rel !== "" && rel !== ".." && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
      const parts = rel.split(path.sep);
      const thirdParty = parts.some(
        (p, i) => THIRD_PARTY_DIRS.has(p) || (p === "lib" && /^python\d+(\.\d+)*$/.test(parts[i + 1] ?? "")),
      );
      if (inside && !thirdParty) result = parts.join("/");
    }
    cache.set(file, result);
    return result;
  };
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * Hot spots from raw per-function times of any number of processes.
 *
 * Entries with the same file, line and function are summed over processes (calls: sum of the
 * known counts, null when none is known). Percentages are of the total profiled time: the sum
 * of `selfMs` over ALL entries, repository or not (standard library, dependencies, the
 * runtimes' idle/GC pseudo-functions), so a share says how much of the command's profiled time
 * the function is. Only the repository's own functions are returned (see repoPathResolver),
 * with paths relative to `repoRoot`, sorted by selfPct then cumulativePct (descending), cut to
 * `opts.limit` (default 15) after dropping selfPct < `opts.minSelfPct`; percentages rounded to
 * 0.01. No profiled time gives [].
 */
export function toHotSpots(raw: RawFunctionTimes[], repoRoot: string, opts: HotSpotOptions = {}): HotSpot[] {
  const limit = Math.max(0, Math.floor(opts.limit ?? 15));
  const minSelfPct = opts.minSelfPct ?? Number.NEGATIVE_INFINITY;
  const toRepoPath = repoPathResolver(repoRoot);
  let totalMs = 0;
  const merged = new Map<
    string,
    { file: string; line: number; fn: string; calls: number | null; self: number; cum: number }
  >();
  for (const r of raw) {
    const self = Math.max(0, r.selfMs);
    totalMs += self;
    const file = toRepoPath(r.file);
    if (file === null) continue;
    const key = `${file}\0${r.line}\0${r.function}`;
    const m = merged.get(key) ?? { file, line: r.line, fn: r.function, calls: null, self: 0, cum: 0 };
    m.self += self;
    m.cum += Math.max(0, r.cumulativeMs);
    if (r.calls !== null) m.calls = (m.calls ?? 0) + r.calls;
    merged.set(key, m);
  }
  if (totalMs <= 0) return [];
  return [...merged.values()]
    .filter((m) => m.self > 0 || m.cum > 0)
    .map((m) => ({ ...m, selfPct: (100 * m.self) / totalMs, cumulativePct: (100 * m.cum) / totalMs }))
    .filter((m) => m.selfPct >= minSelfPct)
    .sort(
      (a, b) =>
        b.selfPct - a.selfPct ||
        b.cumulativePct - a.cumulativePct ||
        a.file.localeCompare(b.file) ||
        a.line - b.line,
    )
    .slice(0, limit)
    .map((m) => ({
      file: m.file,
      line: m.line,
      function: m.fn,
      selfPct: round2(m.selfPct),
      cumulativePct: round2(m.cumulativePct),
      calls: m.calls,
    }));
}

/**
 * Environment profiling every Python and Node process of a command into `profileDir`:
 * pythonProfileEnv then nodeProfileEnv applied to a copy of `baseEnv`.
 */
export function profileEnv(baseEnv: Record<string, string>, profileDir: string): Record<string, string> {
  return nodeProfileEnv(pythonProfileEnv(baseEnv, profileDir), profileDir);
}

/**
 * The repository's hot spots (toHotSpots) of a profiling run's profiles (profile-dir.ts).
 * @throws PythonProfileReadError / NodeProfileReadError for the first profile that could not be
 *   read: a malformed profile costs the hot spots, rather than silently leaving a process out.
 */
export function hotSpotsOf(
  files: readonly ProfileFile[],
  repoRoot: string,
  opts: HotSpotOptions = {},
): HotSpot[] {
  const raw: RawFunctionTimes[] = [];
  for (const f of files) {
    if (f.kind === "unreadable") throw f.error;
    if (f.kind === "python") raw.push(...pythonFunctionTimes(f.profile));
    else raw.push(...cpuProfileFunctionTimes(f.profile));
  }
  return toHotSpots(raw, repoRoot, opts);
}

/** readProfileDir then hotSpotsOf: the hot spots of the profiles in `profileDir`. */
export async function readHotSpots(
  profileDir: string,
  repoRoot: string,
  opts: HotSpotOptions = {},
): Promise<HotSpot[]> {
  return hotSpotsOf(await readProfileDir(profileDir), repoRoot, opts);
}
