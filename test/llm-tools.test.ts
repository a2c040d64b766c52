import { mkdir, mkdtemp, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runReadTool } from "../src/core/optimize/llm/tools.ts";

let repo: string;
beforeAll(async () => {
  repo = await mkdtemp(path.join(tmpdir(), "perfloop-tools-"));
  await mkdir(path.join(repo, "src"));
  await writeFile(path.join(repo, "src/app.py"), "def slow():\n    return sum(range(10))\n");
  await symlink("/etc/passwd", path.join(repo, "notes.txt"));
  await symlink("/etc", path.join(repo, "conf"));
});

describe("the model's read-only tools", () => {
  it("reads a line range with line numbers", async () => {
    expect(
      await runReadTool(
        repo,
        "read_file",
        JSON.stringify({ path: "src/app.py", start_line: 2, end_line: 2 }),
      ),
    ).toBe("    2      return sum(range(10))");
  });

  it("refuses paths that leave the repository, through .., absolute paths or symlinks", async () => {
    for (const p of ["../x", "/etc/passwd", "notes.txt", "conf/hostname"]) {
      expect(await runReadTool(repo, "read_file", JSON.stringify({ path: p }))).toMatch(
        /^error: path .*(without "\.\."|leads outside the repository)/,
      );
    }
  });

  it("searches and lists repository files only (symlinks are not followed)", async () => {
    expect(await runReadTool(repo, "search", JSON.stringify({ pattern: "sum\\(" }))).toBe(
      "src/app.py:2:     return sum(range(10))",
    );
    expect(await runReadTool(repo, "list_files", "{}")).toBe("src/app.py");
  });

  it("answers malformed arguments and unknown tools with an error the model can act on", async () => {
    expect(await runReadTool(repo, "read_file", "{bad")).toMatch(
      /^error: the arguments of read_file are not valid JSON .*Send a JSON object/,
    );
    expect(await runReadTool(repo, "write_file", "{}")).toMatch(
      /^error: unknown tool "write_file"\. Available: read_file, search, list_files, apply_patch, diff, run_tests, run_benchmark, profile, submit/,
    );
    expect(await runReadTool(repo, "search", JSON.stringify({ pattern: "(" }))).toMatch(
      /^error: invalid regular expression/,
    );
  });
});
