/**
 * The `/optimize` command grammar (zod-validated arguments) and where the command counts: plain
 * paragraph text at the start of a line, never code, quotes, HTML comments or inline code.
 */
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
    expect(parseCommand("/optimize status")).toEqual({ kind: "status" });
    expect(parseCommand("/optimize retry")).toEqual({ kind: "retry" });
    expect(parseCommand("/optimize retry --rounds 2")).toEqual({
      kind: "invalid",
      problems: ["`retry` takes no arguments"],
    });
  });

  it("finds the command in paragraph text at a line start: after text, a hard break, CRLF, tabs", () => {
    expect(parseCommand("Looks slow.\n/optimize --rounds 2")).toEqual({ kind: "optimize", rounds: 2 });
    expect(parseCommand("Looks slow.  \n/optimize")).toEqual({ kind: "optimize" });
    expect(parseCommand("Looks slow.\\\n/optimize")).toEqual({ kind: "optimize" });
    expect(parseCommand("intro\r\n\r\n/optimize\t--strategy tune\r\n")).toEqual({
      kind: "optimize",
      strategy: "tune",
    });
    // Four spaces after a line of text continue the paragraph: no code block there.
    expect(parseCommand("text\n    /optimize")).toEqual({ kind: "optimize" });
    // The first command line counts; a quoted one before it does not.
    expect(parseCommand("> /optimize cancel\n\n/optimize status")).toEqual({ kind: "status" });
  });

  it("ignores the command in code, quotes, HTML comments and inline code", () => {
    const ignored = [
      "```\n/optimize\n```",
      "~~~sh\n/optimize --rounds 3\n~~~",
      "````\n```\n/optimize\n```\n````",
      "```\nunclosed fence\n/optimize",
      "text\n\n    /optimize",
      "\t/optimize",
      "> /optimize",
      "> quoted\n/optimize",
      ">> /optimize",
      "<!-- /optimize -->",
      "<!--\n/optimize\n-->",
      "see <!-- hidden\n/optimize --> here",
      "`/optimize`",
      "``/optimize --rounds 3``",
      "<details>\n/optimize\n</details>",
      "- /optimize",
      "# /optimize",
      "*/optimize*",
      "[/optimize](https://example.com)",
      "please /optimize this",
      "/optimizer",
    ];
    for (const body of ignored) expect(parseCommand(body), JSON.stringify(body)).toBeNull();
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

  it("bounds the target like the runner (above 0, below 100 %)", () => {
    expect(parseCommand("/optimize --target 99.5%")).toEqual({ kind: "optimize", target: 99.5 });
    expect(parseCommand("/optimize --target 100%")?.kind).toBe("invalid");
    expect(parseCommand("/optimize --target 0")?.kind).toBe("invalid");
  });

  it("bounds rounds like the core config (1..50)", () => {
    expect(parseCommand("/optimize --rounds 51")?.kind).toBe("invalid");
    expect(parseCommand("/optimize --rounds 2.5")?.kind).toBe("invalid");
    expect(parseCommand("/optimize --rounds 50")).toEqual({ kind: "optimize", rounds: 50 });
  });
});
