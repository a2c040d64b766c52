/**
 * The trees perfloop works in. The user's directory is copied once into a scratch workspace and is
 * never written by the loop: `baseline/` is the unmodified copy (after setup), `best/` the current best
 * accepted state, and each candidate is a fresh copy of best. A broken candidate is simply discarded.
 */
import {
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createTwoFilesPatch } from "diff";

/** Directories never copied: version control, and perfloop's own folder (earlier bundles, memory). */
const NOT_COPIED = new Set([".git", ".hg", ".svn", ".perfloop"]);
/**
 * Top-level dependency folders linked (not copied) into each tree: big, and no candidate may edit
 * them. Being links, they are shared with the user's tree: a setup or test that writes into them
 * writes into the user's folder (README, "Safety"). Nested ones (pkg/node_modules) are copied.
 */
const LINKED = new Set(["node_modules", ".venv", "venv"]);

/** The scratch trees of one run. */
export interface Workspace {
  root: string;
  baseline: string;
  best: string;
}

/**
 * Copies `repoDir` into a new scratch directory as `baseline/`.
 * @param exclude absolute paths inside repoDir not to copy (e.g. the `--out` directory).
 * @throws the fs error when the copy fails (disk full, permissions), with the path in the message.
 */
export async function createWorkspace(repoDir: string, exclude: string[] = []): Promise<Workspace> {
  const root = await mkdtemp(path.join(tmpdir(), "perfloop-"));
  const baseline = path.join(root, "baseline");
  try {
    await copyTree(
      repoDir,
      baseline,
      exclude.map((p) => path.resolve(p)),
    );
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return { root, baseline, best: baseline };
}

/** Copies `from` to a new sibling tree named `name` (used for best/ and candidates). */
export async function cloneTree(workspace: Workspace, from: string, name: string): Promise<string> {
  const target = path.join(workspace.root, name);
  await rm(target, { recursive: true, force: true });
  await copyTree(from, target, []);
  return target;
}

/** Makes `candidate` the new best tree (renames; the old best is removed unless it is baseline). */
export async function promote(workspace: Workspace, candidate: string): Promise<void> {
  const best = path.join(workspace.root, "best");
  if (workspace.best !== workspace.baseline) await rm(workspace.best, { recursive: true, force: true });
  await rename(candidate, best);
  workspace.best = best;
}

/** Removes the scratch workspace. */
export async function disposeWorkspace(workspace: Workspace): Promise<void> {
  await rm(workspace.root, { recursive: true, force: true });
}

/** Writes changed files into a tree (paths relative, already checked by the patch policy). */
export async function writeChanges(
  tree: string,
  changes: Array<{ path: string; after: string | null; moveTo?: string | undefined }>,
): Promise<void> {
  for (const change of changes) {
    const from = path.join(tree, change.path);
    if (change.after === null) {
      await rm(from, { force: true });
      continue;
    }
    const to = path.join(tree, change.moveTo ?? change.path);
    await mkdir(path.dirname(to), { recursive: true });
    await writeFile(to, change.after);
    if (change.moveTo && change.moveTo !== change.path) await rm(from, { force: true });
  }
}

/**
 * A git-style unified diff of `files` between two trees (applies with `git apply` or `patch -p1`).
 * @param files paths relative to both roots; a file missing on one side is an add or a delete.
 */
export async function diffTrees(fromRoot: string, toRoot: string, files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of [...new Set(files)].sort()) {
    const before = await readFile(path.join(fromRoot, file), "utf8").catch(() => null);
    const after = await readFile(path.join(toRoot, file), "utf8").catch(() => null);
    if (before === after) continue;
    const patch = createTwoFilesPatch(
      before === null ? "/dev/null" : `a/${file}`,
      after === null ? "/dev/null" : `b/${file}`,
      before ?? "",
      after ?? "",
      "",
      "",
      { context: 3 },
    );
    const body = patch.split("\n").slice(1).join("\n"); // drop jsdiff's "=====" separator line
    const mode =
      before === null ? "new file mode 100644\n" : after === null ? "deleted file mode 100644\n" : "";
    parts.push(`diff --git a/${file} b/${file}\n${mode}${body.replace(/\t$/gm, "")}`);
  }
  return parts.join("");
}

async function copyTree(from: string, to: string, exclude: string[]): Promise<void> {
  await mkdir(to, { recursive: true });
  await cp(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: async (source) => {
      const name = path.basename(source);
      const topLevel = path.dirname(source) === from;
      if (source !== from && (NOT_COPIED.has(name) || (topLevel && LINKED.has(name)))) return false;
      if (exclude.some((ex) => source === ex || source.startsWith(ex + path.sep))) return false;
      // FIFOs, sockets and devices cannot be copied (and are no code to optimize).
      const info = await lstat(source);
      return info.isFile() || info.isDirectory() || info.isSymbolicLink();
    },
  });
  for (const name of LINKED) {
    // Link to the real folder (following earlier links), so every tree shares the user's one copy.
    const real = await realpath(path.join(from, name)).catch(() => null);
    if (real !== null) await symlink(real, path.join(to, name));
  }
}
