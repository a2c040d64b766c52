/**
 * `perfloop gate` end to end on a tiny git repository (docs/gate.md): a head that does three times
 * the work regresses (exit 6, the grown function named; instructions decide, so no load on the
 * machine can change that outcome), a head that only changes a comment never does, noise claims
 * nothing, and bad references are explained. The other tests assert only what holds under any load.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { parseResults } from "../src/core/evidence/results-schema.ts";
import { sink } from "./helpers/cli.ts";

let repo = "";
let base = "";
const git = (...args: string[]) =>
  execFileSync("git", args, {
    cwd: repo,
    encoding: "utf8",
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@e",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@e",
    },
  }).trim();

/** The library the benchmark times (the benchmark's own file is never a hot spot: it is protected). */
const LIB = (loops: number, comment = "") => `${comment}
def work(n=${loops}):
    total = 0
    for i in range(n):
        total += i * i
    return total
`;

const BENCH = "import lib\n\nprint(lib.work())\n";

const CONFIG = `test: python3 -c "import lib; assert lib.work(10) == 285"
benchmark:
  command: python3 bench.py
  output: ignore
  measure: cpu
repetitions: {warmup: 1, runs: 6}
statistics: {max_cv: 100%, bootstrap: 2000}
gate: {threshold: 10%}
paths: ["lib.py"]
`;

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), "perfloop-gate-test-"));
  await writeFile(path.join(repo, "lib.py"), LIB(300_000));
  await writeFile(path.join(repo, "bench.py"), BENCH);
  await mkdir(path.join(repo, ".github"));
  await writeFile(path.join(repo, ".github/perfloop.yml"), CONFIG);
  git("init", "-q", "-b", "main");
  git("add", ".");
  git("commit", "-q", "-m", "base");
  base = git("rev-parse", "HEAD");
});
afterAll(() => rm(repo, { recursive: true, force: true }));

async function gate(head: string, extra: string[] = [], from = base) {
  const out = await mkdtemp(path.join(os.tmpdir(), "perfloop-gate-out-"));
  const err = sink();
  const code = await main(["gate", repo, "--base", from, "--head", head, "--out", out, ...extra], {
    out: sink(),
    err,
    env: { PATH: process.env.PATH ?? "" },
  });
  const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
  const report = await readFile(path.join(out, "report.md"), "utf8");
  await rm(out, { recursive: true, force: true });
  return { code, results, report, err: err.text };
}

describe("perfloop gate on two commits", () => {
  it("fails a head that does three times the work: exit 6, the grown function named, one row per benchmark", async () => {
    // Instructions decide (valgrind where the CPU's counters are closed): a count, not a time, so
    // no load on the machine can move this outcome. Two further benchmarks (CPU time; only wall or
    // CPU time there) get a row each: one times only the unchanged start-up.
    await writeFile(path.join(repo, "lib.py"), LIB(30_000));
    await writeFile(
      path.join(repo, ".github/perfloop.yml"),
      `${CONFIG.replace("measure: cpu", "measure: instructions").replace("{warmup: 1, runs: 6}", "{warmup: 0, runs: 5}")}benchmarks:\n  - {name: startup, command: "python3 -c pass", measure: cpu, threshold: 50%}\n  - {name: work-again, command: "python3 bench.py", measure: cpu}\n`,
    );
    git("commit", "-q", "-am", "instructions decide; two more benchmarks");
    const from = git("rev-parse", "HEAD");
    await writeFile(path.join(repo, "lib.py"), LIB(90_000));
    git("commit", "-q", "-am", "slower");
    const run = await gate(git("rev-parse", "HEAD"), [], from);
    expect(run.results.mode).toBe("gate");
    expect(run.results.status, run.results.message).toBe("regressed");
    expect(run.code).toBe(6);
    expect(run.results.gate?.base.sha).toBe(from);
    expect(run.results.gate?.ciPct[0]).toBeGreaterThan(10);
    expect(run.results.gate?.grown.map((g) => g.function)).toContain("work");
    expect(run.report).toMatch(/regress/i);
    const rows = run.results.gate?.benchmarks ?? [];
    expect(rows.map((b) => b.name)).toEqual(["benchmark", "startup", "work-again"]);
    expect(rows.find((b) => b.name === "benchmark")?.verdict).toBe("regressed");
    // CPU time under load may not settle; it can never pass a head doing three times the work.
    expect(rows.find((b) => b.name === "work-again")?.verdict).not.toBe("passed");
    expect(rows.find((b) => b.name === "startup")?.verdict).not.toBe("regressed");
    expect(run.report).toMatch(/### Benchmarks\n\n\| benchmark \| metric \|/);
    expect(run.report).toMatch(/\| startup \| CPU time \|.*\| 50% \|/);
    git("reset", "-q", "--hard", base);
  });

  it("never calls a head that changes only a comment a regression", async () => {
    await writeFile(path.join(repo, "lib.py"), LIB(300_000, "# a comment"));
    git("commit", "-q", "-am", "comment");
    const run = await gate(git("rev-parse", "HEAD"));
    expect(run.results.status, run.results.message).not.toBe("regressed");
    expect(["passed", "inconclusive"]).toContain(run.results.status);
    expect(run.code).toBe(run.results.status === "passed" ? 0 : 4);
    git("reset", "-q", "--hard", base);
  });

  it("--history: appends the head's line, and with five commits on this machine draws the trend", async () => {
    await writeFile(path.join(repo, "lib.py"), LIB(300_000, "# history"));
    git("commit", "-q", "-am", "history");
    const head = git("rev-parse", "HEAD");
    const file = path.join(repo, "..", `${path.basename(repo)}-history.jsonl`);
    const first = await gate(head, ["--history", file]);
    expect(first.err).toMatch(/history: .* \(1 line appended\)/);
    const line = JSON.parse((await readFile(file, "utf8")).trim()) as Record<string, unknown>;
    expect(line).toMatchObject({ commit: head, kind: "gate", metric: "CPU time" });
    // Four earlier commits measured on this machine (same fingerprint), then the gate again.
    const earlier = [1, 2, 3, 4].map((i) =>
      JSON.stringify({ ...line, commit: i.toString(16).repeat(40), date: `2026-01-0${i}T00:00:00.000Z` }),
    );
    await writeFile(file, `${earlier.join("\n")}\n${JSON.stringify(line)}\n`);
    const second = await gate(head, ["--history", file]);
    expect(second.report).toMatch(/### Trend\n\n```mermaid\nxychart-beta/);
    expect(second.report).toContain(`"${head.slice(0, 7)}"]`);
    expect((await readFile(file, "utf8")).trim().split("\n")).toHaveLength(6);
    await rm(file, { force: true });
    git("reset", "-q", "--hard", base);
  });

  it("answers inconclusive (exit 4), never regressed or passed, when the noise is too high for the threshold", async () => {
    // A benchmark whose wall time is mostly a random sleep: its CV is far above max_cv (10%).
    await writeFile(
      path.join(repo, "noisy.py"),
      "import random, time\ntime.sleep(random.uniform(0, 0.06))\n",
    );
    await writeFile(
      path.join(repo, ".github/perfloop.yml"),
      CONFIG.replace("command: python3 bench.py", "command: python3 noisy.py")
        .replace("measure: cpu", "measure: wall")
        .replace("max_cv: 100%", "max_cv: 10%"),
    );
    git("add", ".");
    git("commit", "-q", "-m", "noisy benchmark");
    const noisyBase = git("rev-parse", "HEAD");
    await writeFile(path.join(repo, "lib.py"), LIB(300_000, "# noisy"));
    git("commit", "-q", "-am", "comment");
    const out = await mkdtemp(path.join(os.tmpdir(), "perfloop-gate-out-"));
    const code = await main(["gate", repo, "--base", noisyBase, "--out", out], {
      out: sink(),
      err: sink(),
      env: { PATH: process.env.PATH ?? "" },
    });
    const results = parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
    await rm(out, { recursive: true, force: true });
    expect(results.status, results.message).toBe("inconclusive");
    expect(results.gate?.reason).toMatch(/CV .*> 10% limit/);
    expect(code).toBe(4);
    git("reset", "-q", "--hard", base);
  });

  it("skips, measuring nothing, when no file under `paths` changed", async () => {
    await writeFile(path.join(repo, "README.md"), "docs only\n");
    git("add", "README.md");
    git("commit", "-q", "-m", "docs");
    const run = await gate(git("rev-parse", "HEAD"));
    expect(run.results.status).toBe("passed");
    expect(run.results.message).toMatch(/^skipped: no file under `paths` \(lib\.py\) changed .*README\.md/);
    expect(run.results.baseline).toBeNull();
    expect(run.code).toBe(0);
    git("reset", "-q", "--hard", base);
  });

  it("says what is wrong with a reference that is not a commit, or a missing --base", async () => {
    const err = sink();
    const io = { out: sink(), err, env: { PATH: process.env.PATH ?? "" } };
    expect(await main(["gate", repo, "--base", "no-such-branch"], io)).toBe(2);
    expect(err.text).toMatch(/"no-such-branch" is not a commit in .*: fetch it first/);
    expect(await main(["gate", repo], io)).toBe(2);
    expect(err.text).toMatch(/gate needs --base REF/);
  });
});
