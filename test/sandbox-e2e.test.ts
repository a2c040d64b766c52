/**
 * The sandbox end to end, through the CLI (README, "Safety: patch policy and sandbox"): a hostile
 * copy of the bundled example whose set-up, tests and benchmark attack the runner — read a planted
 * credentials file, write into the user's tree and its .git hooks, into $HOME and into the sibling
 * reference trees, print a token — with the network off and on. Then a benchmark that hangs after a
 * few good runs (its runs must be kept), SIGTERM in the middle of a run, and the total time budget.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { main } from "../src/cli/main.ts";
import { parseResults, type Results } from "../src/core/evidence/results-schema.ts";
import { sink } from "./helpers/cli.ts";
import { copyExample } from "./helpers/example.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const SECRET = `credentials-${process.pid}-${Date.now()}`;
const TOKEN = `ghp_${"A1b2C3d4E5".repeat(4)}`;
let scratch: string;
let home: string;

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "perfloop-e2e-"));
  home = path.join(scratch, "home");
  await mkdir(home);
  await writeFile(path.join(home, ".credentials"), `${SECRET}\n`);
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the example with `config` as its .github/perfloop.yml. */
async function project(config: Record<string, unknown>): Promise<string> {
  const repo = await copyExample();
  await writeFile(path.join(repo, ".github/perfloop.yml"), stringify(config));
  return repo;
}

/** Runs the CLI in-process; returns its exit code, stderr and the bundle's results. */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const err = sink();
  const code = await main(args, {
    out: sink(),
    err,
    env: { PATH: process.env.PATH ?? "", HOME: home, LANG: "C.UTF-8", ...env },
  });
  return { code, err: err.text };
}

async function readResults(out: string): Promise<Results> {
  return parseResults(JSON.parse(await readFile(path.join(out, "results.json"), "utf8")));
}

/** Every file of the bundle, concatenated. */
async function bundleText(out: string): Promise<string> {
  const files = await readdir(out, { recursive: true, withFileTypes: true });
  const texts = await Promise.all(
    files.filter((f) => f.isFile()).map((f) => readFile(path.join(f.parentPath, f.name), "utf8")),
  );
  return texts.join("\n");
}

describe.each(["off", "on"] as const)("a hostile project through the CLI, network %s", (network) => {
  it("steals nothing, changes nothing outside its tree, and the run still ends with a clear report", async () => {
    const repo = await project({});
    const user = path.join(repo, "textstats/stem.py");
    // The attacks, by absolute path (the strongest attacker knows every path).
    const attack = [
      `cat "$HOME/.credentials" ${home}/.credentials | rev`,
      `echo planted > ${repo}/planted.txt`,
      `mkdir -p ${repo}/.git/hooks && echo 'echo pwned' > ${repo}/.git/hooks/post-commit`,
      `echo planted > ${home}/planted.txt`,
      `echo 'import time; time.sleep(1)' >> ${user}`,
      // The sibling trees (a candidate's tests against the baseline and the current best).
      `for t in ../baseline ../best; do [ "$(cd $t 2>/dev/null && pwd)" = "$(pwd)" ] || echo 'import time; time.sleep(1)' >> $t/textstats/stem.py; done`,
      `echo ${TOKEN}`,
      "true",
    ].join("; ");
    await writeFile(
      path.join(repo, ".github/perfloop.yml"),
      stringify({
        setup: `${attack}; python3 gen_corpus.py corpus.txt 12000`,
        test: `${attack}; python3 -m unittest discover -s tests -q`,
        benchmark: { command: `${attack} >&2; python3 -m textstats corpus.txt` },
        repetitions: { warmup: 0, runs: 5 },
        statistics: { max_cv: 100, bootstrap: 1000 },
        sandbox: { network },
        rounds: 1,
        strategy: "tune",
        paths: ["textstats/**"],
        tune: [
          {
            name: "stem-cache",
            literal: { file: "textstats/settings.py", pattern: "STEM_CACHE_SIZE = (\\d+)" },
            values: [4096],
          },
        ],
      }),
    );
    const before = await readFile(user, "utf8");
    const out = path.join(scratch, `out-hostile-${network}`);
    const { code, err } = await cli(["optimize", repo, "--out", out]);
    expect([0, 3, 4], err).toContain(code);
    const results = await readResults(out);
    expect(results.sandbox).toMatchObject({ mode: "bwrap", network, warning: null });
    expect(results.sandbox?.userTree?.unchanged).toBe(true);
    expect(results.sandbox?.redactions.count).toBeGreaterThan(0); // the printed token
    const bundle = await bundleText(out);
    expect(bundle).not.toContain(TOKEN);
    expect(bundle).not.toContain([...SECRET].reverse().join(""));
    expect(bundle).not.toContain(SECRET);
    expect(existsSync(path.join(repo, "planted.txt"))).toBe(false);
    expect(existsSync(path.join(repo, ".git"))).toBe(false);
    expect(existsSync(path.join(home, "planted.txt"))).toBe(false);
    expect(await readFile(user, "utf8")).toBe(before);
    // The candidate's tests could not reach the reference trees: no sleep of 1 s in any A run.
    const raw = JSON.parse(await readFile(path.join(out, "perf_raw.json"), "utf8"));
    const aRuns = [
      ...raw.baseline.runs,
      ...raw.rounds.flatMap((r: { measurement: { runs: unknown[] } | null }) => r.measurement?.runs ?? []),
    ].filter((r: { side: string }) => r.side === "A");
    expect(raw.rounds[0]?.measurement).toBeTruthy(); // the candidate got as far as the A/B
    for (const run of aRuns) expect(run.wallMs).toBeLessThan(1000);
  });
});

describe("stopping early keeps the evidence", () => {
  it("a benchmark that hangs after a few good runs: the good runs are in perf_raw.json", async () => {
    // Set-up writes a deadline into the tree; runs after it hang (the tree is read-only to the
    // benchmark and /tmp is private per run, so time is the only state a run can carry).
    const repo = await project({
      setup: `python3 gen_corpus.py corpus.txt 3000; python3 -c "import time; print(time.time() + 2.5)" > deadline`,
      test: "true",
      benchmark: {
        command: `python3 -c "import time,sys; d=float(open('deadline').read()); time.sleep(1000) if time.time() > d else time.sleep(0.3)"`,
      },
      repetitions: { warmup: 0, runs: 20 },
      timeouts: { benchmark: 2 },
    });
    const out = path.join(scratch, "out-hang");
    const { code, err } = await cli(["profile", repo, "--out", out]);
    expect(code, err).toBe(5);
    const results = await readResults(out);
    expect(results.status).toBe("baseline-failed");
    expect(results.message).toMatch(/timed out/);
    const raw = JSON.parse(await readFile(path.join(out, "perf_raw.json"), "utf8"));
    const kept = raw.incomplete[0].measurement.runs;
    expect(kept.filter((r: { exitCode: number }) => r.exitCode === 0).length).toBeGreaterThanOrEqual(3);
    expect(kept.at(-1).timedOut).toBe(true);
  });

  it("timeouts.total ends the run with status timeout (exit 124) and a results.json", async () => {
    const repo = await project({
      test: "true",
      benchmark: { command: "sleep 20" },
      repetitions: { warmup: 0, runs: 5 },
      timeouts: { total: 2 },
    });
    const out = path.join(scratch, "out-total");
    const started = Date.now();
    const { code, err } = await cli(["profile", repo, "--out", out]);
    expect(code, err).toBe(124);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await readResults(out)).status).toBe("timeout");
  });

  it.each([
    ["SIGTERM", 143],
    ["SIGINT", 130],
  ] as const)(
    "%s: the benchmark and its daemons die, the scratch is removed, results.json says cancelled (exit %i)",
    async (signal, exit) => {
      const marker = `${process.pid}3${exit}`;
      const repo = await project({
        test: "true",
        benchmark: { command: `setsid sleep ${marker} & sleep ${marker}1` },
        repetitions: { warmup: 0, runs: 5 },
      });
      const out = path.join(scratch, `out-${signal}`);
      const scratchBefore = await perfloopTemps();
      const child: ChildProcess = spawn(
        process.execPath,
        [path.join(ROOT, "src/cli/index.ts"), "profile", repo, "--out", out],
        { env: { PATH: process.env.PATH ?? "", HOME: home }, stdio: ["ignore", "ignore", "pipe"] },
      );
      let err = "";
      const measuring = new Promise<void>((resolve) =>
        child.stderr?.on("data", (chunk: Buffer) => {
          err += chunk.toString();
          if (err.includes("baseline measurement")) resolve();
        }),
      );
      await measuring;
      await new Promise((resolve) => setTimeout(resolve, 300));
      child.kill(signal);
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      expect(code, err).toBe(exit); // 128 + the signal's number
      const results = await readResults(out);
      expect(results.status).toBe("cancelled");
      expect(results.message).toContain(signal);
      const { execFileSync } = await import("node:child_process");
      const left = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
        .split("\n")
        .filter((l) => l.includes(`sleep ${marker}`));
      expect(left).toEqual([]);
      const added = (await perfloopTemps()).filter((d) => !scratchBefore.includes(d));
      expect(added).toEqual([]);
    },
  );
});

/** perfloop's scratch directories in the temp directory (workspaces and profile folders). */
async function perfloopTemps(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => /^perfloop-(\w{6}|profile-\w+)$/.test(n));
}
