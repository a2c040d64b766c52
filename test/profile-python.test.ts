import { execFile, spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHotSpots } from "../src/core/profile/hotspots.ts";
import { readProfileDir } from "../src/core/profile/profile-dir.ts";
import { pythonProfileEnv, SITECUSTOMIZE_DIR } from "../src/core/profile/python.ts";
import type { HotSpot } from "../src/core/types.ts";

const run = promisify(execFile);
const hasPython = spawnSync("python3", ["--version"]).status === 0;

const APP = `import multiprocessing
import os
import subprocess
import sys


def slow_sum(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def mp_task(n):
    total = 0
    for i in range(n):
        total += i
    return total


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "worker.py")], check=True)
    process = multiprocessing.get_context("fork").Process(target=mp_task, args=(300_000,))
    process.start()
    process.join()
    print(slow_sum(4_000_000))


if __name__ == "__main__":
    main()
`;

const WORKER = `def worker_task(n):
    total = 0
    for i in range(n):
        total += i % 3
    return total


if __name__ == "__main__":
    print(worker_task(300_000))
`;

const USER_SITECUSTOMIZE = `import os

with open(os.environ["USER_SITE_MARKER"], "a") as fh:
    fh.write("%d\\n" % os.getpid())
`;

/** 1-based line of the first line of `source` starting with `prefix`. */
function lineOf(source: string, prefix: string): number {
  return source.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

describe("pythonProfileEnv", () => {
  it("prepends the sitecustomize directory and keeps the existing PYTHONPATH", () => {
    const base = { PATH: "/bin", PYTHONPATH: "/a" };
    const env = pythonProfileEnv(base, "rel/prof");
    expect(env.PYTHONPATH).toBe(`${SITECUSTOMIZE_DIR}${path.delimiter}/a`);
    expect(env.PERFLOOP_PROFILE_DIR).toBe(path.resolve("rel/prof"));
    expect(env.PATH).toBe("/bin");
    expect(base.PYTHONPATH).toBe("/a");
    expect(pythonProfileEnv({}, "/p").PYTHONPATH).toBe(SITECUSTOMIZE_DIR);
  });

  it("reads a missing profile directory as no profiles", async () => {
    expect(await readProfileDir(path.join(tmpdir(), "perfloop-no-such-dir"))).toEqual([]);
  });
});

describe.skipIf(!hasPython)("Python profiling of a whole command", () => {
  let work: string;
  let repo: string;
  let profileDir: string;
  let marker: string;
  let hot: HotSpot[];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "perfloop-pyprof-"));
    repo = path.join(work, "repo");
    const userSite = path.join(work, "usersite");
    profileDir = path.join(work, "prof");
    marker = path.join(work, "marker.txt");
    await mkdir(repo);
    await mkdir(userSite);
    await writeFile(path.join(repo, "app.py"), APP);
    await writeFile(path.join(repo, "worker.py"), WORKER);
    await writeFile(path.join(userSite, "sitecustomize.py"), USER_SITECUSTOMIZE);
    const env = pythonProfileEnv(
      { ...baseEnv(), PYTHONPATH: userSite, USER_SITE_MARKER: marker },
      profileDir,
    );
    await run("python3", ["app.py"], { cwd: repo, env });
    hot = await readHotSpots(profileDir, repo);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("puts the hot function first, with its repo-relative file and 1-based def line", () => {
    expect(hot[0]).toMatchObject({
      file: "app.py",
      function: "slow_sum",
      line: lineOf(APP, "def slow_sum"),
      calls: 1,
    });
    expect(hot[0]?.selfPct).toBeGreaterThan(50);
    const main = hot.find((h) => h.function === "main");
    expect(main?.cumulativePct).toBeGreaterThanOrEqual(hot[0]?.selfPct ?? 0);
  });

  it("profiles every process: a subprocess and a forked multiprocessing child", async () => {
    expect(hot.find((h) => h.function === "worker_task")).toMatchObject({
      file: "worker.py",
      line: lineOf(WORKER, "def worker_task"),
    });
    expect(hot.find((h) => h.function === "mp_task")).toMatchObject({
      file: "app.py",
      line: lineOf(APP, "def mp_task"),
    });
    const files = (await readdir(profileDir)).filter((n) => /^py-\d+.*\.json$/.test(n));
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it("keeps only the repository's files (no standard library)", () => {
    for (const h of hot) expect(["app.py", "worker.py"]).toContain(h.file);
  });

  it("still runs the user's own sitecustomize in every interpreter", async () => {
    const pids = (await readFile(marker, "utf8")).trim().split("\n");
    expect(pids.length).toBeGreaterThanOrEqual(2); // app.py and worker.py; the fork child does not re-import
  });

  it("chains through a second copy of the hook on the path without looping", async () => {
    const copy = path.join(work, "hook-copy");
    await mkdir(copy);
    await copyFile(path.join(SITECUSTOMIZE_DIR, "sitecustomize.py"), path.join(copy, "sitecustomize.py"));
    const dir = path.join(work, "prof-copy");
    const env = pythonProfileEnv(
      {
        ...baseEnv(),
        PYTHONPATH: [copy, path.join(work, "usersite")].join(path.delimiter),
        USER_SITE_MARKER: marker,
      },
      dir,
    );
    const { stdout } = await run("python3", ["-c", "import sitecustomize; print(sitecustomize.__file__)"], {
      env,
    });
    expect(stdout.trim()).toBe(path.join(work, "usersite", "sitecustomize.py"));
    expect((await readdir(dir)).filter((n) => n.startsWith("py-"))).toHaveLength(1);
  });
});
