/**
 * Stacks of recorded profiles (test/fixtures/profiles/, see SOURCES.md) to speedscope JSON and
 * collapsed stacks: shapes against the speedscope schema's required fields, weights that sum to the
 * profile's total, and the Python reconstruction from cProfile's caller edges.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseFolded, roundToTotal, toFolded } from "../src/core/profile/folded.ts";
import { cpuProfileFunctionTimes, NodeProfileReadError, parseCpuProfile } from "../src/core/profile/node.ts";
import { cpuProfileStacks } from "../src/core/profile/node-stacks.ts";
import {
  type PythonProfile,
  PythonProfileReadError,
  parsePythonProfile,
} from "../src/core/profile/python.ts";
import { pythonProfileStacks } from "../src/core/profile/python-stacks.ts";
import { SPEEDSCOPE_SCHEMA, toSpeedscope } from "../src/core/profile/speedscope.ts";
import {
  DEEPER_FRAME,
  displayPaths,
  OTHER_FRAME,
  pruneStacks,
  type StackProfile,
} from "../src/core/profile/stacks.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/profiles");
/** What the recorded files' own directory was replaced with (SOURCES.md). */
const PLACEHOLDER = "/__FIXTURE_DIR__";

function nodeFixture(): unknown {
  return JSON.parse(readFileSync(path.join(FIXTURES, "shared-callee.cpuprofile"), "utf8"));
}

function pythonFixture(): PythonProfile {
  return parsePythonProfile(JSON.parse(readFileSync(path.join(FIXTURES, "shared_callee.py.json"), "utf8")));
}

const relative = displayPaths(PLACEHOLDER);
const fileUrlRelative = (f: string) => relative(f);

/** The stack of `profile` whose frame names are exactly `names` (root first), or undefined. */
function stackNamed(profile: StackProfile, names: string[]) {
  return profile.stacks.find(
    (s) => s.frames.length === names.length && s.frames.every((f, i) => profile.frames[f]?.name === names[i]),
  );
}

/** Σ weights of the stacks whose innermost frame is `name`. */
function leafWeight(profile: StackProfile, name: string): number {
  return profile.stacks
    .filter((s) => profile.frames[s.frames[s.frames.length - 1] ?? -1]?.name === name)
    .reduce((sum, s) => sum + s.weightUs, 0);
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * The required fields of https://www.speedscope.app/file-format-schema.json (FileFormat.File,
 * FileFormat.Frame, FileFormat.SampledProfile / EventedProfile, ValueUnit), checked by hand.
 */
function expectSpeedscopeShape(file: unknown): void {
  const f = file as Record<string, unknown>;
  expect(f.$schema).toBe("https://www.speedscope.app/file-format-schema.json");
  const shared = f.shared as { frames: unknown[] };
  expect(Array.isArray(shared.frames)).toBe(true);
  for (const frame of shared.frames as Record<string, unknown>[]) {
    expect(typeof frame.name).toBe("string");
    if ("file" in frame) expect(typeof frame.file).toBe("string");
    if ("line" in frame) expect(typeof frame.line).toBe("number");
  }
  expect(Array.isArray(f.profiles)).toBe(true);
  for (const p of f.profiles as Record<string, unknown>[]) {
    for (const key of ["type", "name", "unit", "startValue", "endValue", "samples", "weights"])
      expect(p).toHaveProperty(key);
    expect(p.type).toBe("sampled");
    expect(["bytes", "microseconds", "milliseconds", "nanoseconds", "none", "seconds"]).toContain(p.unit);
    expect(typeof p.name).toBe("string");
    expect(p.endValue as number).toBeGreaterThanOrEqual(p.startValue as number);
    const samples = p.samples as number[][];
    const weights = p.weights as number[];
    expect(weights).toHaveLength(samples.length);
    for (const s of samples)
      for (const i of s) expect(i >= 0 && i < shared.frames.length && Number.isInteger(i)).toBe(true);
  }
}

describe("Node: a recorded .cpuprofile", () => {
  const stacks = cpuProfileStacks(parseCpuProfile(nodeFixture()), {
    file: fileUrlRelative,
    name: "node (pid 1, thread 0)",
  });

  it("keeps every sample's time: the stacks sum to the hot spots' total", () => {
    const hotSpotTotalUs =
      sum(cpuProfileFunctionTimes(parseCpuProfile(nodeFixture())).map((r) => r.selfMs)) * 1000;
    expect(stacks.totalUs).toBeCloseTo(hotSpotTotalUs, 3);
    expect(sum(stacks.stacks.map((s) => s.weightUs))).toBeCloseTo(stacks.totalUs, 3);
    expect(stacks.origin).toBe("sampled");
  });

  it("gives the real call paths, without V8's (root)", () => {
    const path = ["(anonymous)", "main", "heavy", "weigh"];
    const heavy = stacks.stacks.find((s) => {
      const names = s.frames.map((f) => stacks.frames[f]?.name);
      return names.slice(-4).join(">") === path.join(">");
    });
    const light = stacks.stacks.find(
      (s) =>
        s.frames
          .map((f) => stacks.frames[f]?.name)
          .slice(-2)
          .join(">") === "light>weigh",
    );
    expect(heavy && light).toBeTruthy();
    // heavy() does 4× light()'s work.
    expect((heavy?.weightUs ?? 0) / (light?.weightUs ?? 1)).toBeGreaterThan(2.5);
    expect(stacks.frames.some((f) => f.name === "(root)")).toBe(false);
    const weigh = stacks.frames.find((f) => f.name === "weigh");
    expect(weigh).toEqual({ name: "weigh", file: "shared-callee.cjs", line: 4 });
    // Recursion stays on the stack: walk() calls itself six times.
    const deepest = Math.max(
      ...stacks.stacks.map((s) => s.frames.filter((f) => stacks.frames[f]?.name === "walk").length),
    );
    expect(deepest).toBe(7);
  });

  it("converts to speedscope JSON and to collapsed stacks with the same total", () => {
    const pruned = pruneStacks(stacks);
    const file = toSpeedscope([pruned], "test", "perfloop");
    expectSpeedscopeShape(JSON.parse(JSON.stringify(file)));
    expect(file.profiles[0]?.unit).toBe("microseconds");
    expect(sum(file.profiles[0]?.weights ?? [])).toBeCloseTo(stacks.totalUs, 3);
    expect(file.profiles[0]?.endValue).toBeCloseTo(stacks.totalUs, 3);

    const folded = parseFolded(toFolded(pruned));
    expect(sum(folded.map((l) => l.weight))).toBe(Math.round(stacks.totalUs));
    for (const line of folded) {
      expect(line.frames[0]).toBe("[node (pid 1, thread 0)]");
      expect(Number.isInteger(line.weight)).toBe(true);
    }
    expect(folded.some((l) => l.frames.at(-1) === "weigh (shared-callee.cjs:4)")).toBe(true);
  });

  it("rejects what is not a V8 CPU profile", () => {
    expect(() => parseCpuProfile({ nodes: 1 }, "x.cpuprofile")).toThrow(NodeProfileReadError);
  });
});

describe("Python: a recorded hook profile, stacks rebuilt from caller edges", () => {
  const profile = pythonFixture();
  const stacks = pythonProfileStacks(profile, { file: relative });

  it("moves every function's own time onto stacks: the weights sum to total_s", () => {
    expect(stacks.origin).toBe("reconstructed");
    expect(stacks.totalUs).toBeCloseTo(profile.total_s * 1e6, 3);
    expect(sum(stacks.stacks.map((s) => s.weightUs))).toBeCloseTo(profile.total_s * 1e6, 3);
    expect(stacks.name).toBe(`python3 shared_callee.py (pid ${profile.pid})`);
  });

  it("splits a shared callee's own time by what cProfile measured per caller", () => {
    const weigh = profile.functions.findIndex((f) => f.function === "weigh");
    const heavy = profile.functions.findIndex((f) => f.function === "heavy");
    const edge = profile.functions[weigh]?.callers?.find(([c]) => c === heavy);
    const viaHeavy = stackNamed(stacks, ["<module>", "main", "heavy", "weigh"]);
    expect(viaHeavy?.weightUs).toBeCloseTo((edge?.[3] ?? 0) * 1e6, 3);
    const viaLight = stackNamed(stacks, ["<module>", "main", "light", "weigh"]);
    expect((viaHeavy?.weightUs ?? 0) / (viaLight?.weightUs ?? 1)).toBeGreaterThan(2.5);
    expect(leafWeight(stacks, "weigh")).toBeCloseTo((profile.functions[weigh]?.tottime_s ?? 0) * 1e6, 3);
    expect(stacks.frames.find((f) => f.name === "weigh")).toEqual({
      name: "weigh",
      file: "shared_callee.py",
      line: 6,
    });
  });

  it("shows a recursive function once per stack", () => {
    const viaWalk = stackNamed(stacks, ["<module>", "main", "walk", "weigh"]);
    expect(viaWalk?.weightUs).toBeGreaterThan(0);
    for (const s of stacks.stacks) {
      expect(s.frames.filter((f) => stacks.frames[f]?.name === "walk").length).toBeLessThanOrEqual(1);
    }
  });

  it("converts to speedscope JSON that says the stacks are rebuilt, and to collapsed stacks", () => {
    const pruned = pruneStacks(stacks);
    const file = toSpeedscope([pruned], "test", "perfloop");
    expectSpeedscopeShape(JSON.parse(JSON.stringify(file)));
    expect(file.$schema).toBe(SPEEDSCOPE_SCHEMA);
    expect(file.profiles[0]?.name).toMatch(/rebuilt from cProfile caller edges, not sampled/);
    expect(sum(file.profiles[0]?.weights ?? [])).toBeCloseTo(profile.total_s * 1e6, 3);
    const folded = parseFolded(toFolded(pruned));
    expect(sum(folded.map((l) => l.weight))).toBe(Math.round(profile.total_s * 1e6));
    expect(folded[0]?.frames[0]).toMatch(
      /^\[python3 shared_callee\.py \(pid \d+\), stacks rebuilt from caller edges\]$/,
    );
    expect(
      folded.some((l) =>
        l.frames
          .join(";")
          .endsWith("main (shared_callee.py:33);heavy (shared_callee.py:17);weigh (shared_callee.py:6)"),
      ),
    ).toBe(true);
  });

  it("reads a profile of an older hook (no callers) as one-frame stacks", () => {
    const old = { ...profile, functions: profile.functions.map(({ callers: _, ...f }) => f) };
    const flat = pythonProfileStacks(old);
    expect(flat.stacks.every((s) => s.frames.length === 1)).toBe(true);
    expect(flat.totalUs).toBeCloseTo(profile.total_s * 1e6, 3);
  });

  it("ends on a cycle of callers with no root, and keeps its time", () => {
    const fn = (name: string, tt: number, callers: Array<[number, number, number, number, number]>) => ({
      file: "/x.py",
      line: 1,
      function: name,
      calls: 1,
      primitive_calls: 1,
      tottime_s: tt,
      cumtime_s: tt,
      callers,
    });
    const cyclic = pythonProfileStacks({
      pid: 1,
      argv: ["python3"],
      total_s: 0.003,
      functions: [fn("a", 0.001, [[1, 1, 1, 0.001, 0.002]]), fn("b", 0.002, [[0, 1, 1, 0.002, 0.003]])],
    });
    expect(sum(cyclic.stacks.map((s) => s.weightUs))).toBeCloseTo(3000, 6);
    expect(cyclic.stacks.every((s) => s.frames.length === 2)).toBe(true);
  });

  it("drops a malformed callers list instead of the whole profile", () => {
    const odd = parsePythonProfile({
      ...profile,
      functions: [{ ...profile.functions[0], callers: [["x"]] }],
    });
    expect(odd.functions[0]?.callers).toBeUndefined();
  });

  it("rejects a file of another shape", () => {
    expect(() => parsePythonProfile({ pid: "x" }, "py-1.json")).toThrow(PythonProfileReadError);
  });
});

describe("pruneStacks", () => {
  const frame = (name: string) => ({ name, file: "f.py", line: 1 });
  const profile: StackProfile = {
    name: "t",
    origin: "sampled",
    frames: ["root", "big", "small", "tiny", "deep"].map(frame),
    stacks: [
      { frames: [0, 1], weightUs: 9000 },
      { frames: [0, 2], weightUs: 990 },
      { frames: [0, 3], weightUs: 5 },
      { frames: [0, 3, 4], weightUs: 5 },
      { frames: [0, 1, 4, 4, 4, 4], weightUs: 0 }, // no time: left out
    ],
    totalUs: 10_000,
  };

  it("folds call paths under the cut-off into one [other] frame and keeps the total", () => {
    const pruned = pruneStacks(profile, { minShare: 0.01 });
    const names = pruned.stacks.map((s) => s.frames.map((f) => pruned.frames[f]?.name).join(";"));
    expect(names).toEqual(["root;big", "root;small", `root;${OTHER_FRAME}`]);
    expect(pruned.stacks.map((s) => s.weightUs)).toEqual([9000, 990, 10]);
    expect(pruned.totalUs).toBe(10_000);
  });

  it("cuts stacks deeper than maxDepth into one marker frame", () => {
    const deep: StackProfile = { ...profile, stacks: [{ frames: [0, 1, 4, 4, 4, 4], weightUs: 100 }] };
    const pruned = pruneStacks(deep, { maxDepth: 3 });
    expect(pruned.stacks.map((s) => s.frames.map((f) => pruned.frames[f]?.name))).toEqual([
      ["root", "big", "deep", DEEPER_FRAME],
    ]);
    expect(pruned.stacks[0]?.weightUs).toBe(100);
  });

  it("raises the cut-off until at most maxStacks stacks are left", () => {
    const many: StackProfile = {
      name: "m",
      origin: "sampled",
      frames: Array.from({ length: 500 }, (_, i) => frame(`f${i}`)),
      stacks: Array.from({ length: 500 }, (_, i) => ({ frames: [i], weightUs: i + 1 })),
      totalUs: (500 * 501) / 2,
    };
    const pruned = pruneStacks(many, { minShare: 0, maxStacks: 50 });
    expect(pruned.stacks.length).toBeLessThanOrEqual(50);
    expect(sum(pruned.stacks.map((s) => s.weightUs))).toBe(many.totalUs);
  });
});

describe("displayPaths", () => {
  it("shows files of the tree relative to it, a Python installation's from its library on", () => {
    const show = displayPaths("/work/tree/");
    expect(show("/work/tree/pkg/mod.py")).toBe("pkg/mod.py");
    expect(show("/work/tree/.venv/lib/python3.12/site-packages/numpy/x.py")).toBe(
      ".venv/lib/python3.12/site-packages/numpy/x.py",
    );
    expect(show("/usr/lib/python3.12/json/encoder.py")).toBe("json/encoder.py");
    expect(show("/opt/py/lib/python3.13t/site-packages/numpy/core/x.py")).toBe("numpy/core/x.py");
    expect(show("/work/treehouse/a.py")).toBe("/work/treehouse/a.py");
    expect(show("~")).toBe("~");
    expect(show("node:internal/main/run_main_module")).toBe("node:internal/main/run_main_module");
  });
});

describe("roundToTotal", () => {
  it("rounds to integers that sum to the rounded total", () => {
    const values = [0.4, 0.4, 0.4, 1.7, 2.2];
    const rounded = roundToTotal(values);
    expect(sum(rounded)).toBe(Math.round(sum(values)));
    for (const [i, r] of rounded.entries()) expect(Math.abs(r - (values[i] ?? 0))).toBeLessThan(1);
  });
});
