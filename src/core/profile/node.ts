import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { RawFunctionTimes } from "./hotspots.ts";

/** Thrown when a `.cpuprofile` cannot be read or is not in V8's CPU profile format. */
export class NodeProfileReadError extends Error {
  override name = "NodeProfileReadError";
  /** The file (or directory) that failed. */
  readonly file: string;
  constructor(file: string, options: { cause: unknown }) {
    super(`cannot read Node CPU profile ${file}: ${String(options.cause)}`, options);
    this.file = file;
  }
}

/**
 * Quotes one NODE_OPTIONS value when it holds whitespace, `"` or `\`: Node splits NODE_OPTIONS
 * on spaces but keeps double-quoted strings whole, with `\` escaping the next character inside
 * them (Node's `ParseNodeOptionsEnvVar`; checked on Node 24).
 */
function quoteNodeOption(value: string): string {
  return /[\s"\\]/.test(value) ? `"${value.replace(/["\\]/g, "\\$&")}"` : value;
}

/**
 * Environment for running a command with every Node process CPU-profiled: a copy of `baseEnv`
 * whose NODE_OPTIONS keeps the existing options and appends `--cpu-prof
 * --cpu-prof-dir=<absolute profileDir>` (later options win, so an earlier `--cpu-prof-dir` is
 * overridden). Profiles are written at normal exit (including `process.exit`), not when a
 * process is killed by a signal. `baseEnv` is not modified.
 */
export function nodeProfileEnv(baseEnv: Record<string, string>, profileDir: string): Record<string, string> {
  const ours = `--cpu-prof --cpu-prof-dir=${quoteNodeOption(path.resolve(profileDir))}`;
  const existing = (baseEnv.NODE_OPTIONS ?? "").trim();
  return { ...baseEnv, NODE_OPTIONS: existing === "" ? ours : `${existing} ${ours}` };
}

const CpuProfileSchema = z.object({
  nodes: z.array(
    z.object({
      id: z.number().int(),
      callFrame: z.object({
        functionName: z.string(),
        url: z.string(),
        lineNumber: z.number().int(),
        columnNumber: z.number().int(),
      }),
      children: z.array(z.number().int()).optional(),
    }),
  ),
  startTime: z.number(),
  endTime: z.number(),
  samples: z.array(z.number().int()).optional(),
  timeDeltas: z.array(z.number()).optional(),
});

/** A V8 CPU profile, the fields perfloop reads: `nodes` (call tree), `samples` (node ids),
 *  `timeDeltas` (µs before each sample), `startTime` / `endTime` (µs). */
export type CpuProfile = z.infer<typeof CpuProfileSchema>;
type CpuNode = CpuProfile["nodes"][number];

/**
 * `json` checked against V8's `.cpuprofile` shape (the fields of {@link CpuProfile}).
 * @throws NodeProfileReadError (with `source` as its file) when the shape is not V8's.
 */
export function parseCpuProfile(json: unknown, source = "<cpuprofile>"): CpuProfile {
  try {
    return CpuProfileSchema.parse(json);
  } catch (error) {
    throw new NodeProfileReadError(source, { cause: error });
  }
}

/**
 * Self time of each node of `profile` (node id → µs): sample `i` lasts until the next sample's
 * timestamp (the last one until `endTime`), as Chrome DevTools' CPUProfileDataModel counts it;
 * timestamps are `startTime + Σ timeDeltas[0..i]`, µs; negative durations (out-of-order ticks)
 * count 0. Nodes without samples are absent.
 */
export function nodeSelfTimesUs(profile: CpuProfile): Map<number, number> {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  let t = profile.startTime;
  const stamps = samples.map((_, i) => {
    t += deltas[i] ?? 0;
    return t;
  });
  samples.forEach((id, i) => {
    const duration = Math.max(0, (stamps[i + 1] ?? profile.endTime) - (stamps[i] ?? profile.startTime));
    selfUs.set(id, (selfUs.get(id) ?? 0) + duration);
  });
  return selfUs;
}

/** `file:///a/b.js` → `/a/b.js`; other URLs (`node:internal/…`, "" for V8's own nodes) unchanged. */
export function urlToFile(url: string): string {
  if (!url.startsWith("file:")) return url;
  try {
    return fileURLToPath(url);
  } catch {
    return url;
  }
}

/**
 * Per-function times of one V8 CPU profile (`.cpuprofile` JSON, already parsed).
 *
 * Sample `i` lasts until the next sample's timestamp (the last one until `endTime`), as Chrome
 * DevTools' CPUProfileDataModel counts it; timestamps are `startTime + Σ timeDeltas[0..i]`, µs;
 * negative durations (out-of-order ticks) count 0. A node's self time is the total duration of
 * its samples. A function is identified by file + 1-based line (V8's `lineNumber` is 0-based) +
 * name (`(anonymous)` when empty); V8's pseudo-nodes (`(root)`, `(program)`, `(idle)`,
 * `(garbage collector)`) keep their names with file "" so that they count in the total.
 * Cumulative time counts each sample once per function even when the function is on the stack
 * several times (recursion): a node's subtree time is added only at the outermost occurrence of
 * its function on the path from the root. `calls` is null (sampling has no call counts).
 * Takes a profile checked by parseCpuProfile.
 */
export function cpuProfileFunctionTimes(profile: CpuProfile): RawFunctionTimes[] {
  const byId = new Map<number, CpuNode>(profile.nodes.map((n) => [n.id, n]));
  const selfUs = nodeSelfTimesUs(profile);

  const keyOf = (n: CpuNode): string => {
    const { functionName, url, lineNumber } = n.callFrame;
    return `${urlToFile(url)}\0${lineNumber + 1}\0${functionName || "(anonymous)"}`;
  };
  const isChild = new Set(profile.nodes.flatMap((n) => n.children ?? []));
  const roots = profile.nodes.filter((n) => !isChild.has(n.id));

  // Iterative DFS: subtree totals on exit; cumulative at the outermost occurrence per path.
  const subtreeUs = new Map<number, number>();
  const onPath = new Map<string, number>();
  const cumulativeUs = new Map<string, number>();
  const functionSelfUs = new Map<string, number>();
  const visited = new Set<number>();
  const stack: { node: CpuNode; exiting: boolean }[] = roots.map((node) => ({ node, exiting: false }));
  while (stack.length > 0) {
    const { node, exiting } = stack.pop() as { node: CpuNode; exiting: boolean };
    const key = keyOf(node);
    if (exiting) {
      let total = selfUs.get(node.id) ?? 0;
      for (const c of node.children ?? []) total += subtreeUs.get(c) ?? 0;
      subtreeUs.set(node.id, total);
      const depth = (onPath.get(key) ?? 1) - 1;
      if (depth === 0) {
        onPath.delete(key);
        cumulativeUs.set(key, (cumulativeUs.get(key) ?? 0) + total);
      } else onPath.set(key, depth);
      continue;
    }
    if (visited.has(node.id)) continue; // malformed: a node reachable twice
    visited.add(node.id);
    onPath.set(key, (onPath.get(key) ?? 0) + 1);
    functionSelfUs.set(key, (functionSelfUs.get(key) ?? 0) + (selfUs.get(node.id) ?? 0));
    stack.push({ node, exiting: true });
    for (const c of node.children ?? []) {
      const child = byId.get(c);
      if (child !== undefined) stack.push({ node: child, exiting: false });
    }
  }

  return [...functionSelfUs].map(([key, self]) => {
    const [file = "", line = "0", fn = ""] = key.split("\0");
    return {
      file,
      line: Number(line),
      function: fn,
      calls: null,
      selfMs: self / 1000,
      cumulativeMs: (cumulativeUs.get(key) ?? 0) / 1000,
    };
  });
}
