/**
 * When a run stops early (README, "Safety: patch policy and sandbox"): the caller's signal (the CLI
 * and the Action abort it on SIGINT and SIGTERM) or the `timeouts.total` budget aborts one
 * AbortController that every command of the run listens to. The loop then ends with status
 * `cancelled` or `timeout`, the evidence measured so far and a results.json saying why.
 */
import type { Config } from "../config/schema.ts";
import { CancelledError, type StopRequest, stopRequestOf } from "../exec/cancel.ts";
import { countedRuns } from "../measure/protocol.ts";
import { median } from "../measure/stats.ts";
import type { Baseline } from "./baseline.ts";

/** The run's stop switch. */
export interface RunStop {
  signal: AbortSignal;
  /** The StopRequest once aborted, else null. */
  request(): StopRequest | null;
  /** Removes the timer and the listener on the caller's signal. */
  dispose(): void;
}

/**
 * Creates the switch.
 * @param outer the caller's signal (may be undefined).
 * @param totalMs `timeouts.total` in ms, counted from now.
 */
export function createRunStop(outer: AbortSignal | undefined, totalMs: number): RunStop {
  const controller = new AbortController();
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener("abort", forward, { once: true });
  const timer = setTimeout(() => {
    controller.abort({
      status: "timeout",
      message: `the time budget timeouts.total (${Math.round(totalMs / 1000)} s) was spent`,
    } satisfies StopRequest);
  }, totalMs);
  timer.unref();
  return {
    signal: controller.signal,
    request: () => (controller.signal.aborted ? stopRequestOf(controller.signal) : null),
    dispose() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", forward);
    },
  };
}

/** The StopRequest behind `error` when it is a cancellation, else null. */
export function stopOf(error: unknown): StopRequest | null {
  return error instanceof CancelledError ? error.stop : null;
}

/**
 * Time to keep for the final A/B measurement when deciding whether another round may start, ms:
 * its runs (warm-ups and counted, both sides) at 1.5 × the baseline's median wall time each (a
 * margin for a slower side and for perfloop's own work between runs).
 */
export function finalReserveMs(baseline: Baseline, config: Config): number {
  const wall = median(countedRuns(baseline.measurement, "A").map((r) => r.wallMs));
  const runs = 2 * (config.repetitions.warmup + config.repetitions.runs);
  return Number.isFinite(wall) ? runs * wall * 1.5 : 0;
}
