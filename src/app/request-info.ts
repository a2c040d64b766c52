/**
 * "Who asked, how, with which arguments" of a request, both ways: as the {@link RequestInfo} that the
 * publish messages render ("requested by @x via `/optimize` (rounds 3, target 20%)"), and read back
 * from such a text (a check-run summary). {@link recallRequest} combines the App's memory
 * (request-memory.ts) with that text, so the line survives phases and, where the text is still on
 * the check run, restarts.
 */
import type { CheckRunInfo, RepoRef, RequestInfo } from "../publish/index.ts";
import type { RunArgs } from "./request.ts";
import type { RequestMemory } from "./request-memory.ts";

/** What is known of a request's origin; each part may be unknown. */
export interface RequestOrigin {
  actor?: string;
  via?: string;
  /** The arguments; undefined when unknown (an empty object: none were given). */
  args?: RunArgs;
  /** When the App dispatched it, ms since the epoch. */
  at?: number;
}

/** A check run as listed, with its output summary when the listing carries it. */
export type ListedRun = CheckRunInfo & { summary?: string | null };

/** The request as shown in messages: arguments as given (`target` with its `%`). */
export function toRequestInfo(requestId: string, origin: RequestOrigin): RequestInfo {
  const args: Record<string, string | number> = {};
  if (origin.args?.rounds !== undefined) args.rounds = origin.args.rounds;
  if (origin.args?.target !== undefined) args.target = `${origin.args.target}%`;
  if (origin.args?.strategy) args.strategy = origin.args.strategy;
  return {
    requestId,
    ...(origin.actor ? { requestedBy: origin.actor } : {}),
    ...(origin.via ? { via: origin.via } : {}),
    args,
  };
}

const WHO = /requested(?: by @([A-Za-z0-9[\]_-]+))?(?: via (`+) ?([^`\n]*?) ?\2)?(?: \(([^)\n]*)\))?/;

/**
 * Reads "requested by @x via `/optimize` (rounds 3, target 20%, strategy llm)" as the publish
 * messages write it (src/publish/messages.ts); null when the text has no such phrase.
 */
export function parseRequestedBy(text: string | null | undefined): RequestOrigin | null {
  const m = WHO.exec(text ?? "");
  if (!m || (m[1] === undefined && m[3] === undefined)) return null;
  const args: RunArgs = {};
  for (const part of (m[4] ?? "").split(", ")) {
    const [key, value = ""] = part.split(" ");
    if (key === "rounds" && /^\d+$/.test(value)) args.rounds = Number(value);
    else if (key === "target" && /^\d+(\.\d+)?%?$/.test(value)) args.target = Number.parseFloat(value);
    else if (key === "strategy" && (value === "auto" || value === "llm" || value === "tune"))
      args.strategy = value;
  }
  return { ...(m[1] ? { actor: m[1] } : {}), ...(m[3] ? { via: m[3] } : {}), args };
}

/**
 * What is known of request `requestId`: the App's memory first, else the "requested by" phrase of
 * one of its check runs' summaries (when the listing carries them), else nothing.
 */
export function recallRequest(
  memory: RequestMemory | undefined,
  repo: RepoRef,
  requestId: string,
  runs: readonly ListedRun[] = [],
): RequestOrigin {
  const known = memory?.byId(repo, requestId);
  if (known) return { actor: known.actor, via: known.via, args: known.args, at: known.at };
  for (const run of runs) {
    if (run.externalId !== requestId) continue;
    const parsed = parseRequestedBy(run.summary);
    if (parsed) return parsed;
  }
  return {};
}
