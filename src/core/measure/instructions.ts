/**
 * `benchmark.measure: instructions` (README, "How perfloop measures"): the instruction count of the
 * whole process tree, a number that a busy runner cannot move — the approach CodSpeed takes on shared
 * CI runners. Counted by `perf stat -e instructions:u` where the CPU's counters are open to the
 * sandbox (bare metal, `kernel.perf_event_paranoid` ≤ 2), else by valgrind's cachegrind (`I refs`,
 * every instruction executed, children traced), which runs the program 20–100× slower. Either tool
 * writes its report to file descriptor 3, a pipe the runner reads (src/core/measure/runner.py).
 *
 * Honest limit: the counter runs inside the sandbox, in the measured processes themselves, so unlike
 * wall and CPU time (taken by the runner outside) a hostile benchmark could write a false report
 * into fd 3. perfloop cross-checks it against CPU time in every comparison it reports.
 */
import type { Isolation } from "../exec/isolation.ts";
import { runCommand } from "../exec/run-command.ts";

/** The file descriptor the counter reports on (the runner's pipe). */
export const COUNT_FD = 3;

/** Which tool counts, and what it costs. */
export interface InstructionCounter {
  tool: "perf" | "valgrind";
  /** One line for the report: the tool and its cost. */
  note: string;
}

/** No instruction counter works here; the message names the fix. */
export class InstructionsUnavailableError extends Error {
  override name = "InstructionsUnavailableError";
}

/**
 * The argv put before the benchmark command inside the sandbox.
 * @returns e.g. `["perf", "stat", "-x,", "-e", "instructions:u", "--log-fd", "3", "--"]`.
 */
export function counterArgv(counter: InstructionCounter): string[] {
  if (counter.tool === "perf")
    return ["perf", "stat", "-x,", "-e", "instructions:u", "--log-fd", String(COUNT_FD), "--"];
  return [
    "valgrind",
    "--tool=cachegrind",
    "--cache-sim=no",
    "--trace-children=yes",
    "--cachegrind-out-file=/dev/null",
    `--log-fd=${COUNT_FD}`,
    "--",
  ];
}

/**
 * The instruction count of a run from the counter's report: perf's CSV line `N,,instructions:u,…`
 * (children included: counters are inherited), or the sum of cachegrind's `==PID== I refs: N` over
 * every traced process.
 * @returns null when the report has no count (the tool failed, or perf said "<not supported>").
 */
export function parseInstructionCount(tool: InstructionCounter["tool"], report: string): number | null {
  if (tool === "perf") {
    const line = report.split("\n").find((l) => /,instructions(:u)?,/.test(l));
    const value = line?.split(",")[0] ?? "";
    return /^\d+$/.test(value) ? Number(value) : null;
  }
  let total = 0;
  let found = false;
  for (const match of report.matchAll(/^==\d+== I\s+refs:\s+([\d,]+)\s*$/gm)) {
    total += Number((match[1] ?? "").replace(/,/g, ""));
    found = true;
  }
  return found ? total : null;
}

/**
 * Finds the counter that works in `isolation`: perf first, then valgrind, each tried on `true`
 * (in `/`, with no tree mounted).
 * @throws InstructionsUnavailableError naming the fix (install valgrind, or open perf counters).
 */
export async function probeInstructionCounter(
  isolation: Isolation,
  env: Record<string, string>,
): Promise<InstructionCounter> {
  const tried: string[] = [];
  for (const tool of ["perf", "valgrind"] as const) {
    const counter: InstructionCounter = {
      tool,
      note:
        tool === "perf"
          ? "instructions counted by perf stat (hardware counters, no slowdown)"
          : "instructions counted by valgrind (cachegrind I refs; the program runs 20–100× slower under it)",
    };
    const argv = [...counterArgv(counter), "sh", "-c", "true"];
    const script = `${argv.map((a) => `'${a}'`).join(" ")} ${COUNT_FD}>&1 1>/dev/null 2>/dev/null`;
    const result = await runCommand(script, {
      cwd: "/",
      env,
      timeoutMs: 60_000,
      outputLimit: 100_000,
      isolation,
      mounts: { writable: [], readOnly: [] },
    });
    if (parseInstructionCount(tool, result.stdout) !== null) return counter;
    tried.push(
      `${tool}: ${result.exitCode === 127 ? "not installed" : (result.stdout || result.stderr).trim().split("\n")[0] || `exit ${result.exitCode}`}`,
    );
  }
  throw new InstructionsUnavailableError(
    `benchmark.measure: instructions needs an instruction counter in the sandbox, and none works here (${tried.join("; ")}). Install valgrind (sudo apt-get install -y valgrind), or allow perf counters (sudo sysctl -w kernel.perf_event_paranoid=2 on bare metal), or use measure: cpu.`,
  );
}
