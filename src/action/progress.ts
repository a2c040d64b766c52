/**
 * The loop's progress events as the Actions log shows them: one collapsible group per phase and per
 * round (`::group::`; groups do not nest, so a new one closes the open one), a line per benchmark run
 * inside it, and the round's outcome at its end.
 */
import type { LoopEvent, LoopEventHandler } from "../core/loop/events.ts";

/** The log functions used (`@actions/core`'s). */
export interface GroupLog {
  startGroup(name: string): void;
  endGroup(): void;
  info(message: string): void;
}

/** The handler for `runPerfloop`'s `onEvent`, and `close` to end the last open group. */
export interface GroupedProgress {
  onEvent: LoopEventHandler;
  close(): void;
}

/** Group titles stay on one line and short (the log viewer shows the first line of a group). */
function title(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** Creates the progress printer for one loop run. */
export function createGroupedProgress(log: GroupLog): GroupedProgress {
  let open = false;
  const start = (name: string) => {
    if (open) log.endGroup();
    log.startGroup(title(name));
    open = true;
  };
  const close = () => {
    if (open) log.endGroup();
    open = false;
  };
  const onEvent = (event: LoopEvent): void => {
    switch (event.type) {
      case "phase":
        start(`perfloop ▸ ${event.phase}${event.detail ? `: ${event.detail}` : ""}`);
        break;
      case "run":
        log.info(`${event.label}: run ${event.done}/${event.total} (${(event.wallMs / 1000).toFixed(2)} s)`);
        break;
      case "round-start":
        start(`perfloop ● round ${event.n}/${event.total} [${event.strategy}] ${event.description}`);
        break;
      case "round-end":
        log.info(
          `${event.outcome === "accepted" ? "✓ accepted" : "✗ rejected"}: ${event.reason}\nbest so far: ${event.bestImprovementPct.toFixed(1)}% better than the baseline`,
        );
        close();
        break;
      case "note":
        log.info(`! ${event.message}`);
        break;
      case "agent":
        log.info(`· candidate ${event.k}: ${event.tool}${event.summary ? ` → ${event.summary}` : ""}`);
        break;
    }
  };
  return { onEvent, close };
}
