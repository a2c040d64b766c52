/**
 * Benchmark of the App's webhook handling against a local fake of the GitHub API
 * (bench/app-fake-github.ts). Prints figures; it is not a test. `npm run bench:app`.
 *
 * The App runs as in production, in a child process of its own (so its memory is measured alone):
 * the App server of src/app/server.ts (body limit and guard, @octokit/webhooks' middleware with
 * signature verification, deliveries acknowledged before they are handled), Probot with App
 * authentication (a throw-away RSA key, installation tokens from the fake), the production Octokit
 * class (src/app/octokit.ts) and the App's logger (JSON, level info; its output is counted). All on
 * 127.0.0.1; everything is bounded (request counts, body sizes, timeouts).
 *
 * 1. Latency: sequential deliveries on distinct pull requests; time from sending the delivery to the
 *    fake receiving the `workflow_dispatch` request (p50/p95/p99/max). Goal: p95 ≤ 200 ms.
 * 2. Concurrency: N deliveries at once: N/4 pull requests × (2 distinct `/optimize` comments, each
 *    delivered twice with the same delivery GUID). Expected: every delivery answered 2xx, no API
 *    error, exactly one dispatch per pull request.
 * 3. Burst under attack: B signed `/optimize` deliveries on distinct pull requests at once, together
 *    with H hostile requests: ~100 MB bodies streamed chunked (and some declaring their length),
 *    bad signatures, malformed JSON with a valid signature. Prints the App's peak RSS, delivery →
 *    response latency (p50/p95/max; goal p95 < 1 s), answers by class, the time until every burst
 *    delivery was dispatched (drain), and the App's log output (bytes; lines quoting a payload).
 *
 * `--unguarded` serves the App the old way (Probot's createNodeMiddleware, Probot's own logger, no
 * guard, handlers awaited) for a before/after comparison; it buffers every hostile body whole, so
 * keep --hostile small with it.
 *
 * Usage: node bench/app-webhooks.ts [--deliveries 200] [--concurrent 200] [--burst 200]
 *          [--hostile 20] [--hostile-mb 100] [--api-latency-ms 0] [--unguarded]
 */

import { type ChildProcess, fork } from "node:child_process";
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { createNodeMiddleware, Probot } from "probot";
import perfloopApp from "../src/app/index.ts";
import { createAppLog } from "../src/app/log.ts";
import { PerfloopOctokit } from "../src/app/octokit.ts";
import { createAppServer } from "../src/app/server.ts";
import { headShaOf, startFakeGitHub } from "./app-fake-github.ts";
import { scannerFigures } from "./command-scanner.ts";

const { values } = parseArgs({
  options: {
    serve: { type: "string" },
    deliveries: { type: "string", default: "200" },
    concurrent: { type: "string", default: "200" },
    burst: { type: "string", default: "200" },
    hostile: { type: "string", default: "20" },
    "hostile-mb": { type: "string", default: "100" },
    "api-latency-ms": { type: "string", default: "0" },
    warmup: { type: "string", default: "10" },
    unguarded: { type: "boolean", default: false },
  },
});

/** A string placed in every hostile JSON payload: a log line containing it quoted a payload. */
const MARKER = "HOSTILE-PAYLOAD-MARKER-51c2";
/** Longest wait for any one request or for the drain, ms. */
const TIMEOUT_MS = 120_000;

/** Messages between the benchmark and the App process. */
type ToApp = { cmd: "stats" | "reset-peak" | "idle" };
type FromApp =
  | { kind: "ready"; port: number }
  | { kind: "stats"; rssMb: number; peakRssMb: number; inFlight: number }
  | { kind: "idle" }
  | { kind: "reset" };

// ---------------------------------------------------------------------------------------------
// The App process (`--serve <fake GitHub URL>`): the App server on 127.0.0.1, RSS sampled every 10 ms.
// ---------------------------------------------------------------------------------------------
async function serveApp(baseUrl: string): Promise<void> {
  const secret = process.env.BENCH_SECRET ?? "";
  const privateKey = process.env.BENCH_PRIVATE_KEY ?? "";
  let peak = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  sampler.unref();
  const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
  let port: number;
  let idle: () => Promise<void>;
  let inFlight: () => number;
  if (values.unguarded) {
    const probot = new Probot({
      appId: 1,
      privateKey,
      secret,
      baseUrl,
      Octokit: PerfloopOctokit,
      logLevel: "info",
      logFormat: "json",
    });
    const middleware = await createNodeMiddleware(perfloopApp, { probot });
    let running = 0;
    const server = createServer((req, res) => {
      running++;
      void Promise.resolve(middleware(req, res, () => res.writeHead(404).end())).finally(() => running--);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    idle = async () => {
      while (running > 0) await new Promise((r) => setTimeout(r, 5));
    };
    inFlight = () => running;
  } else {
    const log = await createAppLog({ LOG_LEVEL: "info" }, process.stdout);
    const probot = new Probot({ appId: 1, privateKey, secret, baseUrl, Octokit: PerfloopOctokit, log });
    const app = await createAppServer({ probot, app: perfloopApp });
    port = (await app.listen(0, "127.0.0.1")).port;
    idle = () => app.receiver.idle();
    inFlight = () => app.receiver.inFlight;
  }
  const send = (message: FromApp) => process.send?.(message);
  process.on("message", (message: ToApp) => {
    if (message.cmd === "stats")
      send({
        kind: "stats",
        rssMb: mb(process.memoryUsage.rss()),
        peakRssMb: mb(peak),
        inFlight: inFlight(),
      });
    if (message.cmd === "reset-peak") {
      peak = process.memoryUsage.rss();
      send({ kind: "reset" });
    }
    if (message.cmd === "idle") void idle().then(() => send({ kind: "idle" }));
  });
  process.on("disconnect", () => process.exit(0));
  send({ kind: "ready", port });
}

if (values.serve) {
  await serveApp(values.serve);
} else {
  await runBenchmark();
}

// ---------------------------------------------------------------------------------------------
// The benchmark process: the fake GitHub API, the clients, the figures.
// ---------------------------------------------------------------------------------------------

/** Sends `message` to the App process and waits for its answer of kind `kind`. */
function ask<K extends FromApp["kind"]>(
  child: ChildProcess,
  cmd: ToApp["cmd"],
  kind: K,
): Promise<Extract<FromApp, { kind: K }>> {
  return new Promise((resolve) => {
    const onMessage = (message: FromApp) => {
      if (message.kind !== kind) return;
      child.off("message", onMessage);
      resolve(message as Extract<FromApp, { kind: K }>);
    };
    child.on("message", onMessage);
    child.send({ cmd });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Waits until `done()` or TIMEOUT_MS; returns whether it was done. */
async function until(done: () => boolean): Promise<boolean> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 2));
  }
  return true;
}

/** One hostile request's kind. */
type Hostile = "oversized-chunked" | "oversized-declared" | "bad-signature" | "malformed-json";

async function runBenchmark(): Promise<void> {
  console.log("0. the /optimize scanner on hostile 64 KiB comments (best of 3)");
  for (const line of scannerFigures()) console.log(line);
  console.log("");
  const DELIVERIES = Number(values.deliveries);
  const CONCURRENT = Math.max(4, Math.floor(Number(values.concurrent) / 4) * 4);
  const BURST = Number(values.burst);
  const HOSTILE = Number(values.hostile);
  const HOSTILE_BYTES = Math.min(Number(values["hostile-mb"]), 200) * 1024 * 1024;
  const LATENCY = Number(values["api-latency-ms"]);
  const WARMUP = Number(values.warmup);
  const SECRET = randomUUID();
  const TEMPLATE = readFileSync(
    path.resolve(import.meta.dirname, "../test/fixtures/github/issue_comment.created.json"),
    "utf8",
  );

  const fake = await startFakeGitHub({
    latencyMs: LATENCY,
    maxRequests: 50 * (DELIVERIES + CONCURRENT + WARMUP + BURST),
  });
  const { privateKey } = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const child = fork(
    import.meta.filename,
    ["--serve", fake.url, ...(values.unguarded ? ["--unguarded"] : [])],
    {
      env: {
        ...process.env,
        BENCH_SECRET: SECRET,
        BENCH_PRIVATE_KEY: privateKey,
        NODE_ENV: "production",
        WEBHOOK_SECRET: SECRET,
      },
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    },
  );
  const appLog = { bytes: 0, lines: 0, quoting: 0, tail: "" };
  const countLog = new Writable({
    write(chunk: Buffer, _encoding, done) {
      appLog.bytes += chunk.length;
      const text = chunk.toString("latin1");
      for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) appLog.lines++;
      if (text.includes(MARKER)) appLog.quoting++;
      appLog.tail = (appLog.tail + text.slice(-2000)).slice(-2000);
      done();
    },
  });
  child.stdout?.pipe(countLog);
  child.stderr?.pipe(countLog);
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    child.once("message", (m: FromApp) =>
      m.kind === "ready" ? resolve(m) : reject(new Error("App did not start")),
    );
    child.once("exit", (code) => reject(new Error(`App exited (${code}): ${appLog.tail}`)));
  });
  const appUrl = `http://127.0.0.1:${port}/api/github/webhooks`;

  /** A signed issue_comment.created delivery for PR `pr`. */
  function delivery(pr: number, commentId: number, id: string, body = "/optimize") {
    const payload = JSON.parse(TEMPLATE);
    payload.issue.number = pr;
    payload.comment.id = commentId;
    payload.comment.body = body;
    const text = JSON.stringify(payload);
    return {
      text,
      headers: {
        "content-type": "application/json",
        "x-github-event": "issue_comment",
        "x-github-delivery": id,
        "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(text).digest("hex")}`,
      },
    };
  }

  /** Sends one signed delivery; the HTTP status (0: no answer) and the send time, response time (ms). */
  async function deliver(pr: number, id: string, commentId: number) {
    const { text, headers } = delivery(pr, commentId, id);
    const sentAt = performance.now();
    try {
      const res = await fetch(appUrl, {
        method: "POST",
        body: text,
        headers,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      const answeredAt = performance.now();
      await res.text();
      return { status: res.status, sentAt, answeredAt };
    } catch {
      return { status: 0, sentAt, answeredAt: performance.now() };
    }
  }

  /** Sends one hostile request over node:http; its status (0: connection closed without one) and timing. */
  function attack(kind: Hostile, n: number): Promise<{ status: number; ms: number; sentBytes: number }> {
    const id = `hostile-${n}`;
    const signed = delivery(1_000_000 + n, 1, id, `/optimize ${MARKER}`);
    const startedAt = performance.now();
    return new Promise((resolve) => {
      let sent = 0;
      let settled = false;
      const settle = (status: number) => {
        if (settled) return;
        settled = true;
        resolve({ status, ms: performance.now() - startedAt, sentBytes: sent });
        req.destroy();
      };
      const oversized = kind === "oversized-chunked" || kind === "oversized-declared";
      const headers: Record<string, string> = {
        ...signed.headers,
        ...(kind === "oversized-declared" ? { "content-length": String(HOSTILE_BYTES) } : {}),
        ...(kind === "bad-signature" ? { "x-hub-signature-256": `sha256=${"0".repeat(64)}` } : {}),
      };
      const req = request(
        { host: "127.0.0.1", port, path: "/api/github/webhooks", method: "POST", headers },
        (res) => {
          res.resume();
          settle(res.statusCode ?? 0);
        },
      );
      req.setTimeout(TIMEOUT_MS, () => settle(0));
      req.on("error", () => settle(0));
      if (!oversized) {
        const body = kind === "malformed-json" ? signed.text.slice(0, -20) : signed.text;
        if (kind === "malformed-json")
          req.setHeader(
            "x-hub-signature-256",
            `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
          );
        sent = body.length;
        req.end(body);
        return;
      }
      const chunk = Buffer.alloc(64 * 1024, 0x7b);
      const pump = () => {
        while (!settled && sent < HOSTILE_BYTES) {
          const piece = chunk.subarray(0, Math.min(chunk.length, HOSTILE_BYTES - sent));
          sent += piece.length;
          if (!req.write(piece)) return void req.once("drain", pump);
        }
        if (!settled) req.end();
      };
      pump();
    });
  }

  let pr = 1;
  for (let i = 0; i < WARMUP; i++) {
    const id = randomUUID();
    await deliver(pr++, id, pr);
    await until(() => fake.dispatches.some((d) => d.requestId === id));
  }

  // 1. Sequential latency, delivery → dispatch request.
  const latencies: number[] = [];
  let badStatus = 0;
  for (let i = 0; i < DELIVERIES; i++) {
    const id = randomUUID();
    const { status, sentAt } = await deliver(pr++, id, pr);
    if (status < 200 || status >= 300) badStatus++;
    await until(() => fake.dispatches.some((d) => d.requestId === id));
    const dispatch = fake.dispatches.find((d) => d.requestId === id);
    if (dispatch) latencies.push(dispatch.at - sentAt);
  }
  latencies.sort((a, b) => a - b);

  // 2. Concurrent deliveries with duplicates: per PR two comments, each delivered twice.
  const firstConcurrentPr = pr;
  const jobs: Array<Promise<{ status: number }>> = [];
  const dispatchesBefore = fake.dispatches.length;
  const started = performance.now();
  for (let k = 0; k < CONCURRENT / 4; k++, pr++) {
    const a = randomUUID();
    const b = randomUUID();
    for (const [id, commentId] of [
      [a, 1],
      [a, 1],
      [b, 2],
      [b, 2],
    ] as const)
      jobs.push(deliver(pr, id, pr * 10 + commentId));
  }
  const answers = await Promise.all(jobs);
  const wall = performance.now() - started;
  await ask(child, "idle", "idle");
  const concurrentDrain = performance.now() - started;
  const concurrentDispatches = fake.dispatches.slice(dispatchesBefore);
  const perPr = new Map<string, number>();
  for (const d of concurrentDispatches) perPr.set(d.pr, (perPr.get(d.pr) ?? 0) + 1);
  const prs = CONCURRENT / 4;
  const duplicatePrs = [...perPr.values()].filter((n) => n > 1).length;
  const missingPrs = prs - perPr.size;
  let prsWithTwoActiveRequests = 0;
  for (let n = firstConcurrentPr; n < pr; n++) {
    const active = fake.checkRuns.filter((r) => r.head_sha === headShaOf(n) && r.status !== "completed");
    if (new Set(active.map((r) => r.external_id)).size > 1) prsWithTwoActiveRequests++;
  }

  // 3. Burst of signed deliveries with hostile requests among them.
  const before = await ask(child, "reset-peak", "reset").then(() => ask(child, "stats", "stats"));
  const logBefore = { ...appLog };
  const mix: Hostile[] = ["oversized-chunked", "oversized-chunked", "bad-signature", "malformed-json"];
  const kinds: Hostile[] = [];
  for (let i = 0; i < HOSTILE; i++) kinds.push(mix[i % mix.length] ?? "bad-signature");
  for (let i = 0; i < HOSTILE; i += 10) kinds[i] = "oversized-declared";
  const burstIds: string[] = [];
  const burstStart = performance.now();
  const legit: Array<Promise<{ status: number; sentAt: number; answeredAt: number }>> = [];
  const hostile: Array<Promise<{ status: number; ms: number; sentBytes: number }>> = [];
  for (let i = 0; i < BURST + HOSTILE; i++) {
    // Hostile requests spread evenly through the burst.
    if (HOSTILE > 0 && i % Math.ceil((BURST + HOSTILE) / HOSTILE) === 0 && hostile.length < HOSTILE)
      hostile.push(attack(kinds[hostile.length] ?? "bad-signature", hostile.length));
    else if (legit.length < BURST) {
      const id = randomUUID();
      burstIds.push(id);
      legit.push(deliver(pr, id, pr * 10 + 1));
      pr++;
    }
  }
  while (hostile.length < HOSTILE)
    hostile.push(attack(kinds[hostile.length] ?? "bad-signature", hostile.length));
  const legitAnswers = await Promise.all(legit);
  const hostileAnswers = await Promise.all(hostile);
  const pending = new Set(burstIds);
  const drained = await until(() => {
    for (const d of fake.dispatches) pending.delete(d.requestId);
    return pending.size === 0;
  });
  const drainMs = performance.now() - burstStart;
  await ask(child, "idle", "idle");
  const after = await ask(child, "stats", "stats");
  const burstLatencies = legitAnswers.map((a) => a.answeredAt - a.sentAt).sort((a, b) => a - b);
  const classOf = (status: number) => (status === 0 ? "no answer" : `${Math.floor(status / 100)}xx`);
  const tally = (statuses: number[]) => {
    const counts = new Map<string, number>();
    for (const s of statuses) counts.set(classOf(s), (counts.get(classOf(s)) ?? 0) + 1);
    return [...counts.entries()]
      .sort()
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
  };
  const byKind = new Map<Hostile, string[]>();
  hostileAnswers.forEach((a, i) => {
    const kind = kinds[i] ?? "bad-signature";
    byKind.set(kind, [...(byKind.get(kind) ?? []), a.status === 0 ? "closed" : String(a.status)]);
  });
  const hostileMaxMs = Math.max(0, ...hostileAnswers.map((a) => a.ms));
  const hostileSentMb = hostileAnswers.reduce((sum, a) => sum + a.sentBytes, 0) / 2 ** 20;

  const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `perfloop App webhook benchmark (Node ${process.version}, ${values.unguarded ? "UNGUARDED: Probot's middleware as before" : "App server with guard"}, fake GitHub API latency ${LATENCY} ms)`,
  );
  console.log("");
  console.log(
    `1. delivery → workflow_dispatch request, ${latencies.length}/${DELIVERIES} sequential deliveries (after ${WARMUP} warm-up)`,
  );
  console.log(
    `   p50 ${fmt(percentile(latencies, 50))}   p95 ${fmt(percentile(latencies, 95))}   p99 ${fmt(percentile(latencies, 99))}   max ${fmt(latencies.at(-1) ?? Number.NaN)}   (goal: p95 ≤ 200 ms)`,
  );
  console.log(`   non-2xx webhook answers: ${badStatus}`);
  console.log("");
  console.log(
    `2. ${jobs.length} concurrent deliveries: ${prs} PRs × 2 comments × 2 deliveries each (same GUID)`,
  );
  console.log(
    `   all answered in ${fmt(wall)}, all handled in ${fmt(concurrentDrain)}; webhook answers 2xx: ${answers.filter((a) => a.status >= 200 && a.status < 300).length}/${answers.length}`,
  );
  console.log(
    `   dispatches: ${concurrentDispatches.length} for ${prs} PRs; PRs dispatched twice or more: ${duplicatePrs}; PRs never dispatched: ${missingPrs}`,
  );
  console.log(`   PRs left with two active requests (check-run external_ids): ${prsWithTwoActiveRequests}`);
  console.log("");
  console.log(
    `3. burst: ${BURST} signed /optimize deliveries on distinct PRs + ${HOSTILE} hostile requests, all at once`,
  );
  console.log(
    `   App RSS: ${before.rssMb} MB before, peak ${after.peakRssMb} MB during the burst (+${after.peakRssMb - before.rssMb} MB), ${after.rssMb} MB after`,
  );
  console.log(
    `   delivery → response: p50 ${fmt(percentile(burstLatencies, 50))}   p95 ${fmt(percentile(burstLatencies, 95))}   max ${fmt(burstLatencies.at(-1) ?? Number.NaN)}   (goal: p95 < 1000 ms)`,
  );
  console.log(`   signed deliveries answered: ${tally(legitAnswers.map((a) => a.status))}`);
  console.log(
    `   hostile answered: ${tally(hostileAnswers.map((a) => a.status))}; slowest ${fmt(hostileMaxMs)}; ${hostileSentMb.toFixed(0)} MB sent by them in all`,
  );
  for (const [kind, statuses] of byKind) console.log(`     ${kind}: ${statuses.join(" ")}`);
  console.log(
    `   drain: every burst delivery dispatched ${drained ? `after ${fmt(drainMs)}` : `NOT within ${TIMEOUT_MS} ms (${pending.size} missing)`} from the burst's start`,
  );
  console.log(
    `   App log during the burst: ${((appLog.bytes - logBefore.bytes) / 1024).toFixed(0)} KiB in ${appLog.lines - logBefore.lines} lines; chunks quoting a hostile payload: ${appLog.quoting}`,
  );
  console.log("");
  console.log(
    `fake API: ${fake.requests} requests, ${fake.errors.length} errors${fake.errors.length ? `: ${fake.errors.slice(0, 5).join("; ")}` : ""}`,
  );
  const ok =
    badStatus === 0 &&
    answers.every((a) => a.status >= 200 && a.status < 300) &&
    legitAnswers.every((a) => a.status >= 200 && a.status < 300) &&
    hostileAnswers.every((a) => a.status < 200 || a.status >= 400) &&
    drained &&
    duplicatePrs === 0 &&
    missingPrs === 0 &&
    prsWithTwoActiveRequests === 0 &&
    appLog.quoting === 0 &&
    fake.errors.length === 0;
  console.log(
    `result: ${ok ? "OK" : "PROBLEMS"} (sequential p95 ${percentile(latencies, 95) <= 200 ? "within" : "OVER"} the 200 ms goal; burst p95 ${percentile(burstLatencies, 95) < 1000 ? "within" : "OVER"} the 1 s goal)`,
  );

  child.disconnect();
  await fake.close();
  process.exit(ok ? 0 : 1);
}
