/**
 * Focusing on a pull request's lines: changed lines read from a real `git diff -U0` of a repository
 * the test builds (committed, uncommitted, untracked, renamed, removed, binary and deleted-lines
 * changes; the base moving on after the fork), from hand-written diffs and from a GitHub-style patch
 * with context; where Python and JavaScript/TypeScript functions end; hot spots ranked by the
 * pull request and the share of the profile in its lines.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChangedLinesError,
  changedLinesBetween,
  changedLinesFromGit,
  countChangedLines,
  mergeRanges,
  parseHunks,
  parseUnifiedDiff,
} from "../src/core/focus/changed-lines.ts";
import { functionEnd, languageOf } from "../src/core/focus/functions.ts";
import { describeFocus, focusHotSpots } from "../src/core/focus/rank.ts";
import type { HotSpot } from "../src/core/types.ts";

const lines = (n: number, prefix = "line") =>
  Array.from({ length: n }, (_, k) => `${prefix} ${k + 1}\n`).join("");

describe("parseUnifiedDiff on hand-written diffs", () => {
  it("reads additions, modifications, deletions, renames, deleted, binary and quoted files", () => {
    const diff = [
      "diff --git a/src/app.py b/src/app.py",
      "index 1111111..2222222 100644",
      "--- a/src/app.py",
      "+++ b/src/app.py",
      "@@ -3 +3 @@ def f():",
      "-    return 1",
      "+    return 2",
      "@@ -10,0 +11,2 @@ def g():",
      "+    a = 1",
      "+    b = 2",
      "@@ -20,3 +21,0 @@ def h():",
      "-    x",
      "-    y",
      "-    z",
      "@@ -30 +28 @@",
      "-end",
      "\\ No newline at end of file",
      "+end",
      "\\ No newline at end of file",
      "diff --git a/gone.py b/gone.py",
      "deleted file mode 100644",
      "index 3333333..0000000",
      "--- a/gone.py",
      "+++ /dev/null",
      "@@ -1,2 +0,0 @@",
      "-a",
      "-b",
      "diff --git a/old.js b/lib/new.js",
      "similarity index 90%",
      "rename from old.js",
      "rename to lib/new.js",
      "index 4444444..5555555 100644",
      "--- a/old.js",
      "+++ b/lib/new.js",
      "@@ -5 +5 @@",
      "-x",
      "+y",
      "diff --git a/img.png b/img.png",
      "index 6666666..7777777 100644",
      "Binary files a/img.png and b/img.png differ",
      "diff --git a/my file.py b/my file.py",
      "new file mode 100644",
      "--- /dev/null",
      "+++ b/my file.py\t",
      "@@ -0,0 +1,3 @@",
      "+a",
      "+b",
      "+c",
      'diff --git "a/caf\\303\\251 \\"q\\".py" "b/caf\\303\\251 \\"q\\".py"',
      '--- "a/caf\\303\\251 \\"q\\".py"',
      '+++ "b/caf\\303\\251 \\"q\\".py"',
      "@@ -1,0 +2 @@",
      "+new",
      "diff --git a/mode.sh b/mode.sh",
      "old mode 100644",
      "new mode 100755",
      "",
    ].join("\n");
    expect(parseUnifiedDiff(diff)).toEqual({
      "src/app.py": [
        [3, 3],
        [11, 12],
        [21, 21],
        [28, 28],
      ],
      "lib/new.js": [[5, 5]],
      "my file.py": [[1, 3]],
      'café "q".py': [[2, 2]],
    });
  });

  it("never takes content lines that look like headers for headers", () => {
    const diff = [
      "--- a/q.sql",
      "+++ b/q.sql",
      "@@ -1,2 +1,2 @@",
      "--- a comment",
      "-diff --git",
      "+++ an added line",
      "+@@ -1 +1 @@",
      "--- a/r.sql",
      "+++ b/r.sql",
      "@@ -4 +4,0 @@",
      "-x",
    ].join("\n");
    expect(parseUnifiedDiff(diff)).toEqual({ "q.sql": [[1, 2]], "r.sql": [[4, 4]] });
  });

  it("marks line 1 for lines removed at the top, and CRLF diffs read the same", () => {
    expect(parseUnifiedDiff("--- a/x\r\n+++ b/x\r\n@@ -1,2 +0,0 @@\r\n-a\r\n-b\r\n")).toEqual({
      x: [[1, 1]],
    });
    expect(parseUnifiedDiff("")).toEqual({});
  });
});

describe("parseHunks on a GitHub pull request file patch", () => {
  it("counts the + lines' new numbers, not the whole hunk, and marks lines removed alone", () => {
    const patch = [
      "@@ -1,5 +1,6 @@",
      " import os",
      "-import sys",
      "+import sys, re",
      "+import json",
      " ",
      " def f():",
      "     return 1",
      "@@ -20,4 +21,3 @@ def g():",
      "     a = 1",
      "-    b = 2",
      "     c = 3",
      "     d = 4",
    ].join("\n");
    expect(parseHunks(patch)).toEqual([
      [2, 3],
      [21, 21],
    ]);
  });

  it("merges touching ranges and ignores text without hunks", () => {
    expect(parseHunks("@@ -1,0 +1,2 @@\n+a\n+b\n@@ -2,0 +5 @@\n+c\n")).toEqual([
      [1, 2],
      [5, 5],
    ]);
    expect(parseHunks("")).toEqual([]);
    expect(
      mergeRanges([
        [5, 6],
        [1, 2],
        [3, 3],
        [9, 8],
      ]),
    ).toEqual([
      [1, 3],
      [5, 6],
    ]);
    expect(countChangedLines({ a: [[1, 3]], b: [[7, 7]] })).toBe(4);
  });
});

describe("changedLinesFromGit", () => {
  let root: string;
  let repo: string;
  const git = (...args: string[]) =>
    execFileSync(
      "git",
      ["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", ...args],
      { cwd: repo, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1" } },
    ).toString();

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "perfloop-focus-"));
    repo = path.join(root, "repo");
    await mkdir(path.join(repo, "lib"), { recursive: true });
    git("init", "-q", "-b", "main");
    await writeFile(path.join(repo, "app.py"), lines(20));
    await writeFile(path.join(repo, "lib/util.js"), lines(10));
    await writeFile(path.join(repo, "old name.py"), lines(12, "stable"));
    await writeFile(path.join(repo, "gone.py"), lines(5));
    await writeFile(path.join(repo, "shrink.py"), lines(6));
    await writeFile(path.join(repo, "blob.bin"), Buffer.from([0, 1, 2, 3, 0]));
    git("add", "-A");
    git("commit", "-q", "-m", "base");
    git("checkout", "-q", "-b", "feature");
    // Committed on the branch: app.py lines 3 modified and 2 lines inserted after line 10.
    const app = lines(20).split("\n");
    app[2] = "changed 3";
    app.splice(10, 0, "inserted a", "inserted b");
    await writeFile(path.join(repo, "app.py"), app.join("\n"));
    git("mv", "old name.py", "new name.py");
    const renamed = lines(12, "stable").split("\n");
    renamed[6] = "edited 7";
    await writeFile(path.join(repo, "new name.py"), renamed.join("\n"));
    git("rm", "-q", "gone.py");
    await writeFile(path.join(repo, "blob.bin"), Buffer.from([0, 9, 9, 9, 0]));
    git("add", "-A");
    git("commit", "-q", "-m", "feature");
    // The base moves on after the fork: its change must not count.
    git("checkout", "-q", "main");
    await writeFile(path.join(repo, "app.py"), `${lines(20)}tail on main\n`);
    git("commit", "-q", "-am", "main moves on");
    git("checkout", "-q", "feature");
    // Uncommitted: lines 4-5 of shrink.py removed, util.js line 2 modified, a staged new file, an
    // untracked file (counted whole) and an ignored one (not counted).
    const shrink = lines(6).split("\n");
    shrink.splice(3, 2);
    await writeFile(path.join(repo, "shrink.py"), shrink.join("\n"));
    await writeFile(path.join(repo, "lib/util.js"), lines(10).replace("line 2\n", "two\n"));
    await writeFile(path.join(repo, "staged.js"), "a\nb\n");
    git("add", "staged.js");
    await writeFile(path.join(repo, "fresh.py"), "x = 1\ny = 2\nz = 3");
    await writeFile(path.join(repo, ".gitignore"), "ignored.py\n");
    await writeFile(path.join(repo, "ignored.py"), "no\n");
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("diffs the working tree against the merge base", async () => {
    expect(await changedLinesFromGit(repo, "main")).toEqual({
      "app.py": [
        [3, 3],
        [11, 12],
      ],
      "new name.py": [[7, 7]],
      "shrink.py": [[3, 3]],
      "lib/util.js": [[2, 2]],
      "staged.js": [[1, 2]],
      "fresh.py": [[1, 3]],
      ".gitignore": [[1, 1]],
    });
  });

  it("between two commits (a gate's head), counts what they committed, not the working tree", async () => {
    const fork = git("merge-base", "main", "feature").trim();
    expect(await changedLinesBetween(repo, fork, git("rev-parse", "feature").trim())).toEqual({
      "app.py": [
        [3, 3],
        [11, 12],
      ],
      "new name.py": [[7, 7]],
    });
  });

  it("gives paths relative to a subdirectory and only its changes", async () => {
    expect(await changedLinesFromGit(path.join(repo, "lib"), "main")).toEqual({ "util.js": [[2, 2]] });
  });

  it("says how to fix a directory outside git, an unknown ref and unrelated histories", async () => {
    const outside = await mkdtemp(path.join(tmpdir(), "perfloop-nogit-"));
    try {
      const error = await changedLinesFromGit(outside, "main").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChangedLinesError);
      expect((error as Error).message).toMatch(/not inside a git work tree/);
      expect((error as Error).cause).toBeDefined();
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
    const unknown = await changedLinesFromGit(repo, "origin/nope").catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ChangedLinesError);
    expect((unknown as Error).message).toMatch(/unknown git ref "origin\/nope".*git fetch origin nope/);
    expect((unknown as Error).message).toMatch(/fetch-depth: 0/);
    await expect(changedLinesFromGit(repo, "--output=x")).rejects.toThrow(ChangedLinesError);

    git("stash", "-q", "-u");
    try {
      git("checkout", "-q", "--orphan", "unrelated");
      git("commit", "-q", "-m", "unrelated");
      await expect(changedLinesFromGit(repo, "main")).rejects.toThrow(/no common ancestor.*fetch-depth: 0/);
    } finally {
      git("checkout", "-q", "-f", "feature");
      git("stash", "pop", "-q");
    }
  });
});

describe("functionEnd", () => {
  const python = [
    "import functools", // 1
    "", // 2
    "", // 3
    "@functools.lru_cache", // 4
    "def outer(x):", // 5
    '    """Doc with a { brace', // 6
    "and a line at column 0", // 7
    '    """', // 8
    "    def inner(y):", // 9
    "        return y + 1", // 10
    "", // 11
    "    # a comment", // 12
    "    total = (x +", // 13
    "1)", // 14
    "    return inner(total)", // 15
    "", // 16
    "# trailing comment at column 0", // 17
    "", // 18
    "class Box:", // 19
    "    def method(self):", // 20
    "        if True:", // 21
    "            pass", // 22
    "", // 23
    "        return 2  # }", // 24
    "        # trailing comment in the body", // 25
    "", // 26
    "    @property", // 27
    "    def size(self):", // 28
    "        return 3", // 29
    "", // 30
    "def last(): return 4", // 31
    "def tail(", // 32
    "    a,", // 33
    "    b,", // 34
    "):", // 35
    "\treturn a", // 36
  ].join("\n");

  it.each([
    [5, 15],
    [4, 15],
    [9, 10],
    [19, 29],
    [20, 24],
    [27, 29],
    [28, 29],
    [31, 31],
    [32, 36],
    [99, 99],
  ])("python: the function at line %i ends at %i", (def, end) => {
    expect(functionEnd(python, def, "python")).toBe(end);
  });

  const js = [
    "function a(x) {", // 1
    '  const s = "}";', // 2
    "  const t = '{';", // 3
    "  // }", // 4
    "  /* } {", // 5
    "  */", // 6
    // biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript source for the scanner
    "  const u = `${x.map((y) => { return `${y}}`; })} }`;", // 7
    "  const r = /[}]/g.test(s) ? 1 / 2 : 3;", // 8
    "  return s + t + u + r;", // 9
    "}", // 10
    "const arrow = (x) => x + 1;", // 11
    "export const b = async ({ a, b } = {}) => {", // 12
    "  return a / b / 2;", // 13
    "};", // 14
    "class C extends Base {", // 15
    "  method(): number {", // 16
    "    return { k: 1 }.k;", // 17
    "  }", // 18
    "}", // 19
    'describe("x", () => {', // 20
    '  it("y", () => {});', // 21
    "});", // 22
    "function generic<T extends { a: number }>(v: T): number {", // 23
    "  return v.a;", // 24
    "}", // 25
    "function open() {", // 26
    "  return 1;", // 27
  ].join("\r\n");

  it.each([
    [1, 10],
    [11, 11],
    [12, 14],
    [15, 19],
    [16, 18],
    [20, 22],
    [21, 21],
    [23, 25],
    [26, 27],
    [0, 0],
  ])("javascript: the function at line %i ends at %i", (def, end) => {
    expect(functionEnd(js, def, "javascript")).toBe(end);
  });

  it("tells the language by the extension", () => {
    expect(languageOf("a/b.py")).toBe("python");
    for (const ext of ["js", "mjs", "cjs", "ts", "mts", "cts", "jsx", "TSX"]) {
      expect(languageOf(`src/x.${ext}`)).toBe("javascript");
    }
    expect(languageOf("Makefile")).toBeNull();
    expect(languageOf("dir.py/README")).toBeNull();
    expect(languageOf("lib.rs")).toBeNull();
  });
});

describe("focusHotSpots", () => {
  const spot = (file: string, line: number, selfPct: number, fn = `f${line}`): HotSpot => ({
    file,
    line,
    function: fn,
    selfPct,
    cumulativePct: selfPct,
    calls: null,
  });
  const sources: Record<string, string> = {
    "m.py": "def f():\n    a = 1\n    b = 2\n    return a\n\ndef g():\n    return 2\n",
    "w.ts": "export function w() {\n  return 1;\n}\n",
  };
  const read = async (file: string) => sources[file] ?? null;

  it("ranks the pull request's functions first and sums their self time", async () => {
    const hot = [
      spot("m.py", 6, 20, "g"),
      spot("other.py", 1, 40),
      spot("m.py", 1, 30.04, "f"),
      spot("unread.py", 4, 1),
      spot("unread.py", 5, 5),
      spot("w.ts", 1, 2.03),
    ];
    const focus = await focusHotSpots(
      hot,
      { "m.py": [[3, 3]], "unread.py": [[5, 6]], "w.ts": [[3, 3]] },
      read,
    );
    expect(focus.hotSpots.map((h) => `${h.file}:${h.line}:${h.inPullRequest}`)).toEqual([
      "m.py:1:true",
      "unread.py:5:true",
      "w.ts:1:true",
      "m.py:6:false",
      "other.py:1:false",
      "unread.py:4:false",
    ]);
    expect(focus.pullRequestSharePct).toBe(37.1);
    expect(focus.changedFunctions).toBe(3);
    expect(focus.changedLines).toBe(4);
    expect(describeFocus(focus)).toBe(
      "37.1% of the profiled time (self time of 3 hot functions) lies in lines this pull request changed (4 changed lines).",
    );
  });

  it("reads each file once, survives a failing reader and clamps the share to 100", async () => {
    const reads: string[] = [];
    const focus = await focusHotSpots(
      [spot("m.py", 1, 70), spot("m.py", 6, 50), spot("bad.py", 1, 10)],
      { "m.py": [[1, 7]], "bad.py": [[1, 1]] },
      async (file) => {
        reads.push(file);
        if (file === "bad.py") throw new Error("EACCES");
        return sources[file] ?? null;
      },
    );
    expect(reads).toEqual(["m.py", "bad.py"]);
    expect(focus.pullRequestSharePct).toBe(100);
    expect(focus.changedFunctions).toBe(3);
  });

  it("describes 0%, a share under 0.1%, no changed lines and no hot spots", async () => {
    const none = await focusHotSpots([spot("m.py", 6, 20), spot("m.py", 1, 5)], { "x.py": [[1, 48]] }, read);
    expect(none.pullRequestSharePct).toBe(0);
    expect(none.hotSpots.every((h) => !h.inPullRequest)).toBe(true);
    expect(describeFocus(none)).toBe(
      "0% of the profiled time lies in lines this pull request changed (48 changed lines): none of the 2 hot functions overlaps them.",
    );
    const tiny = await focusHotSpots([spot("m.py", 1, 0.02)], { "m.py": [[2, 2]] }, read);
    expect(describeFocus(tiny)).toBe(
      "Less than 0.1% of the profiled time (self time of 1 hot function) lies in lines this pull request changed (1 changed line).",
    );
    expect(describeFocus(await focusHotSpots([spot("m.py", 1, 5)], {}, read))).toMatch(/changed no lines/);
    expect(describeFocus(await focusHotSpots([], { "m.py": [[2, 2]] }, read))).toMatch(/no hot functions/);
  });
});
