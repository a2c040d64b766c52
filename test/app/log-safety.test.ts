/**
 * The App's log serializers: an error from @octokit/webhooks carries the delivery (`event`, with the
 * payload or raw body); the log line keeps its type, a bounded message, status and the event's name
 * and id only.
 */
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createAppLog, errorForLog, MAX_LOGGED_MESSAGE_CHARS } from "../../src/app/log.ts";

const RAW = `{"marker":"PAYLOAD-MARKER","pad":"${"x".repeat(1_000_000)}"}`;

/** A signature error as @octokit/webhooks' verifyAndReceive and event handler build it. */
function signatureError(): AggregateError {
  const event = { id: "delivery-1", name: "issue_comment", payload: RAW, signature: "sha256=00" };
  const inner = Object.assign(
    new Error("[@octokit/webhooks] signature does not match event payload and secret"),
    {
      event,
      status: 400,
    },
  );
  return Object.assign(new AggregateError([inner], inner.message), { event });
}

describe("payload-free error logs", () => {
  it("summarizes an error to type, message, status and the event's name and id", () => {
    const summary = errorForLog(signatureError()) as Record<string, unknown>;
    expect(summary).toMatchObject({
      type: "AggregateError",
      event: { id: "delivery-1", name: "issue_comment" },
      errors: [{ status: 400, event: { id: "delivery-1", name: "issue_comment" } }],
    });
    expect(JSON.stringify(summary)).not.toContain("PAYLOAD-MARKER");
    const long = errorForLog(new Error("y".repeat(10_000))) as { message: string };
    expect(long.message).toHaveLength(MAX_LOGGED_MESSAGE_CHARS);
  });

  it("writes short lines for errors, `event` and `payload` fields, through child loggers too", async () => {
    const lines: string[] = [];
    const log = await createAppLog(
      { LOG_LEVEL: "debug" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const child = log.child({ name: "event" }).child({ id: "delivery-1" });
    child.error(signatureError());
    child.error(signatureError(), "Go to your App's settings and check the webhook secret");
    child.debug(
      { event: { id: "delivery-1", name: "issue_comment", payload: JSON.parse(RAW) } },
      "Webhook received",
    );
    child.info({ payload: JSON.parse(RAW) }, "handler");
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      expect(line).not.toContain("PAYLOAD-MARKER");
      expect(line.length).toBeLessThan(5000);
    }
  });
});
