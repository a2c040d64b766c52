/**
 * Cancellation of a run: SIGINT, SIGTERM (the Actions runner sends both when a workflow is
 * cancelled) or the `timeouts.total` budget abort the run's AbortSignal; every command listening to
 * it kills its whole sandbox, and the loop ends with status `cancelled` or `timeout` and the
 * evidence measured so far (README, "Safety: patch policy and sandbox").
 */

/** Why a run was stopped: results.json's status. */
export type StopReason = "cancelled" | "timeout";

/** The abort reason perfloop puts on its signals. */
export interface StopRequest {
  status: StopReason;
  /** One sentence for results.json's message, e.g. "SIGTERM received". */
  message: string;
  /** The signal that asked for the stop, when one did (the CLI's exit code: 130 or 143). */
  signal?: "SIGINT" | "SIGTERM";
}

/** A command or step did not run, or was killed, because the run was stopped. */
export class CancelledError extends Error {
  override name = "CancelledError";
  readonly stop: StopRequest;
  constructor(stop: StopRequest, options?: { cause?: unknown }) {
    super(`the run was stopped: ${stop.message}`, options);
    this.stop = stop;
  }

  /**
   * Throws when `signal` is aborted.
   * @throws CancelledError carrying the signal's StopRequest (or "cancelled" when it has none).
   */
  static throwIfAborted(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new CancelledError(stopRequestOf(signal));
  }
}

/** The StopRequest of an aborted signal (a foreign reason counts as "cancelled"). */
export function stopRequestOf(signal: AbortSignal): StopRequest {
  const reason = signal.reason as Partial<StopRequest> | undefined;
  if (reason && (reason.status === "cancelled" || reason.status === "timeout") && reason.message)
    return {
      status: reason.status,
      message: reason.message,
      ...(reason.signal ? { signal: reason.signal } : {}),
    };
  return { status: "cancelled", message: "the run was aborted" };
}

/**
 * Aborts `controller` with a "cancelled" StopRequest on SIGINT or SIGTERM, once.
 * @param options.exitOnSecond a second signal exits the process at once (130 or 143, 128 + the
 *   signal): the CLI's "the user insists". The Action keeps going instead — the Actions runner sends
 *   SIGINT, then SIGTERM 7.5 s later, then SIGKILL 2.5 s after that, and the step needs those seconds
 *   to upload the partial bundle and close its check run.
 * @returns a function removing the handlers.
 */
export function abortOnSignals(controller: AbortController, options: { exitOnSecond: boolean }): () => void {
  const handler = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      if (options.exitOnSecond) process.exit(signal === "SIGINT" ? 130 : 143);
      return;
    }
    const which = signal === "SIGTERM" ? "SIGTERM" : "SIGINT";
    controller.abort({
      status: "cancelled",
      message: `${signal} received`,
      signal: which,
    } satisfies StopRequest);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}
