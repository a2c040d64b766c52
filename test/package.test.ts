/**
 * The installable CLI (README, "CLI"): `npm pack` holds the bin, the bundle and the Python helpers
 * and nothing of the sources; unpacked somewhere with no node_modules, `perfloop` starts from there
 * (the bundle needs no installed package), prints package.json's version and its help; and on a
 * Node older than 22 it says which version it needs instead of failing on syntax.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
let tmp = "";
let files: string[] = [];
let pkgDir = "";

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "perfloop-pack-"));
  const packed = JSON.parse(
    execFileSync("npm", ["pack", "--json", "--pack-destination", tmp], { cwd: ROOT, encoding: "utf8" }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const first = packed[0];
  if (!first) throw new Error("npm pack printed no package");
  files = first.files.map((f) => f.path);
  execFileSync("tar", ["-xzf", path.join(tmp, path.basename(first.filename)), "-C", tmp]);
  pkgDir = path.join(tmp, "package");
}, 120_000);
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** Runs the packed bin with `node`, from an unrelated working directory. */
function perfloop(node: string, ...args: string[]) {
  return spawnSync(node, [path.join(pkgDir, "bin/perfloop.js"), ...args], {
    cwd: os.tmpdir(),
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir() },
  });
}

describe("the npm package", () => {
  it("holds the bin, the CLI bundle and the Python helpers, and no sources, tests or Action bundle", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "bin/perfloop.js",
        "dist/cli.js",
        "dist/package.json",
        "dist/runner.py",
        "dist/python/sitecustomize.py",
        "dist/python/_perfloop_capture.py",
        "LICENSE",
        "README.md",
      ]),
    );
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);
    expect(files).not.toContain("dist/index.js");
  });

  it("starts outside the repository, without node_modules: version from package.json, help", async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as {
      version: string;
    };
    const v = perfloop(process.execPath, "--version");
    expect(v.stderr).toBe("");
    expect(v.stdout).toBe(`perfloop ${version}\n`);
    expect(v.status).toBe(0);
    const help = perfloop(process.execPath, "gate", "--help");
    expect(help.stdout).toMatch(/^usage: perfloop gate \[dir\] --base REF/);
    const typo = perfloop(process.execPath, "optimise");
    expect(typo.status).toBe(2);
    expect(typo.stderr).toMatch(/unknown command "optimise"\. Did you mean "optimize"\?/);
  });

  // The machine's own Node, when it is older than 22 (Debian's is 20): the message, not a crash.
  const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((n) => {
    const r = spawnSync(n, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" });
    return r.status === 0 && Number(r.stdout.trim()) < 22;
  });
  it.skipIf(!oldNode)("on a Node older than 22, says which version it needs and how to get it", () => {
    const r = perfloop(oldNode as string, "--version");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^perfloop needs Node\.js 22\.13 or later; this is Node\.js 2\d\./);
    expect(r.stderr).toMatch(/https:\/\/nodejs\.org/);
  });
});
