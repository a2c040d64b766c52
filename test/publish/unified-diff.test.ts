/**
 * Reading and applying final.patch (src/publish/unified-diff.ts, jsdiff): the diffs are made by the
 * real src/core/loop/workspace.ts `diffTrees` on scratch trees, never by a copy of it. The
 * round trip through `git apply` on random trees is test/diff-trees.test.ts.
 */
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffTrees } from "../../src/core/loop/workspace.ts";
import { applyFileDiff, PatchApplyError, parseUnifiedDiff } from "../../src/publish/index.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/github");
const text = (name: string) => readFileSync(path.join(FIXTURES, name), "utf8");

let scratch: string;
let trees = 0;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "perfloop-unified-diff-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** final.patch of one file changed from `before` to `after` (null: absent), as diffTrees writes it. */
async function gitDiff(file: string, before: string | null, after: string | null): Promise<string> {
  const dir = path.join(scratch, String(trees++));
  for (const [side, content] of [
    ["from", before],
    ["to", after],
  ] as const) {
    await mkdir(path.dirname(path.join(dir, side, file)), { recursive: true });
    if (content !== null) await writeFile(path.join(dir, side, file), content);
  }
  return diffTrees(path.join(dir, "from"), path.join(dir, "to"), [file]);
}

describe("parseUnifiedDiff / applyFileDiff", () => {
  it("applies the fixture patch to the fixture file", () => {
    const [file] = parseUnifiedDiff(text("final.patch"));
    expect(file?.oldPath).toBe("src/textstats.py");
    expect(file && applyFileDiff(file, text("textstats.before.py"))).toBe(text("textstats.after.py"));
  });

  it("handles adds, deletes, missing final newlines, tabs, CRLF, empty files and several hunks", async () => {
    const lines = Array.from({ length: 40 }, (_, k) => `line ${k}`);
    const before = `${lines.join("\n")}\n`;
    const afterLines = [...lines];
    afterLines[2] = "changed 2\t";
    afterLines[30] = "changed 30 ";
    const after = afterLines.join("\n"); // no final newline
    const cases: Array<[string | null, string | null]> = [
      [before, after],
      [after, before],
      [null, "new\nfile\n"],
      ["old\n", null],
      ["", "x\n"],
      ["x\n", ""],
      [null, ""],
      ["", null],
      ["all:\tmain\n\tcc -O0 main.c\t\n", "all:\tmain\n\tcc -O2 main.c\t\n"],
      ["a\r\nb\r\nc", "a\r\nB\r\nc\r\n"],
      ["été\n", "hiver ❄\n"],
    ];
    for (const [b, a] of cases) {
      const files = parseUnifiedDiff(await gitDiff("dir/f.txt", b, a));
      expect(files).toHaveLength(1);
      expect(files[0]).toMatchObject({
        oldPath: b === null ? null : "dir/f.txt",
        newPath: a === null ? null : "dir/f.txt",
      });
      expect(applyFileDiff(files[0] as never, b)).toBe(a);
    }
  });

  it("reads a path git quotes, and skips the notes before the first diff", () => {
    const patch =
      '# perfloop: x left out of this patch: it is binary or not UTF-8 text\ndiff --git "a/d\\303\\274r/f" "b/d\\303\\274r/f"\n--- "a/d\\303\\274r/f"\n+++ "b/d\\303\\274r/f"\n@@ -1,1 +1,1 @@\n-a\n+b\n';
    const files = parseUnifiedDiff(patch);
    expect(files.map((f) => [f.oldPath, f.newPath])).toEqual([["dür/f", "dür/f"]]);
    expect(parseUnifiedDiff("# perfloop: x left out of this patch: too large\n")).toEqual([]);
  });

  it("finds a hunk a few lines away from its stated position", async () => {
    const before = "a\nb\nc\nd\ne\n";
    const [file] = parseUnifiedDiff(await gitDiff("f", before, "a\nb\nC\nd\ne\n"));
    expect(file && applyFileDiff(file, `extra\nextra\n${before}`)).toBe("extra\nextra\na\nb\nC\nd\ne\n");
  });

  it("refuses what it cannot apply or trust", async () => {
    const [file] = parseUnifiedDiff(await gitDiff("f", "a\nb\nc\n", "a\nB\nc\n"));
    expect(() => file && applyFileDiff(file, "x\ny\nz\n")).toThrow(PatchApplyError);
    // Exact: no line-ending conversion, no missing tab.
    expect(() => file && applyFileDiff(file, "a\r\nb\r\nc\r\n")).toThrow(PatchApplyError);
    const [tab] = parseUnifiedDiff(await gitDiff("Makefile", "all:\t\n", "all:\n"));
    expect(() => tab && applyFileDiff(tab, "all:\n")).toThrow(/does not match/);
    const [deleted] = parseUnifiedDiff(await gitDiff("f", "a\n", null));
    expect(() => deleted && applyFileDiff(deleted, "a\nb\n")).toThrow(/more than the diff deletes/);
    expect(() => parseUnifiedDiff("--- a/../etc/passwd\n+++ b/../etc/passwd\n@@ -1 +1 @@\n-a\n+b\n")).toThrow(
      /unsafe path/,
    );
    expect(() => parseUnifiedDiff("--- a/.git/config\n+++ b/.git/config\n@@ -1 +1 @@\n-a\n+b\n")).toThrow(
      /unsafe path/,
    );
    expect(() => parseUnifiedDiff("diff --git a/x b/x\nBinary files a/x and b/x differ\n")).toThrow(/binary/);
    expect(() => parseUnifiedDiff("diff --git a/x b/x\nindex 1..2\nGIT binary patch\nliteral 1\n")).toThrow(
      /binary/,
    );
    const malformed = () => parseUnifiedDiff("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n-a\n+b\n");
    expect(malformed).toThrow(PatchApplyError);
    expect(malformed).toThrow(/malformed diff: Hunk at line 3/);
  });
});
