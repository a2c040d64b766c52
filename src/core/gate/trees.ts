/**
 * The two trees a gate compares, exported from git: `git archive <commit> | tar -x` into a folder
 * of its own (only the project's folder when it lies inside the repository), so the user's
 * repository is only read (no worktree registered, no checkout, no index change). What `git archive` leaves out is left out on both sides alike: untracked and ignored
 * files, submodule contents and paths marked `export-ignore` in .gitattributes.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";

/** A git reference that cannot be read or exported; the message names the reference and the fix. */
export class GateRefError extends Error {
  override name = "GateRefError";
}

/** One side of the gate: the reference as given, its commit, and the exported tree. */
export interface GateSide {
  /** The reference as the user gave it, e.g. "origin/main" or "HEAD". */
  ref: string;
  /** Its commit, 40 hex digits. */
  sha: string;
  /** Folder holding the commit's files. */
  dir: string;
}

/** Base and head exported, and `dispose` to remove them. */
export interface GateTrees {
  base: GateSide;
  head: GateSide;
  /** The merge base of base and head, when git knows one (the PR's changed lines are counted from it). */
  mergeBase: string | null;
  /** Files that differ between base and head, relative to `repoDir` (only those under it). */
  changedFiles: string[];
  dispose(): Promise<void>;
}

/** Resolves `ref` to a commit in `repoDir`. @throws GateRefError naming the reference. */
async function commitOf(repoDir: string, ref: string): Promise<string> {
  if (ref.startsWith("-")) throw new GateRefError(`"${ref}" is not a git reference (it starts with "-")`);
  const result = await execa("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`], {
    cwd: repoDir,
    reject: false,
  });
  const sha = result.stdout.trim();
  if (result.exitCode !== 0 || !/^[0-9a-f]{40}$/.test(sha))
    throw new GateRefError(
      `"${ref}" is not a commit in ${repoDir}: fetch it first (e.g. \`git fetch origin main\`), or pass a branch, tag or commit that exists`,
    );
  return sha;
}

/**
 * Exports commit `sha` of `repoDir` into `dir` (created): the whole commit, or only the folder
 * `prefix` of it (repoDir's path inside the repository, "" at the top).
 * @throws GateRefError when git or tar fails (e.g. the folder does not exist in that commit).
 */
async function exportCommit(repoDir: string, sha: string, prefix: string, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const treeish = prefix === "" ? sha : `${sha}:${prefix.replace(/\/$/, "")}`;
  const archive = execa("git", ["archive", "--format=tar", treeish], { cwd: repoDir, buffer: false });
  const extract = execa("tar", ["-x", "-f", "-", "-C", dir], { reject: false });
  archive.stdout?.pipe(extract.stdin as NodeJS.WritableStream);
  const [archived, extracted] = await Promise.allSettled([archive, extract]);
  if (archived.status === "rejected")
    throw new GateRefError(`git archive ${sha.slice(0, 12)} failed: ${(archived.reason as Error).message}`, {
      cause: archived.reason,
    });
  if (extracted.status === "rejected" || extracted.value.exitCode !== 0)
    throw new GateRefError(
      `unpacking ${sha.slice(0, 12)} failed: ${extracted.status === "fulfilled" ? extracted.value.stderr : String(extracted.reason)}`,
    );
}

/**
 * Exports `baseRef` and `headRef` of the git repository at `repoDir` into a new temporary folder.
 * @throws GateRefError when `repoDir` is not a git repository, a reference is not a commit, or the
 *   export fails (nothing is left behind then).
 */
export async function exportGateTrees(
  repoDir: string,
  baseRef: string,
  headRef = "HEAD",
): Promise<GateTrees> {
  const inside = await execa("git", ["rev-parse", "--is-inside-work-tree"], { cwd: repoDir, reject: false });
  if (inside.exitCode !== 0 || inside.stdout.trim() !== "true")
    throw new GateRefError(`${repoDir} is not a git repository: the gate compares two of its commits`);
  const [baseSha, headSha] = await Promise.all([commitOf(repoDir, baseRef), commitOf(repoDir, headRef)]);
  const prefix = (await execa("git", ["rev-parse", "--show-prefix"], { cwd: repoDir })).stdout.trim();
  const merge = await execa("git", ["merge-base", baseSha, headSha], { cwd: repoDir, reject: false });
  // --relative: paths relative to repoDir, and only files under it (a project in a subdirectory).
  const diff = await execa("git", ["diff", "--name-only", "--relative", "-z", baseSha, headSha], {
    cwd: repoDir,
    reject: false,
  });
  if (diff.exitCode !== 0)
    throw new GateRefError(`git diff ${baseSha.slice(0, 12)} ${headSha.slice(0, 12)} failed: ${diff.stderr}`);
  const changedFiles = diff.stdout.split("\0").filter((f) => f !== "");
  const root = await mkdtemp(path.join(os.tmpdir(), "perfloop-gate-"));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const base = { ref: baseRef, sha: baseSha, dir: path.join(root, "base") };
    const head = { ref: headRef, sha: headSha, dir: path.join(root, "head") };
    await exportCommit(repoDir, baseSha, prefix, base.dir);
    await exportCommit(repoDir, headSha, prefix, head.dir);
    return {
      base,
      head,
      mergeBase: merge.exitCode === 0 ? merge.stdout.trim() : null,
      changedFiles,
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** The gate's options for runPerfloop (src/core/loop/run.ts `PerfloopOptions.gate`) from exported trees. */
export function gateOptionsOf(trees: GateTrees) {
  return {
    base: { ref: trees.base.ref, sha: trees.base.sha },
    head: { ref: trees.head.ref, sha: trees.head.sha },
    trees: { base: trees.base.dir, head: trees.head.dir },
    changedFiles: trees.changedFiles,
  };
}
