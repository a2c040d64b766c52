/**
 * Reflection after a rejected candidate: the diagnosis per gate, the test-output excerpt, the failure
 * signature, the prompt lines, and rounds/<n>/reflection.json.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createEvidenceWriter } from "../src/core/evidence/writer.ts";
import { testExcerpt } from "../src/core/reflect/excerpt.ts";
import { recordReflection } from "../src/core/reflect/record.ts";
import {
  failureSignature,
  type ReflectionInput,
  reflect,
  reflectionLines,
} from "../src/core/reflect/reflection.ts";
import type { Comparison } from "../src/core/types.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

const UNITTEST_LOG = `$ python3 -m unittest discover -s tests -q
# exit code 1 in 0.21 s
## stdout

## stderr
.F..
======================================================================
FAIL: test_rules (test_textstats.StemTest.test_rules)
----------------------------------------------------------------------
Traceback (most recent call last):
  File "/tmp/perfloop-x/candidate-2/tests/test_textstats.py", line 18, in test_rules
    self.assertEqual(stem_uncached("ponies"), "poni")
AssertionError: 'pony' != 'poni'
- pony
?    ^
+ poni
?    ^

----------------------------------------------------------------------
Ran 4 tests in 0.002s

FAILED (failures=1)
`;

const stats = (median: number) => ({
  n: 6,
  median,
  q1: median,
  q3: median,
  iqr: 0,
  mean: median,
  stdev: 1,
  cvPct: 2.5,
  min: median,
  max: median,
});
function comparison(
  verdict: Comparison["verdict"],
  ratio: number,
  ci: [number, number],
  pValue: number,
): Comparison {
  return {
    metric: "wall time",
    unit: "ms",
    direction: "lower",
    a: stats(200),
    b: stats(200 * ratio),
    ratio,
    ci,
    confidence: 0.95,
    pValue,
    improvementPct: (1 - ratio) * 100,
    verdict,
    reason: `${verdict}: …`,
  };
}
const base: ReflectionInput = {
  round: 2,
  strategy: "llm",
  description: "LLM rewrite of textstats/stem.py",
  gate: "tests",
  reason: "tests failed on the candidate: exit code 1; …",
  comparison: null,
  files: ["textstats/stem.py"],
  knob: null,
  testLog: null,
  hotSpots: [
    { file: "textstats/stem.py", line: 29, function: "measure", selfPct: 61.2, cumulativePct: 70, calls: 10 },
  ],
  minImprovementPct: 5,
};

describe("test output excerpt", () => {
  it("keeps the failing test, the assertion and the summary", () => {
    const excerpt = testExcerpt(UNITTEST_LOG);
    expect(excerpt).toMatch(/^FAIL: test_rules \(test_textstats\.StemTest\.test_rules\)/);
    expect(excerpt).toMatch(/AssertionError: 'pony' != 'poni'/);
    expect(excerpt.split("\n").at(-1)).toBe("FAILED (failures=1)");
    expect(excerpt).not.toMatch(/^# exit code|^\$ python3/m);
  });

  it("falls back to the last lines and caps the size", () => {
    const log = Array.from({ length: 100 }, (_, i) => `line ${i} ${"x".repeat(50)}`).join("\n");
    const excerpt = testExcerpt(log);
    expect(excerpt.split("\n")[0]).toMatch(/^line 85 /);
    expect(testExcerpt(`Error: boom\n${"y".repeat(5000)}`).length).toBeLessThanOrEqual(1500);
  });
});

describe("diagnosis by gate", () => {
  it("tests: names the failing test and the assertion", () => {
    const r = reflect({ ...base, testLog: UNITTEST_LOG });
    expect(r.likelyCause).toBe(
      "the change altered behaviour: test_rules fails (AssertionError: 'pony' != 'poni')",
    );
    expect(r.whatToChange).toMatch(/keep the computed results identical/);
    expect(r.testExcerpt).toMatch(/FAIL: test_rules/);
  });

  it("performance: slower, no significant change (noise vs. too small), inconclusive", () => {
    const slower = reflect({
      ...base,
      gate: "performance",
      comparison: comparison("slower", 1.2, [1.1, 1.3], 0.002),
    });
    expect(slower.likelyCause).toMatch(
      /^the change made wall time 20\.0% worse \(ratio 1\.200, CI 1\.100…1\.300\)/,
    );
    expect(slower.numbers).toMatchObject({ medianA: 200, medianB: 240, verdict: "slower" });
    const small = reflect({
      ...base,
      gate: "performance",
      comparison: comparison("no significant change", 0.98, [0.95, 1.01], 0.3),
    });
    expect(small.likelyCause).toMatch(
      /measured 2\.0% better .*; the confidence interval does not clear the 5% minimum; it may not touch the dominant cost, textstats\/stem\.py:29 `measure` \(self 61%\)/,
    );
    const noisy = reflect({
      ...base,
      gate: "performance",
      comparison: comparison("no significant change", 0.7, [0.5, 1.02], 0.04),
    });
    expect(noisy.likelyCause).toMatch(
      /measured 30\.0% better .*the runs vary too much to tell it from noise/,
    );
    const inconclusive = reflect({
      ...base,
      gate: "performance",
      comparison: comparison("inconclusive", 0.8, [0.5, 1.3], 0.2),
    });
    expect(inconclusive.whatToChange).toMatch(/^nothing proven about the change/);
  });

  it("knobs: an unlocatable pattern, a value that breaks tests", () => {
    const knob = { name: "stem-cache", value: "4096" };
    const apply = reflect({
      ...base,
      strategy: "tune",
      gate: "apply",
      knob,
      reason: 'knob "stem-cache": pattern matches nothing',
    });
    expect(apply.whatToChange).toMatch(
      /fix the knob's file or pattern in the config; the knob's other values are skipped/,
    );
    const tests = reflect({ ...base, strategy: "tune", knob, testLog: UNITTEST_LOG });
    expect(tests.whatToChange).toBe(
      'the value 4096 of knob "stem-cache" is outside what the code supports; it is not retried',
    );
  });

  it("policy, parse, output and error", () => {
    expect(
      reflect({ ...base, gate: "policy", reason: "tests/test_x.py: tests may not be edited" }).whatToChange,
    ).toMatch(/edit only files matching the editable globs/);
    expect(reflect({ ...base, gate: "parse", reason: "no submit_patch" }).whatToChange).toMatch(
      /edit with apply_patch .*then call submit/,
    );
    expect(reflect({ ...base, gate: "output", reason: "line 3 differs" }).likelyCause).toMatch(
      /the benchmark's output changed \(line 3 differs\)/,
    );
    expect(reflect({ ...base, gate: "error", reason: "429" }).likelyCause).toMatch(/not the change itself/);
  });
});

describe("signature and prompt lines", () => {
  it("identifies the same failure across rounds despite timings and temp paths", () => {
    const a = failureSignature({
      ...base,
      reason: "tests failed: exit code 1 in 0.21 s at /tmp/perfloop-abc/candidate-2/x.py",
    });
    const b = failureSignature({
      ...base,
      reason: "tests failed: exit code 1 in 0.35 s at /tmp/perfloop-def/candidate-5/x.py",
    });
    const other = failureSignature({
      ...base,
      files: ["textstats/__main__.py"],
      reason: "tests failed: exit code 1 in 0.21 s",
    });
    expect(a).toBe(b);
    expect(a).not.toBe(other);
    expect(a).toMatch(/^[0-9a-f]{16}$/);
  });

  it("keeps the legacy 'description — gate: reason' line, then the diagnosis", () => {
    const lines = reflectionLines(reflect({ ...base, testLog: UNITTEST_LOG }));
    expect(lines.split("\n")[0]).toBe(
      "round 2: LLM rewrite of textstats/stem.py — tests: tests failed on the candidate: exit code 1; …",
    );
    expect(lines).toMatch(/\n {2}- test output:\n {4}FAIL: test_rules/);
    expect(lines).toMatch(/\n {2}- likely cause: the change altered behaviour/);
    expect(lines).toMatch(/\n {2}- what to change: keep the computed results identical/);
  });

  it("writes rounds/<n>/reflection.json from the round's test.log", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-reflect-"));
    dirs.push(dir);
    const evidence = await createEvidenceWriter(dir);
    await evidence.text("rounds/2/test.log", UNITTEST_LOG);
    const { testLog: _, ...input } = base;
    const reflection = await recordReflection(evidence, input);
    const written = JSON.parse(await readFile(path.join(dir, "rounds/2/reflection.json"), "utf8"));
    expect(written).toEqual(JSON.parse(JSON.stringify(reflection)));
    expect(written.testExcerpt).toMatch(/FAIL: test_rules/);
    expect(Object.keys(written)).toEqual([
      "round",
      "strategy",
      "description",
      "gate",
      "reason",
      "numbers",
      "testExcerpt",
      "files",
      "knob",
      "signature",
      "likelyCause",
      "whatToChange",
    ]);
  });
});
