/**
 * The Action needs bubblewrap on the runner (README, "Safety"; docs/action.md). Where it is missing
 * and the step may install packages — it runs as root, or `sudo -n` works (GitHub-hosted runners,
 * most self-hosted images) — it installs the `bubblewrap` package with apt-get; elsewhere the loop
 * refuses to start and its message names the fix (src/core/exec/isolation.ts).
 */
import { execa } from "execa";
import type { ActionCore } from "./deps.ts";

/**
 * Installs bubblewrap when it is missing and can be installed.
 * @param env the step's environment (PATH).
 * @returns what happened, one line ("present", "installed …", "not installed: …"); never throws.
 */
export async function ensureBubblewrap(
  core: Pick<ActionCore, "info" | "warning">,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  const options = {
    reject: false,
    env: { PATH: env.PATH ?? "/usr/bin:/bin" },
    extendEnv: false,
    timeout: 600_000,
  };
  if ((await execa("bwrap", ["--version"], options)).exitCode === 0) return "present";
  const root = process.getuid?.() === 0;
  const sudo = root ? [] : ["sudo", "-n"];
  if (!root && (await execa("sudo", ["-n", "true"], options)).exitCode !== 0) {
    const line =
      "not installed: bubblewrap is missing and the step cannot install packages (no root, no passwordless sudo)";
    core.warning(`${line}; install it on the runner: sudo apt-get install -y bubblewrap`);
    return line;
  }
  core.info("installing bubblewrap (apt-get): perfloop runs every user command inside it");
  const run = (args: string[]) => {
    const [file, ...rest] = [...sudo, ...args] as [string, ...string[]];
    return execa(file, rest, { ...options, env: { ...options.env, DEBIAN_FRONTEND: "noninteractive" } });
  };
  const update = await run(["apt-get", "update", "-qq"]);
  const install =
    update.exitCode === 0 ? await run(["apt-get", "install", "-y", "-qq", "bubblewrap"]) : update;
  if (install.exitCode === 0) return "installed bubblewrap with apt-get";
  const line = `not installed: apt-get failed: ${String(install.stderr || install.shortMessage)
    .trim()
    .split("\n")
    .at(-1)}`;
  core.warning(line);
  return line;
}
