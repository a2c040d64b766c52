/**
 * The App server's guard in front of the webhook middleware, over real loopback HTTP (no network,
 * no GitHub): the 25 MiB body limit (declared and chunked), a body exactly at the limit, signature
 * and JSON errors still answered by @octokit/webhooks' middleware, cheap refusals, the shared body
 * budget, acknowledgement before the handlers finish, and logs that never carry the payload.
 * Timings are not asserted.
 */
import { createHmac } from "node:crypto";
import { request } from "node:http";
import { Writable } from "node:stream";
import { Probot } from "probot";
import { afterEach, describe, expect, it } from "vitest";
import { BodyBudget, MAX_WEBHOOK_BODY_BYTES } from "../../src/app/body-limit.ts";
import { createAppLog } from "../../src/app/log.ts";
import { type AppServer, createAppServer } from "../../src/app/server.ts";

const SECRET = "a-test-secret-of-enough-length";
const PATH = "/api/github/webhooks";
const MARKER = "PAYLOAD-MARKER-7f3a";

interface Started {
  app: AppServer;
  port: number;
  /** Delivery ids the handler was called with. */
  calls: string[];
  /** Bytes of each body the guard read or refused. */
  bodies: number[];
  /** JSON log lines. */
  logs: string[];
}

let running: Started | undefined;
afterEach(async () => {
  await running?.app.close(1000);
  running = undefined;
});

async function start(
  opts: { handler?: () => Promise<void>; budget?: BodyBudget; maxInFlight?: number } = {},
): Promise<Started> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const log = await createAppLog({ LOG_LEVEL: "debug" }, sink);
  const probot = new Probot({ githubToken: "test", secret: SECRET, log });
  const calls: string[] = [];
  const bodies: number[] = [];
  const app = await createAppServer({
    probot,
    app: (p) => {
      p.on("issue_comment.created", async (context) => {
        calls.push(context.id);
        await opts.handler?.();
      });
    },
    onBodyRead: (n) => bodies.push(n),
    ...(opts.budget ? { budget: opts.budget } : {}),
    ...(opts.maxInFlight ? { maxInFlight: opts.maxInFlight } : {}),
  });
  const { port } = await app.listen(0, "127.0.0.1");
  running = { app, port, calls, bodies, logs };
  return running;
}

function sign(body: Buffer | string): string {
  return `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
}

function headers(body: Buffer | string, over: Record<string, string> = {}): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-github-event": "issue_comment",
    "x-github-delivery": "11111111-2222-3333-4444-555555555555",
    "x-hub-signature-256": sign(body),
    ...over,
  };
}

/** A JSON issue_comment.created payload of exactly `size` bytes, carrying MARKER. */
function payloadOfSize(size: number): Buffer {
  const head = `{"action":"created","marker":"${MARKER}","pad":"`;
  const tail = `"}`;
  return Buffer.from(head + "x".repeat(size - head.length - tail.length) + tail);
}

interface Answer {
  status: number;
  body: string;
  /** Body bytes the client wrote before the answer (or the connection's end). */
  sent: number;
}

/**
 * Sends one request. `body` is sent whole with content-length; `stream` sends `stream.total` bytes
 * in 64 KiB chunks without content-length (chunked), stopping when the answer arrives.
 */
function send(
  port: number,
  opts: {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: Buffer | string;
    stream?: { total: number };
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: opts.method ?? "POST",
        path: opts.path ?? PATH,
        headers: opts.headers,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), sent }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", (error) => (answered ? undefined : reject(error)));
    if (opts.stream) {
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const total = opts.stream.total;
      const pump = () => {
        while (!answered && sent < total) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end();
      };
      pump();
    } else {
      if (opts.body !== undefined) sent = Buffer.byteLength(opts.body);
      req.end(opts.body);
    }
  });
}

describe("webhook body limit", () => {
  it("refuses a declared 30 MB body with 413 before reading it; the handler never runs", async () => {
    const s = await start();
    const body = payloadOfSize(30 * 1024 * 1024);
    const answer = await send(s.port, { body, headers: headers(body) });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toEqual({ error: `body over ${MAX_WEBHOOK_BODY_BYTES} bytes` });
    expect(s.calls).toEqual([]);
    expect(s.bodies).toEqual([]); // refused on content-length: the guard read no body at all
    expect(s.logs.join("")).not.toContain(MARKER);
  });

  it("refuses a chunked 30 MB body with 413 once the limit is passed, holding no more than the limit", async () => {
    const s = await start();
    const answer = await send(s.port, {
      stream: { total: 30 * 1024 * 1024 },
      headers: { ...headers("x"), "content-type": "application/json" },
    });
    expect(answer.status).toBe(413);
    expect(s.calls).toEqual([]);
    expect(s.bodies).toHaveLength(1);
    // Stopped at the first chunk past the limit: at most one socket read (≤ 64 KiB) over it.
    expect(s.bodies[0]).toBeGreaterThan(MAX_WEBHOOK_BODY_BYTES);
    expect(s.bodies[0]).toBeLessThanOrEqual(MAX_WEBHOOK_BODY_BYTES + 64 * 1024);
  });

  it("accepts a correctly signed body exactly at the limit, and refuses one byte more", async () => {
    const s = await start();
    const atLimit = payloadOfSize(MAX_WEBHOOK_BODY_BYTES);
    const ok = await send(s.port, { body: atLimit, headers: headers(atLimit) });
    expect(ok.status).toBe(200);
    await s.app.receiver.idle();
    expect(s.calls).toEqual(["11111111-2222-3333-4444-555555555555"]);
    expect(s.bodies).toEqual([MAX_WEBHOOK_BODY_BYTES]);
    const over = payloadOfSize(MAX_WEBHOOK_BODY_BYTES + 1);
    expect((await send(s.port, { body: over, headers: headers(over) })).status).toBe(413);
    expect(s.calls).toHaveLength(1);
  });

  it("answers 503 when the shared body budget is spent", async () => {
    const s = await start({ budget: new BodyBudget(512 * 1024) });
    const body = payloadOfSize(2 * 1024 * 1024);
    const answer = await send(s.port, { body, headers: headers(body) });
    expect(answer.status).toBe(503);
    expect(s.calls).toEqual([]);
  });
});

describe("what the middleware still decides", () => {
  it("answers 400 for a bad signature, without running the handler or logging the payload", async () => {
    const s = await start();
    const body = payloadOfSize(200_000);
    const answer = await send(s.port, {
      body,
      headers: headers(body, { "x-hub-signature-256": sign("other") }),
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("signature does not match");
    expect(s.calls).toEqual([]);
    const logs = s.logs.join("");
    expect(logs).toContain("signature does not match");
    expect(logs).toContain("11111111-2222-3333-4444-555555555555");
    expect(logs).not.toContain(MARKER);
    expect(logs.length).toBeLessThan(20_000);
  });

  it("answers 400 for malformed JSON with a valid signature", async () => {
    const s = await start();
    const body = `{"action":"created","marker":"${MARKER}",`;
    const answer = await send(s.port, { body, headers: headers(body) });
    expect(answer.status).toBe(400);
    expect(answer.body).toContain("Invalid JSON");
    expect(s.calls).toEqual([]);
    expect(s.logs.join("")).not.toContain(MARKER);
  });
});

describe("cheap refusals and other routes", () => {
  it("refuses non-POST on the webhook path with 405, and unsigned POSTs with 400 without reading them", async () => {
    const s = await start();
    const get = await send(s.port, { method: "GET" });
    expect(get.status).toBe(405);
    const unsigned = await send(s.port, {
      stream: { total: 30 * 1024 * 1024 },
      headers: { "content-type": "application/json", "x-github-event": "issue_comment" },
    });
    expect(unsigned.status).toBe(400);
    expect(unsigned.body).toContain("x-github-delivery, x-hub-signature-256");
    expect(s.bodies).toEqual([]);
  });

  it("answers GET /ping with PONG and other paths with 404", async () => {
    const s = await start();
    expect(await send(s.port, { method: "GET", path: "/ping" })).toMatchObject({ status: 200, body: "PONG" });
    expect((await send(s.port, { method: "GET", path: "/elsewhere" })).status).toBe(404);
  });
});

describe("acknowledgement", () => {
  it("answers a valid delivery before its handler finishes, and logs a handler failure without the payload", async () => {
    let finish: (() => void) | undefined;
    const s = await start({
      handler: () =>
        new Promise<void>((_resolve, reject) => {
          finish = () => reject(new Error("GitHub said no"));
        }),
    });
    const body = payloadOfSize(10_000);
    const answer = await send(s.port, { body, headers: headers(body) });
    expect(answer.status).toBe(200);
    expect(s.app.receiver.inFlight).toBe(1);
    finish?.();
    await s.app.receiver.idle();
    const logs = s.logs.join("");
    expect(logs).toContain("GitHub said no");
    expect(logs).toContain("webhook handling failed after the delivery was acknowledged");
    expect(logs).not.toContain(MARKER);
  });

  it("beyond maxInFlight, a delivery's answer waits for its own handler", async () => {
    const releases: Array<() => void> = [];
    const s = await start({
      maxInFlight: 1,
      handler: () => new Promise<void>((resolve) => releases.push(resolve)),
    });
    const body = payloadOfSize(1000);
    expect((await send(s.port, { body, headers: headers(body) })).status).toBe(200);
    let second: Answer | undefined;
    const pending = send(s.port, {
      body,
      headers: headers(body, { "x-github-delivery": "second" }),
    }).then((a) => {
      second = a;
    });
    while (releases.length < 2) await new Promise((r) => setTimeout(r, 10));
    expect(second).toBeUndefined();
    for (const release of releases) release();
    await pending;
    expect(second?.status).toBe(200);
  });
});
