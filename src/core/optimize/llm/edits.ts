/**
 * A session's own scratch copy of the tree. The model edits it with `apply_patch` (the format of
 * src/core/patch/parse.ts); edits accumulate, and each one is checked against the patch policy
 * (src/core/patch/policy.ts) when it is made — on the whole change so far, so ten small edits cannot
 * add up past a size cap — and refused whole when it breaks a rule. The candidate a session submits
 * is the workspace's change against the tree the session started from.
 */
import { lstat } from "node:fs/promises";
import path from "node:path";
import { MAX_LIMITS } from "../../config/bounds.ts";
import { readInside } from "../../fs/inside.ts";
import { diffTrees, writeChanges } from "../../loop/workspace.ts";
import { computePatchedFiles, repoFileReader } from "../../patch/apply.ts";
import { parsePatch } from "../../patch/parse.ts";
import { normalize } from "../../patch/paths.ts";
import {
  changesFromPatch,
  checkPatchPolicy,
  type PatchPolicy,
  type PolicyChange,
} from "../../patch/policy.ts";

/** A session's workspace: `tree` is written by edits only; `start` is never written. */
export interface SessionWorkspace {
  /** The tree the session started from (the round's best tree). */
  start: string;
  /** The session's scratch copy, where edits land and execution tools run. */
  tree: string;
  policy: PatchPolicy;
  /** Repository-relative paths an edit touched so far (their diff is the candidate). */
  touched: Set<string>;
}

/** The outcome of one `apply_patch`: what the model is told. */
export type EditResult = { ok: true; message: string } | { ok: false; message: string };

/**
 * Applies one patch to the workspace, all or nothing.
 * Order of checks: the patch parses; its paths pass the policy before anything is read (hostile
 * paths never reach the file system); it applies to the workspace's current files; the whole change
 * so far (this edit included) passes the policy with its size caps. Only then are files written.
 * @returns `ok: false` with a message for the model for every refusal, a file of the workspace
 *   that cannot be read, and a write that fails (what was written is put back); never throws for
 *   patch content.
 */
export async function applyEdit(ws: SessionWorkspace, patchText: string): Promise<EditResult> {
  let parsed: ReturnType<typeof parsePatch>;
  try {
    parsed = parsePatch(patchText);
  } catch (error) {
    return { ok: false, message: `error: the patch does not parse: ${(error as Error).message}` };
  }
  const early = await checkPatchPolicy(ws.start, changesFromPatch(parsed), {
    ...ws.policy,
    maxChangedLines: Infinity,
  });
  if (early.length > 0) return { ok: false, message: refusal(early) };
  let changed: PolicyChange[];
  try {
    changed = (await computePatchedFiles(repoFileReader(ws.tree), parsed)).changed;
  } catch (error) {
    return { ok: false, message: `error: the patch does not apply: ${(error as Error).message}` };
  }
  const paths = changed.flatMap((c) => (c.moveTo ? [c.path, c.moveTo] : [c.path])).map(normalize);
  // Commands ran in this tree (run_tests mounts it read-write): a link they left must not carry a
  // write — perfloop's own, outside the sandbox — somewhere else, inside the tree or out of it.
  for (const p of paths) {
    const link = await linkOnPath(ws.tree, p);
    if (link !== null)
      return {
        ok: false,
        message: `error: the patch was refused and nothing was written: ${p} goes through the symbolic link ${link} in your workspace; edit the file at its real path`,
      };
  }
  let whole: PolicyChange[];
  try {
    whole = await changesAgainstStart(ws, overlay(changed), [...ws.touched, ...paths]);
  } catch (error) {
    if (!(error instanceof EditError)) throw error;
    return { ok: false, message: `error: the patch was refused and nothing was written: ${error.message}` };
  }
  const violations = await checkPatchPolicy(ws.start, whole, ws.policy);
  if (violations.length > 0) return { ok: false, message: refusal(violations) };
  try {
    await writeChanges(ws.tree, changed);
  } catch (error) {
    // e.g. a new file under a path that is a file: put back what this edit wrote, so the workspace
    // stays the sum of the accepted edits.
    await writeChanges(ws.tree, undo(changed)).catch(() => undefined);
    return {
      ok: false,
      message: `error: the patch could not be written, and nothing of it was kept: ${(error as Error).message}`,
    };
  }
  for (const p of paths) ws.touched.add(p);
  return {
    ok: true,
    message: `applied: ${changed.map((c) => `${c.kind} ${c.moveTo ? `${c.path} → ${c.moveTo}` : c.path}`).join(", ")}. The workspace now changes ${whole.length} file(s) against the start.`,
  };
}

/**
 * The workspace's change against its start as file operations (adds, deletes, updates; a move is
 * a delete plus an add), unchanged files left out — the candidate's `changes`.
 * @throws EditError when a touched file can no longer be read as text (a command replaced it by a
 *   link, a FIFO, or something too large).
 */
export async function workspaceChanges(ws: SessionWorkspace): Promise<PolicyChange[]> {
  return changesAgainstStart(ws, new Map(), [...ws.touched]);
}

/** The workspace's change so far as a git-style unified diff ("" when nothing changed). */
export function workspaceDiff(ws: SessionWorkspace): Promise<string> {
  return diffTrees(ws.start, ws.tree, [...ws.touched]);
}

/** The file operations that put back what `changed` wrote (added files removed, the rest restored). */
function undo(changed: PolicyChange[]): Array<{ path: string; after: string | null }> {
  return changed.flatMap((c) => [
    ...(c.moveTo && c.moveTo !== c.path ? [{ path: c.moveTo, after: null }] : []),
    { path: c.path, after: c.before },
  ]);
}

/** A workspace file that cannot be read as text (a link or FIFO a command left, too large…). */
export class EditError extends Error {
  override name = "EditError";
}

/** Pending texts of an edit not written yet (path → text, null = deleted). */
function overlay(changed: PolicyChange[]): Map<string, string | null> {
  const out = new Map<string, string | null>();
  for (const c of changed) {
    if (c.moveTo && c.moveTo !== c.path) {
      out.set(normalize(c.path), null);
      out.set(normalize(c.moveTo), c.after);
    } else out.set(normalize(c.path), c.after);
  }
  return out;
}

async function changesAgainstStart(
  ws: SessionWorkspace,
  pending: Map<string, string | null>,
  paths: string[],
): Promise<PolicyChange[]> {
  const out: PolicyChange[] = [];
  // Read up to the policy's file cap (readInside's own default is 1 MiB), so the cap decides.
  const read = async (root: string, p: string) => {
    try {
      return await readInside(root, p, {
        maxBytes: Math.min(ws.policy.maxFileBytes, MAX_LIMITS.fileBytes) + 1,
      });
    } catch (error) {
      throw new EditError(
        `${p} cannot be read as a text file of the workspace (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
  };
  for (const p of [...new Set(paths)].sort()) {
    const before = await read(ws.start, p);
    const after = pending.has(p) ? (pending.get(p) ?? null) : await read(ws.tree, p);
    if (before === after) continue;
    const kind = before === null ? "add" : after === null ? "delete" : "update";
    out.push({ path: p, kind, before, after });
  }
  return out;
}

function refusal(violations: Array<{ path: string; message: string }>): string {
  return `error: the patch was refused by the patch policy and nothing was written: ${violations
    .map((v) => `${v.path}: ${v.message}`)
    .join("; ")}`;
}

/**
 * The first component of `rel` inside `tree` that is a symbolic link (dangling or not), as a
 * repository-relative path; null when every existing component is a plain file or directory.
 */
async function linkOnPath(tree: string, rel: string): Promise<string | null> {
  const parts = rel.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join("/");
    const info = await lstat(path.join(tree, prefix)).catch(() => null);
    if (info === null) return null;
    if (info.isSymbolicLink()) return prefix;
  }
  return null;
}
