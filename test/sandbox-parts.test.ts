/** The sandbox's parts without running it: host view, bubblewrap command line, limits, cgroups. */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { bwrapArgv } from "../src/core/sandbox/bwrap.ts";
import { createCommandCgroup, joinCgroupArgv, probeCgroup } from "../src/core/sandbox/cgroup.ts";
import { hostView } from "../src/core/sandbox/host-view.ts";
import { prlimitArgv, readHardLimits, resolveLimits } from "../src/core/sandbox/limits.ts";

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "perfloop-parts-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const PROC_LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max file size             unlimited            unlimited            bytes
Max data size             unlimited            unlimited            bytes
Max processes             96368                96368                processes
Max open files            1024                 20000                files
`;

describe("limits", () => {
  it("reads the hard limits of /proc/self/limits (finite ones only)", () => {
    expect(readHardLimits(PROC_LIMITS)).toEqual({ processes: 96368, openFiles: 20000 });
  });

  it("caps each limit at perfloop's own hard limit, and memory auto is half the RAM", () => {
    const config = parseConfig({ test: "true", benchmark: { command: "true" } }).sandbox.limits;
    const limits = resolveLimits(config, 16 * 2 ** 30, readHardLimits(PROC_LIMITS));
    expect(limits).toEqual({
      processes: 4096,
      memoryBytes: 8 * 2 ** 30,
      fileSizeBytes: 4 * 2 ** 30,
      openFiles: 20000,
      tmpBytes: 2 * 2 ** 30,
    });
    expect(prlimitArgv(limits)).toEqual([
      "prlimit",
      "--nproc=4096",
      `--data=${8 * 2 ** 30}`,
      `--fsize=${4 * 2 ** 30}`,
      "--nofile=20000",
      "--",
    ]);
  });

  it("parses sizes and refuses wildcards in sandbox.env", () => {
    const config = parseConfig({
      test: "true",
      benchmark: { command: "true" },
      sandbox: { limits: { memory: "512 MiB", tmp: "1.5 GB", processes: 0 } },
    });
    expect(config.sandbox.limits).toMatchObject({ memory: 512 * 2 ** 20, tmp: 1.5e9, processes: 0 });
    expect(() =>
      parseConfig({ test: "true", benchmark: { command: "true" }, sandbox: { env: ["AWS_*"] } }),
    ).toThrow(/sandbox\.env.*wildcards are refused/s);
  });
});

describe("host view", () => {
  it("shows toolchains from PATH by their prefix, never a home, the runner's dirs or /tmp", async () => {
    const home = path.join(root, "home");
    const toolCache = path.join(home, "actions-runner/_work/_tool");
    for (const dir of [
      `${toolCache}/Python/3.12/x64/bin`,
      `${home}/.cargo/bin`,
      `${home}/.pyenv/shims`,
      `${home}/scripts/bin`,
      `${root}/opt/conda/bin`,
    ])
      await mkdir(dir, { recursive: true });
    const view = hostView({
      env: {
        HOME: home,
        RUNNER_TOOL_CACHE: toolCache,
        PATH: [
          `${toolCache}/Python/3.12/x64/bin`,
          `${home}/.cargo/bin`,
          `${home}/.pyenv/shims`,
          `${home}/scripts/bin`,
          `${root}/opt/conda/bin`,
          "/usr/bin",
        ].join(":"),
      },
      readOnly: [home, `${home}/.cargo`, "/etc", "/proc/self"],
      hide: [],
    });
    expect(view.toolchains).toContain(`${toolCache}/Python/3.12/x64`);
    expect(view.home).toBe(home);
    const hidden = Object.fromEntries(view.hidden.map((h) => [h.path, h.why]));
    // Toolchain roots in the home are shown whole (pyenv's shims need its versions/), ~/.cargo/bin
    // alone (~/.cargo holds registry credentials); nothing else of the home.
    expect(view.toolchains).toEqual(expect.arrayContaining([`${home}/.pyenv`, `${home}/.cargo/bin`]));
    expect(hidden[`${home}/scripts/bin`]).toMatch(/inside \$HOME/);
    expect(hidden[`${home}/.cargo`]).toMatch(/not a known toolchain root/);
    expect(hidden[`${root}/opt/conda/bin`]).toMatch(/nothing under \/tmp/); // the test's root is in /tmp
    expect(hidden[home]).toMatch(/inside \$HOME/);
    expect(hidden["/etc"]).toMatch(/nothing under \/etc/);
    expect(hidden["/proc/self"]).toBeDefined();
    const bound = view.binds.map((b) => b.path);
    expect(bound).toContain("/usr");
    expect(bound).toContain("/etc/passwd");
    expect(bound).not.toContain("/etc/shadow");
    expect(bound).not.toContain(home);
  });
});

describe("bwrapArgv", () => {
  const view = {
    binds: [
      { path: "/usr", kind: "bind" as const },
      { path: "/dev/nvidia0", kind: "device" as const },
    ],
    toolchains: [],
    hidden: [],
    home: "/home/runner",
  };
  const limits = { processes: 10, memoryBytes: 0, fileSizeBytes: 0, openFiles: 0, tmpBytes: 1000 };
  const argv = (network: "off" | "on") =>
    bwrapArgv(
      ["sh", "-c", "make"],
      "/scratch/best",
      {
        writable: ["/scratch/profile"],
        readOnly: ["/scratch/best"],
        binds: [{ from: "/repo/node_modules", to: "/scratch/best/node_modules" }],
      },
      { view, network, limits, disableUserns: true, bwrap: "bwrap" },
    );

  it("isolates everything, network included unless asked, and ends with prlimit and the command", () => {
    const off = argv("off");
    for (const flag of [
      "--unshare-user",
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-net",
      "--die-with-parent",
      "--new-session",
      "--disable-userns",
    ])
      expect(off).toContain(flag);
    expect(off.join(" ")).toContain("--cap-drop ALL");
    expect(argv("on")).not.toContain("--unshare-net");
    expect(off.slice(-7)).toEqual(["--", "prlimit", "--nproc=10", "--", "sh", "-c", "make"]);
    expect(off.join(" ")).toContain("--ro-bind /scratch/best /scratch/best");
    expect(off.join(" ")).toContain("--bind /scratch/profile /scratch/profile");
    expect(off.join(" ")).toContain("--ro-bind /repo/node_modules /scratch/best/node_modules");
    expect(off.join(" ")).toContain("--size 1000 --tmpfs /home/runner");
    // Binds come after the home's tmpfs, which would hide a toolchain root inside it (~/.pyenv).
    expect(off.indexOf("/usr")).toBeGreaterThan(off.lastIndexOf("--tmpfs"));
    // Devices are bound after --dev, which would hide them.
    expect(off.lastIndexOf("/dev/nvidia0")).toBeGreaterThan(off.indexOf("--dev"));
    expect(off.join(" ")).toContain("--chdir /scratch/best");
  });
});

describe("cgroups", () => {
  it("finds writable v1 pids and memory hierarchies and makes a cgroup per command", async () => {
    const fake = path.join(root, "cgroup-v1");
    await mkdir(path.join(fake, "pids/runner"), { recursive: true });
    await mkdir(path.join(fake, "memory/runner"), { recursive: true });
    const support = await probeCgroup("8:pids:/runner\n4:memory:/runner\n0::/\n", fake);
    expect(support).toEqual({ version: 1, pids: `${fake}/pids/runner`, memory: `${fake}/memory/runner` });
    const group = await createCommandCgroup(support as NonNullable<typeof support>, {
      processes: 64,
      memoryBytes: 1e9,
    });
    expect(group?.procs).toHaveLength(2);
    const [pids, memory] = (group?.procs ?? []).map((p) => path.dirname(p));
    expect(await readFile(path.join(pids as string, "pids.max"), "utf8")).toBe("64");
    expect(await readFile(path.join(memory as string, "memory.limit_in_bytes"), "utf8")).toBe("1000000000");
    const procs = group?.procs ?? [];
    expect(joinCgroupArgv(procs)).toEqual([
      "sh",
      "-c",
      expect.any(String),
      "perfloop-cgroup",
      ...procs,
      "--",
    ]);
  });

  it("uses a delegated v2 cgroup only when its subtree has the pids or memory controller", async () => {
    const fake = path.join(root, "cgroup-v2");
    await mkdir(path.join(fake, "user.slice/job"), { recursive: true });
    await writeFile(path.join(fake, "cgroup.controllers"), "cpu memory pids\n");
    await writeFile(path.join(fake, "user.slice/job/cgroup.subtree_control"), "");
    expect(await probeCgroup("0::/user.slice/job\n", fake)).toBeNull();
    await writeFile(path.join(fake, "user.slice/job/cgroup.subtree_control"), "memory pids\n");
    expect(await probeCgroup("0::/user.slice/job\n", fake)).toEqual({
      version: 2,
      pids: `${fake}/user.slice/job`,
      memory: `${fake}/user.slice/job`,
    });
  });
});

describe("tree digests and scratch copies", () => {
  it("a digest changes with any content, mode or link, and ignores what is excluded", async () => {
    const { treeDigest } = await import("../src/core/sandbox/tree-digest.ts");
    const { chmod, symlink } = await import("node:fs/promises");
    const tree = path.join(root, "digest");
    await mkdir(path.join(tree, "src"), { recursive: true });
    await writeFile(path.join(tree, "src/a.py"), "x = 1\n");
    const first = await treeDigest(tree);
    expect(await treeDigest(tree)).toBe(first);
    await writeFile(path.join(tree, "src/a.py"), "x = 2\n");
    const content = await treeDigest(tree);
    expect(content).not.toBe(first);
    await chmod(path.join(tree, "src/a.py"), 0o755);
    const mode = await treeDigest(tree);
    expect(mode).not.toBe(content);
    await symlink("/etc/passwd", path.join(tree, "link"));
    expect(await treeDigest(tree)).not.toBe(mode);
    expect(await treeDigest(tree, { exclude: [path.join(tree, "link")] })).toBe(mode);
  });

  it("a scratch copy drops links that lead out and shows dependency folders as mount points", async () => {
    const { createWorkspace, dependencyBinds, disposeWorkspace } = await import(
      "../src/core/loop/workspace.ts"
    );
    const { lstat, readdir, symlink } = await import("node:fs/promises");
    const repo = path.join(root, "repo");
    await mkdir(path.join(repo, "node_modules/dep"), { recursive: true });
    await mkdir(path.join(repo, "src"), { recursive: true });
    await writeFile(path.join(repo, "src/a.js"), "1\n");
    await symlink("/etc/passwd", path.join(repo, "abs-link"));
    await symlink("../../outside", path.join(repo, "src/up-link"));
    await symlink("a.js", path.join(repo, "src/in-link"));
    const workspace = await createWorkspace(repo, [], "mount");
    try {
      expect(workspace.droppedLinks.sort()).toEqual(["abs-link", "src/up-link"]);
      expect((await lstat(path.join(workspace.baseline, "src/in-link"))).isSymbolicLink()).toBe(true);
      const modules = path.join(workspace.baseline, "node_modules");
      expect((await lstat(modules)).isDirectory()).toBe(true);
      expect(await readdir(modules)).toEqual([]);
      expect(dependencyBinds(workspace, workspace.baseline)).toEqual([
        { from: path.join(repo, "node_modules"), to: modules },
      ]);
    } finally {
      await disposeWorkspace(workspace);
    }
  });
});
