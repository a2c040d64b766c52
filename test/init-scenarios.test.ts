// Folder-driven scenarios for `perfloop init`, laid out like Codex's apply-patch crate
// (codex-rs/apply-patch/tests/fixtures/scenarios): each test/fixtures/init/<scenario>/ holds input/
// (a small fake project; absent for the empty project, since git keeps no empty directory) and
// expected/detection.json (the detection, evidence lines included). Each scenario runs in a temp
// copy; the written config must load with the project's own loader and carry the detected (or
// placeholder) commands. PERFLOOP_UPDATE_INIT_FIXTURES=1 rewrites expected/ (review the diff).
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runInit } from "../src/cli/init.ts";
import { loadConfig } from "../src/core/config/load.ts";
import { BENCHMARK_PLACEHOLDER, TEST_PLACEHOLDER } from "../src/core/init/render-config.ts";
import { sink } from "./helpers/cli.ts";

const FIXTURES = join(import.meta.dirname, "fixtures", "init");
const UPDATE = process.env.PERFLOOP_UPDATE_INIT_FIXTURES === "1";
const temps: string[] = [];

afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

/** A temp copy of the scenario's input (an empty directory when it has none). */
async function copyInput(scenario: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `perfloop-init-${scenario}-`));
  temps.push(dir);
  const input = join(FIXTURES, scenario, "input");
  await cp(input, dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  return dir;
}

const scenarios = (await readdir(FIXTURES, { withFileTypes: true }))
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("perfloop init scenarios", () => {
  it("has the scenarios the brief asks for", () => {
    for (const name of [
      "pytest-benchmark",
      "unittest-hyperfine",
      "npm-vitest-bench",
      "npm-bench-script",
      "jest",
      "go",
      "cargo",
      "gpu-torch-cuda",
      "empty",
      "malformed-pyproject",
    ])
      expect(scenarios).toContain(name);
  });

  it.each(scenarios)("%s", async (scenario) => {
    const dir = await copyInput(scenario);
    const out = sink();
    const err = sink();
    const outcome = await runInit({ dir, force: false, workflows: false }, { out, err });
    const expectedFile = join(FIXTURES, scenario, "expected", "detection.json");
    if (UPDATE) {
      await mkdir(join(FIXTURES, scenario, "expected"), { recursive: true });
      await writeFile(expectedFile, `${JSON.stringify(outcome.detection, null, 2)}\n`);
    }
    const expected = JSON.parse(await readFile(expectedFile, "utf8"));
    expect(outcome.detection).toEqual(expected);

    // The written config loads with the project's own loader and holds what was detected.
    expect(outcome.written).toEqual([".github/perfloop.yml"]);
    const config = await loadConfig(dir);
    expect(config.test).toBe(outcome.detection.test ?? TEST_PLACEHOLDER);
    expect(config.benchmark.command).toBe(outcome.detection.benchmark ?? BENCHMARK_PLACEHOLDER);
    expect(config.benchmark.files).toEqual(outcome.detection.benchmarkFiles);
    const chosen = outcome.detection.benchmarks.find((b) => b.command === outcome.detection.benchmark);
    expect(config.benchmark.output).toBe(chosen?.output ?? "exact");
    expect(outcome.benchmarkFound).toBe(outcome.detection.benchmark !== null);
    expect(outcome.testFound).toBe(outcome.detection.test !== null);
    // A project importing torch gets the trace's step window, commented out, with where torch is.
    const text = await readFile(join(dir, ".github/perfloop.yml"), "utf8");
    const torch = outcome.detection.gpu.find((g) => g.what === "torch");
    expect(text.includes("#   torch_step:")).toBe(torch !== undefined);
    if (torch) expect(text).toContain(`# PyTorch is imported (${torch.evidence[0]?.file}`);

    // Every evidence file is named in the explanation.
    for (const b of outcome.detection.benchmarks)
      for (const e of b.evidence) expect(out.text).toContain(e.file);
    // A placeholder is listed under "To fill in", once (what comes next is main.ts's to say).
    expect(out.text.includes("  - benchmark.command: ")).toBe(!outcome.benchmarkFound);
    expect(out.text.includes("  - test: no test command was found")).toBe(!outcome.testFound);
    expect(err.text).toBe("");
  });
});
