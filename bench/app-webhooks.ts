/**
 * Benchmark of the App's webhook handling against a local fake of the GitHub API
 * (bench/app-fake-github.ts). Prints figures; it is not a test.
 *
 * The App runs as in production: Probot with App authentication (a throw-away RSA key, installation
 * tokens from the fake), the production Octokit class (src/app/octokit.ts), the webhook middleware
 * with signature verification, all on 127.0.0.1. Deliveries are real signed HTTP POSTs of GitHub's
 * issue_comment.created payload shape with `/optimize`.
 *
 * 1. Latency: sequential deliveries on distinct pull requests; time from sending the delivery to the
 *    fake receiving the `workflow_dispatch` request (p50/p95/p99/max). Goal: p95 ≤ 200 ms.
 * 2. Concurrency: N deliveries at once: N/4 pull requests × (2 distinct `/optimize` comments, each
 *    delivered twice with the same delivery GUID). Expected: every delivery answered 2xx, no API
 *    error, exactly one dispatch per pull request.
 *
 * Usage: node bench/app-webhooks.ts [--deliveries 200] [--concurrent 200] [--api-latency-ms 0]
 */
import { createHmac, generateKeyPairSync, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { parseArgs } from "node:util";
import { createNodeMiddleware, Probot } from "probot";
import perfloopApp from "../src/app/index.ts";
import { PerfloopOctokit } from "../src/app/octokit.ts";
import { headShaOf, startFakeGitHub } from "./app-fake-github.ts";

const { values } = parseArgs({
  options: {
    deliveries: { type: "string", default: "200" },
    concurrent: { type: "string", default: "200" },
    "api-latency-ms": { type: "string", default: "0" },
    warmup: { type: "string", default: "10" },
  },
});
const DELIVERIES = Number(values.deliveries);
const CONCURRENT = Math.max(4, Math.floor(Number(values.concurrent) / 4) * 4);
const LATENCY = Number(values["api-latency-ms"]);
const WARMUP = Number(values.warmup);
const SECRET = randomUUID();
const TEMPLATE = readFileSync(
  path.resolve(import.meta.dirname, "../test/fixtures/github/issue_comment.created.json"),
  "utf8",
);

const fake = await startFakeGitHub({
  latencyMs: LATENCY,
  maxRequests: 50 * (DELIVERIES + CONCURRENT + WARMUP),
});
const { privateKey } = generateKeyPairSync("rsa", {
  modulusLength: 2048,
  privateKeyEncoding: { type: "pkcs8", format: "pem" },
  publicKeyEncoding: { type: "spki", format: "pem" },
});
const probot = new Probot({
  appId: 1,
  privateKey,
  secret: SECRET,
  baseUrl: fake.url,
  Octokit: PerfloopOctokit,
  logLevel: "error",
});
const middleware = await createNodeMiddleware(perfloopApp, { probot });
const appServer = createServer((req, res) => {
  void middleware(req, res, () => res.writeHead(404).end());
});
await new Promise<void>((resolve) => appServer.listen(0, "127.0.0.1", resolve));
const appUrl = `http://127.0.0.1:${(appServer.address() as AddressInfo).port}/api/github/webhooks`;

/** Sends one signed issue_comment.created delivery for PR `pr`; returns the HTTP status and send time. */
async function deliver(
  pr: number,
  id: string,
  commentId: number,
): Promise<{ status: number; sentAt: number }> {
  const payload = JSON.parse(TEMPLATE);
  payload.issue.number = pr;
  payload.comment.id = commentId;
  payload.comment.body = "/optimize";
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  const sentAt = performance.now();
  const res = await fetch(appUrl, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-github-event": "issue_comment",
      "x-github-delivery": id,
      "x-hub-signature-256": signature,
    },
  });
  await res.text();
  return { status: res.status, sentAt };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

let pr = 1;
for (let i = 0; i < WARMUP; i++) await deliver(pr++, randomUUID(), pr);

// 1. Sequential latency, delivery → dispatch request.
const latencies: number[] = [];
let badStatus = 0;
for (let i = 0; i < DELIVERIES; i++) {
  const id = randomUUID();
  const { status, sentAt } = await deliver(pr++, id, pr);
  if (status >= 300) badStatus++;
  const dispatch = fake.dispatches.find((d) => d.requestId === id);
  if (dispatch) latencies.push(dispatch.at - sentAt);
}
latencies.sort((a, b) => a - b);

// 2. Concurrent deliveries with duplicates: per PR two comments, each delivered twice.
const firstConcurrentPr = pr;
const jobs: Array<Promise<{ status: number }>> = [];
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
const dispatchesBefore = fake.dispatches.length;
const started = performance.now();
const answers = await Promise.all(jobs);
const wall = performance.now() - started;
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

const fmt = (ms: number) => `${ms.toFixed(1)} ms`;
console.log(
  `perfloop App webhook benchmark (Node ${process.version}, fake GitHub API latency ${LATENCY} ms)`,
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
  `   wall time ${fmt(wall)}; webhook answers 2xx: ${answers.filter((a) => a.status < 300).length}/${answers.length}`,
);
console.log(
  `   dispatches: ${concurrentDispatches.length} for ${prs} PRs; PRs dispatched twice or more: ${duplicatePrs}; PRs never dispatched: ${missingPrs}`,
);
console.log(`   PRs left with two active requests (check-run external_ids): ${prsWithTwoActiveRequests}`);
console.log("");
console.log(
  `fake API: ${fake.requests} requests, ${fake.errors.length} errors${fake.errors.length ? `: ${fake.errors.slice(0, 5).join("; ")}` : ""}`,
);
const ok =
  badStatus === 0 &&
  answers.every((a) => a.status < 300) &&
  duplicatePrs === 0 &&
  missingPrs === 0 &&
  prsWithTwoActiveRequests === 0 &&
  fake.errors.length === 0;
console.log(
  `result: ${ok ? "OK" : "PROBLEMS"} (p95 ${percentile(latencies, 95) <= 200 ? "within" : "OVER"} the 200 ms goal)`,
);

await new Promise<void>((resolve) => appServer.close(() => resolve()));
await fake.close();
process.exit(ok ? 0 : 1);
