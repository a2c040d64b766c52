import { execFile, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CallRecord,
  type Capture,
  CaptureReadError,
  type CaptureTarget,
  captureEnv,
  readCapture,
} from "../src/core/behaviour/capture.ts";
import { compareBehaviour, describeDifference } from "../src/core/behaviour/compare.ts";
import { SITECUSTOMIZE_DIR } from "../src/core/profile/python.ts";

const run = promisify(execFile);
const hasPython = spawnSync("python3", ["--version"]).status === 0;
const hasNumpy = hasPython && spawnSync("python3", ["-c", "import numpy"]).status === 0;

const MODULE = `class Shape:
    def __init__(self, w):
        self.w = w

    def __repr__(self):
        return "Shape(%r)" % self.w

    def area(self, k):
        return self.w * k

    @staticmethod
    def unit(k):
        return k * 1


def spell(n):
    return "poni"[: n % 5]


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def check(x):
    if x < 0:
        raise ValueError("negative: %d" % x)
    return x


def mean(xs):
    return sum(xs) / len(xs)


def legacy(n):
    return n + 1
`;

const DRIVER = `from lib.mathy import Shape, check, fib, legacy, mean, spell

for i in range(6):
    spell(i)
for w in (1, 2):
    Shape(w).area(3)
Shape.unit(4)
print(fib(8))
for x in (1, -2):
    try:
        check(x)
    except ValueError as exc:
        print("caught", exc)
print(mean([0.1, 0.2, 0.3]), mean([1.0, 2.0]))
legacy(1)
`;

const TARGETS: CaptureTarget[] = ["area", "unit", "spell", "fib", "check", "mean", "legacy"].map((f) => ({
  file: "lib/mathy.py",
  function: f,
}));

let scratch: string;
let counter = 0;

function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.PERFLOOP_PROFILE_DIR;
  return env;
}

/**
 * Writes `files` into a fresh tree, runs `python3 main.py` there with capture on and returns what
 * it printed and the capture.
 */
async function captureRun(
  files: Record<string, string>,
  targets: CaptureTarget[] = TARGETS,
  maxCalls?: number,
): Promise<{ stdout: string; capture: Capture; dir: string; root: string }> {
  counter += 1;
  const root = path.join(scratch, `tree-${counter}`);
  const dir = path.join(scratch, `cap-${counter}`);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
  const { stdout } = await run("python3", ["main.py"], {
    cwd: root,
    env: captureEnv(baseEnv(), dir, root, targets, maxCalls),
  });
  return { stdout, capture: await readCapture(dir), dir, root };
}

function defined<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error("expected a value");
  return value;
}

function tree(module: string, driver = DRIVER): Record<string, string> {
  return { "lib/__init__.py": "", "lib/mathy.py": module, "main.py": driver };
}

describe("captureEnv", () => {
  it("prepends the sitecustomize directory and sets the capture variables", () => {
    const base = { PATH: "/bin", PYTHONPATH: "/a" };
    const env = captureEnv(base, "rel/cap", "rel/root", [{ file: "a/b.py", function: "f" }], 7);
    expect(env.PYTHONPATH).toBe(`${SITECUSTOMIZE_DIR}${path.delimiter}/a`);
    expect(env.PERFLOOP_CAPTURE_DIR).toBe(path.resolve("rel/cap"));
    expect(env.PERFLOOP_CAPTURE_ROOT).toBe(path.resolve("rel/root"));
    expect(JSON.parse(env.PERFLOOP_CAPTURE_TARGETS ?? "")).toEqual([{ file: "a/b.py", function: "f" }]);
    expect(env.PERFLOOP_CAPTURE_MAX_CALLS).toBe("7");
    expect(base).toEqual({ PATH: "/bin", PYTHONPATH: "/a" });
    expect(captureEnv({}, "c", "r", []).PYTHONPATH).toBe(SITECUSTOMIZE_DIR);
    expect(() => captureEnv({}, "c", "r", [], 0)).toThrow(RangeError);
  });
});

describe("readCapture", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "perfloop-capread-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const rec = (key: string, v: string): CallRecord => ({
    key,
    call: `f(${key})`,
    args: { args: [], kwargs: {} },
    result: { t: "str", v },
    raised: null,
    unstable: false,
  });

  it("gives an empty capture for a missing directory", async () => {
    expect(await readCapture(path.join(dir, "nope"))).toEqual({ functions: {} });
  });

  it("merges processes: first record wins, disagreement is unstable, calls add up", async () => {
    const d = path.join(dir, "merge");
    await mkdir(d);
    const file = (pid: number, kept: CallRecord[], truncated = false) =>
      JSON.stringify({ pid, functions: { "m.py::f": { calls: kept.length, kept, truncated } } });
    await writeFile(path.join(d, "cap-10.json"), file(10, [rec("k1", "a"), rec("k2", "b")]));
    await writeFile(path.join(d, "cap-9.json"), file(9, [rec("k1", "a"), rec("k3", "c")], true));
    await writeFile(path.join(d, "cap-11.json"), file(11, [rec("k2", "other")]));
    await writeFile(path.join(d, ".cap-12.json.tmp"), "{half");
    const capture = await readCapture(d);
    const f = capture.functions["m.py::f"];
    expect(f?.calls).toBe(5);
    expect(f?.truncated).toBe(true);
    expect(f?.kept.map((r) => [r.key, r.unstable])).toEqual([
      ["k1", false],
      ["k3", false],
      ["k2", true],
    ]);
  });

  it("throws CaptureReadError for a malformed file", async () => {
    const d = path.join(dir, "bad");
    await mkdir(d);
    await writeFile(path.join(d, "cap-1.json"), JSON.stringify({ pid: 1, functions: { f: { calls: "x" } } }));
    const error = await readCapture(d).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CaptureReadError);
    expect((error as CaptureReadError).cause).toBeDefined();
    await writeFile(path.join(d, "cap-1.json"), "{not json");
    await expect(readCapture(d)).rejects.toThrow(CaptureReadError);
  });
});

describe("compareBehaviour on hand-built captures", () => {
  const call = (key: string, result: CallRecord["result"], extra: Partial<CallRecord> = {}): CallRecord => ({
    key,
    call: `f(${key})`,
    args: null,
    result,
    raised: null,
    unstable: false,
    ...extra,
  });
  const cap = (fns: Record<string, CallRecord[]>): Capture => ({
    functions: Object.fromEntries(
      Object.entries(fns).map(([k, kept]) => [k, { calls: kept.length, kept, truncated: false }]),
    ),
  });

  it("compares shared keys only, skips unstable ones, and reports the first difference in baseline order", () => {
    const baseline = cap({
      "a.py::f": [
        call("1", { t: "int", v: "1" }),
        call("2", { t: "int", v: "2" }, { unstable: true }),
        call("3", { t: "str", v: "poni" }),
        call("4", {
          t: "list",
          len: 2,
          items: [
            { t: "int", v: "1" },
            { t: "float", v: 2.5 },
          ],
        }),
        call("only-baseline", { t: "int", v: "9" }),
      ],
      "a.py::gone": [call("1", { t: "none" })],
    });
    const candidate = cap({
      "a.py::f": [
        call("4", {
          t: "list",
          len: 2,
          items: [
            { t: "int", v: "1" },
            { t: "float", v: 2.6 },
          ],
        }),
        call("3", { t: "str", v: "pony" }),
        call("2", { t: "int", v: "7" }),
        call("1", { t: "int", v: "1" }),
        call("only-candidate", { t: "int", v: "0" }),
      ],
    });
    const result = compareBehaviour(baseline, candidate);
    expect(result.functionsCompared).toBe(1);
    expect(result.callsCompared).toBe(3);
    expect(result.differingCalls).toBe(2);
    expect(result.missing).toEqual(["a.py::gone"]);
    expect(result.difference).toEqual({
      function: "a.py::f",
      call: "f(3)",
      baseline: "'poni'",
      candidate: "'pony'",
    });
    expect(describeDifference(defined(result.difference))).toBe(
      "a.py::f: f(3) gave 'pony' instead of 'poni'",
    );
  });

  it("counts a call stable on the baseline but varying on the candidate as a difference", () => {
    // e.g. a cache added by the candidate hands out a list its callers then mutate.
    const baseline = cap({ "a.py::f": [call("k1", { t: "int", v: "1" })] });
    const candidate = cap({ "a.py::f": [call("k1", { t: "int", v: "1" }, { unstable: true })] });
    const result = compareBehaviour(baseline, candidate);
    expect(result.callsCompared).toBe(1);
    expect(result.difference).toEqual({
      function: "a.py::f",
      call: "f(k1)",
      baseline: "1",
      candidate: "different results on repeated calls with these arguments",
    });
    // Varying on the baseline itself: nothing to hold the candidate to.
    const unsteady = cap({ "a.py::f": [call("k1", { t: "int", v: "1" }, { unstable: true })] });
    expect(compareBehaviour(unsteady, candidate)).toMatchObject({ callsCompared: 0, difference: null });
  });

  it("treats a type change as a difference, nan as nan, and floats within tolerance as equal", () => {
    const one = (r: CallRecord["result"], raised: CallRecord["raised"] = null) =>
      cap({ "m::g": [call("k", r, { raised })] });
    const differs = (a: Capture, b: Capture) => compareBehaviour(a, b).difference !== null;
    expect(differs(one({ t: "int", v: "1" }), one({ t: "float", v: 1 }))).toBe(true);
    expect(differs(one({ t: "float", v: "nan" }), one({ t: "float", v: "nan" }))).toBe(false);
    expect(differs(one({ t: "float", v: "inf" }), one({ t: "float", v: "-inf" }))).toBe(true);
    expect(differs(one({ t: "float", v: 1e6 }), one({ t: "float", v: 1e6 * (1 + 1e-9) }))).toBe(false);
    expect(differs(one({ t: "float", v: 0 }), one({ t: "float", v: 1e-12 }))).toBe(false);
    expect(differs(one({ t: "float", v: 1 }), one({ t: "float", v: 1.00001 }))).toBe(true);
    expect(differs(one({ t: "complex", v: [1, 2] }), one({ t: "complex", v: [1, 2 + 1e-12] }))).toBe(false);
    expect(differs(one({ t: "tuple", len: 0, items: [] }), one({ t: "list", len: 0, items: [] }))).toBe(true);
    const raised = one(null, { t: "raised", type: "ValueError", v: "x" });
    const result = compareBehaviour(raised, one({ t: "none" }));
    expect(result.difference?.baseline).toBe("raised ValueError: x");
    expect(result.difference?.candidate).toBe("None");
  });

  it("compares float arrays by samples and by a sum scaled by the sum of absolute values", () => {
    const arr = (samples: number[], sum: number, abssum: number) =>
      cap({ "m::a": [call("k", { t: "ndarray", dtype: "float64", shape: [3], samples, sum, abssum })] });
    // a cancelling sum: 1e6 - 1e6 + 1e-3, off by rounding
    const base = arr([1e6, -1e6, 1e-3], 1e-3, 2e6);
    expect(compareBehaviour(base, arr([1e6, -1e6, 1e-3], 1e-3 + 1e-8, 2e6)).difference).toBeNull();
    expect(compareBehaviour(base, arr([1e6, -1e6, 2e-3], 2e-3, 2e6)).difference).not.toBeNull();
    const dtype = cap({
      "m::a": [
        call("k", {
          t: "ndarray",
          dtype: "float32",
          shape: [3],
          samples: [1e6, -1e6, 1e-3],
          sum: 1e-3,
          abssum: 2e6,
        }),
      ],
    });
    expect(compareBehaviour(base, dtype).difference).not.toBeNull();
  });
});

describe.skipIf(!hasPython)("behaviour capture of real Python programs", () => {
  let baseline: Awaited<ReturnType<typeof captureRun>>;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), "perfloop-capture-"));
    baseline = await captureRun(tree(MODULE));
  });
  afterAll(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  it("records module functions, methods, recursion and exceptions without changing the program", async () => {
    expect(baseline.stdout).toBe("21\ncaught negative: -2\n0.20000000000000004 1.5\n");
    const f = baseline.capture.functions;
    expect(Object.keys(f).sort()).toEqual(
      [
        "lib/mathy.py::Shape.area",
        "lib/mathy.py::Shape.unit",
        "lib/mathy.py::check",
        "lib/mathy.py::fib",
        "lib/mathy.py::legacy",
        "lib/mathy.py::mean",
        "lib/mathy.py::spell",
      ].sort(),
    );
    expect(f["lib/mathy.py::spell"]?.calls).toBe(6);
    expect(f["lib/mathy.py::spell"]?.kept.map((r) => [r.call, r.result])).toEqual([
      ["spell(0)", { t: "str", v: "" }],
      ["spell(1)", { t: "str", v: "p" }],
      ["spell(2)", { t: "str", v: "po" }],
      ["spell(3)", { t: "str", v: "pon" }],
      ["spell(4)", { t: "str", v: "poni" }],
      ["spell(5)", { t: "str", v: "" }],
    ]);
    // every level of the recursion: fib(8) makes 67 calls over 9 distinct arguments
    expect(f["lib/mathy.py::fib"]?.calls).toBe(67);
    expect(f["lib/mathy.py::fib"]?.kept).toHaveLength(9);
    expect(f["lib/mathy.py::fib"]?.kept.every((r) => !r.unstable)).toBe(true);
    expect(f["lib/mathy.py::Shape.area"]?.kept.map((r) => [r.call, r.result])).toEqual([
      ["Shape.area(Shape(1), 3)", { t: "int", v: "3" }],
      ["Shape.area(Shape(2), 3)", { t: "int", v: "6" }],
    ]);
    const check = f["lib/mathy.py::check"]?.kept.find((r) => r.call === "check(-2)");
    expect(check?.result).toBeNull();
    expect(check?.raised).toEqual({ t: "raised", type: "ValueError", v: "negative: -2" });
    expect(f["lib/mathy.py::mean"]?.kept.map((r) => r.result)).toEqual([
      { t: "float", v: 0.20000000000000004 },
      { t: "float", v: 1.5 },
    ]);
  });

  it("(a) finds no difference for a rewrite that behaves the same", async () => {
    const rewritten = MODULE.replace('return "poni"[: n % 5]', 'return ("", "p", "po", "pon", "poni")[n % 5]')
      .replace(
        "return n if n < 2 else fib(n - 1) + fib(n - 2)",
        "a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
      )
      .replace(
        "return sum(xs) / len(xs)",
        "total = 0.0\n    for x in xs:\n        total += x\n    return total / len(xs)",
      );
    expect(rewritten).not.toBe(MODULE);
    const candidate = await captureRun(tree(rewritten));
    const result = compareBehaviour(baseline.capture, candidate.capture);
    expect(result.difference).toBeNull();
    expect(result.missing).toEqual([]);
    expect(result.functionsCompared).toBe(7);
    // the iterative fib is called once, with 8: one shared argument set for fib
    expect(result.callsCompared).toBe(6 + 2 + 1 + 1 + 2 + 2 + 1);
  });

  it("(b) names the function and the first call whose result changed", async () => {
    const changed = MODULE.replace('return "poni"[: n % 5]', 'return "pony"[: n % 5]');
    const candidate = await captureRun(tree(changed));
    const result = compareBehaviour(baseline.capture, candidate.capture);
    expect(result.difference).toEqual({
      function: "lib/mathy.py::spell",
      call: "spell(4)",
      baseline: "'poni'",
      candidate: "'pony'",
    });
    expect(result.differingCalls).toBe(1);
    expect(describeDifference(defined(result.difference))).toBe(
      "lib/mathy.py::spell: spell(4) gave 'pony' instead of 'poni'",
    );
  });

  it("(b') sees a changed exception and an exception that is no longer raised", async () => {
    const message = await captureRun(tree(MODULE.replace('"negative: %d"', '"below zero: %d"')));
    expect(compareBehaviour(baseline.capture, message.capture).difference).toMatchObject({
      function: "lib/mathy.py::check",
      call: "check(-2)",
      baseline: "raised ValueError: negative: -2",
      candidate: "raised ValueError: below zero: -2",
    });
    const silent = await captureRun(tree(MODULE.replace("if x < 0:", "if x < -5:")));
    expect(compareBehaviour(baseline.capture, silent.capture).difference).toMatchObject({
      function: "lib/mathy.py::check",
      baseline: "raised ValueError: negative: -2",
      candidate: "-2",
    });
  });

  it("(c) accepts float results 1e-12 apart and rejects results 1e-3 apart", async () => {
    const close = await captureRun(
      tree(MODULE.replace("return sum(xs) / len(xs)", "return sum(xs) / len(xs) * (1 + 1e-12)")),
    );
    const closeResult = compareBehaviour(baseline.capture, close.capture);
    expect(closeResult.difference).toBeNull();
    expect(closeResult.callsCompared).toBeGreaterThan(0);
    const far = await captureRun(
      tree(MODULE.replace("return sum(xs) / len(xs)", "return sum(xs) / len(xs) * (1 + 1e-3)")),
    );
    const farResult = compareBehaviour(baseline.capture, far.capture);
    expect(farResult.difference?.function).toBe("lib/mathy.py::mean");
    expect(farResult.difference?.call).toBe("mean([0.1, 0.2, 0.3])");
    expect(farResult.difference?.baseline).toBe("0.20000000000000004");
  });

  it("(d) lists a function the candidate no longer calls as missing, not as a difference", async () => {
    const candidate = await captureRun(tree(MODULE, DRIVER.replace("legacy(1)\n", "")));
    const result = compareBehaviour(baseline.capture, candidate.capture);
    expect(result.missing).toEqual(["lib/mathy.py::legacy"]);
    expect(result.difference).toBeNull();
    expect(result.functionsCompared).toBe(6);
  });

  it("(e) keeps at most MAX_CALLS argument sets and says it truncated", async () => {
    const driver = "from lib.mathy import spell\n\nfor i in range(20):\n    spell(i)\nprint('done')\n";
    const limited = await captureRun(tree(MODULE, driver), TARGETS, 5);
    expect(limited.stdout).toBe("done\n");
    const spell = limited.capture.functions["lib/mathy.py::spell"];
    expect(spell?.calls).toBe(20);
    expect(spell?.kept.map((r) => r.call)).toEqual([
      "spell(0)",
      "spell(1)",
      "spell(2)",
      "spell(3)",
      "spell(4)",
    ]);
    expect(spell?.truncated).toBe(true);
    expect(baseline.capture.functions["lib/mathy.py::spell"]?.truncated).toBe(false);
  });

  it("(f) leaves a program that imports no target unchanged and writes no records", async () => {
    const driver = "import json\nprint(json.dumps({'a': [1, 2]}))\n";
    const captured = await captureRun(tree(MODULE, driver));
    expect(captured.stdout).toBe('{"a": [1, 2]}\n');
    expect(captured.capture).toEqual({ functions: {} });
    const files = await readdir(captured.dir).catch(() => []);
    expect(files).toEqual([]);
    const plain = await run("python3", ["main.py"], { cwd: captured.root, env: baseEnv() });
    expect(plain.stdout).toBe(captured.stdout);
  });

  it("(g) compares numpy float arrays within tolerance and sees a changed element", {
    skip: !hasNumpy,
  }, async () => {
    const module = `import numpy as np


def grid(n):
    return np.linspace(0.0, 1.0, n) ** 2


def counts(n):
    return np.arange(n) % 3
`;
    const driver = "from lib.grid import counts, grid\n\ngrid(10)\ngrid(1000)\ncounts(50)\n";
    const targets = [
      { file: "lib/grid.py", function: "grid" },
      { file: "lib/grid.py", function: "counts" },
    ];
    const files = (m: string) => ({ "lib/__init__.py": "", "lib/grid.py": m, "main.py": driver });
    const base = await captureRun(files(module), targets);
    const grid = base.capture.functions["lib/grid.py::grid"]?.kept[1]?.result;
    expect(grid).toMatchObject({ t: "ndarray", dtype: "float64", shape: [1000] });
    expect(grid?.samples).toHaveLength(64);

    const close = await captureRun(
      files(module.replace("** 2\n", "** 2 * (1 + 1e-12)\n").replace("% 3", "- (np.arange(n) // 3) * 3")),
      targets,
    );
    const closeResult = compareBehaviour(base.capture, close.capture);
    expect(closeResult.difference).toBeNull();
    expect(closeResult.callsCompared).toBe(3);

    const changed = await captureRun(
      files(
        module.replace(
          "return np.linspace(0.0, 1.0, n) ** 2",
          "a = np.linspace(0.0, 1.0, n) ** 2\n    a[-1] += 0.5\n    return a",
        ),
      ),
      targets,
    );
    const changedResult = compareBehaviour(base.capture, changed.capture);
    expect(changedResult.difference).toMatchObject({ function: "lib/grid.py::grid", call: "grid(10)" });
    expect(changedResult.differingCalls).toBe(2);

    const ints = await captureRun(files(module.replace("% 3", "% 4")), targets);
    expect(compareBehaviour(base.capture, ints.capture).difference).toMatchObject({
      function: "lib/grid.py::counts",
      call: "counts(50)",
    });
  });
});
