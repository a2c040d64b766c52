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
  readlink,
  realpath,
  rename,
  rm,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { formatPatch, structuredPatch } from "diff";
import { RepositoryPathError, readInside } from "../fs/inside.ts";

/** Directories never copied: version control, and perfloop's own folder (earlier bundles, memory). */
const NOT_COPIED = new Set([".git", ".hg", ".svn", ".perfloop"]);
/**
 * Top-level dependency folders not copied into the trees: big, and no candidate may edit them. In
 * the sandbox the user's folder is bound read-only onto an empty folder of the same name in each
 * tree (and at its own path, for scripts whose `#!` names it), so no command can write into it.
 * Without a sandbox (`isolation: none`) they are symbolic links to the user's folder, and a set-up
 * or test that writes into them writes into the user's (README, "Safety"). Nested ones are copied.
 */
export const DEPENDENCY_DIRS = new Set(["node_modules", ".venv", "venv"]);

/** A dependency folder of the user's tree shown in every scratch tree. */
export interface Dependency {
  /** Its name at the top of the tree (node_modules, .venv, venv). */
  name: string;
  /** Its real path on the host. */
  real: string;
}

/** The scratch trees of one run. */
export interface Workspace {
  root: string;
  baseline: string;
  best: string;
  /** The user's dependency folders (bound read-only in the sandbox). */
  dependencies: Dependency[];
  /** How dependency folders appear in a tree: a mount point (sandbox) or a link (no sandbox). */
  dependencyMode: "mount" | "link";
  /** Symbolic links of the user's tree that lead out of it: not copied (repository-relative). */
  droppedLinks: string[];
}

/**
 * Copies `repoDir` into a new scratch directory as `baseline/`. Symbolic links that lead out of
 * `repoDir` (absolute, or through `..`) are not copied, so nothing reads through them.
 * @param exclude absolute paths inside repoDir not to copy (e.g. the `--out` directory).
 * @param dependencyMode "mount" in the sandbox, "link" without one (see DEPENDENCY_DIRS).
 * @throws the fs error when the copy fails (disk full, permissions), with the path in the message.
 */
export async function createWorkspace(
  repoDir: string,
  exclude: string[] = [],
  dependencyMode: Workspace["dependencyMode"] = "link",
): Promise<Workspace> {
  return newWorkspace(repoDir, [{ from: repoDir, name: "baseline", exclude }], dependencyMode);
}

/**
 * The workspace of a performance gate (docs/gate.md): `baseline/` is a copy of the base tree and
 * `head/` (the best) a copy of the head tree, both exported from git; the dependency folders are
 * the user's (`repoDir`'s), shown in both trees as in a normal run. Links leading out of either tree
 * are not copied.
 * @throws the fs error when a copy fails (nothing is left behind then).
 */
export async function createGateWorkspace(
  repoDir: string,
  trees: { base: string; head: string },
  dependencyMode: Workspace["dependencyMode"] = "link",
): Promise<Workspace> {
  return newWorkspace(
    repoDir,
    [
      { from: trees.base, name: "baseline", exclude: [] },
      { from: trees.head, name: "head", exclude: [] },
    ],
    dependencyMode,
  );
}

/**
 * A scratch directory holding a copy of each tree; the first is `baseline`, the last the best.
 * Dependency folders come from `repoDir`. Removed again when a copy fails.
 */
async function newWorkspace(
  repoDir: string,
  copies: Array<{ from: string; name: string; exclude: string[] }>,
  dependencyMode: Workspace["dependencyMode"],
): Promise<Workspace> {
  const root = await mkdtemp(path.join(tmpdir(), "perfloop-"));
  const names = copies.map((c) => path.join(root, c.name));
  const workspace: Workspace = {
    root,
    baseline: names[0] ?? path.join(root, "baseline"),
    best: names.at(-1) ?? path.join(root, "baseline"),
    dependencies: [],
    dependencyMode,
    droppedLinks: [],
  };
  try {
    workspace.dependencies = await dependenciesOf(repoDir);
    for (const [i, copy] of copies.entries())
      await copyTree(workspace, copy.from, names[i] as string, {
        exclude: copy.exclude.map((p) => path.resolve(p)),
        repoRoot: await realpath(copy.from),
      });
  } catch (error) {
    await rm(root, { recursive: true, force: true });
    throw error;
  }
  return workspace;
}

/** The dependency folders (DEPENDENCY_DIRS) `repoDir` has, resolved. */
async function dependenciesOf(repoDir: string): Promise<Dependency[]> {
  const found: Dependency[] = [];
  for (const name of DEPENDENCY_DIRS) {
    const real = await realpath(path.join(repoDir, name)).catch(() => null);
    if (real !== null && (await lstat(real)).isDirectory()) found.push({ name, real });
  }
  return found;
}

/** Copies `from` to a new sibling tree named `name` (used for best/ and candidates). */
export async function cloneTree(workspace: Workspace, from: string, name: string): Promise<string> {
  const target = path.join(workspace.root, name);
  await rm(target, { recursive: true, force: true });
  await copyTree(workspace, from, target, { exclude: [], repoRoot: null });
  return target;
}

/** The read-only binds that show the user's dependency folders in `tree` (sandbox only). */
export function dependencyBinds(workspace: Workspace, tree: string): Array<{ from: string; to: string }> {
  if (workspace.dependencyMode !== "mount") return [];
  return workspace.dependencies.map((d) => ({ from: d.real, to: path.join(tree, d.name) }));
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
 * A git-style unified diff of `files` between two trees, byte for byte: `git apply` (or `patch -p1`)
 * of it onto `fromRoot` gives exactly `toRoot`'s files. Built with jsdiff (`structuredPatch` +
 * `formatPatch` in git mode): `diff --git` headers, `new file mode 100644` / `deleted file mode
 * 100644` with `/dev/null` on the missing side, no hunk for an empty file added or deleted,
 * `\ No newline at end of file`, and every line's bytes kept (tabs and spaces at line ends, CR of
 * CRLF, non-ASCII). A rename is a delete plus an add. Test: test/diff-trees.test.ts.
 * @param files paths relative to both roots; a file missing on one side is an add or a delete.
 * @returns the diffs in path order, after one `# perfloop: <file> left out of this patch: <why>`
 *   line per file not diffed: one refused by `readInside` (src/core/fs/inside.ts: a link out of its
 *   tree, a FIFO, too large), or binary or not UTF-8 text (a NUL or U+FFFD in it), which a text
 *   patch cannot carry exactly. git apply ignores text before the first `diff --git` line.
 * @throws the I/O errors of readInside other than RepositoryPathError (EACCES…).
 */
export async function diffTrees(fromRoot: string, toRoot: string, files: string[]): Promise<string> {
  const parts: string[] = [];
  const refused: string[] = [];
  for (const file of [...new Set(files)].sort()) {
    // A file a command turned into a link out of its tree, or a FIFO, is never read (README, "Safety").
    const read = async (root: string) => {
      const text = await readInside(root, file).catch((error: unknown) => {
        if (!(error instanceof RepositoryPathError)) throw error;
        refused.push(`# perfloop: ${file} left out of this patch: ${error.message}`);
        return undefined;
      });
      // readInside decodes UTF-8: a NUL (binary) or U+FFFD (perhaps bytes that are not UTF-8)
      // would not come back byte for byte, so such a file is left out rather than mangled.
      if (typeof text === "string" && /[\0\uFFFD]/.test(text)) {
        refused.push(`# perfloop: ${file} left out of this patch: it is binary or not UTF-8 text`);
        return undefined;
      }
      return text;
    };
    const before = await read(fromRoot);
    const after = await read(toRoot);
    if (before === undefined || after === undefined || before === after) continue;
    const patch = structuredPatch(
      before === null ? "/dev/null" : `a/${file}`,
      after === null ? "/dev/null" : `b/${file}`,
      before ?? "",
      after ?? "",
      undefined,
      undefined,
      { context: 3 },
    );
    parts.push(formatPatch({ ...patch, isGit: true, isCreate: before === null, isDelete: after === null }));
  }
  return (refused.length > 0 ? `${[...new Set(refused)].join("\n")}\n` : "") + parts.join("");
}

async function copyTree(
  workspace: Workspace,
  from: string,
  to: string,
  options: { exclude: string[]; repoRoot: string | null },
): Promise<void> {
  await mkdir(to, { recursive: true });
  await cp(from, to, {
    recursive: true,
    verbatimSymlinks: true,
    filter: async (source) => {
      const name = path.basename(source);
      const topLevel = path.dirname(source) === from;
      if (source !== from && (NOT_COPIED.has(name) || (topLevel && DEPENDENCY_DIRS.has(name)))) return false;
      if (options.exclude.some((ex) => source === ex || source.startsWith(ex + path.sep))) return false;
      // FIFOs, sockets and devices cannot be copied (and are no code to optimize).
      const info = await lstat(source);
      if (info.isSymbolicLink()) return linkStaysInside(workspace, from, source, options.repoRoot);
      return info.isFile() || info.isDirectory();
    },
  });
  for (const dependency of workspace.dependencies) {
    const at = path.join(to, dependency.name);
    if (workspace.dependencyMode === "mount") await mkdir(at, { recursive: true });
    else await symlink(dependency.real, at);
  }
}

/**
 * True when the link at `source` (inside `from`) resolves, by its text, to a place inside `from`.
 * A link leading out is dropped (recorded in `workspace.droppedLinks` on the first copy).
 */
async function linkStaysInside(
  workspace: Workspace,
  from: string,
  source: string,
  repoRoot: string | null,
): Promise<boolean> {
  const target = await readlink(source);
  const resolved = path.resolve(path.dirname(source), target);
  const rel = path.relative(from, resolved);
  const inside = !path.isAbsolute(target) && rel !== ".." && !rel.startsWith(`..${path.sep}`);
  if (!inside && repoRoot !== null) workspace.droppedLinks.push(path.relative(from, source));
  return inside;
}
