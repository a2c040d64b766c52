/**
 * What of the host a sandboxed command sees (README, "Safety: patch policy and sandbox"): the
 * system's programs and libraries read-only, a short list of /etc files, /sys, the GPU devices, and
 * the toolchains on PATH — never the user's home, the runner's temp, workspace or credentials, the
 * repository, or the evidence directory. Computed once per run from the parent environment.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import path from "node:path";

/** Top-level system directories bound read-only (or recreated as the same symlink, merged /usr). */
export const SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] as const;

/**
 * Entries of /etc a program may need: users and groups (getpwuid), name resolution, TLS roots, the
 * dynamic linker's cache, time zone, Debian's alternatives links, language runtimes' system config.
 * Nothing else of /etc (no shadow, no sudoers, no ssh keys) is visible.
 */
export const ETC_ENTRIES = [
  "passwd",
  "group",
  "hosts",
  "hostname",
  "resolv.conf",
  "nsswitch.conf",
  "host.conf",
  "gai.conf",
  "services",
  "protocols",
  "ssl",
  "ca-certificates",
  "ca-certificates.conf",
  "pki",
  "crypto-policies",
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "localtime",
  "timezone",
  "alternatives",
  "mime.types",
  "os-release",
  "lsb-release",
  "debian_version",
  "fonts",
  "locale.alias",
  "locale.conf",
  "gitconfig",
  "inputrc",
  "magic",
  "mtab",
] as const;

/**
 * Toolchain roots a user installs into their home (version managers, conda, rustup…). A PATH entry
 * inside one shows the whole root read-only (pyenv's shims need its versions/, nvm's node its lib/);
 * nothing else of the home is ever shown. `.cargo/bin` is listed alone: ~/.cargo also holds
 * registry credentials (credentials.toml).
 */
export const HOME_TOOLCHAINS = [
  ".pyenv",
  ".nvm",
  ".volta",
  ".bun",
  ".deno",
  ".rustup",
  ".cargo/bin",
  ".asdf",
  ".sdkman",
  ".juliaup",
  ".ghcup",
  ".conda",
  "miniconda3",
  "anaconda3",
  "miniforge3",
  "mambaforge",
  ".local/share/uv",
  ".local/share/mise",
  ".local/share/fnm",
] as const;

/** A host path bound into the sandbox at the same path. */
export interface HostBind {
  path: string;
  /** "dir"/"file": bind read-only; "symlink": recreate the link (its target is `target`). */
  kind: "bind" | "symlink" | "device";
  target?: string;
}

/** The host as the sandbox sees it. */
export interface HostView {
  binds: HostBind[];
  /** Toolchain prefixes found on PATH and bound read-only (for the evidence). */
  toolchains: string[];
  /** PATH entries not shown (under $HOME, the runner's directories, the repository…), with why. */
  hidden: Array<{ path: string; why: string }>;
  /** The home directory replaced by an empty private tmpfs, or null when $HOME is unusable. */
  home: string | null;
}

/** Inputs of `hostView`. */
export interface HostViewOptions {
  /** perfloop's own environment (HOME, PATH, RUNNER_TOOL_CACHE, RUNNER_TEMP, GITHUB_WORKSPACE). */
  env: NodeJS.ProcessEnv;
  /** `sandbox.read_only`: extra absolute host paths the user asked for. */
  readOnly: readonly string[];
  /** Paths that must stay invisible whatever PATH says: the repository, the evidence directory. */
  hide: readonly string[];
}

/**
 * Computes the host view. Never throws: unreadable or missing paths are left out.
 * Rules for PATH entries (toolchains): `<prefix>/bin` binds `<prefix>` (the interpreter's libraries
 * live beside its bin/), any other directory binds itself; entries under a system directory are
 * already visible; entries that are, contain or sit inside $HOME, the runner's temp or workspace,
 * `/`, /tmp, /proc, /dev, /run, /var or a hidden path are not shown — except under
 * RUNNER_TOOL_CACHE (actions/setup-* toolchains on a self-hosted runner live under its home).
 * perfloop's own Node runtime is always shown (node_modules/.bin links point into it).
 */
export function hostView(options: HostViewOptions): HostView {
  const binds: HostBind[] = [];
  for (const dir of SYSTEM_DIRS) {
    const info = lstatOrNull(dir);
    if (!info) continue;
    if (info.isSymbolicLink()) binds.push({ path: dir, kind: "symlink", target: readlinkSync(dir) });
    else if (info.isDirectory()) binds.push({ path: dir, kind: "bind" });
  }
  for (const name of ETC_ENTRIES) {
    const entry = path.join("/etc", name);
    const info = lstatOrNull(entry);
    if (!info) continue;
    // A link inside /etc (alternatives, mtab → /proc/self/mounts) is kept as a link when its target
    // is visible anyway; any other link is bound as what it points to (resolv.conf → /run/…).
    const target = info.isSymbolicLink() ? readlinkSync(entry) : null;
    if (target !== null && (target.startsWith("/proc/") || !existsSync(entry))) {
      binds.push({ path: entry, kind: "symlink", target });
    } else binds.push({ path: entry, kind: "bind" });
  }
  if (existsSync("/sys")) binds.push({ path: "/sys", kind: "bind" });
  for (const device of gpuDevices()) binds.push({ path: device, kind: "device" });

  const env = options.env;
  const home = usableHome(env.HOME);
  const places: Places = {
    home,
    private: [env.RUNNER_TEMP, env.GITHUB_WORKSPACE, ...options.hide]
      .filter((p): p is string => typeof p === "string" && path.isAbsolute(p))
      .map(realOr),
    toolCache: env.RUNNER_TOOL_CACHE ? realOr(env.RUNNER_TOOL_CACHE) : null,
  };
  const hidden: HostView["hidden"] = [];
  const toolchains: string[] = [];
  // perfloop's own Node runtime (node_modules/node when installed from npm, which holds only the
  // node binary): shown wherever it lives, unless it is inside a private place.
  const runtime = path.dirname(path.dirname(realOr(process.execPath)));
  if (!SYSTEM_DIRS.some((dir) => inside(runtime, dir)) && path.basename(runtime) === "node") {
    const why = places.private.find((p) => inside(runtime, p) || inside(p, runtime));
    if (why) hidden.push({ path: runtime, why: `it is inside ${why}` });
    else toolchains.push(runtime);
  }
  const onPath = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const entry of onPath) {
    if (!path.isAbsolute(entry) || !existsSync(entry)) continue;
    const real = realOr(entry);
    if (SYSTEM_DIRS.some((dir) => inside(real, dir))) continue;
    const toolchain = homeToolchain(real, places.home);
    const prefix = toolchain ?? (["bin", "sbin"].includes(path.basename(real)) ? path.dirname(real) : real);
    const why = refusal(prefix, places, false);
    if (why) hidden.push({ path: entry, why });
    else if (!toolchains.includes(prefix)) toolchains.push(prefix);
  }
  for (const extra of options.readOnly) {
    if (places.home && inside(realOr(extra), places.home)) {
      const root = homeToolchain(realOr(extra), places.home);
      if (root) {
        if (!toolchains.includes(root)) toolchains.push(root);
      } else
        hidden.push({
          path: extra,
          why: "sandbox.read_only: it is inside $HOME and not a known toolchain root",
        });
      continue;
    }
    if (!existsSync(extra)) {
      hidden.push({ path: extra, why: "sandbox.read_only: does not exist" });
      continue;
    }
    const real = realOr(extra);
    const why = refusal(real, places, true);
    if (why) hidden.push({ path: extra, why: `sandbox.read_only: ${why}` });
    else if (!toolchains.includes(real)) toolchains.push(real);
  }
  for (const dir of toolchains) binds.push({ path: dir, kind: "bind" });
  return { binds, toolchains, hidden, home };
}

/** Places whose contents a command must never see. */
interface Places {
  home: string | null;
  /** The runner's temp and workspace, the repository, the evidence directory. */
  private: string[];
  toolCache: string | null;
}

/** Never shown, whoever asks: kernel interfaces, the host's temporary and runtime files, homes,
 *  and /etc as a whole (only ETC_ENTRIES are). */
const NEVER = [
  "/proc",
  "/dev",
  "/run",
  "/sys",
  "/tmp",
  "/var/tmp",
  "/var/run",
  "/home",
  "/root",
  "/etc",
  "/boot",
];
/** Not shown from PATH alone (a user's `sandbox.read_only` may name a dataset or toolchain there). */
const NOT_FROM_PATH = ["/var", "/mnt", "/media", "/srv"];

/**
 * Why `dir` may not be shown, or null. `explicit`: listed in `sandbox.read_only` (which a pull
 * request can edit in a CLI run: the same rules hold for it, it only reaches /var, /mnt, /media
 * and /srv besides what PATH reaches). Nothing inside $HOME or any home is ever shown, except under
 * RUNNER_TOOL_CACHE.
 */
function refusal(dir: string, places: Places, explicit: boolean): string | null {
  if (places.home && homeToolchain(dir, places.home) === dir) {
    const leaks = places.private.find((p) => inside(p, dir));
    return leaks ? `it would show ${leaks}` : null;
  }
  if (dir === "/") return "the whole file system";
  for (const p of [places.home, ...places.private]) {
    if (p && inside(p, dir)) return `it would show ${p}`;
  }
  for (const p of places.private) if (inside(dir, p)) return `it is inside ${p}`;
  if (places.toolCache && inside(dir, places.toolCache) && dir !== places.toolCache) return null;
  if (places.home && inside(dir, places.home)) return "it is inside $HOME";
  const never = NEVER.find((n) => inside(dir, n));
  if (never) return `nothing under ${never} is shown`;
  if (!explicit && NOT_FROM_PATH.some((n) => inside(dir, n)))
    return `it is under ${dir.split("/").slice(0, 2).join("/")} (list it in sandbox.read_only to show it)`;
  return null;
}

/** The HOME_TOOLCHAINS root that holds `dir`, or null. */
function homeToolchain(dir: string, home: string | null): string | null {
  if (!home) return null;
  for (const name of HOME_TOOLCHAINS) {
    const root = path.join(home, name);
    if (inside(dir, root)) return root;
  }
  return null;
}

/** /dev/nvidia*, /dev/nvidia-caps and /dev/dri where they exist (GPU programs need them). */
function gpuDevices(): string[] {
  try {
    return readdirSync("/dev")
      .filter((name) => name.startsWith("nvidia") || name === "dri" || name === "kfd")
      .map((name) => path.join("/dev", name));
  } catch {
    return [];
  }
}

function usableHome(home: string | undefined): string | null {
  if (!home || !path.isAbsolute(home)) return null;
  const resolved = path.resolve(home);
  if (resolved === "/" || SYSTEM_DIRS.some((dir) => inside(dir, resolved))) return null;
  return resolved;
}

/** True when `p` is `dir` or below it. */
export function inside(p: string, dir: string): boolean {
  const rel = path.relative(dir, p);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}
