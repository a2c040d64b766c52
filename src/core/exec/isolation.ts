/**
 * Network isolation for the user's commands: a user + network namespace (`unshare -rn`) where the
 * kernel allows unprivileged user namespaces. Probed once per process; the outcome is written to the
 * evidence so the report can state what isolation was in force.
 */
import { execa } from "execa";

/** What isolation a command runs under. */
export interface Isolation {
  /** True when commands run with no network (a fresh network namespace with only loopback, down). */
  networkOff: boolean;
  /** Argument vector put before the command, e.g. `["unshare", "-rn", "--"]`; empty for none. */
  prefix: string[];
  /** One line for the report, e.g. "network off: user+network namespace (unshare -rn)". */
  description: string;
}

let probed: Promise<Isolation> | undefined;

/**
 * Decides the isolation for `sandbox.network`.
 * @param network "off" asks for no network; "on" runs commands with the host's network.
 * @returns never throws: when `unshare -rn` is unavailable the description says why and the network
 *   stays on.
 */
export function resolveIsolation(network: "off" | "on"): Promise<Isolation> {
  if (network === "on") {
    return Promise.resolve({
      networkOff: false,
      prefix: [],
      description: "network on (sandbox.network: on)",
    });
  }
  probed ??= probeUnshare();
  return probed;
}

async function probeUnshare(): Promise<Isolation> {
  const result = await execa("unshare", ["-rn", "--", "true"], {
    reject: false,
    timeout: 5000,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? "" },
  });
  if (result.exitCode === 0) {
    return {
      networkOff: true,
      prefix: ["unshare", "-rn", "--"],
      description: "network off: user+network namespace (unshare -rn)",
    };
  }
  const detail = String(result.stderr || result.shortMessage || "unknown error")
    .trim()
    .split("\n")[0];
  const why = result.failed && result.code === "ENOENT" ? "unshare is not installed" : detail;
  return {
    networkOff: false,
    prefix: [],
    description: `network ON: could not create a user+network namespace (${why})`,
  };
}
