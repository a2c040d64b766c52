/**
 * Stack profiles as a speedscope file (https://www.speedscope.app/file-format-schema.json): open it at
 * https://www.speedscope.app (drag the file in) or with the `speedscope` command. One "sampled"
 * profile per process, frames shared, weights in microseconds.
 */
import type { StackProfile } from "./stacks.ts";

/** The file's `$schema`, as the format requires it. */
export const SPEEDSCOPE_SCHEMA = "https://www.speedscope.app/file-format-schema.json";

/** A speedscope frame: `name` required; `file` and 1-based `line` when known. */
export interface SpeedscopeFrame {
  name: string;
  file?: string;
  line?: number;
}

/**
 * A speedscope "sampled" profile: `samples[i]` is a stack of indices into the shared frames, root
 * first; `weights[i]` its time in `unit`; `startValue` 0 and `endValue` the total.
 */
export interface SpeedscopeSampledProfile {
  type: "sampled";
  name: string;
  unit: "microseconds";
  startValue: number;
  endValue: number;
  samples: number[][];
  weights: number[];
}

/** A speedscope file (the fields perfloop writes; `$schema`, `shared` and `profiles` are required). */
export interface SpeedscopeFile {
  $schema: typeof SPEEDSCOPE_SCHEMA;
  shared: { frames: SpeedscopeFrame[] };
  profiles: SpeedscopeSampledProfile[];
  name: string;
  activeProfileIndex: number;
  exporter: string;
}

/**
 * The speedscope file of `profiles` (one profile each, in the order given; the first is shown first).
 * Samples are the profiles' distinct stacks, each once with its summed weight, so speedscope's "Time
 * Order" view shows them in the stacks' order rather than in time; "Left Heavy" and "Sandwich" are
 * exact. A reconstructed profile's name says so (its stacks are not sampled: python-stacks.ts).
 * @param name the file's name (speedscope shows it as the title).
 * @param exporter who wrote it, e.g. `perfloop 0.1.0`.
 */
export function toSpeedscope(profiles: StackProfile[], name: string, exporter: string): SpeedscopeFile {
  const frames: SpeedscopeFrame[] = [];
  const ids = new Map<string, number>();
  const shared = (p: StackProfile, index: number): number => {
    const f = p.frames[index] ?? { name: "(unknown)", file: "", line: 0 };
    const key = `${f.name}\0${f.file}\0${f.line}`;
    let id = ids.get(key);
    if (id === undefined) {
      id = frames.length;
      frames.push({
        name: f.name,
        ...(f.file ? { file: f.file } : {}),
        ...(f.line > 0 ? { line: f.line } : {}),
      });
      ids.set(key, id);
    }
    return id;
  };
  return {
    $schema: SPEEDSCOPE_SCHEMA,
    shared: { frames },
    profiles: profiles.map((p) => ({
      type: "sampled",
      name:
        p.origin === "reconstructed"
          ? `${p.name} — stacks rebuilt from cProfile caller edges, not sampled`
          : p.name,
      unit: "microseconds",
      startValue: 0,
      endValue: p.totalUs,
      samples: p.stacks.map((s) => s.frames.map((i) => shared(p, i))),
      weights: p.stacks.map((s) => s.weightUs),
    })),
    name,
    activeProfileIndex: 0,
    exporter,
  };
}
