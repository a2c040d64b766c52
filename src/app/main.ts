/**
 * Entry point of the App server (`npm start` → `node src/app/main.ts`). Configuration comes from
 * the environment (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, WEBHOOK_PATH, PORT,
 * HOST — default 127.0.0.1 —, GHE_HOST, REDIS_URL, LOG_LEVEL, LOG_FORMAT; see docs/github-app.md).
 *
 * With APP_ID set, the App runs on its own node:http server (server.ts: body limit and guard before
 * the signature check, deliveries acknowledged before they are handled, payload-free logs from
 * log.ts) with its Octokit class (octokit.ts). Without APP_ID, Probot's `run` starts its setup
 * server (the manifest flow of docs/github-app.md; Probot refuses it when NODE_ENV=production).
 * `.env` is read first, as Probot's `run` reads it.
 * Exits non-zero when the environment is refused (env.ts) or the server cannot start. SIGINT and
 * SIGTERM stop accepting deliveries and give running handlers up to 8 s (Docker's `stop` waits 10 s).
 */
import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { createProbot, run } from "probot";
import { readListenAddress } from "./env.ts";
import perfloopApp from "./index.ts";
import { createAppLog } from "./log.ts";
import { PerfloopOctokit } from "./octokit.ts";
import { createAppServer } from "./server.ts";

/** Time given to running handlers on SIGINT/SIGTERM, ms: under Docker's default 10 s stop timeout. */
const SHUTDOWN_GRACE_MS = 8000;

/**
 * Reads `.env` of the working directory into process.env, as Probot's `run` does (its values win;
 * the manifest flow writes APP_ID, PRIVATE_KEY and WEBHOOK_SECRET there). A missing file is fine.
 * @throws when `.env` exists but cannot be read.
 */
function applyDotEnv(): void {
  try {
    Object.assign(process.env, parseEnv(readFileSync(".env", "utf8")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
}

applyDotEnv();
if (!process.env.APP_ID) {
  await run(perfloopApp, { Octokit: PerfloopOctokit });
} else {
  const log = await createAppLog(process.env);
  try {
    const { host, port } = readListenAddress(process.env);
    const probot = createProbot({ overrides: { log, Octokit: PerfloopOctokit } });
    const app = await createAppServer({ probot, app: perfloopApp });
    const bound = await app.listen(port, host);
    log.info(`perfloop App listening on http://${bound.address}:${bound.port}${probot.webhookPath}`);
    const stop = async (signal: string) => {
      log.info(`${signal}: stopping; waiting up to ${SHUTDOWN_GRACE_MS} ms for running handlers`);
      const drained = await app.close(SHUTDOWN_GRACE_MS);
      if (!drained) log.warn(`${app.receiver.inFlight} deliveries were still being handled at exit`);
      process.exit(0);
    };
    process.once("SIGINT", (signal) => void stop(signal));
    process.once("SIGTERM", (signal) => void stop(signal));
  } catch (error) {
    log.fatal({ err: error }, "the App server could not start");
    process.exitCode = 1;
  }
}
