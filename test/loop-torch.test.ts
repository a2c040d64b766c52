/**
 * End to end on CPU: `perfloop profile` on the PyTorch example (examples/mlpeval, its own config,
 * in the sandbox) records the torch.profiler trace in a run of its own, keeps it in the bundle, and
 * the verdict names operators, their numbers and the Python lines responsible — issue "GPU work seen
 * from inside", done-when 1. Fewer runs than the example's config, for time.
 */
import { cp, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/core/config/load.ts";
import { runPerfloop } from "../src/core/loop/run.ts";
import { parseTorchTrace } from "../src/core/profile/torch-trace.ts";

const EXAMPLE = path.resolve(import.meta.dirname, "../examples/mlpeval");

let work = "";
afterAll(() => (work ? rm(work, { recursive: true, force: true }) : undefined));

describe("perfloop profile examples/mlpeval (CPU)", () => {
  it("keeps the PyTorch trace and gives a verdict with operator numbers and Python lines", async () => {
    work = await mkdtemp(path.join(tmpdir(), "perfloop-loop-torch-"));
    const repo = path.join(work, "repo");
    const out = path.join(work, "out");
    await cp(EXAMPLE, repo, { recursive: true, filter: (src) => !src.includes("__pycache__") });
    const config = await loadConfig(repo);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: out,
      mode: "profile",
      model: null,
      config: {
        ...config,
        repetitions: { ...config.repetitions, warmup: 0, runs: 3 },
        statistics: { ...config.statistics, max_cv: 100 },
      },
    });
    expect(results.status, results.message).toBe("no-improvement");

    const profiles = await readdir(path.join(out, "profiles"));
    const traceName = profiles.find((n) => /^torch-\d+\.pt\.trace\.json$/.test(n));
    expect(traceName, profiles.join(", ")).toBeDefined();
    const trace = parseTorchTrace(
      await readFile(path.join(out, "profiles", traceName as string), "utf8"),
      "kept",
    );
    expect(trace.ops.length).toBeGreaterThan(0);

    // The window is evaluate_batch's calls 11–110 at batch 1: three .item() reads per call.
    expect(results.torch?.scalarReads.count).toBe(300);
    expect(results.torch?.scalarReads.sites[0]?.site).toMatchObject({
      file: "mlpeval/evaluate.py",
      function: "evaluate_batch",
    });
    const cpu = results.verdicts.find((v) => v.category === "cpu-single-thread");
    expect(cpu?.numbers.torchOps).toBe(results.torch?.opCount);
    expect(cpu?.remedies.join("\n")).toMatch(
      /300 `\.item\(\)` reads, most in mlpeval\/evaluate\.py:\d+ evaluate_batch/,
    );
    expect(cpu?.remedies.join("\n")).toMatch(/busiest operators: aten::\w+ [\d.]+% of operator self time/);

    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(report).toContain("### PyTorch trace");
    expect(report).toContain(`profiles/${traceName}`);
    const facts = JSON.parse(await readFile(path.join(out, "profiles/torch_facts.json"), "utf8"));
    expect(facts.opCount).toBe(results.torch?.opCount);
  }, 240_000);
});
