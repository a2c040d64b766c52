/**
 * Looking up files of a commit through the git data API ("Get a tree"): their blob SHAs and modes,
 * which the follow-up PR needs to read old contents and to keep executable bits.
 */
import type { GitHubClient, RepoRef } from "./types.ts";

/** A tree entry: `mode` as git writes it (`100644`, `100755`, `120000`, `040000`), `type` blob/tree/commit. */
export interface TreeEntry {
  path: string;
  mode: string;
  type: string;
  sha: string;
}

/**
 * The root tree SHA of commit `commitSha` and the entries of `paths` that exist there.
 * Reads the recursive tree in one request; when GitHub truncates it (very large repositories),
 * walks the directories of each path instead (one request per directory level, cached).
 */
export async function readTreeEntries(
  client: GitHubClient,
  repo: RepoRef,
  commitSha: string,
  paths: readonly string[],
): Promise<{ treeSha: string; entries: Map<string, TreeEntry> }> {
  const wanted = new Set(paths);
  const { data } = await client.rest.git.getTree({ ...repo, tree_sha: commitSha, recursive: "1" });
  const entries = new Map<string, TreeEntry>();
  if (!data.truncated) {
    for (const e of data.tree) {
      if (e.path !== undefined && wanted.has(e.path) && e.sha && e.mode && e.type)
        entries.set(e.path, { path: e.path, mode: e.mode, type: e.type, sha: e.sha });
    }
    return { treeSha: data.sha, entries };
  }
  const listings = new Map<string, Promise<TreeEntry[]>>();
  const list = (dir: string, sha: string): Promise<TreeEntry[]> => {
    let pending = listings.get(dir);
    if (!pending) {
      pending = client.rest.git.getTree({ ...repo, tree_sha: sha }).then(({ data: t }) =>
        t.tree.map((e) => ({
          path: dir ? `${dir}/${e.path}` : (e.path ?? ""),
          mode: e.mode ?? "",
          type: e.type ?? "",
          sha: e.sha ?? "",
        })),
      );
      listings.set(dir, pending);
    }
    return pending;
  };
  for (const path of wanted) {
    const parts = path.split("/");
    let dir = "";
    let sha: string | null = data.sha;
    for (const [k, part] of parts.entries()) {
      if (sha === null) break;
      const here = `${dir ? `${dir}/` : ""}${part}`;
      const entry: TreeEntry | undefined = (await list(dir, sha)).find((e) => e.path === here);
      if (k === parts.length - 1) {
        if (entry) entries.set(path, entry);
      } else {
        sha = entry?.type === "tree" ? entry.sha : null;
        dir = here;
      }
    }
  }
  return { treeSha: data.sha, entries };
}
