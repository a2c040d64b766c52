/**
 * A sha256 digest of a directory tree: every entry's relative path, type, permission bits and
 * content (files) or target (links), in a fixed order. Used to prove the user's tree is
 * byte-identical after a run, and that the reference trees (baseline, best) did not change during
 * an A/B measurement (README, "Safety: patch policy and sandbox").
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readdir, readlink } from "node:fs/promises";
import path from "node:path";

/** Options of `treeDigest`. */
export interface TreeDigestOptions {
  /** Absolute paths left out (the evidence directory, the memory store). */
  exclude?: readonly string[];
  /**
   * Top-level folder names hashed by metadata only (size, mtime, mode per file), not content: the
   * dependency folders, which can hold 100,000 files and which no sandboxed command can write.
   */
  metadataOnly?: ReadonlySet<string>;
}

/**
 * Digests `root`.
 * @returns 64 hex characters; the same tree always gives the same digest.
 * @throws the fs error when `root` cannot be read.
 */
export async function treeDigest(root: string, options: TreeDigestOptions = {}): Promise<string> {
  const hash = createHash("sha256");
  const exclude = new Set((options.exclude ?? []).map((p) => path.resolve(p)));
  await walk(root, "", hash, exclude, options.metadataOnly ?? new Set(), false);
  return hash.digest("hex");
}

async function walk(
  root: string,
  rel: string,
  hash: ReturnType<typeof createHash>,
  exclude: Set<string>,
  metadataOnly: ReadonlySet<string>,
  shallow: boolean,
): Promise<void> {
  const names = (await readdir(path.join(root, rel))).sort();
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const full = path.join(root, childRel);
    if (exclude.has(full)) continue;
    const info = await lstat(full);
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isSymbolicLink()) {
      hash.update(`L ${childRel} ${await readlink(full)}\n`);
    } else if (info.isDirectory()) {
      hash.update(`D ${childRel} ${mode}\n`);
      await walk(
        root,
        childRel,
        hash,
        exclude,
        metadataOnly,
        shallow || (rel === "" && metadataOnly.has(name)),
      );
    } else if (info.isFile()) {
      if (shallow) hash.update(`M ${childRel} ${mode} ${info.size} ${info.mtimeMs}\n`);
      else {
        hash.update(`F ${childRel} ${mode} ${info.size}\n`);
        for await (const chunk of createReadStream(full)) hash.update(chunk as Buffer);
        hash.update("\n");
      }
    } else {
      hash.update(`O ${childRel} ${mode}\n`); // FIFO, socket, device: present, never read
    }
  }
}
