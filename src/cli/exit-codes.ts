import type { Results } from "../core/evidence/results-schema.ts";

/** perfloop's exit codes (documented in README.md, "CLI"). */
export const EXIT = {
  /** optimize: a verified improvement; profile: measured and classified. */
  ok: 0,
  /** perfloop itself failed (the message says why; results.json has status "error"). */
  error: 1,
  /** Bad command line or invalid config. */
  usage: 2,
  /** No candidate was a significant improvement. */
  noImprovement: 3,
  /** Measurements too noisy or throttled to decide. */
  inconclusive: 4,
  /** Set-up, tests or benchmark fail on the unmodified code (gate: on the base or the head). */
  baselineFailed: 5,
  /** Gate: the head is slower than the base past `gate.threshold` (docs/gate.md). */
  regressed: 6,
  /** `timeouts.total` ended the run (coreutils `timeout` uses the same code). */
  timeout: 124,
  /** SIGINT ended the run (128 + SIGINT, the shell's convention). */
  cancelled: 130,
  /** SIGTERM ended the run (128 + SIGTERM). */
  terminated: 143,
} as const;

/** The exit code for a results status. */
export function exitCodeFor(status: Results["status"], mode: "optimize" | "profile" | "gate"): number {
  if (status === "error") return EXIT.error;
  if (status === "cancelled") return EXIT.cancelled;
  if (status === "timeout") return EXIT.timeout;
  if (status === "baseline-failed" || status === "head-failed") return EXIT.baselineFailed;
  if (status === "regressed") return EXIT.regressed;
  if (status === "passed") return EXIT.ok;
  if (mode === "profile") return EXIT.ok;
  if (status === "improved") return EXIT.ok;
  return status === "inconclusive" ? EXIT.inconclusive : EXIT.noImprovement;
}
