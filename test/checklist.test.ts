/**
 * The live checklist (src/core/report/checklist.ts) from a realistic event sequence: phases ticked
 * as the next one starts, a round's sessions shown by their latest tool call, the outcome and the
 * best so far, untrusted text escaped, and which events are milestones.
 */
import { describe, expect, it } from "vitest";
import type { LoopEvent } from "../src/core/loop/events.ts";
import { createProgressChecklist } from "../src/core/report/checklist.ts";

describe("the progress checklist", () => {
  it("ticks phases, shows each round's sessions, its outcome and the best so far", () => {
    const list = createProgressChecklist();
    const events: LoopEvent[] = [
      { type: "phase", phase: "setup", detail: "python3 gen_corpus.py" },
      { type: "phase", phase: "baseline measurement", detail: "python3 -m textstats corpus.txt" },
      { type: "run", label: "baseline", done: 3, total: 11, wallMs: 291 },
    ];
    for (const e of events) list.onEvent(e);
    expect(list.render()).toBe(
      [
        "- [x] setup: python3 gen_corpus.py",
        "- [ ] baseline measurement: python3 -m textstats corpus.txt",
        "  - baseline: run 3/11 (0.29 s)",
      ].join("\n"),
    );
    for (const e of [
      { type: "phase", phase: "round 1: model", detail: "3 session(s)" },
      { type: "agent", n: 1, k: 2, tool: "run_tests", summary: "tests passed (exit code 0, 0.1 s)" },
      { type: "agent", n: 1, k: 1, tool: "run_benchmark", summary: "screen … B/A 0.469" },
      { type: "agent", n: 1, k: 2, tool: "submit", summary: "submitted" },
      { type: "round-start", n: 1, total: 5, strategy: "llm", description: "3 candidates" },
    ] satisfies LoopEvent[])
      list.onEvent(e);
    expect(list.render()).toMatch(
      /- \[x\] baseline measurement[^\n]*\n- \[ \] round 1\/5 \[llm\] 3 candidates\n {2}- candidate 1: run_benchmark → screen … B\/A 0\.469\n {2}- candidate 2: submit → submitted$/,
    );
    list.onEvent({
      type: "round-end",
      n: 1,
      outcome: "accepted",
      reason: "B is 50.2% better",
      bestImprovementPct: 50.2,
    });
    const done = list.render();
    expect(done).toMatch(/- \[x\] round 1\/5 \[llm\] 3 candidates — accepted: B is 50\.2% better$/m);
    expect(done).not.toMatch(/candidate 1:/);
    expect(done).toMatch(/Best so far: 50\.2% better than the baseline/);
  });

  it("escapes what the program or the model wrote, and names the milestones", () => {
    const list = createProgressChecklist();
    list.onEvent({
      type: "phase",
      phase: "setup",
      detail: "echo <img src=x onerror=alert(1)> [link](http://evil)",
    });
    const text = list.render();
    expect(text).not.toMatch(/<img/); // an entity, not a tag
    expect(text).toMatch(/&lt;img/);
    expect(text).toMatch(/\[link\\\]\(http/); // the closing ] escaped: no link
    expect(text).not.toMatch(/http:\/\//); // no autolink either
    expect(list.isMilestone({ type: "phase", phase: "x" })).toBe(true);
    expect(
      list.isMilestone({ type: "round-end", n: 1, outcome: "rejected", reason: "", bestImprovementPct: 0 }),
    ).toBe(true);
    expect(list.isMilestone({ type: "run", label: "b", done: 1, total: 2, wallMs: 1 })).toBe(false);
    expect(list.isMilestone({ type: "agent", n: 1, k: 1, tool: "diff", summary: "" })).toBe(false);
  });
});
