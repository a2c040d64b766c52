/**
 * Bounds that keep hostile input cheap: the free first MiB of request bodies shares a pool of its
 * own (many stalled requests just under 1 MiB cannot hold unbounded memory), a malformed command's
 * reply lists at most 5 problems, and a target with more than 3 decimals is refused before any
 * check run exists.
 */

import type { IncomingMessage } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { BodyBudget, readBodyWithin } from "../../src/app/body-limit.ts";
import { parseCommand } from "../../src/app/command.ts";
import { invalidCommandReply } from "../../src/app/replies.ts";

/** A request stream that sends `bytes` bytes and then ends. */
function body(bytes: number): IncomingMessage {
  const stream = new PassThrough() as unknown as IncomingMessage & PassThrough;
  Object.assign(stream, { complete: false, headers: {} });
  setImmediate(() => {
    stream.write(Buffer.alloc(bytes, 97));
    (stream as unknown as { complete: boolean }).complete = true;
    stream.end();
  });
  return stream;
}

describe("bounds on hostile input", () => {
  it("charges the free first MiB to a pool of its own, and refuses once that pool is spent", async () => {
    const pool = new BodyBudget(100_000);
    const first = pool.hold();
    const ok = await readBodyWithin(body(80_000), {
      limitBytes: 1 << 20,
      freeBytes: 1 << 20,
      freeHold: first,
    });
    expect(ok.ok).toBe(true);
    expect(pool.usedBytes).toBe(80_000);
    const second = await readBodyWithin(body(30_000), {
      limitBytes: 1 << 20,
      freeBytes: 1 << 20,
      freeHold: pool.hold(),
    });
    expect(second).toMatchObject({ ok: false, reason: "budget-exhausted" });
    first.release();
    expect(pool.usedBytes).toBe(0);
  });

  it("lists at most 5 problems of a malformed command", () => {
    const reply = invalidCommandReply(Array.from({ length: 30_000 }, (_, i) => `unexpected \`x${i}\``));
    expect(reply.split("\n").filter((l) => l.startsWith("- unexpected"))).toHaveLength(5);
    expect(reply).toMatch(/- … and 29995 more/);
    expect(reply.length).toBeLessThan(5_000);
  });

  it("refuses a target with more than 3 decimals (it would reach the runner as 1e-7)", () => {
    expect(parseCommand("/optimize --target 0.0000001%")).toMatchObject({ kind: "invalid" });
    expect(parseCommand("/optimize --target 12.5%")).toMatchObject({ kind: "optimize", target: 12.5 });
  });
});
