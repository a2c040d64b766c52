/**
 * The committed bundle (dist/index.js), run as the runner runs it — `node dist/index.js` with the
 * step's environment — on the bundled example: it must find the Python helpers it ships
 * (dist/runner.py for the measurements, dist/python/sitecustomize.py for the profile) at the paths
 * its code computes from `import.meta.url`, stream its log groups, and reach the artifact service
 * with the bundled `@actions/artifact` (a local stand-in that refuses the upload: the step must fail
 * and say so, with the evidence and the summary still written). git's `url.<base>.insteadOf` sends
 * https://github.com/octo/textstats.git to the fixture's repository.
 */
import { execFile } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { type Fixture, makeFixture, ROOT, readOutputs, stepEnv } from "./helpers.ts";

let fx: Fixture;
let server: Server;
const requests: string[] = [];
beforeAll(async () => {
  fx = await makeFixture();
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

/** An unsigned runtime token with the scope @actions/artifact reads its backend ids from. */
function runtimeToken(): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const scp = "Actions.Results:ce7f54c7-61c7-4aae-887f-30da475f5f1a:ca395085-040a-526b-2ce8-bdc85f692774";
  return `${part({ alg: "none", typ: "JWT" })}.${part({ scp })}.sig`;
}

describe("dist/index.js", () => {
  it("runs the loop from the bundle: runner.py and sitecustomize.py found, groups streamed, artifact service reached", async () => {
    const { port } = server.address() as AddressInfo;
    const env = await stepEnv(
      fx,
      { pr: "7", sha: fx.headSha, "request-id": "bundle-1", rounds: "1", strategy: "tune", publish: "none" },
      {
        ACTIONS_RUNTIME_TOKEN: runtimeToken(),
        ACTIONS_RESULTS_URL: `http://127.0.0.1:${port}/`,
        // github.com (@actions/artifact refuses GHES), with git sent to the fixture's repository.
        GITHUB_SERVER_URL: "https://github.com",
        GIT_CONFIG_COUNT: "1",
        GIT_CONFIG_KEY_0: `url.${fx.serverUrl}/.insteadOf`,
        GIT_CONFIG_VALUE_0: "https://github.com/",
      },
    );
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, "dist/index.js")],
        { cwd: fx.workspace, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } },
        (error, out) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: String(out) }),
      );
    });
    const out = path.join(fx.runnerTemp, "perfloop", "bundle-1", "evidence");
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));

    expect(results.request.requestId).toBe("bundle-1");
    expect(results.baseline?.wallMs.n).toBe(6); // runner.py measured
    expect(results.hotSpots[0]?.file).toBe("textstats/stem.py"); // sitecustomize.py profiled
    expect(results.rounds[0]?.strategy).toBe("tune");
    expect(stdout).toContain("::group::perfloop ▸ checkout");
    expect(stdout).toContain("::group::perfloop ▸ baseline measurement");
    expect(
      requests,
      stdout
        .split("\n")
        .filter((l) => /::(error|warning)/.test(l))
        .join("\n"),
    ).toEqual(["POST /twirp/github.actions.results.api.v1.ArtifactService/CreateArtifact"]);
    expect(stdout).toMatch(/::error::the evidence artifact could not be uploaded: .*401/);
    expect(code).toBe(1);
    expect((await readOutputs(fx.outputFile)).verdict).toBe(results.status);
    expect(await readFile(fx.summaryFile, "utf8")).toContain("**perfloop** on");
  });
});
