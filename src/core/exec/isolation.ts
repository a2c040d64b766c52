/**
 * How the user's commands are isolated (README, "Safety: patch policy and sandbox"): bubblewrap by
 * default, and perfloop fails closed — when bubblewrap or unprivileged user namespaces are missing it
 * refuses to run untrusted code and names the fix, unless the config says `sandbox.isolation: none`
 * in so many words (then every report leads with a warning). Probed once per process.
 */
import { execa } from "execa";
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

/** No sandbox can be made here: perfloop refuses to run untrusted code (the CLI exits 2). */
export class SandboxUnavailableError extends Error {
  override name = "SandboxUnavailableError";
}

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

/** What the probe found. */
interface BwrapSupport {
  version: string;
  disableUserns: boolean;
}

/** Probes, per PATH (the one perfloop's commands are started with). */
const probed = new Map<string, Promise<BwrapSupport>>();

/** The fix for a machine without a working bubblewrap, in the words an admin can act on. */
export const SANDBOX_FIX = [
  "perfloop runs set-up, tests and benchmarks only inside a bubblewrap sandbox. To fix:",
  "  - install it: sudo apt-get install -y bubblewrap   (Fedora/RHEL: sudo dnf install -y bubblewrap)",
  "  - Ubuntu 24.04 and later restrict unprivileged user namespaces with AppArmor; allow them for bwrap:",
  "      sudo apt-get install -y apparmor-profiles && sudo ln -s /usr/share/apparmor/extra-profiles/bwrap-userns-restrict /etc/apparmor.d/ && sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict",
  "    (or, machine-wide: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0)",
  "  - older Debian kernels: sudo sysctl -w kernel.unprivileged_userns_clone=1; RHEL 7: sudo sysctl -w user.max_user_namespaces=15000",
  "  - in a container: run it with --security-opt seccomp=unconfined (or a profile allowing clone with CLONE_NEWUSER)",
  "Or, knowing that the code then runs with the runner's own privileges, write `sandbox: { isolation: none }` in .github/perfloop.yml.",
].join("\n");

/**
 * Checks once per PATH that bubblewrap runs a command in fresh namespaces and that prlimit is there.
 * @param searchPath the PATH bwrap is looked up in.
 * @throws SandboxUnavailableError naming what failed and SANDBOX_FIX.
 */
export function probeBwrap(searchPath: string): Promise<BwrapSupport> {
  const known = probed.get(searchPath);
  if (known) return known;
  const probe = (async () => {
    const env = { PATH: searchPath };
    const version = await execa("bwrap", ["--version"], {
      reject: false,
      env,
      extendEnv: false,
      timeout: 10_000,
    });
    if (version.exitCode !== 0) {
      const why =
        version.code === "ENOENT" || /ENOENT/.test(String(version.shortMessage))
          ? "bubblewrap (bwrap) is not installed"
          : `bwrap --version failed: ${firstLine(version.stderr || version.shortMessage)}`;
      throw new SandboxUnavailableError(`${why}.\n${SANDBOX_FIX}`);
    }
    const view = hostView({ env: process.env, readOnly: [], hide: [] });
    const limits = resolveLimits({ processes: 0, memory: 0, file_size: 0, open_files: 0, tmp: 0 });
    const attempt = (disableUserns: boolean) => {
      const settings = { view, network: "off" as const, limits, disableUserns, bwrap: "bwrap" };
      const [file, ...args] = bwrapArgv(
        ["prlimit", "--nofile=1024", "--", "true"],
        "/",
        { writable: [], readOnly: [] },
        settings,
      );
      return execa(file as string, args, { reject: false, env, extendEnv: false, timeout: 20_000 });
    };
    let result = await attempt(true);
    let disableUserns = true;
    if (result.exitCode !== 0 && /disable-userns|max_user_namespaces/.test(String(result.stderr))) {
      result = await attempt(false);
      disableUserns = false;
    }
    if (result.exitCode !== 0) {
      const detail = firstLine(result.stderr || result.shortMessage);
      const why = /prlimit/.test(detail)
        ? `prlimit (util-linux) is missing inside the sandbox: ${detail}`
        : `bubblewrap cannot create a sandbox here (user namespaces refused?): ${detail}`;
      throw new SandboxUnavailableError(`${why}\n${SANDBOX_FIX}`);
    }
    return { version: version.stdout.trim(), disableUserns };
  })();
  probe.catch(() => undefined);
  probed.set(searchPath, probe);
  return probe;
}

function firstLine(text: unknown): string {
  return (
    String(text ?? "")
      .trim()
      .split("\n")[0] ?? ""
  );
}
