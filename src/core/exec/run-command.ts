/**
 * Runs one user command the way every user command runs in perfloop: `sh -c <command>` in its own
 * process group, with an allow-listed environment, optional network isolation, a timeout that kills
 * the whole process tree, and output captured up to a byte limit.
 */
import { execa } from "execa";
import { joinCgroupArgv } from "../sandbox/cgroup.ts";
import { CancelledError } from "./cancel.ts";
import { CappedBuffer } from "./capped-buffer.ts";
import type { Isolation, Mounts } from "./isolation.ts";

/** How to run a command. */
export interface RunCommandOptions {
  cwd: string;
  /** The complete environment (see `buildChildEnv`); nothing else is inherited. */
  env: Record<string, string>;
  /** Kill the whole tree after this many ms (SIGTERM, then SIGKILL 2 s later). */
  timeoutMs: number;
  /** Bytes kept per stream (head + tail). */
  outputLimit: number;
  isolation: Isolation;
  /** What the command may see besides the host view: by default `cwd` read-write. */
  mounts?: Mounts;
  /** Aborting kills the command's whole sandbox; `runCommand` then throws CancelledError. */
  signal?: AbortSignal | undefined;
  /** Called with the pid of the process group leader as soon as it exists (for the sampler). */
  onSpawn?: (pid: number) => void;
}

/** What a command did. */
export interface CommandResult {
  command: string;
  cwd: string;
  /** Exit code, or null when killed by a signal. */
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Wall time seen from perfloop (spawn to exit), ms. */
  durationMs: number;
  stdout: string;
  stderr: string;
  /** True when output was longer than the limit and the middle was cut. */
  truncated: boolean;
  /** The command could not be started at all (e.g. `sh` missing); the message says why. */
  spawnError?: string;
}

/** True when the command ran and exited 0. */
export function succeeded(result: CommandResult): boolean {
  return result.exitCode === 0 && !result.timedOut && result.spawnError === undefined;
}

/** How long the output pipes may stay open after the command exited (a daemon holding them), ms. */
const DRAIN_MS = 2000;

/**
 * Runs `sh -c command` in the sandbox. Never throws for a failing command: the result records exit
 * code, signal, timeout and output. After the command ends, any process it left behind is killed
 * (with bubblewrap: its PID namespace ends with it), and a process still holding the output pipes
 * costs at most DRAIN_MS.
 * @throws CancelledError when `signal` was aborted before or while the command ran.
 */
export async function runCommand(command: string, options: RunCommandOptions): Promise<CommandResult> {
  CancelledError.throwIfAborted(options.signal);
  const mounts = options.mounts ?? { writable: [options.cwd], readOnly: [] };
  const group = await options.isolation.openCgroup();
  try {
    const argv = [
      ...joinCgroupArgv(group?.procs ?? []),
      ...options.isolation.wrap(["sh", "-c", command], options.cwd, mounts),
    ];
    return await runArgv(command, argv, options);
  } finally {
    await group?.dispose();
  }
}

async function runArgv(command: string, argv: string[], options: RunCommandOptions): Promise<CommandResult> {
  const [file, ...args] = argv as [string, ...string[]];
  const stdout = new CappedBuffer(options.outputLimit);
  const stderr = new CappedBuffer(options.outputLimit);
  const started = performance.now();
  const child = execa(file, args, {
    cwd: options.cwd,
    env: options.isolation.env(options.env),
    extendEnv: false,
    reject: false,
    buffer: false,
    stdin: "ignore",
    detached: true, // own process group, so the whole tree can be signalled at once
    cleanup: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  if (child.pid !== undefined) options.onSpawn?.(child.pid);

  const onAbort = () => killGroup(child.pid, "SIGKILL");
  options.signal?.addEventListener("abort", onAbort);
  let timedOut = false;
  let forceKill: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child.pid, "SIGTERM");
    forceKill = setTimeout(() => killGroup(child.pid, "SIGKILL"), 2000);
  }, options.timeoutMs);
  // The command is done when its process exits, not when its output pipes close: a background
  // child (a server a test suite left running) holds them open. So wait for exit, then kill the
  // group's stragglers, which closes the pipes.
  const process_ = child.nodeChildProcess;
  await new Promise<void>((resolve) => {
    if (process_.exitCode !== null || process_.signalCode !== null) resolve();
    else process_.once("exit", () => resolve());
    process_.once("error", () => resolve());
  });
  clearTimeout(timer);
  clearTimeout(forceKill);
  options.signal?.removeEventListener("abort", onAbort);
  killGroup(child.pid, "SIGKILL");
  let drained: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    drained = setTimeout(() => {
      // A process outside the group (setsid) holds the pipes: stop reading, keep what we have.
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve();
    }, DRAIN_MS);
  });
  await Promise.race([child.then(() => undefined), late]);
  clearTimeout(drained);
  const result = await child;
  CancelledError.throwIfAborted(options.signal);

  const spawnError =
    result.failed && result.exitCode === undefined && !result.signal && !timedOut
      ? result.shortMessage
      : undefined;
  return {
    command,
    cwd: options.cwd,
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    timedOut,
    durationMs: performance.now() - started,
    stdout: stdout.toString(),
    stderr: stderr.toString(),
    truncated: stdout.truncated || stderr.truncated,
    ...(spawnError ? { spawnError } : {}),
  };
}

/** One line describing how a command ended, for logs and reports. */
export function describeOutcome(result: CommandResult): string {
  if (result.spawnError) return `could not start: ${result.spawnError}`;
  if (result.timedOut)
    return `timed out after ${Math.round(result.durationMs / 1000)} s (process tree killed)`;
  if (result.signal) return `killed by ${result.signal}`;
  return `exit code ${result.exitCode}`;
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
