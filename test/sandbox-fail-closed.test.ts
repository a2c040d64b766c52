/**
 * Fail closed (README, "Safety"; docs/sandbox.md): on a machine without bubblewrap the CLI refuses
 * to run the project's code and names the fix (exit 2), and `sandbox.isolation: none` runs it only
 * with a warning that the report and the PR comment start with.
 */
import { mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../src/cli/main.ts";
import { parseResults } from "../src/core/evidence/results-schema.ts";
import { resultsMarkdown } from "../src/publish/messages.ts";
import { sink } from "./helpers/cli.ts";
import { copyExample } from "./helpers/example.ts";

let bin: string;
beforeAll(async () => {
  // A PATH with the tools the example needs, and no bwrap.
  bin = await mkdtemp(path.join(tmpdir(), "perfloop-nobwrap-"));
  for (const tool of ["sh", "python3", "prlimit", "env", "cat", "true"])
    await symlink(path.join("/usr/bin", tool), path.join(bin, tool));
});
afterAll(async () => {
  await rm(bin, { recursive: true, force: true });
});

async function run(sandbox: Record<string, unknown>) {
  const repo = await copyExample();
  await writeFile(
    path.join(repo, ".github/perfloop.yml"),
    stringify({
      setup: "python3 gen_corpus.py corpus.txt 2000",
      test: "python3 -m unittest discover -s tests -q",
      benchmark: { command: "python3 -m textstats corpus.txt" },
      repetitions: { warmup: 0, runs: 5 },
      statistics: { max_cv: 100, bootstrap: 1000 },
      sandbox,
    }),
  );
  const out = path.join(repo, "..", `${path.basename(repo)}-out`);
  const err = sink();
  const code = await main(["profile", repo, "--out", out], {
    out: sink(),
    err,
    env: { PATH: bin, HOME: tmpdir() },
  });
  return { code, err: err.text, out };
}

describe("without bubblewrap", () => {
  it("refuses with exit 2 and the line that installs it, running nothing", async () => {
    const { code, err, out } = await run({});
    expect(code).toBe(2);
    expect(err).toContain("bubblewrap (bwrap) is not installed");
    expect(err).toContain("sudo apt-get install -y bubblewrap");
    expect(err).toContain("isolation: none");
    await expect(readFile(path.join(out, "results.json"))).rejects.toThrow(/ENOENT/);
  });

  it("runs with sandbox.isolation: none, and the report and the PR comment lead with the warning", async () => {
    const { code, err, out } = await run({ isolation: "none" });
    expect(code, err).toBe(0);
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    expect(results.sandbox?.mode).toBe("none");
    expect(results.sandbox?.warning).toMatch(/NO SANDBOX/);
    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(report.split("\n").slice(0, 2).join("\n")).toMatch(/\[!WARNING\][\s\S]*NO SANDBOX/);
    const comment = resultsMarkdown(results, { requestId: "r1" }, {}, null);
    expect(comment.split("\n").slice(0, 2).join("\n")).toMatch(/NO SANDBOX/);
    expect(err).toContain("NO SANDBOX");
  });
});
