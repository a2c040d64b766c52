/** The `/optimize` command grammar (zod-validated arguments). */
import { describe, expect, it } from "vitest";
import { parseCommand } from "../../src/app/command.ts";

describe("parseCommand", () => {
  it("finds the command on any line and reads the flags", () => {
    expect(parseCommand("/optimize")).toEqual({ kind: "optimize" });
    expect(parseCommand("Hi!\n  /optimize --rounds 3 --target 20% --strategy llm\nthanks")).toEqual({
      kind: "optimize",
      rounds: 3,
      target: 20,
      strategy: "llm",
    });
    expect(parseCommand("/optimize --rounds=2 --target=12.5")).toEqual({
      kind: "optimize",
      rounds: 2,
      target: 12.5,
    });
    expect(parseCommand("/optimize help")).toEqual({ kind: "help" });
    expect(parseCommand("/optimize CANCEL")).toEqual({ kind: "cancel" });
  });

  it("ignores text that is not the command", () => {
    expect(parseCommand("please /optimize this")).toBeNull();
    expect(parseCommand("/optimizer")).toBeNull();
    expect(parseCommand("> /optimize\nquoted")).toBeNull();
    expect(parseCommand("```\n/optimize\n```")).toBeNull();
    expect(parseCommand("")).toBeNull();
  });

  it("names every problem of a malformed command", () => {
    const bad = parseCommand("/optimize --rounds 0 --target fast --strategy magic --speed 3");
    expect(bad?.kind).toBe("invalid");
    const problems = bad?.kind === "invalid" ? bad.problems.join("\n") : "";
    expect(problems).toContain("`--rounds`: expected at least 1 round");
    expect(problems).toContain("`--target`");
    expect(problems).toContain("`--strategy`: expected one of auto, llm, tune");
    expect(problems).toContain("unknown flag `--speed`");
    expect(parseCommand("/optimize --rounds")).toEqual({
      kind: "invalid",
      problems: ["`--rounds` needs a value"],
    });
    expect(parseCommand("/optimize --rounds 2 --rounds 3")).toEqual({
      kind: "invalid",
      problems: ["`--rounds` is given twice"],
    });
    expect(parseCommand("/optimize cancel now")).toEqual({
      kind: "invalid",
      problems: ["`cancel` takes no arguments"],
    });
    expect(parseCommand("/optimize `rm -rf`")?.kind).toBe("invalid");
  });

  it("bounds rounds like the core config (1..50)", () => {
    expect(parseCommand("/optimize --rounds 51")?.kind).toBe("invalid");
    expect(parseCommand("/optimize --rounds 2.5")?.kind).toBe("invalid");
    expect(parseCommand("/optimize --rounds 50")).toEqual({ kind: "optimize", rounds: 50 });
  });
});
