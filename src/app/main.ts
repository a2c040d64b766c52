/**
 * Entry point of the App server (`npm start` → `node src/app/main.ts`): Probot's `run` with the
 * perfloop app and its Octokit class (octokit.ts). Configuration comes from the environment
 * (APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT, HOST, LOG_LEVEL; see
 * docs/github-app.md). Exits non-zero when the environment is refused (env.ts).
 */
import { run } from "probot";
import perfloopApp from "./index.ts";
import { PerfloopOctokit } from "./octokit.ts";

await run(perfloopApp, { Octokit: PerfloopOctokit });
