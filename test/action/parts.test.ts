/**
 * The Action's parts without a loop run: the environment handed to the loop, the scan's
 * stored history (untrusted), the trend words, the open-PR limit, branch names, and log groups.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createGroupedProgress } from "../../src/action/progress.ts";
import { refusal, scanBranch } from "../../src/action/scan/follow-up.ts";
import {
  decodeHistory,
  encodeHistory,
  type ScanEntry,
  scanEntry,
  trendWords,
} from "../../src/action/scan/trend.ts";
import { loopEnv } from "../../src/action/secrets.ts";
import { parseResults } from "../../src/core/evidence/results-schema.ts";

const FIXTURES = path.resolve(import.meta.dirname, "../fixtures/github");

const SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821";

describe("secrets", () => {
  it("hands the loop no input, runtime credential, token, or variable holding a secret's value", () => {
    const env = loopEnv(
      {
        PATH: "/bin",
        HOME: "/home/r",
        "INPUT_API-KEY": "sk-secret-1",
        INPUT_PR: "3",
        ACTIONS_RUNTIME_TOKEN: "rt",
        ACTIONS_ID_TOKEN_REQUEST_URL: "https://x",
        GITHUB_TOKEN: "ghs_x",
        HARMLESS_NAME: "prefix-sk-secret-1",
        GITHUB_REPOSITORY: "o/r",
      },
      ["sk-secret-1", ""],
    );
    expect(env).toEqual({ PATH: "/bin", HOME: "/home/r", GITHUB_REPOSITORY: "o/r" });
  });
});

describe("scan history (stored in the issue, untrusted)", () => {
  const entry: ScanEntry = {
    at: "2026-03-02T03:20:00.000Z",
    sha: SHA,
    status: "no-improvement",
    metric: "wall time",
    unit: "ms",
    direction: "lower",
    baseline: 1000,
    cvPct: 2,
    ci: [980, 1020],
    improvementPct: null,
    bottleneck: "cpu-single-thread",
    hardware: "Xeon ×2",
  };

  it("round-trips, and cannot close its own HTML comment", () => {
    const hostile = { ...entry, metric: "x --> <img src=x onerror=alert(1)>" };
    const text = encodeHistory([hostile]);
    expect(text.slice(0, -4)).not.toContain("-->");
    expect(text).not.toMatch(/<img/);
    expect(decodeHistory(`<!-- perfloop:scan -->\n${text}\nreport`).history).toEqual([hostile]);
  });

  it("ignores malformed, oversized or reshaped data with a note", () => {
    const wrap = (json: string) => `<!-- perfloop:scan-data ${json} -->`;
    expect(decodeHistory("no data").history).toEqual([]);
    for (const bad of [
      wrap("{not json"),
      wrap(JSON.stringify({ v: 2, history: [] })),
      wrap(JSON.stringify({ v: 1, history: [{ ...entry, baseline: "1e309" }] })),
      wrap(JSON.stringify({ v: 1, history: [{ ...entry, extra: 1 }] })),
      wrap(JSON.stringify({ v: 1, history: [{ ...entry, sha: "main" }] })),
      wrap(JSON.stringify({ v: 1, history: Array(13).fill(entry) })),
      wrap("x".repeat(30_000)),
    ]) {
      const read = decodeHistory(bad);
      expect(read.history).toEqual([]);
      expect(read.note).toMatch(/^The stored numbers of earlier scans were ignored/);
    }
  });

  it("keeps the primary metric's own baseline: CPU time for a `measure: cpu` scan, not wall time", () => {
    const results = parseResults(
      JSON.parse(readFileSync(path.join(FIXTURES, "results.improved.json"), "utf8")),
    );
    const sha = "a".repeat(40);
    expect(scanEntry(results, sha).baseline).toBe(results.baseline?.wallMs.median);
    const cpu = { ...results, benchmark: { ...results.benchmark, metric: "CPU time" } };
    expect(scanEntry(cpu, sha)).toMatchObject({
      metric: "CPU time",
      baseline: results.baseline?.cpuMs.median,
    });
    expect(results.baseline?.cpuMs.median).not.toBe(results.baseline?.wallMs.median);
  });

  it("words the trend: better, worse only where the medians' intervals part; noise; not comparable", () => {
    expect(trendWords(entry, undefined)).toBe("first scan");
    expect(trendWords({ ...entry, baseline: 800, ci: [780, 820] }, entry)).toBe(
      "−20.0% (better: the intervals do not overlap)",
    );
    expect(trendWords({ ...entry, baseline: 1200, ci: [1180, 1220] }, entry)).toBe(
      "+20.0% (worse: the intervals do not overlap)",
    );
    // Two scans of one commit on a busy runner: a large move of the median inside wide intervals.
    expect(trendWords({ ...entry, baseline: 1308, ci: [900, 1700] }, { ...entry, ci: [700, 1300] })).toBe(
      "+30.8%, within the intervals (no change shown)",
    );
    expect(trendWords({ ...entry, baseline: 1010, ci: [990, 1030] }, entry)).toBe(
      "+1.0%, within the intervals (no change shown)",
    );
    const { ci: _none, ...old } = entry;
    expect(trendWords({ ...entry, baseline: 1200 }, old)).toBe(
      "+20.0% (not judged: an earlier scan stored no interval)",
    );
    expect(trendWords({ ...entry, hardware: "Epyc" }, entry)).toBe(
      "not comparable (metric or hardware changed)",
    );
    expect(
      trendWords(
        { ...entry, direction: "higher", unit: "x", ci: [990, 1010] },
        { ...entry, direction: "higher", unit: "x", baseline: 500, ci: [490, 510] },
      ),
    ).toBe("+100.0% (better: the intervals do not overlap)");
  });
});

describe("scan follow-up PRs", () => {
  it("names the branch from the patch's hash (line endings aside)", () => {
    const branch = scanBranch("diff --git a/x b/x\n");
    expect(branch).toMatch(/^perfloop\/scan-[0-9a-f]{12}$/);
    expect(scanBranch("diff --git a/x b/x\r\n")).toBe(branch);
    expect(scanBranch("diff --git a/y b/y\n")).not.toBe(branch);
  });

  it("never duplicates an open PR and keeps to max-open-prs", () => {
    const open = [{ branch: "perfloop/scan-aaaaaaaaaaaa", number: 4 }];
    expect(refusal("perfloop/scan-aaaaaaaaaaaa", open, 5)).toMatchObject({ pr: 4 });
    expect(refusal("perfloop/scan-bbbbbbbbbbbb", open, 2)).toBeNull();
    expect(refusal("perfloop/scan-bbbbbbbbbbbb", open, 1)?.reason).toBe(
      "1 scan PR is open already (max-open-prs: 1); merge or close one",
    );
    expect(refusal("perfloop/scan-bbbbbbbbbbbb", [], 0)?.reason).toBe("max-open-prs is 0");
  });
});

describe("log groups", () => {
  it("opens one group per phase and round, never nested", () => {
    const log: string[] = [];
    const progress = createGroupedProgress({
      startGroup: (n) => log.push(`start ${n}`),
      endGroup: () => log.push("end"),
      info: (m) => log.push(`info ${m.split("\n")[0]}`),
    });
    progress.onEvent({ type: "phase", phase: "setup", detail: "make\nall" });
    progress.onEvent({ type: "run", label: "baseline", done: 1, total: 2, wallMs: 1500 });
    progress.onEvent({ type: "round-start", n: 1, total: 3, strategy: "tune", description: "k: 1 → 2" });
    progress.onEvent({
      type: "round-end",
      n: 1,
      outcome: "accepted",
      reason: "faster",
      bestImprovementPct: 12,
    });
    progress.onEvent({ type: "phase", phase: "final measurement" });
    progress.close();
    progress.close();
    expect(log).toEqual([
      "start perfloop ▸ setup: make all",
      "info baseline: run 1/2 (1.50 s)",
      "end",
      "start perfloop ● round 1/3 [tune] k: 1 → 2",
      "info ✓ accepted: faster",
      "end",
      "start perfloop ▸ final measurement",
      "end",
    ]);
  });
});
