/**
 * A control group per command, where perfloop may create one (README, "Safety"): `pids.max` bounds
 * the processes of the whole command — the one process limit that also holds for a root runner,
 * which the kernel exempts from RLIMIT_NPROC — and `memory.max` (cgroup v2) or
 * `memory.limit_in_bytes` (v1) the memory of the whole command, page cache and tmpfs included.
 * Used when perfloop's own cgroup can have children with those controllers: a delegated cgroup v2
 * (systemd `Delegate=yes`, e.g. `systemd-run --user --scope -p Delegate=yes perfloop …`), or the
 * v1 `pids` and `memory` hierarchies where they are writable (root). Otherwise the rlimits of
 * limits.ts are all there is, and results.json says so (`sandbox.limits.cgroup: 0`).
 */
import { mkdir, readFile, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";

/** Where command cgroups can be made. */
export interface CgroupSupport {
  version: 1 | 2;
  /** Parent directories: one for v2; the pids and memory hierarchies for v1. */
  pids: string | null;
  memory: string | null;
}

/** One command's cgroup. */
export interface CommandCgroup {
  /** `cgroup.procs` files the command's first process writes its pid into (before exec). */
  procs: string[];
  /** Removes the cgroup(s); call after every process of the command has ended. Never throws. */
  dispose(): Promise<void>;
}

const ROOT = "/sys/fs/cgroup";
let counter = 0;

/**
 * Finds where command cgroups can be made; null when nowhere.
 * @param selfCgroup the text of /proc/self/cgroup (for tests).
 * @param root the cgroup file system's mount point (for tests).
 */
export async function probeCgroup(selfCgroup?: string, root = ROOT): Promise<CgroupSupport | null> {
  const text = selfCgroup ?? (await readFile("/proc/self/cgroup", "utf8").catch(() => ""));
  const lines = text.split("\n").map((line) => line.split(":"));
  const v1 = (controller: string) =>
    lines
      .find((parts) => parts[1]?.split(",").includes(controller))
      ?.slice(2)
      .join(":") ?? null;
  const unified = lines
    .find((parts) => parts[0] === "0" && parts[1] === "")
    ?.slice(2)
    .join(":");
  const v2Controllers = await readFile(path.join(root, "cgroup.controllers"), "utf8").catch(() => null);
  if (unified !== undefined && v2Controllers !== null) {
    const parent = path.join(root, unified);
    const enabled = (await readFile(path.join(parent, "cgroup.subtree_control"), "utf8").catch(() => ""))
      .trim()
      .split(/\s+/);
    const pids = enabled.includes("pids") ? parent : null;
    const memory = enabled.includes("memory") ? parent : null;
    if ((pids || memory) && (await canCreateChild(parent))) return { version: 2, pids, memory };
    return null;
  }
  const pidsPath = v1("pids");
  const memoryPath = v1("memory");
  const pids = pidsPath !== null ? path.join(root, "pids", pidsPath) : null;
  const memory = memoryPath !== null ? path.join(root, "memory", memoryPath) : null;
  const usable = {
    pids: pids && (await canCreateChild(pids)) ? pids : null,
    memory: memory && (await canCreateChild(memory)) ? memory : null,
  };
  return usable.pids || usable.memory ? { version: 1, ...usable } : null;
}

/**
 * Creates the cgroup(s) of one command with its limits.
 * @param processes pids.max (0 = no limit); @param memoryBytes memory limit (0 = no limit).
 * @returns null when nothing could be created (the command then runs with rlimits only).
 */
export async function createCommandCgroup(
  support: CgroupSupport,
  limits: { processes: number; memoryBytes: number },
): Promise<CommandCgroup | null> {
  counter += 1;
  const name = `perfloop-${process.pid}-${counter}`;
  const made: string[] = [];
  const settings: Array<[string | null, string, number]> =
    support.version === 2
      ? [[support.pids ?? support.memory, "", 0]]
      : [
          [support.pids, "pids.max", limits.processes],
          [support.memory, "memory.limit_in_bytes", limits.memoryBytes],
        ];
  try {
    for (const [parent, file, value] of settings) {
      if (!parent) continue;
      const dir = path.join(parent, name);
      await mkdir(dir);
      made.push(dir);
      if (support.version === 1 && value > 0) await writeFile(path.join(dir, file), String(value));
    }
    if (support.version === 2 && made[0]) {
      if (support.pids && limits.processes > 0)
        await writeFile(path.join(made[0], "pids.max"), String(limits.processes));
      if (support.memory && limits.memoryBytes > 0)
        await writeFile(path.join(made[0], "memory.max"), String(limits.memoryBytes));
    }
  } catch {
    await removeAll(made);
    return null;
  }
  return { procs: made.map((dir) => path.join(dir, "cgroup.procs")), dispose: () => removeAll(made) };
}

/** The argv prefix that moves the command's first process into `procs` before it execs. */
export function joinCgroupArgv(procs: readonly string[]): string[] {
  if (procs.length === 0) return [];
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';
  return ["sh", "-c", script, "perfloop-cgroup", ...procs, "--"];
}

async function canCreateChild(parent: string): Promise<boolean> {
  const probe = path.join(parent, `perfloop-probe-${process.pid}`);
  try {
    await mkdir(probe);
    await rmdir(probe);
    return true;
  } catch {
    return false;
  }
}

async function removeAll(dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    // A cgroup can be removed once its last process is gone; the kernel may take a moment.
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") break;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  }
}
