/**
 * Keeps a profiling run's raw profiles in the evidence bundle, in formats people open (README,
 * "Evidence bundle"), in the run's `profiles/` folder:
 *
 * - `profile.speedscope.json`: every profiled process as one "sampled" speedscope profile (µs);
 * - `<process>.folded`: collapsed stacks per process (`py-<pid>.folded`, `CPU.….folded`; µs);
 * - `<name>.cpuprofile`: Node's raw V8 profiles, as written.
 *
 * Python stacks are rebuilt from cProfile's caller edges, not sampled (profile/python-stacks.ts).
 * Bounds, so that a bundle stays small (the App takes artifacts up to 64 MiB); all per profiling
 * run but the raw .cpuprofile budget, which is per bundle: call paths under 0.1%
 * of a process's time are folded into an `[other: …]` frame, at most 1,000 stacks of 128 frames per
 * process, 16 processes (the longest), a speedscope file of 2 MiB and a folded file of 1 MiB (the
 * cut-off is raised until they fit), a raw .cpuprofile of 3 MiB (under the bundle's 4 MiB text
 * ceiling, which would cut a larger one into invalid JSON) and 16 MiB of raw .cpuprofile files per
 * bundle. What is left out is said in audit.log and in the returned notes.
 */

import path from "node:path";
import { toFolded } from "../profile/folded.ts";
import { cpuProfileStacks } from "../profile/node-stacks.ts";
import type { ProfileFile } from "../profile/profile-dir.ts";
import { pythonProfileStacks } from "../profile/python-stacks.ts";
import { toSpeedscope } from "../profile/speedscope.ts";
import { displayPaths, type PruneOptions, pruneStacks, type StackProfile } from "../profile/stacks.ts";
import { formatBytes } from "../report/format.ts";
import type { LoopContext } from "./context.ts";

/** The speedscope file's name in a profiles folder. */
export const SPEEDSCOPE_FILE = "profile.speedscope.json";
/** At most this many processes a profiling run (the longest-running). */
export const MAX_PROCESSES = 16;
/** A raw .cpuprofile larger than this is not kept, bytes (3 MiB). */
export const MAX_CPUPROFILE_BYTES = 3 * 2 ** 20;
/** Raw .cpuprofile files of the whole bundle stop here, bytes (16 MiB). */
export const MAX_CPUPROFILE_BUNDLE_BYTES = 16 * 2 ** 20;
/** The speedscope file's ceiling, bytes (2 MiB). */
export const MAX_SPEEDSCOPE_BYTES = 2 * 2 ** 20;
/** One folded file's ceiling, bytes (1 MiB). */
export const MAX_FOLDED_BYTES = 2 ** 20;
/** The first pruning bounds (see pruneStacks): 0.1%, 1,000 stacks, 128 frames. */
const PRUNE: Required<PruneOptions> = { minShare: 0.001, maxStacks: 1000, maxDepth: 128 };

/** What keepProfiles wrote: bundle-relative names. */
export interface KeptProfiles {
  /** The folder, e.g. `profiles` or `rounds/2/profiles`. */
  folder: string;
  /** The speedscope file, null when no process was profiled. */
  speedscope: string | null;
  folded: string[];
  cpuprofiles: string[];
  /** Whether a Python profile is among them (its stacks are reconstructed). */
  reconstructed: boolean;
  /** What was left out or could not be read, one sentence each. */
  notes: string[];
}

/** One process's stacks and the raw file they came from. */
interface Loaded {
  file: string;
  stem: string;
  stacks: StackProfile;
  raw: string | null;
}

/**
 * Writes the profiles a profiling run left (`files`, read once by profile/profile-dir.ts
 * `readProfileDir`) into the bundle folder `folder` (see the module docs for names and bounds).
 * Never throws: a profile that could not be read is skipped with a note (the hot spots report it
 * on their own), and a failure to write is noted and audited — keeping the files must not cost the
 * profiling run.
 * @param tree the profiled tree: files inside it are shown relative to it.
 */
export async function keepProfiles(
  ctx: LoopContext,
  files: readonly ProfileFile[],
  tree: string,
  folder: string,
): Promise<KeptProfiles> {
  const kept: KeptProfiles = {
    folder,
    speedscope: null,
    folded: [],
    cpuprofiles: [],
    reconstructed: false,
    notes: [],
  };
  try {
    const loaded = loadProfiles(files, tree, kept.notes);
    loaded.sort((a, b) => b.stacks.totalUs - a.stacks.totalUs || (a.file < b.file ? -1 : 1));
    if (loaded.length > MAX_PROCESSES)
      kept.notes.push(
        `${loaded.length - MAX_PROCESSES} of ${loaded.length} profiled processes (the shortest) are not in ${folder}/`,
      );
    const chosen = loaded.slice(0, MAX_PROCESSES);
    if (chosen.length === 0) return kept;
    kept.reconstructed = chosen.some((l) => l.stacks.origin === "reconstructed");
    let bounds = PRUNE;
    let pruned = chosen.map((l) => pruneStacks(l.stacks, bounds));
    let speedscope = JSON.stringify(toSpeedscope(pruned, `perfloop: ${folder}`, "perfloop"));
    while (Buffer.byteLength(speedscope) > MAX_SPEEDSCOPE_BYTES && bounds.maxStacks > 10) {
      bounds = {
        ...bounds,
        maxStacks: Math.floor(bounds.maxStacks / 2),
        maxDepth: Math.max(32, bounds.maxDepth / 2),
      };
      pruned = chosen.map((l) => pruneStacks(l.stacks, bounds));
      speedscope = JSON.stringify(toSpeedscope(pruned, `perfloop: ${folder}`, "perfloop"));
    }
    kept.speedscope = `${folder}/${SPEEDSCOPE_FILE}`;
    await ctx.evidence.text(kept.speedscope, speedscope);
    for (const [i, l] of chosen.entries()) {
      let stacks = pruned[i] as StackProfile;
      let limit = bounds.maxStacks;
      let text = toFolded(stacks);
      while (Buffer.byteLength(text) > MAX_FOLDED_BYTES && limit > 10) {
        limit = Math.floor(limit / 2);
        stacks = pruneStacks(l.stacks, { ...bounds, maxStacks: limit, maxDepth: 32 });
        text = toFolded(stacks);
      }
      const name = `${folder}/${l.stem}.folded`;
      await ctx.evidence.text(name, text);
      kept.folded.push(name);
    }
    await keepCpuProfiles(ctx, chosen, kept);
  } catch (error) {
    kept.notes.push(`the profiles could not all be kept in ${folder}/: ${(error as Error).message}`);
  }
  if (kept.notes.length > 0)
    await ctx.evidence.audit("profiles", kept.notes.join("; ")).catch(() => undefined);
  return kept;
}

/** Every readable profile as stacks; unreadable ones and those whose stacks fail are noted and skipped. */
function loadProfiles(files: readonly ProfileFile[], tree: string, notes: string[]): Loaded[] {
  const file = displayPaths(tree);
  const out: Loaded[] = [];
  for (const f of files) {
    try {
      if (f.kind === "unreadable") throw f.error;
      if (f.kind === "python") {
        const stacks = pythonProfileStacks(f.profile, { file, minShare: PRUNE.minShare });
        out.push({ file: f.name, stem: f.name.replace(/\.json$/, ""), stacks, raw: null });
      } else {
        const stacks = cpuProfileStacks(f.profile, { file, name: nodeProcessName(f.name) });
        out.push({ file: f.name, stem: f.name.replace(/\.cpuprofile$/, ""), stacks, raw: f.text });
      }
    } catch (error) {
      notes.push(`${f.name} not kept: ${(error as Error).message}`);
    }
  }
  return out;
}

/** Copies the raw .cpuprofile files within the per-file and per-bundle bounds. */
async function keepCpuProfiles(ctx: LoopContext, chosen: Loaded[], kept: KeptProfiles): Promise<void> {
  let bundleBytes = 0;
  for (const [name, content] of ctx.evidence.files())
    if (name.endsWith(".cpuprofile")) bundleBytes += Buffer.byteLength(content);
  for (const l of chosen) {
    if (l.raw === null) continue;
    const bytes = Buffer.byteLength(l.raw);
    if (bytes > MAX_CPUPROFILE_BYTES) {
      kept.notes.push(
        `${l.file} (${formatBytes(bytes)}) not kept raw: over ${formatBytes(MAX_CPUPROFILE_BYTES)}`,
      );
      continue;
    }
    if (bundleBytes + bytes > MAX_CPUPROFILE_BUNDLE_BYTES) {
      kept.notes.push(
        `${l.file} not kept raw: the bundle holds ${formatBytes(MAX_CPUPROFILE_BUNDLE_BYTES)} of .cpuprofile files`,
      );
      continue;
    }
    const name = `${kept.folder}/${l.file}`;
    await ctx.evidence.text(name, l.raw);
    bundleBytes += bytes;
    kept.cpuprofiles.push(name);
  }
}

/** `node (pid 41, thread 0)` from V8's `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`. */
export function nodeProcessName(file: string): string {
  const m = /^CPU\.\d+\.\d+\.(\d+)\.(\d+)\.\d+\.cpuprofile$/.exec(path.basename(file));
  return m ? `node (pid ${m[1]}, thread ${m[2]})` : `node (${path.basename(file)})`;
}

/**
 * The profiles folder of a profiling run whose log is `log`: next to it, `profile.log` →
 * `profiles`, `profile-3.log` → `profiles-3` (an agent's third profile), any other name → its
 * name without `.log` plus `-profiles`.
 */
export function profilesFolderFor(log: string): string {
  const dir = path.posix.dirname(log.replace(/\\/g, "/"));
  const base = path.posix.basename(log.replace(/\\/g, "/"), ".log");
  const name = /^profile(-.*)?$/.test(base) ? base.replace(/^profile/, "profiles") : `${base}-profiles`;
  return dir === "." ? name : `${dir}/${name}`;
}
