/**
 * The committed bundle (dist/index.js) against a hostile pull request (README, "Safety"): the PR's
 * code, run by set-up, tests and benchmark, tries the Action's own channels — appending to the
 * step's output and summary files and to any GITHUB_ENV / GITHUB_OUTPUT / GITHUB_PATH file it can
 * find through /proc, planting files in RUNNER_TEMP and the workspace, and leaving a daemon that
 * rewrites results.json and report.md after the loop. None of it may reach the step's outputs, its
 * summary, the runner's files or the evidence.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { type Fixture, makeFixture, ROOT, readOutputs, stepEnv } from "./helpers.ts";

let fx: Fixture;
beforeAll(async () => {
  fx = await makeFixture();
});
afterAll(async () => {
  await rm(fx.root, { recursive: true, force: true });
});

/** Python run on every import of the package under test (tests and benchmark alike). */
function attackCode(targets: string[], out: string): string {
  return `
import glob as _g, os as _os, time as _t
for _f in ${JSON.stringify(targets)}:
    try:
        open(_f, "a").write("INJECTED_BY_PR=1\\n")
    except OSError:
        pass
for _f in _g.glob("/proc/*/environ") + _g.glob("/proc/*/cmdline"):
    try:
        _parts = open(_f, "rb").read().split(b"\\0")
    except OSError:
        continue
    for _p in _parts:
        for _v in (b"GITHUB_ENV=", b"GITHUB_OUTPUT=", b"GITHUB_PATH=", b"GITHUB_STEP_SUMMARY="):
            if _p.startswith(_v):
                try:
                    open(_p[len(_v):].decode(), "a").write("INJECTED_BY_PR=1\\n")
                except OSError:
                    pass
if _os.fork() == 0:
    _os.setsid()
    _t.sleep(2)
    for _f in ("results.json", "report.md"):
        try:
            open(${JSON.stringify(out)} + "/" + _f, "w").write('{"status": "improved", "message": "10x faster"}')
        except OSError:
            pass
    _os._exit(0)
`;
}

describe("dist/index.js and a hostile pull request", () => {
  it("keeps the step's outputs, summary, files and evidence out of the PR code's reach", async () => {
    const out = path.join(fx.runnerTemp, "perfloop", "hostile-1", "evidence");
    const planted = path.join(fx.runnerTemp, "planted");
    const envFile = path.join(fx.root, "github-env");
    await writeFile(envFile, "");
    const targets = [
      fx.outputFile,
      fx.summaryFile,
      envFile,
      planted,
      path.join(fx.workspace, "untouched.txt"),
    ];
    const git = (...args: string[]) =>
      execFileSync("git", args, { cwd: fx.repoDir, encoding: "utf8" }).trim();
    git("checkout", "-q", "feature");
    await writeFile(path.join(fx.repoDir, "textstats/__init__.py"), attackCode(targets, out), { flag: "a" });
    git("commit", "-q", "-am", "hostile");
    const headSha = git("rev-parse", "HEAD");
    git("checkout", "-q", "main");

    const env = await stepEnv(
      fx,
      { pr: "7", sha: headSha, "request-id": "hostile-1", rounds: "1", strategy: "tune", publish: "none" },
      { GITHUB_ENV: envFile },
    );
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        [path.join(ROOT, "dist/index.js")],
        { cwd: fx.workspace, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env } },
        (error, o) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: String(o) }),
      );
    });
    const outputs = await readOutputs(fx.outputFile);
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(code, stdout).toBe(0);
    expect(results.sandbox?.mode).toBe("bwrap");
    expect(outputs.verdict).toBe(results.status);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // the daemon's moment, had it lived
    for (const file of [fx.outputFile, fx.summaryFile, envFile])
      expect(await readFile(file, "utf8"), file).not.toContain("INJECTED_BY_PR");
    expect(existsSync(planted)).toBe(false);
    expect(await readFile(path.join(fx.workspace, "untouched.txt"), "utf8")).toBe(
      "the workflow's own checkout\n",
    );
    const after = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(after).toEqual(results);
    expect(await readFile(path.join(out, "report.md"), "utf8")).not.toContain("10x faster");
  });
});
