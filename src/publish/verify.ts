/**
 * The checks publishing makes before it writes anything (issue 14): a bundle comes from a runner
 * that ran the pull request's code, so its final.patch is re-checked here, not trusted. This file
 * holds the checks that need no request: the patch parses, its size is within caps, every path it
 * touches passes the patch policy (src/core/patch/policy.ts `checkPatchPolicy`: tests, benchmarks,
 * `.github/`, the perfloop config, lock files, `.git`, absolute and `..` paths, the config's `paths`
 * and `protect`, the file count), and it changes exactly the files results.json says it changes.
 * The checks against the head commit's files are in prepare.ts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Results } from "../core/evidence/results-schema.ts";
import { normalize } from "../core/patch/paths.ts";
import { checkPatchPolicy, type PatchPolicy, type PolicyChange } from "../core/patch/policy.ts";
import { type FileDiff, parseUnifiedDiff } from "./unified-diff.ts";

/** Largest final.patch publishing accepts, bytes (the App's artifact cap, app/artifact.ts). */
export const PATCH_MAX_BYTES = 4 * 1024 * 1024;

/** Most optimization rounds a run has (src/core/config/schema.ts `rounds`: 1..50). */
const MAX_ROUNDS = 50;

/**
 * A bundle that must not be published. `problems` holds one sentence per failed check (plain
 * text; escape it for markdown); nothing was written to the repository when it is thrown.
 */
export class BundleRefusedError extends Error {
  override name = "BundleRefusedError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`the results bundle was refused:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

/**
 * What results.json says about its patch: `changedFiles` (`final.changedFiles`; empty without a
 * final A/B) and `acceptedRounds` (rounds whose candidate was accepted; each may change up to the
 * policy's per-candidate caps, so the whole patch may hold that many times as much).
 */
export interface BundleClaims {
  changedFiles: readonly string[];
  acceptedRounds: number;
}

/** The claims of validated results (see {@link BundleClaims}). */
export function claimsOf(results: Results): BundleClaims {
  return {
    changedFiles: results.final?.changedFiles ?? [],
    acceptedRounds: results.rounds.filter((r) => r.outcome === "accepted").length,
  };
}

/**
 * The caps for a whole final patch: the policy's per-candidate `maxFiles` and `maxChangedLines`
 * times the accepted rounds (1 to 50; the runner checks each accepted candidate against the caps,
 * and their sum bounds the total), `maxFileBytes` as is (every file of the patch is some
 * candidate's file).
 */
export function policyForPatch(policy: PatchPolicy, acceptedRounds: number): PatchPolicy {
  const k = Math.min(MAX_ROUNDS, Math.max(1, Math.floor(acceptedRounds) || 1));
  return { ...policy, maxFiles: policy.maxFiles * k, maxChangedLines: policy.maxChangedLines * k };
}

/**
 * Checks final.patch without any request: size, syntax, the patch policy on every path (the
 * file-count cap included; line and byte caps need contents and are checked in prepare.ts), and,
 * with `claims`, that the patch changes exactly `claims.changedFiles` (a file the runner left out
 * of the patch with a `# perfloop: <file> left out of this patch: …` note counts as declared).
 * @param policy the run's policy already scaled for a whole patch ({@link policyForPatch}).
 * @returns the patch's files (jsdiff's structure, unified-diff.ts), possibly none.
 * @throws BundleRefusedError listing every problem found.
 */
export async function checkPatch(
  patch: string,
  policy: PatchPolicy,
  claims?: BundleClaims,
): Promise<FileDiff[]> {
  const bytes = Buffer.byteLength(patch, "utf8");
  if (bytes > PATCH_MAX_BYTES)
    throw new BundleRefusedError([`final.patch is ${bytes} bytes; at most ${PATCH_MAX_BYTES} are accepted.`]);
  let files: FileDiff[];
  try {
    files = parseUnifiedDiff(patch);
  } catch (error) {
    throw new BundleRefusedError([`final.patch cannot be read: ${(error as Error).message}.`]);
  }
  const problems = await policyProblems(policyChanges(files), policy);
  if (claims) problems.push(...claimProblems(files, leftOutFiles(patch), claims.changedFiles));
  if (problems.length > 0) throw new BundleRefusedError(problems);
  return files;
}

/**
 * The policy's view of a patch's files (src/core/patch/policy.ts `PolicyChange`): an add, a
 * delete, an update, or an update moved to a new path (a rename; a copy's source is checked too).
 * `contents` gives each file's text before and after (by `newPath ?? oldPath`) for the size caps.
 */
export function policyChanges(
  files: readonly FileDiff[],
  contents?: ReadonlyMap<string, { before: string | null; after: string | null }>,
): PolicyChange[] {
  return files.map((f) => {
    const at = contents?.get(f.newPath ?? f.oldPath ?? "");
    const texts = { before: at?.before ?? null, after: at?.after ?? null };
    if (f.oldPath === null) return { path: f.newPath ?? "", kind: "add", ...texts };
    if (f.newPath === null) return { path: f.oldPath, kind: "delete", ...texts };
    if (f.newPath === f.oldPath) return { path: f.oldPath, kind: "update", ...texts };
    return { path: f.oldPath, moveTo: f.newPath, kind: "update", ...texts };
  });
}

/**
 * `checkPatchPolicy` for a repository perfloop has no checkout of: run against an empty temporary
 * directory, so every path is judged by its text and the globs (symbolic links are judged against
 * the head commit's tree in prepare.ts). Returns the violations' sentences, duplicates removed.
 */
export async function policyProblems(changes: PolicyChange[], policy: PatchPolicy): Promise<string[]> {
  const root = await mkdtemp(path.join(tmpdir(), "perfloop-policy-"));
  try {
    const violations = await checkPatchPolicy(root, changes, policy);
    return [...new Set(violations.map((v) => v.message))];
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** Files named in final.patch's leading `# perfloop: <file> left out of this patch: <why>` notes. */
function leftOutFiles(patch: string): Set<string> {
  const head = patch.split(/^(?:diff --git |--- )/m)[0] ?? "";
  const out = new Set<string>();
  for (const m of head.matchAll(/^# perfloop: (.+?) left out of this patch: /gm))
    if (m[1] !== undefined) out.add(normalize(m[1]));
  return out;
}

/** Disagreements between the patch's files and results.json's `final.changedFiles`. */
function claimProblems(
  files: readonly FileDiff[],
  leftOut: Set<string>,
  claimed: readonly string[],
): string[] {
  const inPatch = new Set(files.flatMap((f) => [f.oldPath, f.newPath]).filter((p) => p !== null));
  const declared = new Set(claimed.map(normalize));
  const problems: string[] = [];
  const unlisted = [...inPatch].filter((p) => !declared.has(p)).sort();
  if (unlisted.length > 0)
    problems.push(
      `final.patch changes ${list(unlisted)}, which results.json does not list in final.changedFiles: the patch is not the one the run verified.`,
    );
  const missing = [...declared].filter((p) => !inPatch.has(p) && !leftOut.has(p)).sort();
  if (missing.length > 0)
    problems.push(
      `results.json lists ${list(missing)} in final.changedFiles, but final.patch does not change ${missing.length > 1 ? "them" : "it"}: the patch is not the one the run verified.`,
    );
  return problems;
}

/** "a, b and 3 more" of quoted paths. */
function list(paths: string[]): string {
  const shown = paths.slice(0, 5).map((p) => JSON.stringify(p));
  return paths.length > 5 ? `${shown.join(", ")} and ${paths.length - 5} more` : shown.join(", ");
}
