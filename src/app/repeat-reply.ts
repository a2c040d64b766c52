/**
 * The answer to `/optimize` while a run is active for the head commit: one comment per active
 * request, however often it is asked or the ask redelivered. The first ask gets the reply (with the
 * run's link); a later ask by someone not yet answered edits that reply to name them; a repeat by
 * someone already answered changes nothing (the 👀 on their comment acknowledges it).
 *
 * The reply opens with a hidden marker naming the active request and the logins answered, so after a
 * restart (or on another replica) the App finds it among the PR's comments and edits it instead of
 * posting another. Within a process, concurrent asks for one request run one after the other
 * (app-memory.ts `repeats`), so they agree on that one comment.
 */
import type { AppMemory, RepeatNote } from "./app-memory.ts";
import { alreadyRunningReply, editReply, reply } from "./replies.ts";
import { repoKey } from "./request-memory.ts";
import type { AppDeps } from "./state.ts";

/** A repeated ask. */
export interface RepeatAsk {
  pr: number;
  headSha: string;
  /** The active request and its link (workflow run, else check run). */
  running: { requestId: string; url: string | null; startedBy?: string | undefined };
  /** Login of who asked now. */
  actor: string;
}

/** What answering did. */
export type RepeatOutcome = "replied" | "edited" | "already-answered";

/** Most logins a reply names (a bound on the marker and the text). */
const MAX_ASKERS = 20;

/** Answers a repeated ask (see above). */
export async function answerRepeat(deps: AppDeps, ask: RepeatAsk): Promise<RepeatOutcome> {
  const key = `${repoKey(deps.repo)}#${ask.pr} ${ask.running.requestId}`;
  let outcome: RepeatOutcome = "already-answered";
  const step = async (previous: RepeatNote | null): Promise<RepeatNote | null> => {
    const note = previous ?? (await findAnswer(deps, ask));
    const result = await answer(deps, ask, note);
    outcome = result.outcome;
    return result.note;
  };
  await chain(deps.memory, key, step);
  return outcome;
}

/** Runs `step` after the previous step for `key` (its note, or null when it failed or there was none). */
async function chain(
  memory: AppMemory | undefined,
  key: string,
  step: (previous: RepeatNote | null) => Promise<RepeatNote | null>,
): Promise<void> {
  if (!memory) {
    await step(null);
    return;
  }
  const previous = memory.repeats.get(key) ?? Promise.resolve(null);
  const next = previous.catch(() => null).then(step);
  memory.repeats.set(key, next);
  await next;
}

/** Replies, edits or does nothing. */
async function answer(
  deps: AppDeps,
  ask: RepeatAsk,
  note: RepeatNote | null,
): Promise<{ outcome: RepeatOutcome; note: RepeatNote }> {
  const actor = ask.actor.toLowerCase();
  if (note?.askers.some((a) => a.toLowerCase() === actor)) return { outcome: "already-answered", note };
  const askers = [...(note?.askers ?? []), ask.actor].slice(0, MAX_ASKERS);
  const markdown = `${marker(ask.running.requestId, askers)}\n${alreadyRunningReply({
    headSha: ask.headSha,
    url: ask.running.url,
    startedBy: ask.running.startedBy,
    askers,
  })}`;
  if (note) {
    if (askers.length === note.askers.length) return { outcome: "already-answered", note };
    await editReply(deps.client, deps.repo, note.commentId, markdown);
    return { outcome: "edited", note: { commentId: note.commentId, askers } };
  }
  const { id } = await reply(deps.client, deps.repo, ask.pr, markdown);
  return { outcome: "replied", note: { commentId: id, askers } };
}

/** `<!-- perfloop:already-running <request id> asked=<login>,<login> -->` */
function marker(requestId: string, askers: readonly string[]): string {
  const logins = askers.map((a) => a.replace(/[^A-Za-z0-9[\]_-]/g, "")).join(",");
  return `<!-- perfloop:already-running ${requestId} asked=${logins} -->`;
}

/** The shape of a listed issue comment read here. */
interface ListedComment {
  id: number;
  body?: string | undefined;
  user: { type?: string } | null;
}

/** The App's earlier answer for this active request among the PR's comments, or null. */
async function findAnswer(deps: AppDeps, ask: RepeatAsk): Promise<RepeatNote | null> {
  const comments = (await deps.client.paginate(deps.client.rest.issues.listComments, {
    ...deps.repo,
    issue_number: ask.pr,
    per_page: 100,
  })) as ListedComment[];
  const prefix = `<!-- perfloop:already-running ${ask.running.requestId} asked=`;
  const found = comments.find((c) => c.user?.type === "Bot" && (c.body ?? "").startsWith(prefix));
  if (!found) return null;
  const logins = /^([A-Za-z0-9[\]_,-]*) -->/.exec((found.body ?? "").slice(prefix.length))?.[1] ?? "";
  return { commentId: found.id, askers: logins.split(",").filter(Boolean) };
}
