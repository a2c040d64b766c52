/**
 * Call stacks of one profiled process, weighted by time: the common shape that the bundle's profile
 * files (speedscope JSON, collapsed stacks) and the flame graphs are made from. Node's come from
 * V8's samples (node-stacks.ts); Python's are rebuilt from cProfile's caller edges
 * (python-stacks.ts). {@link pruneStacks} bounds a profile's size for the evidence bundle.
 */
import { realPathSync } from "../fs/inside.ts";

/** One frame of a call stack. */
export interface StackFrame {
  /** The function's name as the profiler gives it (cProfile `<module>`, `<built-in method …>`; V8 `(program)`). */
  name: string;
  /**
   * Its file: repository-relative (POSIX) inside the profiled tree, else as the profiler gives it
   * (an absolute path, `~` for cProfile built-ins, `node:…`, "" for V8's pseudo-frames and for
   * perfloop's own markers).
   */
  file: string;
  /** 1-based line of the definition, 0 when unknown. */
  line: number;
}

/** One distinct stack and the time spent with exactly it on the CPU. */
export interface WeightedStack {
  /** Indices into {@link StackProfile.frames}, outermost (root) first, innermost (leaf) last. */
  frames: number[];
  /** Time, µs (> 0). */
  weightUs: number;
}

/** The call stacks of one process (or thread). */
export interface StackProfile {
  /** What the profile is: runtime, command and pid, e.g. `python3 app.py (pid 41)`. */
  name: string;
  /** `sampled`: stacks recorded by a sampling profiler; `reconstructed`: rebuilt from caller edges. */
  origin: "sampled" | "reconstructed";
  frames: StackFrame[];
  stacks: WeightedStack[];
  /** Σ of the stacks' weights, µs: the profile's whole time. */
  totalUs: number;
}

/** Marker frames perfloop adds (file ""): their names are in brackets, unlike any profiler's. */
export const OTHER_FRAME = "[other: frames each under the cut-off]";
/** Marker for a stack cut at {@link PruneOptions.maxDepth}. */
export const DEEPER_FRAME = "[deeper frames cut]";

/** Bounds of {@link pruneStacks}. */
export interface PruneOptions {
  /** A call path (a stack prefix) below this share of the total is folded into its parent's {@link OTHER_FRAME}, 0–1 (default 0.001 = 0.1%). */
  minShare?: number;
  /** At most this many frames a stack (default 128); deeper ones become {@link DEEPER_FRAME}. */
  maxDepth?: number;
  /** At most this many stacks (default 1000): `minShare` is doubled until the result fits. */
  maxStacks?: number;
}

/** Frames deduplicated by name, file and line. */
export class FrameTable {
  readonly frames: StackFrame[] = [];
  private readonly ids = new Map<string, number>();
  /** The index of `frame`, added when new. */
  id(frame: StackFrame): number {
    const key = `${frame.name}\0${frame.file}\0${frame.line}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.frames.length;
      this.frames.push({ name: frame.name, file: frame.file, line: frame.line });
      this.ids.set(key, id);
    }
    return id;
  }
}

interface TrieNode {
  frame: number; // index into the source profile's frames, -1 for the root, -2 / -3 for the markers
  selfUs: number;
  totalUs: number;
  children: Map<number, TrieNode>;
}

function newNode(frame: number): TrieNode {
  return { frame, selfUs: 0, totalUs: 0, children: new Map() };
}

/**
 * `profile` with at most `maxStacks` stacks of at most `maxDepth` frames, and no call path under
 * `minShare` of the total: such a path's time moves to one {@link OTHER_FRAME} child of the path's
 * parent, and frames past `maxDepth` to one {@link DEEPER_FRAME} — so the weights still sum to
 * `totalUs` (up to float rounding) and every kept frame keeps its inclusive time. Stacks come out in
 * depth-first order of the call tree, siblings sorted by name, file and line (deterministic).
 */
export function pruneStacks(profile: StackProfile, opts: PruneOptions = {}): StackProfile {
  const maxDepth = Math.max(1, Math.floor(opts.maxDepth ?? 128));
  const maxStacks = Math.max(1, Math.floor(opts.maxStacks ?? 1000));
  const root = newNode(-1);
  for (const stack of profile.stacks) {
    if (!(stack.weightUs > 0)) continue;
    root.totalUs += stack.weightUs;
    let node = root;
    for (const [depth, frame] of stack.frames.entries()) {
      const key = depth >= maxDepth ? -3 : frame;
      let child = node.children.get(key);
      if (!child) {
        child = newNode(key);
        node.children.set(key, child);
      }
      child.totalUs += stack.weightUs;
      node = child;
      if (key === -3) break;
    }
    node.selfUs += stack.weightUs;
  }
  const order = (a: TrieNode, b: TrieNode) => compareFrames(profile.frames, a.frame, b.frame);
  for (let share = Math.max(0, opts.minShare ?? 0.001); ; share = share > 0 ? share * 2 : 0.001) {
    const table = new FrameTable();
    const stacks: WeightedStack[] = [];
    const cutUs = share * root.totalUs;
    const path: number[] = [];
    const emit = (node: TrieNode) => {
      if (node.selfUs > 0) stacks.push({ frames: [...path], weightUs: node.selfUs });
      let otherUs = 0;
      for (const child of [...node.children.values()].sort(order)) {
        if (child.totalUs < cutUs) {
          otherUs += child.totalUs;
          continue;
        }
        path.push(table.id(frameOf(profile.frames, child.frame)));
        emit(child);
        path.pop();
      }
      if (otherUs > 0)
        stacks.push({
          frames: [...path, table.id({ name: OTHER_FRAME, file: "", line: 0 })],
          weightUs: otherUs,
        });
    };
    emit(root);
    if (stacks.length <= maxStacks || share >= 1)
      return { ...profile, frames: table.frames, stacks, totalUs: root.totalUs };
  }
}

function frameOf(frames: StackFrame[], index: number): StackFrame {
  if (index === -3) return { name: DEEPER_FRAME, file: "", line: 0 };
  return frames[index] ?? { name: "(unknown)", file: "", line: 0 };
}

function compareFrames(frames: StackFrame[], a: number, b: number): number {
  const fa = frameOf(frames, a);
  const fb = frameOf(frames, b);
  return cmp(fa.name, fb.name) || cmp(fa.file, fb.file) || fa.line - fb.line;
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A function mapping a profiler's file to what the bundle shows: the path relative to `tree` (POSIX
 * separators) for files inside it (the scratch copy's absolute path means nothing to a reader); a
 * Python installation's file from its standard library or site-packages folder on
 * (`/usr/lib/python3.12/json/encoder.py` → `json/encoder.py`, `…/site-packages/numpy/x.py` →
 * `numpy/x.py`: the package is what a reader needs); anything else unchanged.
 */
export function displayPaths(tree: string): (file: string) => string {
  // Both spellings: the tree as given and its real path (a profiler may report either).
  const roots = [...new Set([tree, realpathOr(tree)])]
    .map((r) => r.replace(/[\\/]+$/, ""))
    .filter((r) => r !== "");
  return (file) => {
    for (const root of roots)
      if (file.startsWith(`${root}/`) || file.startsWith(`${root}\\`))
        return file.slice(root.length + 1).replace(/\\/g, "/");
    const python = /^\/.*\/lib\/python\d+(?:\.\d+)*t?\/(?:(?:site|dist)-packages\/)?(.+)$/.exec(file);
    return python?.[1] ?? file;
  };
}

/** `file` with its links resolved (fs/inside.ts realPathSync), else as given. */
function realpathOr(file: string): string {
  return realPathSync(file) ?? file;
}
