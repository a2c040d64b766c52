/**
 * A local fake of the GitHub REST API for the App benchmark (bench/app-webhooks.ts): just the
 * endpoints the `/optimize` path calls, with check runs kept in memory and ids that grow with
 * creation, as GitHub's do. Listens on 127.0.0.1 only; request bodies are capped (413) and so is
 * the total number of requests (503), so a runaway client cannot exhaust the machine.
 * Every dispatch is recorded with the time it arrived (performance.now(), ms).
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Largest request body accepted, bytes. */
const MAX_BODY_BYTES = 1024 * 1024;

/** A check run as the fake keeps it. */
interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  external_id: string;
  status: string;
  conclusion: string | null;
  details_url: string | null;
  html_url: string;
  started_at: string;
}

/** What the benchmark reads back. */
export interface FakeGitHub {
  url: string;
  /** Dispatches in arrival order: request id, PR, time (performance.now(), ms). */
  dispatches: Array<{ requestId: string; pr: string; at: number }>;
  /** Requests answered with an error status (unknown routes, caps). */
  errors: string[];
  requests: number;
  checkRuns: FakeCheckRun[];
  close(): Promise<void>;
}

/** The head SHA the fake gives pull request `n` (40 hex digits). */
export function headShaOf(n: number): string {
  return createHash("sha1").update(`pr-${n}`).digest("hex");
}

const CONFIG = "test: pytest -q\nbenchmark:\n  command: python bench.py\n";

/**
 * Starts the fake. `latencyMs` delays every answer (models GitHub's round trip); `maxRequests`
 * bounds the whole session.
 */
export async function startFakeGitHub(
  opts: { latencyMs?: number; maxRequests?: number } = {},
): Promise<FakeGitHub> {
  const latency = opts.latencyMs ?? 0;
  const maxRequests = opts.maxRequests ?? 200_000;
  let nextCheckRunId = 1000;
  let nextCommentId = 1;
  const comments = new Map<
    string,
    Array<{ id: number; body: string; user: { type: string }; html_url: string }>
  >();
  const state: Omit<FakeGitHub, "url" | "close"> = { dispatches: [], errors: [], requests: 0, checkRuns: [] };

  const routes: Array<
    [string, RegExp, (m: RegExpExecArray, body: Record<string, unknown>, url: URL) => [number, unknown]]
  > = [
    [
      "POST",
      /^\/app\/installations\/\d+\/access_tokens$/,
      () => [201, { token: "ghs_fake", expires_at: new Date(Date.now() + 3_600_000).toISOString() }],
    ],
    ["GET", /^\/repos\/[^/]+\/[^/]+\/contents\/\.github%2Fperfloop\.yml$/, () => [200, CONFIG]],
    [
      "GET",
      /^\/repos\/[^/]+\/[^/]+\/collaborators\/[^/]+\/permission$/,
      () => [200, { permission: "write", role_name: "write" }],
    ],
    [
      "POST",
      /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/\d+\/reactions$/,
      () => [201, { id: 1, content: "eyes" }],
    ],
    [
      "GET",
      /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/,
      (m) => {
        const repo = { full_name: `${m[1]}/${m[2]}` };
        return [
          200,
          {
            number: Number(m[3]),
            state: "open",
            head: { sha: headShaOf(Number(m[3])), ref: `branch-${m[3]}`, repo },
            base: { ref: "main", repo },
          },
        ];
      },
    ],
    [
      "GET",
      /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]{40})\/check-runs$/,
      (m) => {
        const runs = state.checkRuns.filter((r) => r.head_sha === m[1]).reverse();
        return [200, { total_count: runs.length, check_runs: runs }];
      },
    ],
    [
      "POST",
      /^\/repos\/[^/]+\/[^/]+\/check-runs$/,
      (_m, b) => {
        const id = nextCheckRunId++;
        const run: FakeCheckRun = {
          id,
          name: String(b.name),
          head_sha: String(b.head_sha),
          external_id: String(b.external_id ?? ""),
          status: String(b.status ?? "queued"),
          conclusion: null,
          details_url: (b.details_url as string) ?? null,
          html_url: `https://github.example/runs/${id}`,
          started_at: new Date().toISOString(),
        };
        state.checkRuns.push(run);
        return [201, run];
      },
    ],
    [
      "PATCH",
      /^\/repos\/[^/]+\/[^/]+\/check-runs\/(\d+)$/,
      (m, b) => {
        const run = state.checkRuns.find((r) => r.id === Number(m[1]));
        if (!run) return [404, { message: "Not Found" }];
        for (const key of ["status", "conclusion", "external_id", "details_url"] as const)
          if (b[key] !== undefined) Object.assign(run, { [key]: b[key] });
        return [200, run];
      },
    ],
    [
      "GET",
      /^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+$/,
      () => [200, { id: 1, state: "active", path: ".github/workflows/perfloop.yml" }],
    ],
    [
      "POST",
      /^\/repos\/[^/]+\/[^/]+\/actions\/workflows\/[^/]+\/dispatches$/,
      (_m, b) => {
        const inputs = (b.inputs ?? {}) as Record<string, string>;
        state.dispatches.push({
          requestId: inputs["request-id"] ?? "",
          pr: inputs.pr ?? "",
          at: performance.now(),
        });
        const id = 5_000_000 + state.dispatches.length;
        return [
          200,
          {
            workflow_run_id: id,
            run_url: `https://api.github.example/runs/${id}`,
            html_url: `https://github.example/actions/runs/${id}`,
          },
        ];
      },
    ],
    ["GET", /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/, (m) => [200, comments.get(m[1] ?? "") ?? []]],
    [
      "POST",
      /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/,
      (m, b) => {
        const comment = {
          id: nextCommentId++,
          body: String(b.body),
          user: { type: "Bot" },
          html_url: "https://github.example/c",
        };
        comments.set(m[1] ?? "", [...(comments.get(m[1] ?? "") ?? []), comment]);
        return [201, comment];
      },
    ],
    [
      "PATCH",
      /^\/repos\/[^/]+\/[^/]+\/issues\/comments\/(\d+)$/,
      (m, b) => [200, { id: Number(m[1]), body: b.body, html_url: "https://github.example/c" }],
    ],
  ];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    state.requests++;
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const answer = (status: number, body: unknown) => {
      if (status >= 400) state.errors.push(`${status} ${req.method} ${url.pathname}`);
      const text = typeof body === "string" ? body : JSON.stringify(body);
      res.writeHead(
        status,
        typeof body === "string"
          ? { "content-type": "text/plain" }
          : { "content-type": "application/json; charset=utf-8" },
      );
      res.end(text);
    };
    if (state.requests > maxRequests) return answer(503, { message: "request cap reached" });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) return answer(413, { message: "body too large" });
      chunks.push(chunk as Buffer);
    }
    const body =
      size > 0 ? (JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>) : {};
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    for (const [method, pattern, fn] of routes) {
      const m = method === req.method ? pattern.exec(url.pathname) : null;
      if (m) return answer(...fn(m, body, url));
    }
    return answer(404, { message: "Not Found" });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      state.errors.push(`500 ${String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
