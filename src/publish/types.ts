/**
 * Shapes shared by the publish module. Publishing takes an Octokit instance and plain values, never
 * a Probot context, so the App (src/app) and the Action (issue 4) call the same functions.
 */
import type { Octokit } from "@octokit/rest";

/**
 * The part of an Octokit instance that publishing uses: the REST endpoint methods, `request` and
 * `paginate`. Both `new Octokit()` from @octokit/rest and Probot's `context.octokit` satisfy it.
 */
export type GitHubClient = Pick<Octokit, "rest" | "request" | "paginate">;

/** A repository: `owner` is the user or organization login, `repo` the repository name. */
export interface RepoRef {
  owner: string;
  repo: string;
}

/** Links shown next to published results; each may be absent (e.g. a local CLI run has no run). */
export interface RunLinks {
  /** The Actions workflow run, `https://github.com/<o>/<r>/actions/runs/<id>`. */
  runUrl?: string;
  /** The evidence artifact, `https://github.com/<o>/<r>/actions/runs/<id>/artifacts/<artifact id>`. */
  artifactUrl?: string;
}

/** The pull request a run was made for. */
export interface PullTarget {
  number: number;
  /** The head commit that was optimized (40 hex digits). */
  headSha: string;
  /** The head branch name (without `refs/heads/`). */
  headRef: string;
  /** True when the head branch lives in another repository (a fork); no follow-up PR is opened then. */
  isFork: boolean;
}

/** Conclusions perfloop gives its check run (a subset of GitHub's check-run conclusions). */
export type CheckConclusion = "success" | "neutral" | "failure" | "cancelled" | "timed_out";
