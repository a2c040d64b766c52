/**
 * The Node side of runner.py: one long-lived runner process per measurement, on the host (outside
 * every sandbox), each run a fork + exec of the run's sandboxed argv with kernel rusage. The runner
 * streams the run's output and sends back only its head and tail; a timeout kills the run's process
 * group (with bubblewrap, that ends its whole PID namespace).
 */
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { CancelledError } from "../exec/cancel.ts";
import { cutMarker } from "../exec/capped-buffer.ts";

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
  /** What came through fd 3 (with `countFd`): the counter's report; null without. */
  count: { text: string; truncated: boolean } | null;
}

/** One run to start. */
export interface RunnerRequest {
  /** The whole argv, sandbox included (see `Isolation.wrap`). */
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Bytes kept per stream (head + tail); the rest is counted, hashed (stdout) and dropped. */
  outputLimit: number;
  /** Called with the run's pid (its process group) as soon as it exists. */
  onStart?: (pid: number) => void;
  /** Wait for every descendant re-parented to the runner and add its rusage (bubblewrap: the
   *  sandbox's PID 1; see runner.py). Never set without a PID namespace: a daemon would hold it. */
  reapAll: boolean;
  /** cgroup.procs files the run's process joins before exec (src/core/sandbox/cgroup.ts). */
  cgroupProcs?: string[];
  /** Give the run a pipe as fd 3 for an instruction counter's report (src/core/measure/instructions.ts). */
  countFd?: boolean;
  /** Aborting kills the run (its whole sandbox); `run` then throws CancelledError. */
  signal?: AbortSignal | undefined;
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
 * Starts a runner on the host.
 * @throws RunnerError when python3 is missing or the runner does not say it is ready.
 */
export async function startBenchRunner(): Promise<BenchRunner> {
  const file = await resolvePython();
  // -S -E: the runner needs only the standard library and must not run the user's site hooks.
  const child = execa(file, ["-S", "-E", RUNNER], {
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
    throw new RunnerError(
      `cannot start the benchmark runner (${file} ${path.basename(RUNNER)}): ${(error as Error).message}`,
      { cause: error },
    );
  }

  return {
    async run(request) {
      CancelledError.throwIfAborted(request.signal);
      child.stdin?.write(
        `${JSON.stringify({ argv: request.argv, cwd: request.cwd, env: request.env, limit: request.outputLimit, reapAll: request.reapAll, cgroupProcs: request.cgroupProcs ?? [], countFd: request.countFd ?? false })}\n`,
      );
      const started = await next();
      const pid = Number(started.pid);
      const onAbort = () => killGroup(pid, "SIGKILL");
      request.signal?.addEventListener("abort", onAbort);
      request.onStart?.(pid);
      let timedOut = false;
      let forceKill: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(pid, "SIGTERM");
        forceKill = setTimeout(() => killGroup(pid, "SIGKILL"), 2000);
      }, request.timeoutMs);
      try {
        const exited = await next();
        CancelledError.throwIfAborted(request.signal);
        const stdout = decodeCapture(exited.stdout, Number(exited.stdoutBytes));
        const stderrText = decodeCapture(exited.stderr, Number(exited.stderrBytes));
        return {
          accounting: {
            wallMs: Number(exited.wallMs),
            userMs: Number(exited.userMs),
            sysMs: Number(exited.sysMs),
            maxRssBytes: Number(exited.maxRssBytes),
            majorFaults: Number(exited.majorFaults),
            exitCode: (exited.exitCode as number | null) ?? null,
            signal: (exited.signal as string | null) ?? null,
            stdoutSha256: String(exited.stdoutSha256),
            stdoutBytes: Number(exited.stdoutBytes),
          },
          stdout: stdout.text,
          stderr: stderrText.text,
          truncated: stdout.truncated || stderrText.truncated,
          timedOut,
          count: exited.count
            ? decodeCapture(exited.count, Number((exited.count as { total?: number }).total ?? 0))
            : null,
        };
      } finally {
        clearTimeout(timer);
        clearTimeout(forceKill);
        request.signal?.removeEventListener("abort", onAbort);
      }
    },
    async close() {
      child.stdin?.end();
      await Promise.race([child, new Promise((resolve) => setTimeout(resolve, 2000))]);
      child.kill("SIGKILL");
    },
  };
}

/** The text of a runner capture: head, a cut marker when bytes were dropped, tail. */
function decodeCapture(raw: unknown, total: number): { text: string; truncated: boolean } {
  const capture = (raw ?? {}) as { head?: string; tail?: string };
  const head = Buffer.from(capture.head ?? "", "base64");
  const tail = Buffer.from(capture.tail ?? "", "base64");
  const cut = total - head.length - tail.length;
  if (cut <= 0) return { text: Buffer.concat([head, tail]).toString("utf8"), truncated: false };
  return { text: `${head.toString("utf8")}${cutMarker(cut)}${tail.toString("utf8")}`, truncated: true };
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}
