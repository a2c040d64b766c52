/**
 * Who may start or cancel a run (DESIGN.md, "GitHub behaviour"): people with write, maintain or
 * admin permission on the repository ("Get repository permissions for a user"); bots only when
 * their login is in `app.allow_bots`; fork pull requests only when `app.allow_forks` is true (their
 * code would run on the self-hosted runner). Every refusal returns the sentence to reply with.
 */
import type { GitHubClient, RepoRef } from "../publish/index.ts";
import type { AppConfig } from "./config.ts";

/** The account that commented or labeled (`sender` of the webhook). */
export interface Actor {
  login: string;
  /** GitHub's account type: "User", "Bot", "Organization". */
  type: string;
}

/** Roles that may trigger runs (`role_name` of the permission endpoint; `maintain` has no `permission` value of its own). */
const ALLOWED_ROLES = new Set(["admin", "maintain", "write"]);

/** True for bot accounts: GitHub type "Bot", or a login ending in `[bot]`. */
export function isBot(actor: Actor): boolean {
  return actor.type === "Bot" || actor.login.endsWith("[bot]");
}

/**
 * The actor's role on the repository, looked up only for people: `admin`, `maintain`, `write`,
 * `triage`, `read` or `none` (404: not a collaborator); null for bots (never looked up).
 * @throws RequestError from Octokit for API failures other than 404.
 */
export async function actorRole(client: GitHubClient, repo: RepoRef, actor: Actor): Promise<string | null> {
  if (isBot(actor)) return null;
  try {
    const { data } = await client.rest.repos.getCollaboratorPermissionLevel({
      ...repo,
      username: actor.login,
    });
    return data.role_name || data.permission || "none";
  } catch (error) {
    if ((error as { status?: number }).status === 404) return "none";
    throw error;
  }
}

/**
 * Checks `actor` against the rules. Allow-listed bots need no role (the maintainer trusted them
 * explicitly in config; pass `app` null when the config could not be read: bots are then refused);
 * everyone else needs write, maintain or admin (`role` from {@link actorRole}).
 * @returns null when allowed, else the refusal (markdown, safe: it names only the login).
 */
export function refuseActor(actor: Actor, role: string | null, app: AppConfig | null): string | null {
  const login = actor.login.replace(/[^A-Za-z0-9[\]_-]/g, "");
  if (isBot(actor)) {
    const allowed = app?.allow_bots.some((b) => b.toLowerCase() === actor.login.toLowerCase()) ?? false;
    return allowed
      ? null
      : `perfloop ignores requests from bots: \`${login}\` is not in \`app.allow_bots\` of \`.github/perfloop.yml\`.`;
  }
  if (role !== null && ALLOWED_ROLES.has(role)) return null;
  return `@${login}, only people with write, maintain or admin permission on this repository can run perfloop (your permission: ${role ?? "none"}).`;
}

/** The refusal for a fork pull request, or null when forks are allowed or the PR is not from a fork. */
export function refuseFork(isFork: boolean, app: AppConfig): string | null {
  if (!isFork || app.allow_forks) return null;
  return "perfloop does not run pull requests from forks: their code would run on the self-hosted GPU runner. A maintainer can allow it with `app.allow_forks: true` in `.github/perfloop.yml`.";
}
