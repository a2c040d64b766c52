/** Instruction counts: the counters' reports parsed (recorded output), and a real count in the sandbox. */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  counterArgv,
  parseInstructionCount,
  probeInstructionCounter,
} from "../src/core/measure/instructions.ts";
import { sandboxFor } from "./helpers/sandbox.ts";

const FIXTURES = path.resolve(import.meta.dirname, "fixtures/instructions");

describe("parseInstructionCount", () => {
  it("sums cachegrind's I refs over every traced process (valgrind 3.19, sh running python3)", async () => {
    const report = await readFile(path.join(FIXTURES, "cachegrind-python.txt"), "utf8");
    expect(parseInstructionCount("valgrind", report)).toBe(31_858_167 + 226_261);
  });

  it("reads perf stat's CSV line, and nothing from '<not supported>'", () => {
    expect(parseInstructionCount("perf", "123456789,,instructions:u,1000,100.00,,\n")).toBe(123456789);
    expect(parseInstructionCount("perf", "<not supported>,,instructions:u,0,100.00,,\n")).toBeNull();
    expect(parseInstructionCount("valgrind", "==1== Command: true\n")).toBeNull();
  });

  it("puts the counter before the command, reporting on fd 3", () => {
    expect(counterArgv({ tool: "valgrind", note: "" })).toContain("--log-fd=3");
    expect(counterArgv({ tool: "perf", note: "" }).slice(-3)).toEqual(["--log-fd", "3", "--"]);
  });
});

describe("probeInstructionCounter", () => {
  it("finds a counter that works inside the sandbox (valgrind is installed with the tests)", async () => {
    const isolation = await sandboxFor();
    const counter = await probeInstructionCounter(isolation, { PATH: process.env.PATH ?? "" });
    expect(["perf", "valgrind"]).toContain(counter.tool);
  });
});
