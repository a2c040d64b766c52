/**
 * Approximate call stacks of a Python process, rebuilt from cProfile's caller edges.
 *
 * cProfile records no stacks: per function only its own time (tottime), its time with callees
 * (cumtime) and, per caller, the same two times for the calls made from that caller. The stacks here
 * are RECONSTRUCTED, not sampled — the approach of gprof2dot and flameprof: a function's own time is
 * split over its callers, then each caller's share over that caller's callers, and so on up to a
 * function with no recorded caller (the program's `<module>`, a thread's first function).
 *
 * - First step (the function's own time): split by the edge's tottime — cProfile measured exactly
 *   how much of the function's own time each caller's calls took.
 * - Every further step: split by the edge's cumtime, i.e. in proportion to how much of that
 *   function's cumulative time each of its callers accounts for. This is the approximation: it
 *   assumes each call of a function costs the same whoever called it (wrong when, say, `f` is cheap
 *   from `a` and expensive from `b` and a grandparent calls only one of them).
 * - Recursion: a caller already on the stack being built is skipped (its share goes to the other
 *   callers), so a recursive function appears once per stack, as in cProfile's own cumulative times.
 * - Size: a share under `minShare` of the process's time follows only its largest caller instead of
 *   branching over every caller, so the work stays linear in the number of functions.
 *
 * The weights always sum to the process's `total_s` (Σ tottime): time is moved, never dropped.
 */
import type { PythonProfile } from "./python.ts";
import { FrameTable, type StackProfile, type WeightedStack } from "./stacks.ts";

/** Options of {@link pythonProfileStacks}. */
export interface PythonStackOptions {
  /** The profile's name (default: `argv` and pid, e.g. `python3 app.py (pid 41)`). */
  name?: string;
  /** Maps a file (absolute path, `~`, `<frozen …>`) to what the stacks show (default: unchanged). */
  file?: (file: string) => string;
  /** Shares of the total below this follow the largest caller only, 0–1 (default 0.001 = 0.1%). */
  minShare?: number;
  /** At most this many frames a stack (default 256): the walk up stops there. */
  maxDepth?: number;
}

/** Edge-walk steps after which every walk follows the largest caller only (bounds the work). */
const MAX_STEPS = 2_000_000;

/**
 * The reconstructed stacks of one `py-<pid>.json` profile (see the module docs), weights in µs.
 * Functions without the `callers` field (a hook older than it) become one-frame stacks.
 */
export function pythonProfileStacks(profile: PythonProfile, opts: PythonStackOptions = {}): StackProfile {
  const fns = profile.functions;
  const mapFile = opts.file ?? ((f: string) => f);
  const maxDepth = Math.max(1, Math.floor(opts.maxDepth ?? 256));
  const selfUs = fns.map((f) => (Number.isFinite(f.tottime_s) ? Math.max(0, f.tottime_s) * 1e6 : 0));
  const totalUs = selfUs.reduce((a, b) => a + b, 0);
  const cutUs = Math.max(0, opts.minShare ?? 0.001) * totalUs;
  const table = new FrameTable();
  const frameIds = new Map<number, number>();
  const frameOf = (i: number): number => {
    let id = frameIds.get(i);
    if (id === undefined) {
      const f = fns[i];
      id = table.id({ name: f?.function ?? "(unknown)", file: f ? mapFile(f.file) : "", line: f?.line ?? 0 });
      frameIds.set(i, id);
    }
    return id;
  };
  const weights = new Map<string, { frames: number[]; weightUs: number }>();
  const emit = (path: number[], weightUs: number) => {
    if (!(weightUs > 0)) return;
    const key = path.join(",");
    const found = weights.get(key);
    if (found) found.weightUs += weightUs;
    else weights.set(key, { frames: [...path].reverse(), weightUs });
  };
  let steps = 0;
  // `path` holds function indices innermost first; `onPath` the same as a set (recursion check).
  const walk = (path: number[], onPath: Set<number>, weightUs: number, byTottime: boolean): void => {
    const outer = path[path.length - 1] as number;
    const callers = (fns[outer]?.callers ?? []).filter(([c]) => c >= 0 && c < fns.length && !onPath.has(c));
    steps += 1;
    if (callers.length === 0 || path.length >= maxDepth) {
      emit(path, weightUs);
      return;
    }
    const shares = splitShares(callers, byTottime);
    const branch = weightUs >= cutUs && steps < MAX_STEPS;
    const order = branch ? callers.map((_, k) => k) : [largest(shares)];
    for (const k of order) {
      const caller = (callers[k] as number[])[0] as number;
      const part = branch ? weightUs * (shares[k] as number) : weightUs;
      if (!(part > 0)) continue;
      path.push(caller);
      onPath.add(caller);
      walk(path, onPath, part, false);
      onPath.delete(caller);
      path.pop();
    }
  };
  selfUs.forEach((us, i) => {
    if (us > 0) walk([i], new Set([i]), us, true);
  });
  const stacks: WeightedStack[] = [...weights.values()].map((s) => ({
    frames: s.frames.map(frameOf),
    weightUs: s.weightUs,
  }));
  return {
    name: opts.name ?? pythonProcessName(profile),
    origin: "reconstructed",
    frames: table.frames,
    stacks,
    totalUs,
  };
}

/**
 * Each caller's share (they sum to 1): by the edge's tottime on the first step, by its cumtime
 * after it; edges that all measured 0 s split by call count, and failing that evenly.
 */
function splitShares(callers: ReadonlyArray<readonly number[]>, byTottime: boolean): number[] {
  for (const field of byTottime ? [3, 4, 1] : [4, 3, 1]) {
    const values = callers.map((c) => {
      const v = c[field] ?? 0;
      return Number.isFinite(v) && v > 0 ? v : 0;
    });
    const sum = values.reduce((a, b) => a + b, 0);
    if (sum > 0) return values.map((v) => v / sum);
  }
  return callers.map(() => 1 / callers.length);
}

/** Index of the largest share (the first on a tie). */
function largest(shares: number[]): number {
  let best = 0;
  shares.forEach((s, k) => {
    if (s > (shares[best] ?? 0)) best = k;
  });
  return best;
}

/** `python3 app.py --x (pid 41)`: the interpreter's base name and the arguments, cut to 80 characters. */
function pythonProcessName(profile: Pick<PythonProfile, "argv" | "pid">): string {
  const [exe = "python", ...args] = profile.argv;
  const command = [exe.split(/[\\/]/).pop() || "python", ...args].join(" ");
  const short = command.length > 80 ? `${command.slice(0, 79)}…` : command;
  return `${short} (pid ${profile.pid})`;
}
