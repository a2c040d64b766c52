// `perfloop init` writing files: it never overwrites without --force, never writes through a
// symbolic link (even with --force), checks every target before writing any, and creates .github/.
// Also the bounds of the project walk (skipped directories, links, the file limit).
import { lstat, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InitError, runInit } from "../src/cli/init.ts";
import { loadConfig } from "../src/core/config/load.ts";
import { detectProject } from "../src/core/init/detect.ts";
import { MAX_FILES } from "../src/core/init/files.ts";
import { sink } from "./helpers/cli.ts";

const temps: string[] = [];
afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

async function project(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "perfloop-init-write-"));
  temps.push(dir);
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(dir, rel, ".."), { recursive: true });
    await writeFile(join(dir, rel), text);
  }
  return dir;
}

const io = () => ({ out: sink(), err: sink() });
const PY = { "pkg/__init__.py": "def f():\n    return 1\n", "tests/test_pkg.py": "import pytest\n" };

/** Runs init and returns the InitError it throws (fails the test when it does not throw one). */
async function refusal(options: Parameters<typeof runInit>[0]): Promise<InitError> {
  const error = await runInit(options, io()).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InitError);
  return error as InitError;
}

describe("perfloop init writes", () => {
  it("creates .github/ and a config that loads", async () => {
    const dir = await project(PY);
    const outcome = await runInit({ dir, force: false, workflows: false }, io());
    expect(outcome.written).toEqual([".github/perfloop.yml"]);
    expect((await lstat(join(dir, ".github"))).isDirectory()).toBe(true);
    expect((await loadConfig(dir)).test).toBe("python3 -m pytest -q");
  });

  it("refuses to overwrite an existing config without force, naming the file and --force", async () => {
    const dir = await project(PY);
    await runInit({ dir, force: false, workflows: false }, io());
    await writeFile(join(dir, ".github/perfloop.yml"), "# mine\n");
    const error = await refusal({ dir, force: false, workflows: false });
    expect(error.code).toBe("exists");
    expect(error.file).toBe(".github/perfloop.yml");
    expect(error.message).toContain(".github/perfloop.yml");
    expect(error.message).toContain("--force");
    expect(await readFile(join(dir, ".github/perfloop.yml"), "utf8")).toBe("# mine\n");
  });

  it("replaces an existing config with force", async () => {
    const dir = await project(PY);
    await mkdir(join(dir, ".github"));
    await writeFile(join(dir, ".github/perfloop.yml"), "# mine\n");
    const outcome = await runInit({ dir, force: true, workflows: false }, io());
    expect(outcome.written).toEqual([".github/perfloop.yml"]);
    expect((await loadConfig(dir)).test).toBe("python3 -m pytest -q");
  });

  it("never writes through a symbolic link, even with force", async () => {
    const dir = await project(PY);
    const outside = await project({ "target.yml": "# outside\n" });
    await mkdir(join(dir, ".github"));
    await symlink(join(outside, "target.yml"), join(dir, ".github/perfloop.yml"));
    for (const force of [false, true]) {
      const error = await refusal({ dir, force, workflows: false });
      expect(error.code).toBe("symlink");
      expect(error.message).toContain(".github/perfloop.yml");
    }
    expect(await readFile(join(outside, "target.yml"), "utf8")).toBe("# outside\n");
  });

  it("refuses a dangling link where the config goes", async () => {
    const dir = await project(PY);
    await mkdir(join(dir, ".github"));
    await symlink(join(dir, "nowhere.yml"), join(dir, ".github/perfloop.yml"));
    expect((await refusal({ dir, force: true, workflows: false })).code).toBe("symlink");
    await expect(lstat(join(dir, "nowhere.yml"))).rejects.toThrow();
  });

  it("refuses a .github directory that is a symbolic link", async () => {
    const dir = await project(PY);
    const outside = await project();
    await symlink(outside, join(dir, ".github"));
    const error = await refusal({ dir, force: true, workflows: false });
    expect(error.code).toBe("symlink");
    expect(error.file).toBe(".github");
    await expect(lstat(join(outside, "perfloop.yml"))).rejects.toThrow();
  });

  it("checks every target before writing any: an existing workflow leaves no config behind", async () => {
    const dir = await project({ ...PY, ".github/workflows/perfloop.yml": "name: mine\n" });
    const error = await refusal({ dir, force: false, workflows: true });
    expect(error.file).toBe(".github/workflows/perfloop.yml");
    await expect(lstat(join(dir, ".github/perfloop.yml"))).rejects.toThrow();
  });

  it("refuses a directory that does not exist", async () => {
    const dir = join(await project(), "missing");
    expect((await refusal({ dir, force: false, workflows: false })).code).toBe("no-directory");
  });
});

describe("perfloop init reads within bounds", () => {
  it("skips dependency, build and virtual-environment directories and symbolic links", async () => {
    const dir = await project({
      "app.py": "print(1)\n",
      "node_modules/x/package.json": "{}",
      ".venv/lib/torch_user.py": "import torch\n",
      "env/pyvenv.cfg": "home = /usr\n",
      "env/lib/gpu.py": "import cupy\n",
      "build/gen.py": "import jax\n",
      "target/debug/x.rs": "",
    });
    const outside = await project({ "gpu.py": "import tensorflow\n" });
    await symlink(outside, join(dir, "linked"));
    await symlink(join(outside, "gpu.py"), join(dir, "linked.py"));
    const d = await detectProject(dir);
    expect(d.scanned).toEqual({ files: 1, truncated: false });
    expect(d.gpu).toEqual([]);
    expect(d.languages.map((l) => l.language)).toEqual(["python"]);
  });

  it(`stops listing at ${MAX_FILES} files and says so`, async () => {
    const dir = await project();
    await mkdir(join(dir, "many"));
    await Promise.all(
      Array.from({ length: MAX_FILES + 10 }, (_, i) => writeFile(join(dir, "many", `f${i}.txt`), "")),
    );
    await writeFile(join(dir, "go.mod"), "module x\n");
    const d = await detectProject(dir);
    expect(d.scanned).toEqual({ files: MAX_FILES, truncated: true });
    // Breadth-first: the top-level manifest is listed before the deep files exhaust the limit.
    expect(d.test).toBe("go test ./...");
    expect(d.notes.map((n) => n.message).join("\n")).toContain(`${MAX_FILES} files`);
  });

  it("notes a malformed package.json and carries on", async () => {
    const dir = await project({
      "package.json": '{ "scripts": { "test": "vitest run", } }',
      "go.mod": "module x\n",
    });
    const d = await detectProject(dir);
    expect(d.test).toBe("go test ./...");
    expect(d.notes).toEqual([expect.objectContaining({ file: "package.json", line: 1 })]);
    expect(d.notes[0]?.message).toMatch(/malformed JSON/);
  });
});
