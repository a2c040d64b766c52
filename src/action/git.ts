/**
 * The git commands of the Action: find the default branch's tip, fetch one commit into a fresh
 * repository of its own (the workflow's checkout is never touched), read a file at a commit, and
 * push a follow-up branch. The token travels as an HTTP header in git's environment
 * (`GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`, git ≥ 2.31), the way actions/checkout
 * sends it: never in a URL, an argument list (visible in `ps`) or a file of the checkout.
 */
import { execFile } from "node:child_process";
import { mkdir, readdir } from "node:fs/promises";

/** A git command that failed; the message has the command (no secrets) and the end of its stderr. */
export class GitError extends Error {
  override name = "GitError";
}

/** Where to fetch from and how to authenticate. */
export interface Remote {
  /** `<server>/<owner>/<repo>.git` (https, or file:// in tests). */
  url: string;
  /** A token for http(s) remotes; empty for none (public repositories). */
  token: string;
  /** The environment git runs in (already without secrets; see secrets.ts). */
  env: NodeJS.ProcessEnv;
}

/** The bot identity of commits made with the workflow's token (GitHub's documented noreply address). */
export const BOT_AUTHOR = {
  name: "github-actions[bot]",
  email: "41898282+github-actions[bot]@users.noreply.github.com",
};

const TEN_MINUTES_MS = 600_000;

/** The environment of a git command: `remote.env`, no prompts, and the token header for http(s). */
function gitEnv(remote: Remote): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...remote.env, GIT_TERMINAL_PROMPT: "0" };
  const origin = /^(https?:\/\/[^/]+)\//.exec(remote.url)?.[1];
  if (remote.token && origin) {
    // Appended to any GIT_CONFIG_* entries the environment already has (e.g. url.<base>.insteadOf).
    const n = Number.parseInt(env.GIT_CONFIG_COUNT ?? "0", 10) || 0;
    const basic = Buffer.from(`x-access-token:${remote.token}`).toString("base64");
    env.GIT_CONFIG_COUNT = String(n + 1);
    env[`GIT_CONFIG_KEY_${n}`] = `http.${origin}/.extraheader`;
    env[`GIT_CONFIG_VALUE_${n}`] = `AUTHORIZATION: basic ${basic}`;
  }
  return env;
}

/** Runs git; resolves with stdout. @throws GitError with stderr's last 2,000 characters. */
function git(args: string[], opts: { cwd?: string; remote: Remote; timeoutMs?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      // No hook ever runs: the repositories are perfloop's own, and the code in them is untrusted.
      ["-c", "core.hooksPath=/dev/null", ...args],
      {
        cwd: opts.cwd,
        env: gitEnv(opts.remote),
        timeout: opts.timeoutMs ?? TEN_MINUTES_MS,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const tail = String(stderr).trim().slice(-2_000);
        reject(new GitError(`git ${args[0]} failed: ${tail || error.message}`, { cause: error }));
      },
    );
  });
}

/**
 * The default branch of `remote` and its tip (`git ls-remote --symref <url> HEAD`).
 * @throws GitError when the remote cannot be read or has no HEAD.
 */
export async function defaultBranchHead(remote: Remote): Promise<{ branch: string; sha: string }> {
  const out = await git(["ls-remote", "--symref", remote.url, "HEAD"], { remote });
  const branch = /^ref: refs\/heads\/(\S+)\s+HEAD$/m.exec(out)?.[1];
  const sha = /^([0-9a-f]{40})\s+HEAD$/m.exec(out)?.[1];
  if (!branch || !sha) throw new GitError(`git ls-remote found no default branch at ${remote.url}`);
  return { branch, sha };
}

/**
 * Creates `dir` (it must not exist or be empty), fetches `sha` (and `extra` commits, e.g. the
 * workflow's own commit to read the trusted config from) with depth 1, and checks `sha` out,
 * detached. Submodules and LFS objects are not fetched.
 * @throws GitError when the commit cannot be fetched (unknown SHA, no access) or checked out.
 */
export async function checkoutCommit(
  remote: Remote,
  dir: string,
  sha: string,
  extra: readonly string[] = [],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new GitError(`${dir} is not empty; refusing to check out there`);
  const shas = [...new Set([sha, ...extra])];
  await git(["init", "-q", dir], { remote });
  await git(["fetch", "-q", "--depth=1", "--no-tags", "--no-recurse-submodules", remote.url, ...shas], {
    cwd: dir,
    remote,
  });
  await git(["-c", "advice.detachedHead=false", "checkout", "-q", "--detach", sha], { cwd: dir, remote });
}

/** The text of `file` (repository-relative) at commit `sha` of the repository in `dir`; null when absent. */
export async function showFile(
  dir: string,
  sha: string,
  file: string,
  remote: Remote,
): Promise<string | null> {
  try {
    return await git(["show", `${sha}:${file}`], { cwd: dir, remote });
  } catch (error) {
    if (/does not exist|exists on disk, but not in|invalid object name/i.test((error as Error).message))
      return null;
    throw error;
  }
}

/**
 * Commits `patchFile` (git-style diff, paths relative to `directory` inside the repository) on top
 * of the checked-out commit in `dir` and pushes it as new branch `branch` (never forced: an existing
 * branch of that name makes the push fail).
 * @returns the new commit's SHA.
 * @throws GitError when the patch does not apply or the push is refused.
 */
export async function pushPatchBranch(
  remote: Remote,
  dir: string,
  opts: { patchFile: string; directory: string; branch: string; message: string },
): Promise<string> {
  const apply = ["apply", "--index", "--whitespace=nowarn"];
  if (opts.directory !== ".") apply.push(`--directory=${opts.directory}`);
  await git([...apply, opts.patchFile], { cwd: dir, remote });
  await git(
    [
      "-c",
      `user.name=${BOT_AUTHOR.name}`,
      "-c",
      `user.email=${BOT_AUTHOR.email}`,
      "-c",
      "commit.gpgsign=false",
      "commit",
      "-q",
      "-m",
      opts.message,
    ],
    { cwd: dir, remote },
  );
  const sha = (await git(["rev-parse", "HEAD"], { cwd: dir, remote })).trim();
  await git(["push", "-q", remote.url, `HEAD:refs/heads/${opts.branch}`], { cwd: dir, remote });
  return sha;
}
