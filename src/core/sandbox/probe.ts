/**
 * Whether bubblewrap can make a sandbox here (README, "Safety"; docs/sandbox.md, "Fail closed"):
 * probed once per PATH by running `true` under the same flags every command gets. When it cannot,
 * the error names the fix an administrator can act on.
 */
import { execa } from "execa";
import { bwrapArgv } from "./bwrap.ts";
import { hostView } from "./host-view.ts";
import { resolveLimits } from "./limits.ts";

/** No sandbox can be made here: perfloop refuses to run untrusted code (the CLI exits 2). */
export class SandboxUnavailableError extends Error {
  override name = "SandboxUnavailableError";
}

/** What the probe found: bubblewrap's version, and whether it supports `--disable-userns`. */
export interface BwrapSupport {
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
