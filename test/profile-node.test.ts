import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readHotSpots, toHotSpots } from "../src/core/profile/hotspots.ts";
import {
  cpuProfileFunctionTimes,
  NodeProfileReadError,
  nodeProfileEnv,
  parseCpuProfile,
} from "../src/core/profile/node.ts";
import type { HotSpot } from "../src/core/types.ts";

const run = promisify(execFile);
const FIXTURES = fileURLToPath(new URL("./fixtures/profile/", import.meta.url));
/** What the recorded fixture's own directory was replaced with (see the fixture's script). */
const PLACEHOLDER = "file:///__FIXTURE_DIR__";

const APP = `import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

function slowSum(n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += (i * i) % 7;
  return total;
}

function main() {
  const worker = fileURLToPath(new URL("./worker.mjs", import.meta.url));
  const result = spawnSync(process.execPath, [worker], { stdio: "inherit" });
  if (result.status !== 0) throw new Error("worker failed");
  console.log(slowSum(40_000_000));
}

main();
`;

const WORKER = `function workerTask(n) {
  let total = 0;
  for (let i = 0; i < n; i++) total += i % 3;
  return total;
}

console.log(workerTask(5_000_000));
`;

function lineOf(source: string, prefix: string): number {
  return source.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;
}

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

describe("nodeProfileEnv", () => {
  it("appends --cpu-prof to the existing NODE_OPTIONS, quoting a directory with spaces", () => {
    const base = { NODE_OPTIONS: "--max-old-space-size=512" };
    expect(nodeProfileEnv(base, "/tmp/prof").NODE_OPTIONS).toBe(
      "--max-old-space-size=512 --cpu-prof --cpu-prof-dir=/tmp/prof",
    );
    expect(nodeProfileEnv({}, "/tmp/a b").NODE_OPTIONS).toBe('--cpu-prof --cpu-prof-dir="/tmp/a b"');
    expect(base.NODE_OPTIONS).toBe("--max-old-space-size=512");
  });
});

describe("Node profiling of a whole command", () => {
  let work: string;
  let repo: string;
  let profileDir: string;
  let hot: HotSpot[];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), "perfloop-nodeprof-"));
    repo = path.join(work, "repo");
    profileDir = path.join(work, "prof dir"); // a space, to exercise NODE_OPTIONS quoting
    await mkdir(repo);
    await writeFile(path.join(repo, "app.mjs"), APP);
    await writeFile(path.join(repo, "worker.mjs"), WORKER);
    await run(process.execPath, ["app.mjs"], { cwd: repo, env: nodeProfileEnv(baseEnv(), profileDir) });
    hot = await readHotSpots(profileDir, repo);
  });

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("finds the hot function first, with its file and 1-based line", () => {
    expect(hot[0]).toMatchObject({
      file: "app.mjs",
      function: "slowSum",
      line: lineOf(APP, "function slowSum"),
    });
    expect(hot[0]?.selfPct).toBeGreaterThan(50);
    expect(hot[0]?.calls).toBeNull();
  });

  it("profiles the child process too, and keeps only the repository's files", async () => {
    expect(hot.find((h) => h.function === "workerTask")).toMatchObject({
      file: "worker.mjs",
      line: lineOf(WORKER, "function workerTask"),
    });
    for (const h of hot) expect(["app.mjs", "worker.mjs"]).toContain(h.file);
    expect((await readdir(profileDir)).filter((n) => n.endsWith(".cpuprofile")).length).toBe(2);
  });
});

describe("cpuProfileFunctionTimes on a recorded profile", () => {
  let repo: string;
  let profile: {
    nodes: { id: number; callFrame: { functionName: string }; children?: number[] }[];
    samples: number[];
    timeDeltas: number[];
    startTime: number;
    endTime: number;
  };

  beforeAll(async () => {
    repo = await mkdtemp(path.join(tmpdir(), "perfloop-cpuprofile-"));
    await copyFile(path.join(FIXTURES, "recursion.cjs"), path.join(repo, "recursion.cjs"));
    const text = await readFile(path.join(FIXTURES, "recursion.cpuprofile"), "utf8");
    profile = JSON.parse(text.replaceAll(PLACEHOLDER, pathToFileURL(repo).href));
  });

  afterAll(async () => {
    if (repo) await rm(repo, { recursive: true, force: true });
  });

  /** Sample durations as DevTools counts them (each until the next sample), µs. */
  function durations(): number[] {
    const { samples, timeDeltas, startTime, endTime } = profile;
    const stamps: number[] = [];
    let t = startTime;
    for (let i = 0; i < samples.length; i++) {
      t += timeDeltas[i] ?? 0;
      stamps.push(t);
    }
    return stamps.map((s, i) => Math.max(0, (stamps[i + 1] ?? endTime) - s));
  }

  it("counts a recursive function once per sample in its cumulative time", () => {
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const d = durations();
    let fibOnStackUs = 0; // samples with fib anywhere on the stack, each counted once
    let naiveUs = 0; // what summing every fib frame's subtree would give
    let maxDepth = 0;
    profile.samples.forEach((id, i) => {
      let depth = 0;
      for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
        if (byId.get(n)?.callFrame.functionName === "fib") depth++;
      }
      if (depth > 0) fibOnStackUs += d[i] ?? 0;
      naiveUs += depth * (d[i] ?? 0);
      maxDepth = Math.max(maxDepth, depth);
    });
    expect(maxDepth).toBeGreaterThan(5); // the fixture really recurses

    const raw = cpuProfileFunctionTimes(parseCpuProfile(profile));
    const totalMs = raw.reduce((s, r) => s + r.selfMs, 0);
    expect(totalMs * 1000).toBeCloseTo(
      d.reduce((s, x) => s + x, 0),
      3,
    );
    const fib = raw.find((r) => r.function === "fib");
    expect(fib?.file).toBe(path.join(repo, "recursion.cjs"));
    expect(fib?.line).toBe(3);
    expect(fib?.cumulativeMs).toBeCloseTo(fibOnStackUs / 1000, 6);
    expect(naiveUs).toBeGreaterThan(2 * fibOnStackUs);

    const hot = toHotSpots(raw, repo);
    const fibSpot = hot.find((h) => h.function === "fib");
    const mainSpot = hot.find((h) => h.function === "main");
    expect(fibSpot).toMatchObject({ file: "recursion.cjs", line: 3 });
    expect(fibSpot?.cumulativePct).toBeLessThanOrEqual(mainSpot?.cumulativePct ?? 0);
    expect(mainSpot?.cumulativePct).toBeLessThanOrEqual(100);
    expect(hot[0]?.function).toBe("fib");
  });

  it("rejects a file that is not a V8 CPU profile", () => {
    expect(() => parseCpuProfile({ nodes: "x" }, "bad.cpuprofile")).toThrow(NodeProfileReadError);
  });
});
