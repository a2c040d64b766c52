/**
 * Progress events of the loop. The CLI prints them live, the Action turns them into log groups; the
 * core only emits them.
 */

/** One progress event. Times in ms. */
export type LoopEvent =
  | { type: "phase"; phase: string; detail?: string }
  | { type: "run"; label: string; done: number; total: number; wallMs: number }
  | { type: "round-start"; n: number; total: number; strategy: "llm" | "tune"; description: string }
  | {
      type: "round-end";
      n: number;
      outcome: "accepted" | "rejected";
      reason: string;
      bestImprovementPct: number;
    }
  | { type: "note"; message: string }
  /** A tool call of agent session `k` in round `n`, with the first line of its result. */
  | { type: "agent"; n: number; k: number; tool: string; summary: string };

/** Receives events; must not throw. */
export type LoopEventHandler = (event: LoopEvent) => void;
