/**
 * perfloop's PyTorch trace hook (src/core/profile/python/_perfloop_torch.py), run for real with the
 * machine's torch (found as examples/mlpeval/python.sh finds it; the README's commands install
 * Debian's python3-torch). Outside the sandbox: these test the hook, test/loop-torch.test.ts the run.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pythonProfileEnv, SITECUSTOMIZE_DIR, torchTraceEnv } from "../src/core/profile/python.ts";
import { torchFacts } from "../src/core/profile/torch-facts.ts";
import { parseTorchTrace } from "../src/core/profile/torch-trace.ts";

const run = promisify(execFile);
const PYTHON_SH = path.resolve(import.meta.dirname, "../examples/mlpeval/python.sh");

const STEP = `import torch


def step(x, w):
    return ((x @ w).relu().sum()).item()


class Runner:
    @staticmethod
    def sstep(x, w):
        return step(x, w)

    @classmethod
    def cstep(cls, x, w):
        return step(x, w)
`;
const MAIN = `import sys
import torch
from work.steps import Runner, step

x = torch.ones(8, 16)
w = torch.ones(16, 4)
pick = {"s": Runner().sstep, "c": Runner().cstep}.get(sys.argv[1] if len(sys.argv) > 1 else "", step)
print(sum(pick(x, w) for _ in range(10)))
`;

let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perfloop-torch-hook-"));
  await mkdir(path.join(dir, "work"));
  await writeFile(path.join(dir, "work/__init__.py"), "");
  await writeFile(path.join(dir, "work/steps.py"), STEP);
  await writeFile(path.join(dir, "work/main.py"), MAIN);
  await writeFile(path.join(dir, "plain.py"), "print(sum(range(10)))\n");
});
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

async function python(args: string[], env: Record<string, string>): Promise<string> {
  const { stdout } = await run("sh", [PYTHON_SH, ...args], { cwd: dir, env: { ...process.env, ...env } });
  return stdout;
}

/** The facts of the one trace the hook wrote into `out`. */
async function traceFacts(out: string) {
  const names = await traces(out);
  expect(names).toHaveLength(1);
  const text = await readFile(path.join(out, names[0] as string), "utf8");
  return torchFacts(parseTorchTrace(text, "t"), dir, "t");
}

async function traces(out: string): Promise<string[]> {
  return (await readdir(out).catch(() => [] as string[])).filter((n) => /^torch-\d+\.json$/.test(n));
}

describe("the PyTorch trace hook", () => {
  it("records from the import of torch to exit, the program's output unchanged, its frames in the call stacks", async () => {
    const out = path.join(dir, "all");
    const stdout = await python(
      ["-m", "work.main"],
      torchTraceEnv({}, out, { torch_steps: 5, torch_skip: 1 }),
    );
    expect(stdout.trim()).toBe("5120.0"); // 10 steps × 8·4 entries of 16
    const facts = await traceFacts(out);
    expect(facts.scalarReads.count).toBe(10);
    expect(facts.scalarReads.sites[0]?.site).toEqual({ file: "work/steps.py", line: 4, function: "step" });
    expect(facts.operators.map((o) => o.name)).toContain("aten::relu");
  }, 60_000);

  it("with a step function, records only the window: skip 2 calls, then 3", async () => {
    const out = path.join(dir, "window");
    await python(
      ["-m", "work.main"],
      torchTraceEnv({}, out, { torch_step: "work.steps:step", torch_steps: 3, torch_skip: 2 }),
    );
    const facts = await traceFacts(out);
    expect(facts.scalarReads.count).toBe(3);
  }, 60_000);

  it("keeps a staticmethod or classmethod step one, and counts its calls", async () => {
    for (const [flag, target] of [
      ["s", "work.steps:Runner.sstep"],
      ["c", "work.steps:Runner.cstep"],
    ] as const) {
      const out = path.join(dir, `method-${flag}`);
      const stdout = await python(
        ["-m", "work.main", flag],
        torchTraceEnv({}, out, { torch_step: target, torch_steps: 4, torch_skip: 0 }),
      );
      expect(stdout.trim()).toBe("5120.0");
      const facts = await traceFacts(out);
      expect(facts.scalarReads.count).toBe(4);
    }
  }, 60_000);

  it("writes nothing for a program that never imports torch", async () => {
    const out = path.join(dir, "plain");
    expect(
      (await python(["plain.py"], torchTraceEnv({}, out, { torch_steps: 5, torch_skip: 1 }))).trim(),
    ).toBe("45");
    expect(await traces(out)).toEqual([]);
  }, 60_000);

  it("stays off in the cProfile run, which records that torch was imported", async () => {
    const out = path.join(dir, "cprofile");
    const env = { ...pythonProfileEnv({}, out), PERFLOOP_TORCH_DIR: out };
    await python(["-m", "work.main"], env);
    expect(await traces(out)).toEqual([]);
    const py = (await readdir(out)).filter((n) => n.startsWith("py-"));
    const docs = await Promise.all(
      py.map(async (n) => JSON.parse(await readFile(path.join(out, n), "utf8"))),
    );
    expect(docs.some((d) => d.torch === true)).toBe(true);
  }, 60_000);

  it("behaviour capture tells two models of one architecture apart by their weights, not their repr", async () => {
    const script = [
      "import importlib.util, json, torch",
      `spec = importlib.util.spec_from_file_location("fp", ${JSON.stringify(path.join(SITECUSTOMIZE_DIR, "_perfloop_fingerprint.py"))})`,
      "fp = importlib.util.module_from_spec(spec); spec.loader.exec_module(fp)",
      "torch.manual_seed(0); a = torch.nn.Linear(4, 2); b = torch.nn.Linear(4, 2)",
      "print(json.dumps([repr(a) == repr(b), fp.fingerprint(a) == fp.fingerprint(b), fp.fingerprint(a) == fp.fingerprint(a)]))",
    ].join("\n");
    expect(JSON.parse(await python(["-c", script], {}))).toEqual([true, false, true]);
  }, 60_000);

  it("leaves PYTHONPATH's other entries after its own, and no cProfile directory in the trace run", () => {
    const env = torchTraceEnv({ PYTHONPATH: "/a" }, "/tmp/t", { torch_steps: 5, torch_skip: 1 });
    expect(env.PYTHONPATH).toBe(`${SITECUSTOMIZE_DIR}${path.delimiter}/a`);
    expect(env.PERFLOOP_PROFILE_DIR).toBeUndefined();
    expect(env.PERFLOOP_TORCH_STEP).toBeUndefined();
  });
});
