/**
 * The Action's channels out, from memory (issue 10, items 5 and 10): a loop whose benchmark printed
 * what it stole (the API key in base64, the token in hex, a deploy token from the step's
 * environment), and a process it left behind that rewrote results.json and report.md to claim
 * "10x faster" and planted a file. The step's outputs, the job summary and the uploaded artifact
 * must all say what the loop wrote — secrets redacted — and the planted file must not be uploaded.
 * The loop is a stand-in that writes through the Action's evidence writer, as runPerfloop does.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/action/main.ts";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import type { runPerfloop } from "../../src/core/loop/run.ts";
import { noImprovement } from "../report-helpers.ts";
import {
  API_KEY,
  type Fixture,
  makeFixture,
  readOutputs,
  recordingCore,
  setEnv,
  stepEnv,
  TOKEN,
} from "./helpers.ts";

const DEPLOY = "deploy-token-value-0123456789";
let fx: Fixture;
let restore: () => void = () => {};

beforeAll(async () => {
  fx = await makeFixture();
});
afterEach(() => restore());
afterAll(async () => {
  await rm(fx.root, { recursive: true, force: true });
});

/** The loop as a hostile benchmark leaves it: secrets printed, files rewritten after the loop wrote them. */
const tamperingLoop: typeof runPerfloop = async (options) => {
  const evidence = options.evidence;
  if (!evidence) throw new Error("the Action passes its evidence writer");
  const stolen = Buffer.from(`AUTH=Bearer ${API_KEY};`).toString("base64");
  await evidence.text(
    "baseline-bench.log",
    `$ python3 bench.py\n## stdout\n${stolen}\n${Buffer.from(TOKEN).toString("hex")}\n${DEPLOY}\n`,
  );
  await evidence.text("report.md", "## perfloop · no improvement: nothing was faster\n");
  const results = parseResults({
    ...noImprovement,
    message: `no candidate was faster (the benchmark printed ${API_KEY})`,
    request: options.request ?? { trigger: "cli" },
  });
  await evidence.json("results.json", results);
  await evidence.audit("finish", results.status);

  // A process the benchmark left behind, once the loop had written its files.
  const out = options.outDir;
  await writeFile(
    path.join(out, "results.json"),
    JSON.stringify({ ...results, status: "improved", message: "10x faster" }),
  );
  await writeFile(path.join(out, "report.md"), "## perfloop · improved: **10x faster**\n");
  await writeFile(path.join(out, "planted.txt"), `${API_KEY} ${TOKEN}`);
  return results;
};

describe("the Action's evidence, outputs and summary", () => {
  it("come from memory: tampered files restored, planted files not uploaded, secrets redacted", async () => {
    restore = setEnv(
      await stepEnv(
        fx,
        { pr: "7", sha: fx.headSha, "request-id": "req-evidence", "api-key": API_KEY, "github-token": TOKEN },
        { DEPLOY_TOKEN: DEPLOY },
      ),
    );
    const warnings: string[] = [];
    const core = { ...recordingCore(), warning: (m: string) => void warnings.push(m) };
    const uploaded = new Map<string, string>();
    let root = "";
    await main({
      core,
      // The uploader reads the files when it uploads, as @actions/artifact does.
      upload: async (_name, files, dir) => {
        root = dir;
        for (const file of files) uploaded.set(path.relative(dir, file), await readFile(file, "utf8"));
        return { id: 5, size: 1 };
      },
      github: () => {
        throw new Error("publish: app makes no client");
      },
      env: process.env,
      runLoop: tamperingLoop,
    });
    expect(core.failures).toEqual([]);
    const out = path.join(fx.runnerTemp, "perfloop", "req-evidence", "evidence");
    expect(root).toBe(out);

    // The artifact: exactly the files the loop wrote, as it wrote them, without planted.txt.
    expect([...uploaded.keys()].sort()).toEqual([
      "audit.log",
      "baseline-bench.log",
      "report.md",
      "results.json",
    ]);
    const results = parseResults(JSON.parse(uploaded.get("results.json") ?? ""));
    expect(results.status).toBe("no-improvement");
    expect(results.message).toBe("no candidate was faster (the benchmark printed [REDACTED:secret-value])");
    expect(uploaded.get("report.md")).toBe("## perfloop · no improvement: nothing was faster\n");
    // base64 of "AUTH=Bearer <key>;": the bytes before the key survive, the key's characters do not.
    expect(uploaded.get("baseline-bench.log")).toMatch(
      /^\$ python3 bench.py\n## stdout\nQVVUSD1CZWFyZXIg\[REDACTED:secret-value\][A-Za-z0-9+/=]{0,4}\n\[REDACTED:secret-value\]\n\[REDACTED:secret-value\]\n$/,
    );
    for (const [file, text] of uploaded)
      for (const secret of [API_KEY, TOKEN, DEPLOY]) expect(text.includes(secret), file).toBe(false);
    // The directory itself holds the same (the `report` and `results` outputs point into it).
    for (const [file, text] of uploaded) expect(await readFile(path.join(out, file), "utf8")).toBe(text);
    await expect(readFile(path.join(out, "planted.txt"))).rejects.toThrow(/ENOENT/);

    // Outputs and the job summary: the loop's results and report, not the rewritten files.
    const outputs = await readOutputs(fx.outputFile);
    expect(outputs.verdict).toBe("no-improvement");
    expect(outputs.speedup).toBe("");
    const summary = await readFile(fx.summaryFile, "utf8");
    expect(summary).toContain("nothing was faster");
    expect(summary).not.toContain("10x faster");
    expect(summary).toContain("[REDACTED:secret-value]");
    expect(summary.includes(API_KEY)).toBe(false);

    // The log says what was redacted and what was restored.
    expect(warnings).toEqual(
      expect.arrayContaining([
        "4 secret(s) (a secret's value, plain or encoded, or a token-shaped string) were redacted from the evidence: baseline-bench.log, results.json",
        "the evidence directory changed after perfloop wrote it (a process left behind?): restored report.md, results.json; removed planted.txt",
      ]),
    );
  });
  it("refuses an evidence directory that holds anything (it is emptied before the upload) or the memory store", async () => {
    let ran = false;
    const loop: typeof runPerfloop = async () => {
      ran = true;
      throw new Error("not reached");
    };
    for (const [inputs, problem] of [
      [
        { out: fx.workspace },
        /^perfloop's inputs are invalid:\n {2}- input `out`: found ".*workspace", which holds 1 entries, expected a new or empty directory/,
      ],
      [
        { out: path.join(fx.root, "fresh-out"), "memory-path": path.join(fx.root, "fresh-out", "m.sqlite") },
        /input `memory-path`: found ".*m\.sqlite", expected a file outside the evidence directory/,
      ],
    ] as const) {
      restore = setEnv(await stepEnv(fx, { pr: "7", sha: fx.headSha, "request-id": "req-out", ...inputs }));
      const core = recordingCore();
      await main({
        core,
        upload: async () => ({ id: 1, size: 1 }),
        github: () => {
          throw new Error("no client");
        },
        env: process.env,
        runLoop: loop,
      });
      restore();
      expect(core.failures).toEqual([expect.stringMatching(problem)]);
    }
    expect(ran).toBe(false);
    expect(await readFile(path.join(fx.workspace, "untouched.txt"), "utf8")).toBe(
      "the workflow's own checkout\n",
    );
  });
});
