/**
 * A cancelled workflow (the runner sends SIGINT, then SIGTERM 7.5 s later, then SIGKILL): the
 * committed bundle (dist/index.js) stops the loop, kills the benchmark's sandbox, and still uploads
 * the partial bundle, says "cancelled" in the job summary and the outputs (src/action/main.ts).
 */
import { execFileSync, spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { CONFIG_YAML, type Fixture, makeFixture, ROOT, readOutputs, stepEnv } from "./helpers.ts";

let fx: Fixture;
let mainSha = "";
let server: Server;
const requests: string[] = [];
beforeAll(async () => {
  fx = await makeFixture();
  // The default branch's config: a benchmark slow enough to be cancelled in the middle of a run,
  // with odd durations so the check for leftovers cannot see other test files' sleeps.
  const git = (...args: string[]) => execFileSync("git", args, { cwd: fx.repoDir, encoding: "utf8" });
  await writeFile(
    path.join(fx.repoDir, ".github/perfloop.yml"),
    CONFIG_YAML.replace(/command: python3 -m textstats corpus.txt/, "command: sleep 30.417 & sleep 60.417"),
  );
  git("commit", "-q", "-am", "slow benchmark");
  mainSha = git("rev-parse", "HEAD").trim();
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(401, { "content-type": "application/json" }).end('{"msg":"refused by the test"}');
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  server.close();
  await rm(fx.root, { recursive: true, force: true });
});

describe("dist/index.js, cancelled", () => {
  it("stops within seconds, uploads the partial bundle and reports cancelled", async () => {
    const { port } = server.address() as AddressInfo;
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const scp = "Actions.Results:ce7f54c7-61c7-4aae-887f-30da475f5f1a:ca395085-040a-526b-2ce8-bdc85f692774";
    const env = await stepEnv(
      fx,
      { pr: "7", sha: fx.headSha, "request-id": "cancel-1", rounds: "1", strategy: "tune", publish: "none" },
      {
        ACTIONS_RUNTIME_TOKEN: `${part({ alg: "none", typ: "JWT" })}.${part({ scp })}.sig`,
        ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
        GITHUB_SERVER_URL: "https://github.com",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: `url.${fx.serverUrl}/.insteadOf`,
        GIT_CONFIG_VALUE_0: "https://github.com/",
        GITHUB_SHA: mainSha, // the workflow's commit: the config is read there
      },
    );
    const child = spawn(process.execPath, [path.join(ROOT, "dist/index.js")], {
      cwd: fx.workspace,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    const measuring = new Promise<void>((resolve) =>
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("perfloop ▸ baseline measurement: sleep 30.417")) resolve();
      }),
    );
    await measuring;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const cancelledAt = Date.now();
    child.kill("SIGINT");
    // The runner's second signal, 7.5 s later, must not cut the delivery short; here it comes early.
    setTimeout(() => child.kill("SIGTERM"), 500);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    const out = path.join(fx.runnerTemp, "perfloop", "cancel-1", "evidence");
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(results.status).toBe("cancelled");
    expect((await readOutputs(fx.outputFile)).verdict).toBe("cancelled");
    expect(await readFile(fx.summaryFile, "utf8")).toContain("**cancelled**");
    expect(requests).toContain("POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact");
    expect(code, stdout.slice(-3000)).toBe(1); // the refused upload fails the step; the bundle was attempted
    const left = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => /^sleep (30|60)\.417$/.test(l.trim()));
    expect(left).toEqual([]);
  });
});
