/**
 * Byte-exact patches (issue 11, item 6): `git apply` of what src/core/loop/workspace.ts `diffTrees`
 * writes gives exactly the candidate tree — tabs and spaces at line ends, CRLF, no final newline,
 * non-ASCII, empty files, added, deleted and renamed files — and so does the follow-up PR's reading
 * of it (src/publish/unified-diff.ts). Random trees and edits come from fast-check.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { diffTrees } from "../src/core/loop/workspace.ts";
import { applyFileDiff, parseUnifiedDiff } from "../src/publish/index.ts";

/** A tree: repository-relative path → file content (UTF-8 text). */
type Tree = Map<string, string>;

/** git without the user's or the system's configuration (apply.whitespace=fix would edit bytes). */
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), "perfloop-diff-trees-"));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function writeTree(root: string, tree: Tree): Promise<void> {
  await mkdir(root, { recursive: true });
  for (const [file, content] of tree) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), content);
  }
}

/** Every file under `root` (without .git) → its bytes. */
async function readTree(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const rel = path.relative(root, path.join(entry.parentPath, entry.name));
    if (rel.split(path.sep)[0] === ".git") continue;
    out.set(rel, await readFile(path.join(root, rel)));
  }
  return out;
}

const asBytes = (tree: Tree) => new Map([...tree].map(([file, text]) => [file, Buffer.from(text, "utf8")]));

let cases = 0;
/**
 * Writes `before` and `after`, diffs them with diffTrees, and `git apply`s the patch onto a copy of
 * `before` in a fresh git repository. Returns the patch and the tree git left.
 */
async function roundTrip(
  before: Tree,
  after: Tree,
): Promise<{ patch: string; applied: Map<string, Buffer> }> {
  const dir = path.join(scratch, `case-${cases++}`);
  const [from, to, work] = ["from", "to", "work"].map((name) => path.join(dir, name)) as [
    string,
    string,
    string,
  ];
  await writeTree(from, before);
  await writeTree(to, after);
  await writeTree(work, before);
  const patch = await diffTrees(from, to, [...new Set([...before.keys(), ...after.keys()])]);
  await writeFile(path.join(dir, "final.patch"), patch);
  execFileSync("git", ["init", "-q", work], { env: GIT_ENV });
  if (patch.includes("diff --git"))
    execFileSync("git", ["apply", "--whitespace=nowarn", path.join(dir, "final.patch")], {
      cwd: work,
      env: GIT_ENV,
      stdio: ["ignore", "pipe", "pipe"],
    });
  const applied = await readTree(work);
  await rm(dir, { recursive: true, force: true });
  return { patch, applied };
}

/** The tree the follow-up PR would commit: each file diff applied to `before` by src/publish. */
function applyAsFollowUp(patch: string, before: Tree): Tree {
  const result = new Map(before);
  for (const file of parseUnifiedDiff(patch)) {
    const after = applyFileDiff(file, file.oldPath === null ? null : (before.get(file.oldPath) ?? null));
    if (file.oldPath !== null && file.oldPath !== file.newPath && !file.keepOld) result.delete(file.oldPath);
    if (file.newPath !== null && after !== null) result.set(file.newPath, after);
  }
  return result;
}

// Pieces of lines: whitespace that ends lines, non-ASCII, and text that looks like diff syntax.
const PIECES = ["a", "b", "x = 1;", " ", "\t", "é", "字", "😀", "-- x", "++ y", "\\ No", "@@", "\r"];
const EOLS = ["\n", "\n", "\r\n"];
const PATHS = [
  "Makefile",
  "src/main.c",
  "src/util.h",
  "data/t.tsv",
  "dir with space/ü.txt",
  "日本/語.go",
  "empty",
  "a/b/c/deep.txt",
  "x.txt",
  "y.txt",
];

type Line = [text: string, eol: string];
const lineText = fc.array(fc.constantFrom(...PIECES), { maxLength: 4 }).map((p) => p.join(""));
const line: fc.Arbitrary<Line> = fc.tuple(lineText, fc.constantFrom(...EOLS));
const lines = fc.array(line, { maxLength: 12 });
/** How the last line ends: as generated, without its end of line, or with a lone CR left. */
const ending = fc.constantFrom("keep", "drop", "drop-lf");

function render(ls: Line[], end: string): string {
  const text = ls.map(([t, e]) => t + e).join("");
  if (ls.length === 0 || end === "keep") return text;
  const last = ls[ls.length - 1] as Line;
  return text.slice(0, text.length - (end === "drop" ? last[1].length : 1));
}

function parse(text: string): Line[] {
  return (text.match(/[^\n]*(?:\n|$)/g) ?? [])
    .filter((l) => l !== "")
    .map((l) => (l.endsWith("\n") ? [l.slice(0, -1), "\n"] : [l, ""]));
}

const edit = fc.record({
  kind: fc.constantFrom(
    "set",
    "insert",
    "delete",
    "tail-tab",
    "tail-space",
    "crlf",
    "lf",
    "cut-end",
    "add-end",
  ),
  at: fc.nat(),
  line,
});
type Edit = typeof edit extends fc.Arbitrary<infer T> ? T : never;

/** Applies random line edits to `text`. */
function editText(text: string, edits: Edit[]): string {
  const ls = parse(text);
  for (const e of edits) {
    const k = ls.length === 0 ? 0 : e.at % ls.length;
    const cur = ls[k];
    switch (e.kind) {
      case "set":
        if (cur) ls[k] = [e.line[0], cur[1]];
        break;
      case "insert":
        ls.splice(ls.length === 0 ? 0 : e.at % (ls.length + 1), 0, e.line);
        break;
      case "delete":
        ls.splice(k, 1);
        break;
      case "tail-tab":
      case "tail-space":
        if (cur) cur[0] = cur[0].replace(/\r$/, "") + (e.kind === "tail-tab" ? "\t" : " ");
        break;
      case "crlf":
        if (cur && cur[1] === "\n" && !cur[0].endsWith("\r")) cur[0] += "\r";
        break;
      case "lf":
        if (cur) cur[0] = cur[0].replace(/\r$/, "");
        break;
      case "cut-end": {
        const last = ls[ls.length - 1];
        if (last) last[1] = "";
        break;
      }
      case "add-end": {
        const last = ls[ls.length - 1];
        if (last) last[1] = "\n";
        break;
      }
    }
  }
  // Only the last line may lack its newline.
  return ls.map(([t, e], i) => t + (e === "" && i < ls.length - 1 ? "\n" : e)).join("");
}

const content = fc.oneof(
  { weight: 1, arbitrary: fc.constant("") },
  { weight: 6, arbitrary: fc.tuple(lines, ending).map(([ls, end]) => render(ls, end)) },
);
const fileCase = fc.record({
  before: fc.option(content, { freq: 4 }),
  action: fc.constantFrom("keep", "edit", "edit", "delete", "replace"),
  edits: fc.array(edit, { minLength: 1, maxLength: 5 }),
  replacement: content,
});
const treeCase = fc.record({
  files: fc.array(fileCase, { minLength: PATHS.length, maxLength: PATHS.length }),
  rename: fc.option(
    fc.record({
      from: fc.nat(PATHS.length - 1),
      to: fc.nat(PATHS.length - 1),
      edits: fc.array(edit, { maxLength: 2 }),
    }),
  ),
});

/** The original tree and the candidate's, from one random case. */
function trees(c: typeof treeCase extends fc.Arbitrary<infer T> ? T : never): { before: Tree; after: Tree } {
  const before: Tree = new Map();
  const after: Tree = new Map();
  c.files.forEach((f, k) => {
    const file = PATHS[k] as string;
    if (f.before !== null) before.set(file, f.before);
    if (f.before === null) {
      if (f.action !== "keep" && f.action !== "delete") after.set(file, f.replacement);
    } else if (f.action === "keep") after.set(file, f.before);
    else if (f.action === "edit") after.set(file, editText(f.before, f.edits));
    else if (f.action === "replace") after.set(file, f.replacement);
  });
  if (c.rename) {
    const from = PATHS[c.rename.from] as string;
    const to = PATHS[c.rename.to] as string;
    const moved = before.get(from);
    if (moved !== undefined && from !== to && !before.has(to)) {
      after.delete(from);
      after.set(to, editText(moved, c.rename.edits));
    }
  }
  return { before, after };
}

describe("diffTrees", () => {
  it("keeps a tab that ends a Makefile line (git apply and the follow-up PR)", async () => {
    const before = new Map([
      ["Makefile", "CFLAGS = -O0\t\nall:\tmain\n\tcc $(CFLAGS) -o main main.c\t\n"],
      ["data/t.tsv", "a\tb\t\n1\t2\t\n"],
    ]);
    const after = new Map([
      ["Makefile", "CFLAGS = -O2\t\nall:\tmain\n\tcc $(CFLAGS) -o main main.c\t\n"],
      ["data/t.tsv", "a\tb\t\n1\t3\t\n"],
    ]);
    const { patch, applied } = await roundTrip(before, after);
    expect(patch).toContain("+CFLAGS = -O2\t\n");
    expect(patch).toContain(" \tcc $(CFLAGS) -o main main.c\t\n");
    expect(patch).toMatch(/^--- a\/Makefile\n\+\+\+ b\/Makefile\n/m); // no tab after a header
    expect(applied).toEqual(asBytes(after));
    expect(applyAsFollowUp(patch, before)).toEqual(after);
  });

  it("writes git headers for added, deleted and empty files", async () => {
    const before = new Map([
      ["old.txt", "gone\n"],
      ["was-empty", ""],
      ["kept", "same\n"],
    ]);
    const after = new Map([
      ["kept", "same\n"],
      ["new.txt", "fresh"],
      ["now-empty", ""],
      ["dür/é.txt", "ça\r\nva\r\n"],
    ]);
    const { patch, applied } = await roundTrip(before, after);
    expect(patch).toContain("diff --git a/now-empty b/now-empty\nnew file mode 100644\ndiff --git");
    expect(patch).toContain("diff --git a/was-empty b/was-empty\ndeleted file mode 100644\n");
    expect(patch).toContain(
      "diff --git a/old.txt b/old.txt\ndeleted file mode 100644\n--- a/old.txt\n+++ /dev/null\n",
    );
    expect(patch).toContain(
      "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1,1 @@\n+fresh\n\\ No newline at end of file\n",
    );
    expect(patch).not.toContain("kept");
    expect(applied).toEqual(asBytes(after));
    expect(applyAsFollowUp(patch, before)).toEqual(after);
  });

  it("leaves binary files out with a note before the first diff", async () => {
    const before = new Map([
      ["blob.bin", "a\0b\n"],
      ["text", "a\n"],
    ]);
    const after = new Map([
      ["blob.bin", "a\0c\n"],
      ["text", "b\n"],
    ]);
    const { patch, applied } = await roundTrip(before, after);
    expect(
      patch.startsWith(
        "# perfloop: blob.bin left out of this patch: it is binary or not UTF-8 text\ndiff --git",
      ),
    ).toBe(true);
    expect(applied.get("text")?.toString()).toBe("b\n");
    expect(applied.get("blob.bin")?.toString()).toBe("a\0b\n");
  });

  it("gives exactly the candidate tree for random trees and edits (fast-check)", async () => {
    await fc.assert(
      fc.asyncProperty(treeCase, async (c) => {
        const { before, after } = trees(c);
        const { patch, applied } = await roundTrip(before, after);
        expect(applied).toEqual(asBytes(after));
        expect(applyAsFollowUp(patch, before)).toEqual(after);
      }),
      { numRuns: 50 },
    );
  });
});
