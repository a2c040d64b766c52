import { describe, expect, it } from "vitest";
import { PatchParseError, parsePatch } from "../src/core/patch/parse.ts";

/** Parses `text`, expecting a PatchParseError; returns it. */
function parseError(text: string): PatchParseError {
  try {
    parsePatch(text);
  } catch (error) {
    expect(error).toBeInstanceOf(PatchParseError);
    return error as PatchParseError;
  }
  throw new Error("expected a PatchParseError");
}

describe("parsePatch: structure", () => {
  it("parses add, delete, update with move, context and end of file", () => {
    const patch = parsePatch(
      [
        "*** Begin Patch",
        "*** Add File: a/new.py",
        "+x = 1",
        "+",
        "+y = 2",
        "*** Delete File: old.py",
        "*** Update File: src/m.py",
        "*** Move to: src/n.py",
        "@@ def f():",
        " def f():",
        "-    pass",
        "+    return 1",
        "@@",
        "-tail",
        "+TAIL",
        "*** End of File",
        "*** End Patch",
      ].join("\n"),
    );
    expect(patch.files).toEqual([
      { kind: "add", path: "a/new.py", content: "x = 1\n\ny = 2\n" },
      { kind: "delete", path: "old.py" },
      {
        kind: "update",
        path: "src/m.py",
        moveTo: "src/n.py",
        hunks: [
          {
            context: "def f():",
            lines: [
              { op: " ", text: "def f():" },
              { op: "-", text: "    pass" },
              { op: "+", text: "    return 1" },
            ],
            endOfFile: false,
          },
          {
            context: null,
            lines: [
              { op: "-", text: "tail" },
              { op: "+", text: "TAIL" },
            ],
            endOfFile: true,
          },
        ],
      },
    ]);
  });

  it("accepts a first hunk without @@, stacked @@ headers and unified-diff headers", () => {
    const patch = parsePatch(
      "*** Begin Patch\n*** Update File: a.py\n x\n+y\n@@ class A:\n@@     def f(self):\n-a\n+b\n@@ -10,2 +10,2 @@\n-c\n+d\n*** End Patch",
    );
    const file = patch.files[0];
    expect(file?.kind === "update" ? file.hunks.map((h) => h.context) : null).toEqual([
      null,
      "class A:",
      "    def f(self):",
      null,
    ]);
  });

  it("reads blank lines in a hunk as empty context lines and drops trailing ones", () => {
    const patch = parsePatch("*** Begin Patch\n*** Update File: a.py\n@@\n a\n\n-b\n\n\n*** End Patch");
    const file = patch.files[0];
    expect(file?.kind === "update" ? file.hunks[0]?.lines : null).toEqual([
      { op: " ", text: "a" },
      { op: " ", text: "" },
      { op: "-", text: "b" },
    ]);
  });

  it("strips prose, fences, heredocs and CRLF; accepts a missing End Patch", () => {
    const body = "*** Begin Patch\n*** Delete File: x.py\n*** End Patch\n";
    const expected = { files: [{ kind: "delete", path: "x.py" }] };
    expect(parsePatch(`Here you go:\n\n\`\`\`diff\n${body}\`\`\`\nThanks.`)).toEqual(expected);
    expect(parsePatch(`apply_patch <<'EOF'\n${body}EOF\n`)).toEqual(expected);
    expect(parsePatch(body.replaceAll("\n", "\r\n"))).toEqual(expected);
    expect(parsePatch("*** Begin Patch\n*** Delete File: x.py\n")).toEqual(expected);
    expect(parsePatch("```\n*** Begin Patch\n*** Delete File: x.py\n```\nDone.")).toEqual(expected);
    expect(parsePatch('*** Begin Patch\n*** Delete File: "./x.py"\n*** End Patch')).toEqual(expected);
  });

  it("accepts a missing Begin Patch when a file header is present", () => {
    expect(parsePatch("Patch:\n*** Delete File: x.py\n*** End Patch")).toEqual({
      files: [{ kind: "delete", path: "x.py" }],
    });
  });

  it("keeps code that looks like markers inside hunk lines", () => {
    const patch = parsePatch(
      "*** Begin Patch\n*** Update File: a.md\n@@\n ```\n-@@ x\n+*** y\n*** End Patch",
    );
    const file = patch.files[0];
    expect(file?.kind === "update" ? file.hunks[0]?.lines : null).toEqual([
      { op: " ", text: "```" },
      { op: "-", text: "@@ x" },
      { op: "+", text: "*** y" },
    ]);
  });
});

describe("parsePatch: errors name the line and the fix", () => {
  it("no Begin Patch", () => {
    const error = parseError("I think the loop is slow.");
    expect(error.line).toBe(1);
    expect(error.message).toContain("*** Begin Patch");
  });

  it("a hunk line without its ' ', '-' or '+' prefix, counted in the submitted text", () => {
    const error = parseError(
      "Sure!\n\n*** Begin Patch\n*** Update File: a.py\n@@\n-x = 1\nx = 2\n*** End Patch",
    );
    expect(error.line).toBe(7);
    expect(error.message).toMatch(/^Patch parse error at line 7: unexpected line "x = 2"/);
    expect(error.message).toContain("' ' (unchanged context");
  });

  it("an Update File without hunks", () => {
    const error = parseError("*** Begin Patch\n*** Update File: a.py\n*** End Patch");
    expect(error.line).toBe(2);
    expect(error.message).toContain("has no hunks");
  });

  it("an @@ header with no lines", () => {
    const error = parseError(
      "*** Begin Patch\n*** Update File: a.py\n@@\n-a\n+b\n@@ def g():\n*** End Patch",
    );
    expect(error.line).toBe(6);
    expect(error.message).toContain("not followed by any");
  });

  it("content after Delete File", () => {
    const error = parseError("*** Begin Patch\n*** Delete File: a.py\n-a = 1\n*** End Patch");
    expect(error.line).toBe(3);
    expect(error.message).toContain("takes no content lines");
  });

  it("an Add File line without '+'", () => {
    const error = parseError("*** Begin Patch\n*** Add File: a.py\n+a = 1\nb = 2\n*** End Patch");
    expect(error.line).toBe(4);
    expect(error.message).toContain("must start with '+'");
  });

  it("hunk lines before any file header", () => {
    const error = parseError("*** Begin Patch\n@@\n-a\n+b\n*** End Patch");
    expect(error.line).toBe(2);
    expect(error.message).toContain("must follow an '*** Update File: <path>' line");
  });

  it("an empty path, a misplaced Move to and End of File", () => {
    expect(parseError("*** Begin Patch\n*** Add File:   \n+a\n*** End Patch").line).toBe(2);
    expect(
      parseError("*** Begin Patch\n*** Delete File: a\n*** Move to: b\n*** End Patch").message,
    ).toContain("must come directly after");
    expect(parseError("*** Begin Patch\n*** Update File: a\n@@\n*** End of File\n*** End Patch").line).toBe(
      4,
    );
  });

  it("a patch with no files", () => {
    const error = parseError("*** Begin Patch\n*** End Patch");
    expect(error.message).toContain("no file changes");
  });

  it("keeps the error class shape", () => {
    const error = parseError("nothing");
    expect(error.name).toBe("PatchParseError");
    expect(error).toBeInstanceOf(Error);
  });
});
