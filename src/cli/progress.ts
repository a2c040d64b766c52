/**
 * Live progress on the terminal: phases, round n/N, per-run counters, best so far. On a TTY the run
 * counter rewrites one line; elsewhere (CI logs) only whole lines are printed.
 */
import type { LoopEvent } from "../core/loop/events.ts";

/** Writes events to a stream (stderr by default, so stdout stays for --json). */
export function createProgressPrinter(
  stream: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
): (event: LoopEvent) => void {
  const tty = stream.isTTY === true;
  let pending = false; // a \r line is on screen
  const line = (text: string) => {
    if (pending) stream.write("\n");
    pending = false;
    stream.write(`${text}\n`);
  };
  return (event) => {
    switch (event.type) {
      case "phase":
        line(`▸ ${event.phase}${event.detail ? `: ${event.detail}` : ""}`);
        break;
      case "run": {
        const text = `  ${event.label}: run ${event.done}/${event.total} (${(event.wallMs / 1000).toFixed(2)} s)`;
        if (tty) {
          stream.write(`\r${text}\x1b[K`);
          pending = true;
          if (event.done === event.total) line("");
        } else if (event.done === event.total) {
          line(`  ${event.label}: ${event.total} runs done`);
        }
        break;
      }
      case "round-start":
        line(`● round ${event.n}/${event.total} [${event.strategy}] ${event.description}`);
        break;
      case "round-end":
        line(
          `  ${event.outcome === "accepted" ? "✓ accepted" : "✗ rejected"}: ${event.reason}\n  best so far: ~${event.bestImprovementPct.toFixed(1)}% better than the baseline (estimated from the rounds' A/B ratios; the final A/B measures it)`,
        );
        break;
      case "note":
        line(`! ${event.message}`);
        break;
      case "agent":
        line(`  · candidate ${event.k}: ${event.tool}${event.summary ? ` → ${event.summary}` : ""}`);
        break;
    }
  };
}
