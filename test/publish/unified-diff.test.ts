/** Reading and applying final.patch (git-style unified diffs as core/loop/workspace.ts writes them). */
import { readFileSync } from "node:fs";
import path from "node:path";
import { createTwoFilesPatch } from "diff";
import { describe, expect, it } from "vitest";
import { applyFileDiff, PatchApplyError, parseUnifiedDiff } from "../../src/publish/index.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/github");
const text = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

/** A diff as diffTrees writes it. */
function gitDiff(file: string, before: string | null, after: string | null): string {
  const patch = createTwoFilesPatch(
    before === null ? "/dev/null" : `a/${file}`,
    after === null ? "/dev/null" : `b/${file}`,
    before ?? "",
    after ?? "",
    "",
    "",
    { context: 3 },
  );
  const mode =
    before === null ? "new file mode 100644\n" : after === null ? "deleted file mode 100644\n" : "";
  return `diff --git a/${file} b/${file}\n${mode}${patch.split("\n").slice(1).join("\n").replace(/\t$/gm, "")}`;
}

describe("parseUnifiedDiff / applyFileDiff", () => {
  it("applies the fixture patch to the fixture file", () => {
    const [file] = parseUnifiedDiff(text("final.patch"));
    expect(file?.oldPath).toBe("src/textstats.py");
    expect(file && applyFileDiff(file, text("textstats.before.py"))).toBe(text("textstats.after.py"));
  });

  it("handles adds, deletes, missing final newlines and several hunks", () => {
    const lines = Array.from({ length: 40 }, (_, k) => `line ${k}`);
    const before = `${lines.join("\n")}\n`;
    const afterLines = [...lines];
    afterLines[2] = "changed 2";
    afterLines[30] = "changed 30";
    const after = afterLines.join("\n"); // no final newline
    const cases: Array<[string | null, string | null]> = [
      [before, after],
      [after, before],
      [null, "new\nfile\n"],
      ["old\n", null],
      ["", "x\n"],
    ];
    for (const [b, a] of cases) {
      const files = parseUnifiedDiff(gitDiff("f.txt", b, a));
      expect(files).toHaveLength(1);
      expect(applyFileDiff(files[0] as never, b)).toBe(a);
    }
  });

  it("finds a hunk a few lines away from its stated position", () => {
    const before = "a\nb\nc\nd\ne\n";
    const [file] = parseUnifiedDiff(gitDiff("f", before, "a\nb\nC\nd\ne\n"));
    expect(file && applyFileDiff(file, `extra\nextra\n${before}`)).toBe("extra\nextra\na\nb\nC\nd\ne\n");
  });

  it("refuses what it cannot apply or trust", () => {
    const [file] = parseUnifiedDiff(gitDiff("f", "a\nb\nc\n", "a\nB\nc\n"));
    expect(() => file && applyFileDiff(file, "x\ny\nz\n")).toThrow(PatchApplyError);
    expect(() => parseUnifiedDiff("--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n")).toThrow(
      /unsafe path/,
    );
    expect(() => parseUnifiedDiff("--- a/.git/config\n+++ b/.git/config\n@@ -1 +1 @@\n-a\n+b\n")).toThrow(
      /unsafe path/,
    );
    expect(() => parseUnifiedDiff("diff --git a/x b/x\nBinary files a/x and b/x differ\n")).toThrow(/binary/);
    expect(() => parseUnifiedDiff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n")).toThrow(/header says/);
  });
});
