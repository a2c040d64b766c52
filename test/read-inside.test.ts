/**
 * What perfloop reads itself stays inside the repository (src/core/fs/inside.ts), and the prompt
 * never carries a file from outside: an AGENTS.md or a hot file linked out of the repository (to a
 * file of the runner, to /proc/self/environ) is left out, as are FIFOs and devices.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  RepositoryPathError,
  readInside,
  realInsideSync,
  relativePathProblem,
  resolveInside,
} from "../src/core/fs/inside.ts";
import { agentsInstructions, buildUserPrompt, type PromptInput } from "../src/core/optimize/llm/prompt.ts";
import { runReadTool } from "../src/core/optimize/llm/tools.ts";

const SECRET = "OUTSIDE-SECRET-7f3a";
let base: string;
let repo: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "perfloop-inside-"));
  repo = path.join(base, "repo");
  outside = path.join(base, "outside");
  await mkdir(path.join(repo, "src/deep"), { recursive: true });
  await mkdir(outside);
  await writeFile(path.join(outside, "secret.txt"), `${SECRET}\n`);
  await writeFile(path.join(outside, "app.py"), `def stolen():\n    return "${SECRET}"\n`);
  await writeFile(path.join(repo, "src/app.py"), "def slow():\n    return sum(range(10))\n");
  await writeFile(path.join(repo, "AGENTS.md"), "Root rule: keep it simple.\n");
  await symlink(path.join(outside, "secret.txt"), path.join(repo, "src/AGENTS.md"));
  await symlink("/proc/self/environ", path.join(repo, "src/deep/AGENTS.md"));
  await symlink(path.join(outside, "app.py"), path.join(repo, "src/linked.py"));
  await symlink(outside, path.join(repo, "out"));
  await symlink(path.join(base, "nowhere"), path.join(repo, "dangling"));
  await symlink("app.py", path.join(repo, "src/alias.py")); // a link that stays inside
  execFileSync("mkfifo", [path.join(repo, "pipe")]);
});
afterAll(() => rm(base, { recursive: true, force: true }));

const refusal = async (rel: string): Promise<string> => {
  try {
    await readInside(repo, rel);
  } catch (error) {
    expect(error).toBeInstanceOf(RepositoryPathError);
    return (error as RepositoryPathError).reason;
  }
  throw new Error(`${rel} was read`);
};

describe("readInside", () => {
  it("reads a regular file inside the repository, also through a link that stays inside", async () => {
    expect(await readInside(repo, "src/app.py")).toMatch(/^def slow/);
    expect(await readInside(repo, "src/alias.py")).toMatch(/^def slow/);
  });

  it("returns null for a file that is not there", async () => {
    expect(await readInside(repo, "src/missing.py")).toBeNull();
    expect(await readInside(repo, "src/app.py/below")).toBeNull();
  });

  it("refuses absolute paths, ~ and .. from their text alone", async () => {
    for (const rel of [
      "/etc/passwd",
      "~/.ssh/id_rsa",
      "../outside/secret.txt",
      "src/../../outside/secret.txt",
    ])
      expect(await refusal(rel)).toBe("lexical");
  });

  it("refuses links out of the repository: to a file, to /proc/self/environ, through a directory, dangling", async () => {
    for (const rel of ["src/AGENTS.md", "src/deep/AGENTS.md", "src/linked.py", "out/secret.txt", "dangling"])
      expect(await refusal(rel)).toBe("outside");
  });

  it("refuses a FIFO without blocking, and a directory", async () => {
    expect(await refusal("pipe")).toBe("not-a-file");
    expect(await refusal("src")).toBe("not-a-file");
  });

  it("refuses a file larger than maxBytes", async () => {
    await expect(readInside(repo, "src/app.py", { maxBytes: 10 })).rejects.toMatchObject({
      reason: "too-large",
    });
  });

  it("resolves paths that do not exist yet by their nearest existing ancestor", async () => {
    expect(realInsideSync(repo, "new/dir/file.txt")).toMatch(/repo\/new\/dir\/file\.txt$/);
    expect(realInsideSync(repo, "out/new.txt")).toBeNull();
    expect(realInsideSync(repo, "dangling/x")).toBeNull();
    await expect(resolveInside(repo, "out/new.txt")).rejects.toMatchObject({ reason: "outside" });
  });

  it("names what is wrong with a path's text", () => {
    expect(relativePathProblem("src/a.py")).toBeNull();
    expect(relativePathProblem("src/**/*.py")).toBeNull();
    expect(relativePathProblem("/etc")).toBe("is absolute");
    expect(relativePathProblem("C:\\x")).toBe("is absolute");
    expect(relativePathProblem("~/x")).toMatch(/^starts with ~/);
    expect(relativePathProblem("a/../../b")).toBe("has a '..' segment");
    expect(relativePathProblem("")).toBe("is empty");
    expect(relativePathProblem("a\u0000b")).toMatch(/NUL/);
  });
});

describe("the prompt reads inside the repository only", () => {
  const input = (hot: string[]): PromptInput => ({
    root: repo,
    verdicts: [],
    hotSpots: hot.map((file) => ({
      file,
      line: 1,
      function: "f",
      selfPct: 50,
      cumulativePct: 50,
      calls: null,
    })),
    benchmarkCommand: "python bench.py",
    testCommand: "pytest",
    paths: ["**/*"],
    protect: [],
    bestWallMs: 100,
    bestImprovementPct: 0,
    failures: [],
  });

  it("leaves out an AGENTS.md linked to a file outside and one linked to /proc/self/environ", async () => {
    const text = await agentsInstructions(repo, ["src/deep/app.py"]);
    expect(text).toBe("From AGENTS.md:\nRoot rule: keep it simple.");
    const prompt = await buildUserPrompt(input(["src/deep/app.py"]));
    expect(prompt).toContain("Root rule: keep it simple.");
    expect(prompt).not.toContain(SECRET);
    expect(prompt).not.toMatch(/PATH=|HOME=/);
  });

  it("shows hot code of repository files, never of a hot file linked outside", async () => {
    const prompt = await buildUserPrompt(input(["src/app.py", "src/linked.py", "pipe"]));
    expect(prompt).toContain("return sum(range(10))");
    expect(prompt).not.toContain(SECRET);
    expect(prompt).not.toContain("### src/linked.py");
  });

  it("the model's read_file keeps its messages and refuses a FIFO", async () => {
    expect(await runReadTool(repo, "read_file", JSON.stringify({ path: "src/linked.py" }))).toMatch(
      /^error: path "src\/linked\.py" leads outside the repository/,
    );
    expect(await runReadTool(repo, "read_file", JSON.stringify({ path: "pipe" }))).toMatch(
      /^error: no file "pipe"/,
    );
  });

  it("the model's search runs on RE2: a backtracking pattern finishes, a backreference is refused", async () => {
    await writeFile(path.join(repo, "src/long.txt"), `${"a".repeat(50_000)}b\n`);
    expect(await runReadTool(repo, "search", JSON.stringify({ pattern: "^(a+)+$" }))).toBe("no matches");
    expect(await runReadTool(repo, "search", JSON.stringify({ pattern: "(a)\\1" }))).toMatch(
      /^error: invalid regular expression \(RE2 syntax/,
    );
  });
});
