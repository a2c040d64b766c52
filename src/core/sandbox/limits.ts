/**
 * Per-command resource limits (README, "Safety"): rlimits set by util-linux `prlimit` as the first
 * program inside the sandbox, soft and hard alike, so the command cannot raise them (raising a hard
 * limit needs CAP_SYS_RESOURCE in the host's user namespace). Limits of setrlimit(2):
 * RLIMIT_NPROC counts the processes and threads of the sandbox's user (the kernel does not apply it
 * to uid 0 of the host, so a root runner gets no process limit), RLIMIT_DATA bounds each process's
 * private writable memory (Linux ≥ 4.7 counts mmap), RLIMIT_FSIZE the size of any file written,
 * RLIMIT_NOFILE the open descriptors. Private tmpfs sizes bound what /tmp, /var/tmp, /dev/shm and
 * $HOME can hold.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import type { ResourceLimitsConfig } from "../config/schema.ts";

/** The limits in force for every command of a run (0 = no limit). */
export interface ResourceLimits {
  processes: number;
  /** RLIMIT_DATA, bytes. */
  memoryBytes: number;
  /** RLIMIT_FSIZE, bytes. */
  fileSizeBytes: number;
  openFiles: number;
  /** Size of each private tmpfs, bytes. */
  tmpBytes: number;
}

/**
 * Resolves the config's limits. `memory: auto` = half the machine's RAM (`os.totalmem()`): one
 * command cannot push the runner into swap or the OOM killer's reach on its own. Each rlimit is
 * lowered to perfloop's own hard limit where that is smaller (only a privileged process may raise
 * a hard limit: setrlimit(2)).
 * @param hard perfloop's hard limits (default: read from /proc/self/limits).
 */
export function resolveLimits(
  config: ResourceLimitsConfig,
  totalMemBytes = os.totalmem(),
  hard: HardLimits = readHardLimits(),
): ResourceLimits {
  const cap = (wanted: number, ceiling: number | undefined) =>
    ceiling === undefined ? wanted : wanted === 0 ? ceiling : Math.min(wanted, ceiling);
  return {
    processes: cap(config.processes, hard.processes),
    memoryBytes: cap(
      config.memory === "auto" ? Math.floor(totalMemBytes / 2) : config.memory,
      hard.memoryBytes,
    ),
    fileSizeBytes: cap(config.file_size, hard.fileSizeBytes),
    openFiles: cap(config.open_files, hard.openFiles),
    tmpBytes: config.tmp,
  };
}

/** Finite hard limits of the current process (undefined = unlimited or unknown). */
export interface HardLimits {
  processes?: number;
  memoryBytes?: number;
  fileSizeBytes?: number;
  openFiles?: number;
}

/**
 * Parses /proc/self/limits (proc(5): "Limit  Soft Limit  Hard Limit  Units" rows).
 * @returns the finite hard limits; {} when the file cannot be read.
 */
export function readHardLimits(text?: string): HardLimits {
  let content = text;
  if (content === undefined) {
    try {
      content = readFileSync("/proc/self/limits", "utf8");
    } catch {
      return {};
    }
  }
  const rows: Record<string, keyof HardLimits> = {
    "Max processes": "processes",
    "Max data size": "memoryBytes",
    "Max file size": "fileSizeBytes",
    "Max open files": "openFiles",
  };
  const out: HardLimits = {};
  for (const line of content.split("\n")) {
    for (const [label, key] of Object.entries(rows)) {
      if (!line.startsWith(label)) continue;
      const hardValue = line.slice(label.length).trim().split(/\s+/)[1];
      if (hardValue && /^\d+$/.test(hardValue)) out[key] = Number(hardValue);
    }
  }
  return out;
}

/**
 * The prlimit prefix for `limits` (empty when every limit is off).
 * @returns e.g. `["prlimit", "--nproc=4096", "--data=…", "--fsize=…", "--nofile=65536", "--"]`.
 */
export function prlimitArgv(limits: ResourceLimits): string[] {
  const flags = [
    limits.processes > 0 ? `--nproc=${limits.processes}` : null,
    limits.memoryBytes > 0 ? `--data=${limits.memoryBytes}` : null,
    limits.fileSizeBytes > 0 ? `--fsize=${limits.fileSizeBytes}` : null,
    limits.openFiles > 0 ? `--nofile=${limits.openFiles}` : null,
  ].filter((f): f is string => f !== null);
  return flags.length > 0 ? ["prlimit", ...flags, "--"] : [];
}

/**
 * The limits as results.json records them (`sandbox.limits`): the rlimits and tmpfs size (0 = off)
 * and `cgroup`, the cgroup version that bounded each whole command (0 = none, rlimits only).
 */
export function limitsRecord(limits: ResourceLimits, cgroupVersion: number): Record<string, number> {
  return { ...limits, cgroup: cgroupVersion };
}
