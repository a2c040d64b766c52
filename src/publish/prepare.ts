/**
 * The checks of final.patch against the commit it will be based on, made with reads only (git
 * data API: "Get a tree", "Get a blob"): every file applies exactly to the head's blob (jsdiff, no
 * fuzz: unified-diff.ts), no path goes through a symbolic link, a submodule or a file of the head,
 * added files do not exist yet, every blob is UTF-8, and the new contents stay within the size caps
 * (src/core/patch/policy.ts). The result holds the new contents, ready to upload; nothing is
 * written here.
 */
import type { PatchPolicy } from "../core/patch/policy.ts";
import { readTreeEntries, type TreeEntry } from "./git-tree.ts";
import type { GitHubClient, RepoRef } from "./types.ts";
import { applyFileDiff, type FileDiff, PatchApplyError } from "./unified-diff.ts";
import { BundleRefusedError, policyChanges, policyProblems } from "./verify.ts";

/** One path of the new tree: its new content (UTF-8 text), or null to delete it; `mode` kept from the head. */
export interface PreparedFile {
  path: string;
  mode: "100644" | "100755";
  content: string | null;
}

/** A patch checked against the head: the head's root tree and the paths to write or delete. */
export interface PreparedPatch {
  treeSha: string;
  files: PreparedFile[];
}

/**
 * Applies `files` to commit `headSha`'s blobs and checks the result (see the file comment).
 * @param policy the policy scaled for a whole patch (verify.ts `policyForPatch`), for the line and byte caps.
 * @throws BundleRefusedError listing every file that does not apply or breaks a rule (nothing is written).
 * @throws RequestError from Octokit when GitHub cannot be read.
 */
export async function preparePatch(
  client: GitHubClient,
  repo: RepoRef,
  headSha: string,
  files: readonly FileDiff[],
  policy: PatchPolicy,
): Promise<PreparedPatch> {
  const paths = files.flatMap((f) => [f.oldPath, f.newPath]).filter((p) => p !== null);
  const { treeSha, entries } = await readTreeEntries(client, repo, headSha, [
    ...new Set([...paths, ...paths.flatMap(ancestors)]),
  ]);
  const sha7 = headSha.slice(0, 7);
  const problems: string[] = [];
  const out: PreparedFile[] = [];
  const contents = new Map<string, { before: string | null; after: string | null }>();
  for (const file of files) {
    try {
      const blocked = blockedAncestor(file, entries);
      if (blocked) throw new PatchApplyError(blocked, file.newPath ?? file.oldPath);
      const old = file.oldPath === null ? undefined : entries.get(file.oldPath);
      checkTarget(file, old, entries);
      const before = old ? await readBlob(client, repo, old) : null;
      const after = applyFileDiff(file, before);
      contents.set(file.newPath ?? file.oldPath ?? "", { before, after });
      const mode = old?.mode === "100755" ? "100755" : "100644";
      if (file.oldPath !== null && file.oldPath !== file.newPath && !file.keepOld)
        out.push({ path: file.oldPath, mode, content: null });
      if (file.newPath !== null && after !== null) out.push({ path: file.newPath, mode, content: after });
    } catch (error) {
      if (!(error instanceof PatchApplyError)) throw error;
      problems.push(`final.patch does not apply to ${sha7}: ${error.message}.`);
    }
  }
  if (problems.length === 0) problems.push(...(await policyProblems(policyChanges(files, contents), policy)));
  if (problems.length > 0) throw new BundleRefusedError(problems);
  return { treeSha, files: out };
}

/** The directories above a path: "a/b/c.py" → ["a", "a/b"]. */
function ancestors(p: string): string[] {
  const parts = p.split("/");
  return parts.slice(1).map((_, k) => parts.slice(0, k + 1).join("/"));
}

/** Why a path of `file` cannot be written: a directory above it is a file, link or submodule at the head. */
function blockedAncestor(file: FileDiff, entries: Map<string, TreeEntry>): string | null {
  for (const p of [file.oldPath, file.newPath]) {
    if (p === null) continue;
    for (const dir of ancestors(p)) {
      const entry = entries.get(dir);
      if (entry && entry.type !== "tree")
        return `${p} lies under ${dir}, which is ${entry.mode === "120000" ? "a symbolic link" : entry.type === "commit" ? "a submodule" : "a file"} at the head commit, not a directory`;
    }
  }
  return null;
}

/**
 * Refuses a change the head's tree does not allow: an old path that is missing, not a file or a
 * symbolic link; an added or renamed-to path that exists already.
 */
function checkTarget(file: FileDiff, old: TreeEntry | undefined, entries: Map<string, TreeEntry>): void {
  if (file.oldPath !== null && (old === undefined || old.type !== "blob"))
    throw new PatchApplyError(`${file.oldPath} is not a file at the head commit`, file.oldPath);
  if (old?.mode === "120000")
    throw new PatchApplyError(`${file.oldPath} is a symbolic link at the head commit`, file.oldPath);
  if (file.newPath !== null && file.newPath !== file.oldPath && entries.has(file.newPath))
    throw new PatchApplyError(`${file.newPath} already exists`, file.newPath);
}

/**
 * A blob's content as text that encodes back to the same bytes: strict UTF-8, a byte-order mark
 * kept (final.patch is UTF-8 text; src/core/loop/workspace.ts `diffTrees` leaves other files out).
 * @throws PatchApplyError when the blob is not valid UTF-8.
 */
async function readBlob(client: GitHubClient, repo: RepoRef, entry: TreeEntry): Promise<string> {
  const { data } = await client.rest.git.getBlob({ ...repo, file_sha: entry.sha });
  const bytes = Buffer.from(data.content, data.encoding === "base64" ? "base64" : "utf8");
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch (error) {
    throw new PatchApplyError(`${entry.path} is not UTF-8 text at the head commit`, entry.path, {
      cause: error,
    });
  }
}
