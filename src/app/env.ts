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

/**
 * Interface the server binds when HOST is unset: loopback only, so a development server is not
 * reachable from the network by accident (Probot's own default is "localhost"). The Docker image
 * sets HOST=0.0.0.0, which a container needs to be reachable through its published port.
 */
export const DEFAULT_HOST = "127.0.0.1";
/** Port when PORT is unset (Probot's default). */
export const DEFAULT_PORT = 3000;

/** Where the App server listens. */
export interface ListenAddress {
  host: string;
  /** TCP port, 0–65535 (0: any free port). */
  port: number;
}

/**
 * HOST (default DEFAULT_HOST, 127.0.0.1) and PORT (default 3000) from `env`.
 * @throws EnvironmentError when PORT is set but not an integer from 0 to 65535.
 */
export function readListenAddress(env: NodeJS.ProcessEnv): ListenAddress {
  const host = env.HOST?.trim() || DEFAULT_HOST;
  if (env.PORT === undefined || env.PORT.trim() === "") return { host, port: DEFAULT_PORT };
  const port = Number(env.PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new EnvironmentError("PORT must be an integer from 0 to 65535.");
  return { host, port };
}
