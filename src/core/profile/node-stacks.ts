/**
 * The call stacks of a V8 CPU profile (`.cpuprofile`, written by `node --cpu-prof`): every sample
 * is a node of V8's call tree, so a node's path from the root is a real, sampled stack.
 */

import { type CpuProfile, nodeSelfTimesUs, urlToFile } from "./node.ts";
import { FrameTable, type StackProfile, type WeightedStack } from "./stacks.ts";

/** Options of {@link cpuProfileStacks}. */
export interface CpuProfileStackOptions {
  /** The profile's name (default `node`). */
  name?: string;
  /** Maps a file (absolute path or `node:…`) to what the stacks show (default: unchanged). */
  file?: (file: string) => string;
}

/**
 * The sampled stacks of one V8 CPU profile (checked by node.ts `parseCpuProfile`), weights in µs.
 *
 * Each node with samples gives one stack: its path from V8's `(root)`, which is left out (the root of
 * every stack; kept alone only for samples on the root itself). A node's weight is its samples'
 * durations counted as the hot spots count them (node.ts `nodeSelfTimesUs`), so `totalUs` is the
 * same total as theirs. Frames: `functionName` (`(anonymous)` when empty), the file of the script's
 * URL (mapped by `opts.file`), V8's 0-based `lineNumber` + 1 (0 for V8's pseudo-frames
 * `(program)`, `(idle)`, `(garbage collector)`).
 */
export function cpuProfileStacks(profile: CpuProfile, opts: CpuProfileStackOptions = {}): StackProfile {
  const mapFile = opts.file ?? ((f: string) => f);
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const table = new FrameTable();
  const frameIds = new Map<number, number>();
  const frameOf = (id: number): number => {
    let frame = frameIds.get(id);
    if (frame === undefined) {
      const call = byId.get(id)?.callFrame;
      frame = table.id({
        name: call?.functionName || "(anonymous)",
        file: call ? mapFile(urlToFile(call.url)) : "",
        line: call && call.lineNumber >= 0 ? call.lineNumber + 1 : 0,
      });
      frameIds.set(id, frame);
    }
    return frame;
  };
  const stacks: WeightedStack[] = [];
  let totalUs = 0;
  for (const [id, weightUs] of [...nodeSelfTimesUs(profile)].sort(([a], [b]) => a - b)) {
    if (!(weightUs > 0)) continue;
    totalUs += weightUs;
    const path: number[] = [];
    const seen = new Set<number>();
    // Up to the root; `seen` guards against a malformed profile whose parents form a cycle.
    for (let n: number | undefined = id; n !== undefined && !seen.has(n); n = parent.get(n)) {
      seen.add(n);
      path.push(n);
    }
    path.reverse();
    const frames = (
      isRoot(byId.get(path[0] ?? -1)?.callFrame.functionName) && path.length > 1 ? path.slice(1) : path
    ).map(frameOf);
    stacks.push({ frames, weightUs });
  }
  return { name: opts.name ?? "node", origin: "sampled", frames: table.frames, stacks, totalUs };
}

function isRoot(name: string | undefined): boolean {
  return name === "(root)";
}
