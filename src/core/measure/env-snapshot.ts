/**
 * One-off environment snapshot for the evidence bundle (`env_snapshot.json`): CPU, memory, OS,
 * container/VM, a few tool versions, and the GPUs nvidia-smi lists. systeminformation is used here,
 * once per run, never in the samplers (docs/design.md, "Environment snapshot").
 * It NEVER includes environment-variable values, host names, serial numbers or UUIDs: every field
 * is copied by name from what the libraries return, never spread.
 */
import { access, readFile } from "node:fs/promises";
import os from "node:os";
import { execa } from "execa";
import si from "systeminformation";
import { type GpuInventoryEntry, INVENTORY_FIELDS, parseGpuInventory } from "./nvidia-smi.ts";

/** What perfloop records about the machine a measurement ran on. Units in the names. */
export interface EnvSnapshot {
  /** When the snapshot was taken, ISO 8601 UTC. */
  collectedAt: string;
  cpu: {
    manufacturer: string;
    brand: string;
    physicalCores: number;
    /** Logical cores (hardware threads) of the machine. */
    logicalCores: number;
    /** Cores this process may use (affinity / cgroup aware: `os.availableParallelism()`). */
    availableCores: number;
    /** Base and maximum clock, GHz; null where the platform does not say (common in VMs). */
    speedGHz: number | null;
    speedMaxGHz: number | null;
    /** cpufreq governor, e.g. "performance"; null where unknown. */
    governor: string | null;
  };
  memTotalBytes: number;
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  /** Where the code runs: container (from /.dockerenv, /run/.containerenv, /proc/1/cgroup or si) and VM. */
  runtime: {
    container: boolean | null;
    /** What gave the container away, e.g. "/.dockerenv"; null when not a container or unknown. */
    containerHint: string | null;
    virtualMachine: boolean | null;
    /** Hypervisor as systeminformation names it (e.g. "KVM"); null when none or unknown. */
    hypervisor: string | null;
  };
  /** Tool versions that were found: node always; python3, gcc, git where installed. */
  versions: Record<string, string>;
  /** GPUs from `nvidia-smi --query-gpu=index,name,driver_version,memory.total,power.limit`. */
  gpus: GpuInventoryEntry[];
  /** Why `gpus` is empty (no nvidia-smi, no GPU, or a failure); absent when GPUs were listed. */
  gpuNote?: string;
  /** Parts that could not be collected (timeouts, errors), in words; empty when everything worked. */
  notes: string[];
  /** The shapes `results.json`'s `environment` takes (`evidence/results-schema.ts`). */
  summary: { cpu: string; cores: number; memoryBytes: number; os: string; gpus: string[] };
}

/** Each probe's time limit, ms: the whole snapshot stays within a few seconds. */
const PART_TIMEOUT_MS = 4_000;
/** The tool versions asked of `si.versions` (a named list: asking for all of them takes many seconds). */
const VERSION_TOOLS = "python3, gcc, git";

/** Resolves to the promise's value, or to `fallback` (with a note) on error or after the time limit. */
async function part<T>(name: string, work: () => Promise<T>, fallback: T, notes: string[]): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      notes.push(`${name}: no answer within ${PART_TIMEOUT_MS / 1000} s`);
      resolve(fallback);
    }, PART_TIMEOUT_MS);
    timer.unref();
  });
  try {
    return await Promise.race([
      work().catch((error: unknown) => {
        notes.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
        return fallback;
      }),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Container evidence from the file system (no environment variables are read). */
async function containerHint(): Promise<string | null> {
  for (const file of ["/.dockerenv", "/run/.containerenv"]) {
    if (
      await access(file).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  const cgroup = await readFile("/proc/1/cgroup", "utf8").catch(() => "");
  const m = /(docker|kubepods|containerd|libpod|lxc)/.exec(cgroup);
  return m ? `/proc/1/cgroup mentions ${m[1]}` : null;
}

/** The GPU inventory, or why there is none. Never throws. */
async function gpuInventory(bin: string): Promise<{ gpus: GpuInventoryEntry[]; gpuNote?: string }> {
  const args = [`--query-gpu=${INVENTORY_FIELDS.join(",")}`, "--format=csv,noheader,nounits"];
  const r = await execa(bin, args, { timeout: PART_TIMEOUT_MS, reject: false, stdin: "ignore" });
  if (r.failed) {
    if (r.code === "ENOENT") return { gpus: [], gpuNote: `${bin} not found: no NVIDIA GPU tools on PATH` };
    const said = `${r.stdout}\n${r.stderr}`.trim().split("\n")[0]?.slice(0, 200) ?? "";
    const how = r.timedOut ? "timed out" : `failed (exit code ${r.exitCode ?? "?"})`;
    return { gpus: [], gpuNote: `${bin} ${how}${said ? `: ${said}` : ""}` };
  }
  const gpus = parseGpuInventory(r.stdout);
  if (gpus.length > 0) return { gpus };
  const said = r.stdout.trim().split("\n")[0]?.slice(0, 200) ?? "";
  return { gpus, gpuNote: `${bin} listed no GPU${said ? `: ${said}` : ""}` };
}

/**
 * Copies only the keys of `shape` from a library result, each kept when of the same type (else the
 * shape's value): what the snapshot holds is decided here, never by what the library returns.
 */
function pick<T extends Record<string, string | number | boolean>>(from: object, shape: T): T {
  const out = { ...shape };
  for (const key of Object.keys(shape) as (keyof T)[]) {
    const value = (from as Record<keyof T, unknown>)[key];
    if (typeof value === typeof shape[key]) out[key] = value as T[keyof T];
  }
  return out;
}

/** GHz, or null for the 0 / NaN that systeminformation reports when it does not know. */
function ghz(value: number | undefined): number | null {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : null;
}

/**
 * Collects the snapshot, all parts in parallel, each within a few seconds; never throws. Parts that
 * fail or time out get neutral values (0, "", null) and a line in `notes`.
 * @param opts.nvidiaSmi nvidia-smi binary (default `nvidia-smi` on PATH).
 */
export async function collectEnvSnapshot(opts: { nvidiaSmi?: string } = {}): Promise<EnvSnapshot> {
  const notes: string[] = [];
  const noCpu = {
    manufacturer: "",
    brand: "",
    physicalCores: 0,
    cores: 0,
    speed: 0,
    speedMax: 0,
    governor: "",
  };
  const noOs = {
    platform: os.platform() as string,
    distro: "",
    release: "",
    kernel: os.release(),
    arch: os.arch() as string,
  };
  const noSystem = { model: "", virtual: false, virtualHost: "" };
  const [cpu, mem, osInfo, system, versions, hint, gpu] = await Promise.all([
    part("cpu", async () => pick(await si.cpu(), noCpu), noCpu, notes),
    part("memory", async () => ({ total: (await si.mem()).total }), { total: os.totalmem() }, notes),
    part("os", async () => pick(await si.osInfo(), noOs), noOs, notes),
    part("system", async () => pick(await si.system(), noSystem), noSystem, notes),
    part(
      "versions",
      async () => ({ ...(await si.versions(VERSION_TOOLS)) }) as Record<string, unknown>,
      {},
      notes,
    ),
    part("container", containerHint, null, notes),
    part(
      "gpus",
      () => gpuInventory(opts.nvidiaSmi ?? "nvidia-smi"),
      { gpus: [], gpuNote: "GPU query timed out" },
      notes,
    ),
  ]);

  const toolVersions: Record<string, string> = { node: process.versions.node };
  for (const tool of VERSION_TOOLS.split(",").map((t) => t.trim())) {
    const version = versions[tool];
    if (typeof version === "string" && version !== "") toolVersions[tool] = version;
  }
  const container = hint !== null || system.model === "Docker Container";
  const logicalCores = cpu.cores || os.cpus().length;
  const snapshot: EnvSnapshot = {
    collectedAt: new Date().toISOString(),
    cpu: {
      manufacturer: cpu.manufacturer,
      brand: cpu.brand,
      physicalCores: cpu.physicalCores,
      logicalCores,
      availableCores: os.availableParallelism(),
      speedGHz: ghz(cpu.speed),
      speedMaxGHz: ghz(cpu.speedMax),
      governor: cpu.governor || null,
    },
    memTotalBytes: mem.total,
    os: {
      platform: osInfo.platform,
      distro: osInfo.distro,
      release: osInfo.release,
      kernel: osInfo.kernel,
      arch: osInfo.arch,
    },
    runtime: {
      container,
      containerHint: hint ?? (container ? "systeminformation: Docker Container" : null),
      virtualMachine: system.virtual,
      hypervisor: system.virtualHost || null,
    },
    versions: toolVersions,
    gpus: gpu.gpus,
    ...(gpu.gpuNote ? { gpuNote: gpu.gpuNote } : {}),
    notes,
    summary: {
      cpu: [cpu.manufacturer, cpu.brand].filter(Boolean).join(" ") || os.cpus()[0]?.model || "unknown CPU",
      cores: logicalCores,
      memoryBytes: mem.total,
      os: [osInfo.distro, osInfo.release, `(${osInfo.platform} ${osInfo.kernel} ${osInfo.arch})`]
        .filter(Boolean)
        .join(" "),
      gpus: gpu.gpus.map(
        (g) =>
          `${g.name ?? "unknown GPU"}${g.memoryTotalMiB !== null ? `, ${g.memoryTotalMiB} MiB` : ""}${
            g.driverVersion ? `, driver ${g.driverVersion}` : ""
          }`,
      ),
    },
  };
  return snapshot;
}
