/**
 * The profiling run (README, "How perfloop measures"): the benchmark once more, in the sandbox, with
 * every Python and Node process profiled — never one of the timed runs, so profiler overhead never
 * reaches a timing. Used for the baseline, again after each accepted round, and by the agents'
 * `profile` tool. Hot spots in files a candidate may not edit (tests, benchmarks, protected globs)
 * are left out: the model cannot act on them. The raw profiles are kept in the bundle, next to the
 * run's log, as speedscope JSON, collapsed stacks and V8 .cpuprofile files (profile-files.ts).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CancelledError } from "../exec/cancel.ts";
import { checkPatchPolicy } from "../patch/policy.ts";
import { hotSpotsOf, profileEnv } from "../profile/hotspots.ts";
import { importedTorch, type ProfileFile, readProfileDir } from "../profile/profile-dir.ts";
import { SITECUSTOMIZE_DIR as PROFILER_DIR } from "../profile/python.ts";
import type { TorchFacts } from "../profile/torch-facts.ts";
import type { HotSpot } from "../types.ts";
import { commandLog, type LoopContext, patchPolicyOf, runInTree } from "./context.ts";
import { traceNsys } from "./nsys-run.ts";
import { keepProfiles, profilesFolderFor } from "./profile-files.ts";
import { traceTorch } from "./torch-trace-run.ts";

/** Where a profiling run writes its evidence (bundle-relative names); the raw profiles go to the
 *  folder next to `log` (profile-files.ts `profilesFolderFor`). */
export interface ProfileEvidence {
  log: string;
  json: string;
}

/**
 * Profiles the benchmark in `tree` and returns its hot spots in files a candidate may edit.
 * A profiler failure costs the hot spots (an empty list and a note), not the run.
 * @param env environment additions of the tree's state (accepted env knobs).
 * @throws CancelledError when the run is stopped.
 */
export async function profileTree(
  ctx: LoopContext,
  tree: string,
  evidence: ProfileEvidence,
  env: Record<string, string> = {},
): Promise<HotSpot[]> {
  return (await profileRun(ctx, tree, evidence, env)).hotSpots;
}

/** The hot spots of a profiling run and, when a PyTorch trace was recorded, its facts. */
export interface ProfiledTree {
  hotSpots: HotSpot[];
  torch: TorchFacts | null;
}

/**
 * profileTree, then the trace run, its files in the raw profiles' folder: with `profile.tool: nsys`
 * always under Nsight Systems (nsys-run.ts); else when a profiled Python process imported torch and
 * `profile.torch` is `auto`, the PyTorch trace (torch-trace-run.ts).
 * @throws CancelledError when the run is stopped.
 */
export async function profileTreeAndTorch(
  ctx: LoopContext,
  tree: string,
  evidence: ProfileEvidence,
  env: Record<string, string> = {},
): Promise<ProfiledTree> {
  const run = await profileRun(ctx, tree, evidence, env);
  const folder = profilesFolderFor(evidence.log);
  const { tool, torch: wanted } = ctx.config.profile;
  const torch =
    tool === "nsys"
      ? await traceNsys(ctx, tree, folder, env)
      : run.importedTorch && wanted === "auto"
        ? await traceTorch(ctx, tree, folder, env)
        : null;
  return { hotSpots: run.hotSpots, torch };
}

async function profileRun(
  ctx: LoopContext,
  tree: string,
  evidence: ProfileEvidence,
  env: Record<string, string>,
): Promise<{ hotSpots: HotSpot[]; importedTorch: boolean }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "perfloop-profile-"));
  let files: ProfileFile[] = [];
  try {
    const result = await runInTree(ctx, ctx.config.benchmark.command, tree, {
      env: profileEnv({ ...ctx.baseEnv, ...env }, dir),
      access: "ro", // read-only as in the timed runs; the profiles go to a folder of their own
      timeoutMs: ctx.config.timeouts.benchmark * 1000 * 3, // profilers slow programs down
      extra: { writable: [dir], readOnly: [PROFILER_DIR] },
    });
    await ctx.evidence.text(evidence.log, commandLog(result));
    // Read once: the bundle's files, the torch question and the hot spots all use these.
    files = await readProfileDir(dir);
    // Before the hot spots: a malformed profile costs them, not the files of the others.
    await keepProfiles(ctx, files, tree, profilesFolderFor(evidence.log));
    const hotSpots = await editableOnly(ctx, tree, hotSpotsOf(files, tree));
    await ctx.evidence.json(evidence.json, hotSpots);
    if (hotSpots.length === 0)
      ctx.emit({
        type: "note",
        message:
          "profiling found no hot spot in the repository's own Python or Node code that a candidate may edit",
      });
    return { hotSpots, importedTorch: importedTorch(files) };
  } catch (error) {
    if (error instanceof CancelledError) throw error;
    ctx.emit({ type: "note", message: `profiling failed: ${(error as Error).message}` });
    await ctx.evidence.audit("profiling failed", (error as Error).message);
    return { hotSpots: [], importedTorch: importedTorch(files) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The hot spots whose file the patch policy lets a candidate edit (same rules as a real edit). */
async function editableOnly(ctx: LoopContext, tree: string, hotSpots: HotSpot[]): Promise<HotSpot[]> {
  const editable = new Map<string, boolean>();
  for (const file of new Set(hotSpots.map((h) => h.file))) {
    const violations = await checkPatchPolicy(
      tree,
      [{ path: file, kind: "update", before: null, after: null }],
      { ...patchPolicyOf(ctx), maxFiles: Infinity, maxChangedLines: Infinity, maxFileBytes: Infinity },
    );
    editable.set(file, violations.length === 0);
  }
  return hotSpots.filter((h) => editable.get(h.file));
}
