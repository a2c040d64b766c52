import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { KnobError, knobChange } from "../src/core/optimize/knobs.ts";

const knobs = (tune: unknown[]) => parseConfig({ test: "t", benchmark: { command: "b" }, tune }).tune;

describe("literal knobs", () => {
  it("replaces the capture group itself, not an earlier equal number", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-knob-"));
    await writeFile(path.join(dir, "pool.py"), "pool = Pool(processes=4, chunksize=4)\n");
    const [knob] = knobs([
      {
        name: "chunk",
        values: [64],
        literal: { file: "pool.py", pattern: "Pool\\(processes=\\d+, chunksize=(\\d+)\\)" },
      },
    ]);
    if (!knob) throw new Error("no knob");
    const change = await knobChange(dir, { knob, value: "64" });
    expect(change.changes[0]?.after).toBe("pool = Pool(processes=4, chunksize=64)\n");
    expect(change.description).toBe("chunk: pool.py 4 → 64");
  });

  it("names the knob and the file when the pattern matches nothing", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-knob-"));
    await writeFile(path.join(dir, "a.py"), "SIZE = big\n");
    const [knob] = knobs([
      { name: "size", values: [2], literal: { file: "a.py", pattern: "SIZE = (\\d+)" } },
    ]);
    if (!knob) throw new Error("no knob");
    await expect(knobChange(dir, { knob, value: "2" })).rejects.toThrow(KnobError);
    await expect(knobChange(dir, { knob, value: "2" })).rejects.toThrow(
      /knob "size": pattern .* matches nothing in a\.py/,
    );
  });

  it("turns an env knob into an environment value, not a file change", async () => {
    const [knob] = knobs([{ name: "threads", values: [4], env: "OMP_NUM_THREADS" }]);
    if (!knob) throw new Error("no knob");
    expect(await knobChange("/nonexistent", { knob, value: "4" })).toEqual({
      description: "threads: OMP_NUM_THREADS=4",
      changes: [],
      env: { OMP_NUM_THREADS: "4" },
    });
  });
});
