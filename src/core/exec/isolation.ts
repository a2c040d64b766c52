/**
 * How the user's commands are isolated (README, "Safety: patch policy and sandbox"): bubblewrap by
 * default, and perfloop fails closed — when bubblewrap or unprivileged user namespaces are missing it
 * refuses to run untrusted code and names the fix, unless the config says `sandbox.isolation: none`
 * in so many words (then every report leads with a warning). Probed once per process.
 */
import type { SandboxConfig } from "../config/schema.ts";
import { bwrapArgv, type Mounts } from "../sandbox/bwrap.ts";
import {
  type CgroupSupport,
  type CommandCgroup,
  createCommandCgroup,
  probeCgroup,
} from "../sandbox/cgroup.ts";
import { type HostView, hostView } from "../sandbox/host-view.ts";
import { prlimitArgv, type ResourceLimits, resolveLimits } from "../sandbox/limits.ts";
import { probeBwrap } from "../sandbox/probe.ts";

export type { Mounts } from "../sandbox/bwrap.ts";

/** What isolation a command runs under. */
export interface Isolation {
  mode: "bwrap" | "none";
  /** True when commands run with no network (a network namespace with only loopback). */
  networkOff: boolean;
  /** One line for the report, e.g. "bubblewrap sandbox: network off, …". */
  description: string;
  /** Set for `isolation: none`: the sentence the report and the PR comment lead with. */
  warning: string | null;
  limits: ResourceLimits;
  /** The host view (bwrap only; null for none). */
  view: HostView | null;
  /**
   * The argv that runs `argv` in `cwd` with `mounts` visible.
   * @returns for none: only the prlimit prefix and `argv`.
   */
  wrap(argv: readonly string[], cwd: string, mounts: Mounts): string[];
  /** The environment inside (TMPDIR points at the private /tmp). */
  env(env: Record<string, string>): Record<string, string>;
  /** Where per-command cgroups are made (pids.max, memory), or null (rlimits only). */
  cgroup: CgroupSupport | null;
  /**
   * A cgroup for one command with the run's limits, or null (no cgroup here, or it could not be
   * made). Dispose it when the command has ended.
   */
  openCgroup(): Promise<CommandCgroup | null>;
}

export { SANDBOX_FIX, SandboxUnavailableError } from "../sandbox/probe.ts";

/** Options of `resolveIsolation`. */
export interface IsolationOptions {
  /** perfloop's environment (HOME, PATH, the runner's directories). */
  env: NodeJS.ProcessEnv;
  /** Host paths no command may see (the repository, the evidence directory). */
  hide: readonly string[];
}

/**
 * Decides the isolation for the config's `sandbox` section.
 * @throws SandboxUnavailableError when `isolation: bwrap` (the default) cannot be had: bubblewrap
 *   missing, user namespaces refused, or prlimit missing; the message names the fix.
 */
export async function resolveIsolation(
  sandbox: SandboxConfig,
  options: IsolationOptions,
): Promise<Isolation> {
  const limits = resolveLimits(sandbox.limits);
  const cgroup = limits.processes > 0 || limits.memoryBytes > 0 ? await probeCgroup() : null;
  const limitText = `${describeLimits(limits)}; ${cgroup ? `cgroup v${cgroup.version} per command (${[cgroup.pids ? "pids.max" : "", cgroup.memory ? "memory" : ""].filter(Boolean).join(", ")})` : "no cgroup (rlimits only)"}`;
  const openCgroup = () => (cgroup ? createCommandCgroup(cgroup, limits) : Promise.resolve(null));
  if (sandbox.isolation === "none") {
    const warning =
      "⚠️ NO SANDBOX (sandbox.isolation: none): set-up, tests and benchmarks ran with the runner's own user, network, files and processes visible.";
    return {
      mode: "none",
      networkOff: false,
      description: `no isolation (sandbox.isolation: none); network on; ${limitText}`,
      warning,
      limits,
      view: null,
      wrap: (argv) => [...prlimitArgv(limits), ...argv],
      env: (env) => env,
      cgroup,
      openCgroup,
    };
  }
  const support = await probeBwrap(options.env.PATH ?? process.env.PATH ?? "/usr/bin:/bin");
  const view = hostView({ env: options.env, readOnly: sandbox.read_only, hide: options.hide });
  const settings = {
    view,
    network: sandbox.network,
    limits,
    disableUserns: support.disableUserns,
    bwrap: "bwrap",
  };
  return {
    mode: "bwrap",
    networkOff: sandbox.network === "off",
    description: `bubblewrap sandbox (${support.version}): network ${sandbox.network === "off" ? "off" : "ON (sandbox.network: on)"}, new user/PID/IPC/UTS/cgroup namespaces, host read-only (/usr, ${view.toolchains.length} toolchain dirs), private /tmp and $HOME; ${limitText}`,
    warning: null,
    limits,
    view,
    wrap: (argv, cwd, mounts) => bwrapArgv(argv, cwd, mounts, settings),
    env: (env) => ({ ...env, TMPDIR: "/tmp" }),
    cgroup,
    openCgroup,
  };
}

function describeLimits(limits: ResourceLimits): string {
  const gib = (n: number) => (n > 0 ? `${(n / 2 ** 30).toFixed(1)} GiB` : "no limit");
  return `limits per command: ${limits.processes || "no limit on"} processes, ${gib(limits.memoryBytes)} memory per process, ${gib(limits.fileSizeBytes)} per file, ${limits.openFiles || "no limit on"} open files, ${gib(limits.tmpBytes)} per private tmpfs`;
}
