import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig } from "vitest/config";

// The default memory store lives in the user's cache directory (src/core/memory/session.ts): tests
// get a cache of their own, so they neither read nor leave stores in ~/.cache/perfloop.
const cache = mkdtempSync(path.join(tmpdir(), "perfloop-test-cache-"));

// The real python3 first on PATH: a version manager's shim (pyenv's is a bash script) costs ~0.1 s
// per start, and the tests start Python hundreds of times, in and out of the sandbox.
let python = "";
try {
  python = execFileSync(
    "python3",
    ["-c", "import os, sys; print(os.path.dirname(os.path.realpath(sys.executable)))"],
    {
      encoding: "utf8",
    },
  ).trim();
} catch {
  // no python3: the tests that need it say so
}
const PATH = [python, process.env.PATH ?? ""].filter(Boolean).join(path.delimiter);

/**
 * Tests that start real processes to run the loop, measure, sample or attack the sandbox: they run
 * one file at a time, after the unit tests, so they never compete with each other for the CPUs. They
 * assert only what holds under any load (bundle files, gates, exit codes, the user's tree, what the
 * sandbox lets through) — decisions on timings are tested on recorded samples in the unit project.
 */
const E2E = [
  "test/loop-*.test.ts",
  "test/memory-loop.test.ts",
  "test/measure-metric.test.ts",
  "test/instructions.test.ts",
  "test/profile-python.test.ts",
  "test/profile-node.test.ts",
  "test/proc-sampler.test.ts",
  "test/gpu-sampler.test.ts",
  "test/exec.test.ts",
  "test/sandbox-*.test.ts",
  "test/action/{bundle,cancel,hostile,pr,scan,evidence,gate}.test.ts",
  "test/package.test.ts",
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 120_000,
    env: { XDG_CACHE_HOME: cache, PATH },
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: E2E,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: E2E,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
