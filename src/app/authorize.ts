/**
 * Who may start or cancel a run (docs/design.md, "GitHub behaviour"): people with write, maintain or
 * admin permission on the repository, or a custom repository role based on write or maintain
 * ("Get repository permissions for a user": its legacy `permission` is the base, its `role_name`
 * the role's own name); bots only when
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

/**
 * The actor's access to the repository, from GitHub's "Get repository permissions for a user"
 * (`GET /repos/{owner}/{repo}/collaborators/{username}/permission`, docs.github.com REST API,
 * Collaborators). `permission` is the legacy base permission: `admin`, `write`, `read` or `none`,
 * where GitHub maps maintain to write and triage to read, and a custom repository role to the
 * base role it inherits from. `roleName` is `role_name`: the assigned role's name, custom roles
 * included (e.g. "perf-engineer"); GitHub Enterprise Server versions without it give `permission`.
 */
export interface ActorRole {
  permission: string;
  roleName: string;
}

/** Base permissions that may trigger runs (maintain is reported as write; a custom role based on write, too). */
const ALLOWED_PERMISSIONS = new Set(["admin", "write"]);
/** Built-in role names that may trigger runs, for answers that name a role without a base permission. */
const ALLOWED_ROLES = new Set(["admin", "maintain", "write"]);
/** GitHub's built-in repository roles; any other `role_name` is a custom role. */
const BUILT_IN_ROLES = new Set(["admin", "maintain", "write", "triage", "read", "none"]);

/** True for bot accounts: GitHub type "Bot", or a login ending in `[bot]`. */
export function isBot(actor: Actor): boolean {
  return actor.type === "Bot" || actor.login.endsWith("[bot]");
}

/**
 * The actor's access to the repository ({@link ActorRole}), looked up only for people; null for
 * bots (never looked up). A 404 (not a collaborator, or no access) is `none`.
 * @throws RequestError from Octokit for API failures other than 404.
 */
export async function actorRole(
  client: GitHubClient,
  repo: RepoRef,
  actor: Actor,
): Promise<ActorRole | null> {
  if (isBot(actor)) return null;
  try {
    const { data } = await client.rest.repos.getCollaboratorPermissionLevel({
      ...repo,
      username: actor.login,
    });
    const permission = data.permission || "none";
    return { permission, roleName: data.role_name || permission };
  } catch (error) {
    if ((error as { status?: number }).status === 404) return { permission: "none", roleName: "none" };
    throw error;
  }
}

/**
 * True when `role` may start or cancel runs: base permission write or admin (so maintain, and any
 * custom role based on write or maintain), or, for a bare role name, admin, maintain or write.
 */
export function mayTrigger(role: ActorRole | string | null): boolean {
  if (role === null) return false;
  if (typeof role === "string") return ALLOWED_ROLES.has(role) || ALLOWED_PERMISSIONS.has(role);
  return ALLOWED_PERMISSIONS.has(role.permission) || ALLOWED_ROLES.has(role.roleName);
}

/**
 * Checks `actor` against the rules. Allow-listed bots need no role (the maintainer trusted them
 * explicitly in config; pass `app` null when the config could not be read: bots are then refused);
 * everyone else needs write, maintain or admin access, or a custom role based on one of them
 * (`role` from {@link actorRole}; a bare role name is accepted too).
 * @returns null when allowed, else the refusal (markdown, safe: it names only the login and role
 *   names reduced to letters, digits, spaces and `-_`).
 */
export function refuseActor(
  actor: Actor,
  role: ActorRole | string | null,
  app: AppConfig | null,
): string | null {
  const login = actor.login.replace(/[^A-Za-z0-9[\]_-]/g, "");
  if (isBot(actor)) {
    const allowed = app?.allow_bots.some((b) => b.toLowerCase() === actor.login.toLowerCase()) ?? false;
    return allowed
      ? null
      : `perfloop ignores requests from bots: \`${login}\` is not in \`app.allow_bots\` of \`.github/perfloop.yml\`.`;
  }
  if (mayTrigger(role)) return null;
  return `@${login}, only people with write, maintain or admin permission on this repository (or a custom role based on write or maintain) can run perfloop (your permission: ${roleWords(role)}).`;
}

/** "triage", "none", or "perf-engineer, a custom role with read access" (names reduced to safe characters). */
function roleWords(role: ActorRole | string | null): string {
  const safe = (text: string) => text.replace(/[^A-Za-z0-9 _-]/g, "").slice(0, 50) || "unknown";
  if (role === null) return "none";
  if (typeof role === "string") return safe(role);
  const name = safe(role.roleName);
  return BUILT_IN_ROLES.has(role.roleName)
    ? name
    : `${name}, a custom role with ${safe(role.permission)} access`;
}

/** The refusal for a fork pull request, or null when forks are allowed or the PR is not from a fork. */
export function refuseFork(isFork: boolean, app: AppConfig): string | null {
  if (!isFork || app.allow_forks) return null;
  return "perfloop does not run pull requests from forks: their code would run on the self-hosted GPU runner. A maintainer can allow it with `app.allow_forks: true` in `.github/perfloop.yml`.";
}
