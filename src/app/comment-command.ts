/**
 * An `/optimize` comment: 👀 on the comment at once (so the maintainer sees it was heard), then
 * help or the usage for a malformed command (both without any lookup: they reveal nothing), or the
 * trigger flow (trigger.ts, with its authorization) for optimize, retry, cancel and status.
 */
import type { Command } from "./command.ts";
import { helpReply, invalidCommandReply, reply } from "./replies.ts";
import { errorSummary } from "./state.ts";
import { handleTrigger, type Trigger, type TriggerAction } from "./trigger.ts";

/** The comment and the trigger fields the flow needs (`action` comes from the command). */
export interface CommentCommand {
  command: Command;
  commentId: number;
  trigger: Omit<Trigger, "action">;
}

/** Handles the command; the reaction runs alongside and never fails the request. */
export async function handleCommentCommand(c: CommentCommand): Promise<string> {
  const { deps } = c.trigger;
  const seen = deps.client.rest.reactions
    .createForIssueComment({ ...deps.repo, comment_id: c.commentId, content: "eyes" })
    .catch((error: unknown) => deps.log.warn({ err: errorSummary(error) }, "could not add the 👀 reaction"));
  try {
    const { command } = c;
    if (command.kind === "help") {
      await reply(deps.client, deps.repo, c.trigger.issueNumber, helpReply());
      return "help";
    }
    if (command.kind === "invalid") {
      await reply(deps.client, deps.repo, c.trigger.issueNumber, invalidCommandReply(command.problems));
      return "invalid-command";
    }
    return await handleTrigger({ ...c.trigger, action: actionOf(command) });
  } finally {
    await seen;
  }
}

/** The trigger action of a command that acts on runs. */
function actionOf(command: Exclude<Command, { kind: "help" | "invalid" }>): TriggerAction {
  if (command.kind !== "optimize") return { kind: command.kind };
  const { kind, ...args } = command;
  return { kind, args };
}
