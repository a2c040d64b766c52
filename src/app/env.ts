/**
 * Start-up checks of the environment. Probot falls back to the webhook secret "development" when
 * WEBHOOK_SECRET is unset, which would let anyone forge deliveries; in production (NODE_ENV=production)
 * the App refuses to start instead. Values are never logged.
 */

/** A start-up setting that is missing or invalid; the message names the variable, never its value. */
export class EnvironmentError extends Error {
  override name = "EnvironmentError";
}

/** What the handlers take from the environment. */
export interface AppEnvironment {
  /** APP_ID as a number, when set: used to read only the App's own check runs. */
  appId?: number;
}

/**
 * Checks `env` and returns the App's settings from it.
 * @throws EnvironmentError when NODE_ENV=production and WEBHOOK_SECRET is unset or shorter than 16
 *   characters, or APP_ID is set but not a positive integer.
 */
export function readEnvironment(env: NodeJS.ProcessEnv): AppEnvironment {
  if (env.NODE_ENV === "production" && (env.WEBHOOK_SECRET ?? "").length < 16) {
    throw new EnvironmentError(
      "WEBHOOK_SECRET must be set (at least 16 characters) when NODE_ENV=production: webhook signatures cannot be verified without it.",
    );
  }
  if (env.APP_ID === undefined || env.APP_ID === "") return {};
  const appId = Number(env.APP_ID);
  if (!Number.isInteger(appId) || appId < 1)
    throw new EnvironmentError("APP_ID must be the GitHub App's numeric id.");
  return { appId };
}
