import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { applyPatch, computePatchedFiles, PatchApplyError } from "../src/core/patch/apply.ts";
import { applyHunks, seekSequence } from "../src/core/patch/hunks.ts";
import { parsePatch } from "../src/core/patch/parse.ts";
import { checkPatchPolicy } from "../src/core/patch/policy.ts";

describe("seekSequence", () => {
  it("tries exact, then trailing-whitespace, then trimmed, then Unicode-normalised matches", () => {
    expect(seekSequence(["a", "b", "c"], ["b", "c"], 0, false)).toBe(1);
    expect(seekSequence(["a  ", "b\t"], ["a", "b"], 0, false)).toBe(0);
    expect(seekSequence(["    a ", "  b"], ["a", "b"], 0, false)).toBe(0);
    expect(seekSequence(["x \u2014 \u201cy\u201d"], ['x - "y"'], 0, false)).toBe(0);
    expect(seekSequence(["a"], ["a", "b", "c"], 0, false)).toBeNull();
    expect(seekSequence(["a", "b"], [], 1, false)).toBe(1);
  });

  it("searches at or after start, and prefers the end of the file with eof", () => {
    expect(seekSequence(["a", "b", "a"], ["a"], 1, false)).toBe(2);
    expect(seekSequence(["x", "a", "x", "a"], ["a"], 0, true)).toBe(3);
    expect(seekSequence(["a", "x"], ["a"], 0, true)).toBe(0);
  });
});

describe("applyHunks", () => {
  const hunk = (lines: string[], context: string | null = null, endOfFile = false) => ({
    context,
    endOfFile,
    lines: lines.map((l) => ({ op: l[0] as " " | "-" | "+", text: l.slice(1) })),
  });

  it("keeps CRLF and mixed endings, and the file's own context text", () => {
    const out = applyHunks("f", "a  \r\nb\nc\r\n", [hunk([" a", "-b", "+B"])]);
    expect(out).toEqual({ ok: true, content: "a  \r\nB\r\nc\r\n" });
  });

  it("inserts after the @@ line when a hunk has only added lines, else at the end", () => {
    expect(applyHunks("f", "def f():\n    x\n", [hunk(["+    y = 1"], "def f():")])).toEqual({
      ok: true,
      content: "def f():\n    y = 1\n    x\n",
    });
    expect(applyHunks("f", "a\nb", [hunk(["+c"])])).toEqual({ ok: true, content: "a\nb\nc\n" });
  });

  it("retries without a trailing blank line the file lacks", () => {
    expect(applyHunks("f", "a\nb\n", [hunk(["-b", "+B", " "])])).toEqual({ ok: true, content: "a\nB\n" });
  });

  it("reports hunks out of order", () => {
    const out = applyHunks("f.py", "a\nb\nc\n", [hunk(["-c", "+C"]), hunk(["-a", "+A"])]);
    expect(out.ok).toBe(false);
    expect(out.ok ? "" : out.problem).toContain("put hunks in file order");
  });
});

describe("applyPatch", () => {
  it("writes nothing when a later file fails", async () => {
    const root = await mkdtemp(join(tmpdir(), "perfloop-apply-"));
    try {
      await writeFile(join(root, "a.py"), "a = 1\n");
      const patch = parsePatch(
        "*** Begin Patch\n*** Update File: a.py\n@@\n-a = 1\n+a = 2\n*** Delete File: missing.py\n*** End Patch",
      );
      await expect(applyPatch(root, patch)).rejects.toBeInstanceOf(PatchApplyError);
      expect(await readFile(join(root, "a.py"), "utf8")).toBe("a = 1\n");
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("refuses to read or write outside the root even without a policy check", async () => {
    const root = await mkdtemp(join(tmpdir(), "perfloop-apply-"));
    try {
      const patch = parsePatch("*** Begin Patch\n*** Add File: ../evil.py\n+x\n*** End Patch");
      await expect(applyPatch(root, patch)).rejects.toThrow(/outside the repository/);
      const read = parsePatch("*** Begin Patch\n*** Update File: /etc/passwd\n@@\n-x\n+y\n*** End Patch");
      await expect(applyPatch(root, read)).rejects.toThrow(/outside the repository/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it("computes without writing, through any reader", async () => {
    const files: Record<string, string> = { "m.py": "x = 1\n" };
    const patch = parsePatch("*** Begin Patch\n*** Update File: m.py\n@@\n-x = 1\n+x = 2\n*** End Patch");
    const result = await computePatchedFiles(async (p) => files[p] ?? null, patch);
    expect(result.changed).toEqual([{ path: "m.py", kind: "update", before: "x = 1\n", after: "x = 2\n" }]);
    expect(files["m.py"]).toBe("x = 1\n");
  });
});

describe("checkPatchPolicy", () => {
  it("never throws on hostile paths", async () => {
    const policy = { paths: ["**"], protect: [], maxFiles: 5, maxChangedLines: 100, maxFileBytes: 1000 };
    const hostile = [
      "",
      "/",
      "..",
      "a/../../b",
      "a\0b",
      "a\nb",
      "C:",
      "\\\\server\\share",
      "~/x",
      "a/",
      "//x",
    ];
    const changes = hostile.map((path) => ({ path, kind: "add" as const, before: null, after: "x\n" }));
    const violations = await checkPatchPolicy(tmpdir(), changes, policy);
    for (const path of hostile) expect(violations.some((v) => v.path === path)).toBe(true);
    const plain = [{ path: "a.py", kind: "add" as const, before: null, after: "x\n" }];
    const missingRoot = await checkPatchPolicy("/nonexistent/perfloop", plain, policy);
    expect(missingRoot.map((v) => v.rule)).toEqual(["symlink-escape"]);
  });
});
