import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { profileEnv, type RawFunctionTimes, toHotSpots } from "../src/core/profile/hotspots.ts";
import { SITECUSTOMIZE_DIR } from "../src/core/profile/python.ts";

const raw = (file: string, fn: string, selfMs: number, cumulativeMs: number, calls: number | null = null) =>
  ({ file, line: 10, function: fn, calls, selfMs, cumulativeMs }) satisfies RawFunctionTimes;

describe("toHotSpots", () => {
  let work: string;
  let repo: string;
  let link: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "perfloop-hotspots-"));
    repo = path.join(work, "repo");
    await mkdir(path.join(repo, "src"), { recursive: true });
    await writeFile(path.join(repo, "src", "a.py"), "");
    link = path.join(work, "link");
    await symlink(repo, link);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("merges processes, takes shares of ALL profiled time, and keeps only the repository's code", () => {
    const a = path.join(repo, "src", "a.py");
    const hot = toHotSpots(
      [
        raw(a, "f", 200, 300, 3),
        raw(a, "f", 100, 100, 2), // a second process
        raw(path.join(link, "src", "a.py"), "g", 50, 50), // same repo reached through a symlink
        raw("~", "<built-in method time.sleep>", 400, 400),
        raw("/usr/lib/python3.11/json/decoder.py", "decode", 150, 150),
        raw(path.join(repo, ".venv", "lib", "python3.11", "site-packages", "x.py"), "dep", 50, 50),
        raw(path.join(repo, "node_modules", "x", "i.js"), "dep", 50, 50),
      ],
      link,
    );
    expect(hot).toEqual([
      { file: "src/a.py", line: 10, function: "f", selfPct: 30, cumulativePct: 40, calls: 5 },
      { file: "src/a.py", line: 10, function: "g", selfPct: 5, cumulativePct: 5, calls: null },
    ]);
  });

  it("applies limit and minSelfPct, sorts by self then cumulative share", () => {
    const f = path.join(repo, "src", "a.py");
    const list = [raw(f, "low", 10, 90), raw(f, "tie", 10, 20), raw(f, "top", 80, 80)];
    expect(toHotSpots(list, repo).map((h) => h.function)).toEqual(["top", "low", "tie"]);
    expect(toHotSpots(list, repo, { limit: 1 }).map((h) => h.function)).toEqual(["top"]);
    expect(toHotSpots(list, repo, { minSelfPct: 50 }).map((h) => h.function)).toEqual(["top"]);
    expect(toHotSpots([], repo)).toEqual([]);
  });
});

describe("profileEnv", () => {
  it("sets up both Python and Node profiling", () => {
    const env = profileEnv({ HOME: "/h" }, "/tmp/p");
    expect(env).toMatchObject({ HOME: "/h", PERFLOOP_PROFILE_DIR: "/tmp/p", PYTHONPATH: SITECUSTOMIZE_DIR });
    expect(env.NODE_OPTIONS).toBe("--cpu-prof --cpu-prof-dir=/tmp/p");
  });
});
