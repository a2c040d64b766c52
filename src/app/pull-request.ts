/**
 * The pull request a request is about, as the flows need it: head SHA and branch, whether it comes
 * from a fork (its head repository differs from the base repository, or was deleted), and whether
 * it is open. Read from a webhook payload or from "Get a pull request".
 */
import type { PullTarget } from "../publish/index.ts";
import type { AppDeps } from "./state.ts";

/** A pull request with its state. */
export interface OpenablePull extends PullTarget {
  open: boolean;
}

/** The fields of a pull request object (webhook payload or REST answer) read here. */
export interface PullLike {
  number: number;
  state: string;
  head: { sha: string; ref: string; repo: { full_name: string } | null };
  base: { repo: { full_name: string } };
}

/** Converts a pull request object. */
export function pullFrom(pr: PullLike): OpenablePull {
  const isFork = pr.head.repo === null || pr.head.repo.full_name !== pr.base.repo.full_name;
  return { number: pr.number, headSha: pr.head.sha, headRef: pr.head.ref, isFork, open: pr.state === "open" };
}

/** Reads pull request `number` through the REST API. */
export async function fetchPull(deps: AppDeps, number: number): Promise<OpenablePull> {
  const { data } = await deps.client.rest.pulls.get({ ...deps.repo, pull_number: number });
  return pullFrom(data);
}
