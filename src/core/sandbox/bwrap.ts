/**
 * The bubblewrap command line of one sandboxed command (README, "Safety: patch policy and sandbox";
 * the model is Flatpak's and the Codex CLI's Linux sandbox). Each command gets new user, PID, IPC,
 * UTS and cgroup namespaces (and a network namespace unless `sandbox.network: on`), a fresh /proc,
 * the host view of host-view.ts read-only, private tmpfs /tmp, /var/tmp, /dev/shm and $HOME, the
 * trees it works on bound at their own paths (read-write or read-only), no capabilities,
 * `--die-with-parent` and `--new-session`. Resource limits are set by prlimit inside the sandbox.
 */
import type { HostView } from "./host-view.ts";
import { prlimitArgv, type ResourceLimits } from "./limits.ts";

/** The trees and folders one command may see besides the host view. */
export interface Mounts {
  /** Bound read-write at their own path (the tree the command builds or tests in, profile output). */
  writable: readonly string[];
  /** Bound read-only at their own path (a reference tree under measurement, perfloop's profiler). */
  readOnly: readonly string[];
  /** Read-only binds to another path (the user's dependency folders into a scratch tree). */
  binds?: ReadonlyArray<{ from: string; to: string }>;
}

/** Options of `bwrapArgv`. */
export interface BwrapOptions {
  view: HostView;
  network: "off" | "on";
  limits: ResourceLimits;
  /** `--disable-userns` (no nested user namespaces), where the installed bubblewrap supports it. */
  disableUserns: boolean;
  /** The bwrap executable. */
  bwrap: string;
}

/**
 * The argv that runs `argv` in `cwd` inside the sandbox.
 * @param argv the command (e.g. `["sh", "-c", "pytest -q"]`).
 * @param cwd must be one of the mounted trees (or inside one).
 * @returns `[bwrap, ...options, "--", "prlimit", ..., "--", ...argv]`.
 * @throws Error when a mount is `/` or not absolute: the host's root never enters a sandbox.
 */
export function bwrapArgv(
  argv: readonly string[],
  cwd: string,
  mounts: Mounts,
  options: BwrapOptions,
): string[] {
  const { view, limits } = options;
  for (const dir of [
    ...mounts.writable,
    ...mounts.readOnly,
    ...(mounts.binds ?? []).flatMap((b) => [b.from, b.to]),
  ])
    if (!dir.startsWith("/") || dir.replace(/\/+$/, "") === "")
      throw new Error(
        `refusing to mount ${JSON.stringify(dir)} into the sandbox: only absolute paths other than /`,
      );
  const out = [
    options.bwrap,
    "--unshare-user",
    "--unshare-pid",
    "--unshare-ipc",
    "--unshare-uts",
    "--unshare-cgroup-try",
    ...(options.network === "off" ? ["--unshare-net"] : []),
    ...(options.disableUserns ? ["--disable-userns"] : []),
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--hostname",
    "perfloop-sandbox",
  ];
  for (const bind of view.binds)
    if (bind.kind === "symlink") out.push("--symlink", bind.target ?? "", bind.path);
  out.push("--proc", "/proc", "--dev", "/dev");
  for (const dir of ["/tmp", "/var/tmp", "/dev/shm", ...(view.home ? [view.home] : [])])
    out.push(...(limits.tmpBytes > 0 ? ["--size", String(limits.tmpBytes)] : []), "--tmpfs", dir);
  // Read-only binds after the private tmpfs: a toolchain root inside $HOME (~/.pyenv) must be
  // mounted onto the empty home, not hidden under it.
  for (const bind of view.binds) if (bind.kind === "bind") out.push("--ro-bind-try", bind.path, bind.path);
  // Device binds again after --dev, which mounts a fresh /dev over them.
  for (const bind of view.binds) if (bind.kind === "device") out.push("--dev-bind-try", bind.path, bind.path);
  for (const bind of mounts.binds ?? [])
    out.push("--ro-bind", bind.from, bind.from, "--ro-bind", bind.from, bind.to);
  for (const dir of mounts.readOnly) out.push("--ro-bind", dir, dir);
  for (const dir of mounts.writable) out.push("--bind", dir, dir);
  out.push("--chdir", cwd, "--", ...prlimitArgv(limits), ...argv);
  return out;
}
