/**
 * The Node side of runner.py: one long-lived runner process per measurement (started inside the
 * isolation prefix, so every run inherits the network namespace), each run a fork + exec with kernel
 * rusage. Output goes to files that are read back capped; a timeout kills the run's process group.
 */
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { cutMarker } from "../exec/capped-buffer.ts";
import type { Isolation } from "../exec/isolation.ts";

const RUNNER = fileURLToPath(new URL("./runner.py", import.meta.url));

/** Whole-run accounting from the kernel (wait4 rusage), ms and bytes. */
export interface Accounting {
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssBytes: number;
  majorFaults: number;
  exitCode: number | null;
  signal: string | null;
  /** sha256 of the whole stdout (not only the part kept in memory), and its size in bytes. */
  stdoutSha256: string;
  stdoutBytes: number;
}

/** What one run did. */
export interface RunnerOutcome {
  accounting: Accounting;
  stdout: string;
  stderr: string;
  truncated: boolean;
  timedOut: boolean;
}

/** One run to start. */
export interface RunnerRequest {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Bytes kept per stream (head + tail). */
  outputLimit: number;
  /** Called with the run's pid (its process group) as soon as it exists. */
  onStart?: (pid: number) => void;
}

/** The runner died or could not start; the message says why. */
export class RunnerError extends Error {
  override name = "RunnerError";
}

/** A started runner. Runs are sequential: call `run` again only after the previous one resolved. */
export interface BenchRunner {
  run(request: RunnerRequest): Promise<RunnerOutcome>;
  close(): Promise<void>;
}

let python: Promise<string> | undefined;

/**
 * The real python3 executable, resolved once: version-manager shims (pyenv, asdf) are shell scripts
 * that cost ~130 ms per start. Falls back to "python3".
 */
export function resolvePython(): Promise<string> {
  python ??= execa("python3", ["-c", "import sys; print(sys.executable)"], {
    reject: false,
    timeout: 10_000,
  }).then((r) => (r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : "python3"));
  return python;
}

/**
 * Starts a runner under `isolation`.
 * @throws RunnerError when python3 is missing or the runner does not say it is ready.
 */
export async function startBenchRunner(isolation: Isolation): Promise<BenchRunner> {
  const scratch = await mkdtemp(path.join(tmpdir(), "perfloop-runner-"));
  // -S -E: the runner needs only the standard library and must not run the user's site hooks.
  const argv = [...isolation.prefix, await resolvePython(), "-S", "-E", RUNNER];
  const [file, ...args] = argv as [string, ...string[]];
  const child = execa(file, args, {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    extendEnv: false,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const line = await lines.next();
    if (line.done) throw new RunnerError(`the benchmark runner stopped: ${stderr.trim() || "no output"}`);
    return JSON.parse(line.value) as Record<string, unknown>;
  };
  try {
    const ready = await next();
    if (ready.event !== "ready") throw new Error(`it said ${JSON.stringify(ready)} instead of ready`);
  } catch (error) {
    child.kill("SIGKILL");
    await rm(scratch, { recursive: true, force: true });
    throw new RunnerError(
      `cannot start the benchmark runner (${file} ${RUNNER}): ${(error as Error).message}`,
      { cause: error },
    );
  }

  let count = 0;
  return {
    async run(request) {
      count += 1;
      const out = path.join(scratch, `${count}.out`);
      const err = path.join(scratch, `${count}.err`);
      child.stdin?.write(
        `${JSON.stringify({ argv: ["sh", "-c", request.command], cwd: request.cwd, env: request.env, stdout: out, stderr: err })}\n`,
      );
      const started = await next();
      const pid = Number(started.pid);
      request.onStart?.(pid);
      let timedOut = false;
      let forceKill: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(pid, "SIGTERM");
        forceKill = setTimeout(() => killGroup(pid, "SIGKILL"), 2000);
      }, request.timeoutMs);
      try {
        const exited = (await next()) as unknown as Accounting & { event: string };
        killGroup(pid, "SIGKILL"); // stragglers the run left in the background
        const [stdout, stderrText] = await Promise.all([
          readCapped(out, request.outputLimit),
          readCapped(err, request.outputLimit),
        ]);
        const { event: _event, ...accounting } = exited;
        return {
          accounting,
          stdout: stdout.text,
          stderr: stderrText.text,
          truncated: stdout.truncated || stderrText.truncated,
          timedOut,
        };
      } finally {
        clearTimeout(timer);
        clearTimeout(forceKill);
      }
    },
    async close() {
      child.stdin?.end();
      await Promise.race([child, new Promise((resolve) => setTimeout(resolve, 2000))]);
      child.kill("SIGKILL");
      await rm(scratch, { recursive: true, force: true });
    },
  };
}

/** Reads a file, keeping its first and last `limit / 2` bytes with a marker where bytes were cut. */
async function readCapped(file: string, limit: number): Promise<{ text: string; truncated: boolean }> {
  const handle = await open(file, "r").catch(() => null);
  if (!handle) return { text: "", truncated: false };
  try {
    const { size } = await handle.stat();
    if (size <= limit) {
      const buffer = Buffer.alloc(size);
      await handle.read(buffer, 0, size, 0);
      return { text: buffer.toString("utf8"), truncated: false };
    }
    const half = Math.floor(limit / 2);
    const head = Buffer.alloc(half);
    const tail = Buffer.alloc(limit - half);
    await handle.read(head, 0, half, 0);
    await handle.read(tail, 0, tail.length, size - tail.length);
    return {
      text: `${head.toString("utf8")}${cutMarker(size - limit)}${tail.toString("utf8")}`,
      truncated: true,
    };
  } finally {
    await handle.close();
  }
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
