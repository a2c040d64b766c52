// The small pieces of `perfloop init`'s detection: shell words, hyperfine arguments, Python
// requirement names and GPU imports, the placeholder commands (they must fail, with their message),
// and the config rendered for a hand-made detection (its strings cannot break the YAML).
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfigText } from "../src/core/config/load.ts";
import { detectProject } from "../src/core/init/detect.ts";
import { gpuImport } from "../src/core/init/gpu.ts";
import { parseHyperfineArgs } from "../src/core/init/hyperfine-args.ts";
import { normalizeName, requirementName } from "../src/core/init/python-deps.ts";
import { BENCHMARK_PLACEHOLDER, renderConfig, TEST_PLACEHOLDER } from "../src/core/init/render-config.ts";
import { shellWords } from "../src/core/init/shell-words.ts";
import type { Detection } from "../src/core/init/types.ts";

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

const words = (line: string) => shellWords(line).map((t) => (t.operator ? `<${t.value}>` : t.value));
const hyperfine = (line: string) => parseHyperfineArgs(shellWords(line));

describe("shellWords", () => {
  it("removes quotes, honours escapes, splits operators and stops at comments", () => {
    expect(words(`hyperfine 'a b' "c \\"d\\" \\$e" f\\ g && x; y | z # note`)).toEqual([
      "hyperfine",
      "a b",
      'c "d" $e',
      "f g",
      "<&&>",
      "x",
      "<;>",
      "y",
      "<|>",
      "z",
    ]);
    expect(words("echo 'unterminated")).toEqual(["echo", "unterminated"]);
  });
});

describe("parseHyperfineArgs", () => {
  it("skips options with their values and takes the commands", () => {
    const call = hyperfine(
      "--warmup 3 -r 20 -N --export-json=out.json --show-output -w5 'python3 -m app data.txt' 'python3 -m app2'",
    );
    expect(call.commands).toEqual(["python3 -m app data.txt", "python3 -m app2"]);
    expect(call.caveats.join("\n")).toMatch(/compares 2 commands/);
  });

  it("fills parameters with their first value and reports --prepare and --setup", () => {
    const call = hyperfine("-P n 10 100 -L mode fast,slow -p 'sync' -s 'make build' './run {mode} {n}'");
    expect(call.commands).toEqual(["./run fast 10"]);
    expect(call.setup).toBe("make build");
    expect(call.caveats.join("\n")).toMatch(/--prepare/);
    expect(call.caveats.join("\n")).toMatch(/setup/);
  });

  it("stops at the first control operator", () => {
    expect(hyperfine("'a' && echo done").commands).toEqual(["a"]);
  });
});

describe("Python names and GPU imports", () => {
  it("normalises requirement names like PEP 503", () => {
    expect(requirementName("pytest_Benchmark[histogram]>=4 ; python_version>'3.8'")).toBe("pytest-benchmark");
    expect(normalizeName("Pytest.Benchmark")).toBe("pytest-benchmark");
    expect(requirementName("-r base.txt")).toBeNull();
  });

  it("recognises GPU frameworks in import lines only", () => {
    expect(gpuImport("import torch")).toBe("torch");
    expect(gpuImport("import os, torch.nn as nn")).toBe("torch");
    expect(gpuImport("from jax import numpy as jnp")).toBe("jax");
    expect(gpuImport("from numba import jit, cuda")).toBe("numba.cuda");
    expect(gpuImport("import numba.cuda")).toBe("numba.cuda");
    expect(gpuImport("import numba")).toBeNull();
    expect(gpuImport("import torchvision")).toBeNull();
    expect(gpuImport("# import torch")).toBeNull();
  });
});

describe("placeholders", () => {
  it("fail with a message naming the key to replace", () => {
    for (const [command, key] of [
      [TEST_PLACEHOLDER, "test"],
      [BENCHMARK_PLACEHOLDER, "benchmark.command"],
    ] as const) {
      let stderr = "";
      let status = 0;
      try {
        execFileSync("sh", ["-c", command], { stdio: "pipe" });
      } catch (error) {
        status = (error as { status: number }).status;
        stderr = String((error as { stderr: Buffer }).stderr);
      }
      expect(status).toBe(1);
      expect(stderr).toContain(`replace ${key} in .github/perfloop.yml`);
    }
  });
});

describe("renderConfig", () => {
  it("writes any command as a YAML string that loads back unchanged", () => {
    const nasty = `python3 -c "print('a: b # c')" && echo '{x}' ; echo "\\t" \`date\``;
    const detection: Detection = {
      languages: [],
      tests: [
        {
          language: "python",
          runner: "pytest",
          command: nasty,
          evidence: [{ file: "a: b.py", line: 1, text: "# x: [y" }],
        },
      ],
      test: nasty,
      benchmarks: [
        { kind: "hyperfine", command: nasty, output: "exact", files: ["data: x.txt"], evidence: [] },
      ],
      benchmark: nasty,
      benchmarkFiles: ["data: x.txt"],
      gpu: [],
      notes: [],
      scanned: { files: 0, truncated: false },
    };
    const config = parseConfigText(renderConfig(detection));
    expect(config.test).toBe(nasty);
    expect(config.benchmark.command).toBe(nasty);
    expect(config.benchmark.files).toEqual(["data: x.txt"]);
  });
});

describe("detection details", () => {
  it("reads hyperfine from a justfile with its variables, and npm's bench script after it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "perfloop-init-parts-"));
    temps.push(dir);
    await writeFile(
      join(dir, "justfile"),
      'input := "big.txt"\n\nbench:\n    hyperfine "./tool {{input}}"\n',
    );
    await writeFile(join(dir, "big.txt"), "x\n");
    await writeFile(join(dir, "package.json"), JSON.stringify({ scripts: { bench: "node b.js" } }, null, 2));
    const d = await detectProject(dir);
    expect(d.benchmarks.map((b) => [b.kind, b.command])).toEqual([
      ["hyperfine", "./tool big.txt"],
      ["npm-script", "npm run --silent bench"],
    ]);
    expect(d.benchmark).toBe("./tool big.txt");
    expect(d.benchmarkFiles).toEqual(["big.txt"]);
  });

  it("picks unittest's pattern when test files are named *_test.py", async () => {
    const dir = await mkdtemp(join(tmpdir(), "perfloop-init-parts-"));
    temps.push(dir);
    await writeFile(join(dir, "calc_test.py"), "import unittest\n\nclass T(unittest.TestCase):\n    pass\n");
    const d = await detectProject(dir);
    expect(d.test).toBe("python3 -m unittest discover -s . -p '*_test.py'");
  });
});
