/**
 * A live checklist of a run, built from the loop's progress events (src/core/loop/events.ts) and
 * rendered as markdown for a PR comment or a check run's output: the phases done and the one
 * running, the baseline's median, each round with its candidates' latest steps and its outcome, and
 * the best improvement so far. The core emits the events; adapters decide where the text goes and
 * how often (src/action/live-progress.ts).
 */
import type { LoopEvent } from "../loop/events.ts";
import { clipText, escapeInline } from "./escape.ts";

/** One line of the checklist. */
interface Step {
  text: string;
  done: boolean;
}

/** A round as the checklist shows it. */
interface RoundLine {
  n: number;
  total: number;
  title: string;
  /** Latest tool call per agent session (k → text). */
  candidates: Map<number, string>;
  outcome: string | null;
}

/** The checklist's state; feed it events with {@link ProgressChecklist.onEvent}. */
export interface ProgressChecklist {
  onEvent(event: LoopEvent): void;
  /** The checklist as markdown (untrusted text escaped), at most about 6,000 characters. */
  render(): string;
  /** Events that change what {@link render} shows at the level of a phase or a round. */
  isMilestone(event: LoopEvent): boolean;
}

/** Characters of an event's detail shown. */
const DETAIL = 160;
/** Rounds shown in full (older ones collapse to their outcome line). */
const ROUNDS_SHOWN = 6;

/** A new, empty checklist. */
export function createProgressChecklist(): ProgressChecklist {
  const steps: Step[] = [];
  const rounds: RoundLine[] = [];
  let best: number | null = null;
  let runs: string | null = null;
  const text = (s: string) => escapeInline(clipText(s, DETAIL));
  const finishCurrent = () => {
    const last = steps.at(-1);
    if (last) last.done = true;
  };
  return {
    onEvent(event) {
      switch (event.type) {
        case "phase":
          if (/^round \d+/.test(event.phase)) {
            const round = rounds.at(-1);
            if (round && !round.outcome)
              round.title = `${event.phase}${event.detail ? `: ${event.detail}` : ""}`;
            return;
          }
          finishCurrent();
          steps.push({ text: `${event.phase}${event.detail ? `: ${event.detail}` : ""}`, done: false });
          runs = null;
          return;
        case "run":
          runs = `${event.label}: run ${event.done}/${event.total} (${(event.wallMs / 1000).toFixed(2)} s)`;
          return;
        case "round-start": {
          finishCurrent();
          const title = `[${event.strategy}] ${event.description}`;
          const seen = rounds.find((r) => r.n === event.n); // made by its sessions' events
          if (seen) Object.assign(seen, { total: event.total, title });
          else rounds.push({ n: event.n, total: event.total, title, candidates: new Map(), outcome: null });
          runs = null;
          return;
        }
        case "agent": {
          let round = rounds.find((r) => r.n === event.n);
          if (!round) {
            finishCurrent();
            // Sessions run before the round's start event: the round is shown as it begins.
            round = { n: event.n, total: 0, title: "model sessions", candidates: new Map(), outcome: null };
            rounds.push(round);
          }
          round.candidates.set(event.k, `${event.tool}${event.summary ? ` → ${event.summary}` : ""}`);
          return;
        }
        case "round-end": {
          const round = rounds.find((r) => r.n === event.n);
          if (round) round.outcome = `${event.outcome}: ${event.reason}`;
          best = event.bestImprovementPct;
          runs = null;
          return;
        }
        case "note":
          return;
      }
    },
    isMilestone(event) {
      return event.type === "phase" || event.type === "round-start" || event.type === "round-end";
    },
    render() {
      const lines = steps.map((s) => `- [${s.done ? "x" : " "}] ${text(s.text)}`);
      const shown = rounds.slice(-ROUNDS_SHOWN);
      if (rounds.length > shown.length)
        lines.push(`- [x] rounds 1–${rounds.length - shown.length}: see the report`);
      for (const r of shown) {
        const head = `round ${r.n}${r.total ? `/${r.total}` : ""} ${r.title}`;
        lines.push(`- [${r.outcome ? "x" : " "}] ${text(head)}${r.outcome ? ` — ${text(r.outcome)}` : ""}`);
        if (!r.outcome)
          for (const [k, last] of [...r.candidates].sort(([a], [b]) => a - b))
            lines.push(`  - candidate ${k}: ${text(last)}`);
      }
      if (runs) lines.push(`  - ${text(runs)}`);
      if (best !== null)
        lines.push(
          "",
          `Best so far: ${best.toFixed(1)}% better than the baseline (estimated from the rounds; the final A/B measures it).`,
        );
      return lines.join("\n");
    },
  };
}
