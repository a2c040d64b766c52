/**
 * Merging the captures of a candidate's (or the baseline's) test run and benchmark run
 * (src/core/loop/behaviour.ts `mergeCaptures`): first record per argument set kept, another outcome
 * for the same arguments in the other run marks it unstable, inputs untouched.
 */
import { describe, expect, it } from "vitest";
import type { CallRecord, Capture } from "../src/core/behaviour/capture.ts";
import { compareBehaviour } from "../src/core/behaviour/compare.ts";
import { mergeCaptures } from "../src/core/loop/behaviour.ts";

const call = (key: string, v: string, unstable = false): CallRecord => ({
  key,
  call: `f(${key})`,
  args: null,
  result: { t: "int", v },
  raised: null,
  unstable,
});
const cap = (kept: CallRecord[], truncated = false): Capture => ({
  functions: { "m.py::f": { calls: kept.length, kept, truncated } },
});

describe("mergeCaptures", () => {
  it("keeps the first record per key, adds new keys, sums calls and marks a disagreement unstable", () => {
    const tests = cap([call("k1", "1"), call("k2", "2")]);
    const bench = cap([call("k2", "3"), call("k3", "3")], true);
    const merged = mergeCaptures([tests, bench]);
    const f = merged.functions["m.py::f"];
    expect(f?.calls).toBe(4);
    expect(f?.truncated).toBe(true);
    expect(f?.kept.map((c) => [c.key, c.result?.v, c.unstable])).toEqual([
      ["k1", "1", false],
      ["k2", "2", true],
      ["k3", "3", false],
    ]);
    expect(tests.functions["m.py::f"]?.kept[1]?.unstable).toBe(false); // inputs untouched
  });

  it("lets the gate see a candidate whose benchmark run disagrees with its test run", () => {
    const baseline = mergeCaptures([cap([call("k1", "1")]), cap([call("k1", "1")])]);
    const candidate = mergeCaptures([cap([call("k1", "1")]), cap([call("k1", "7")])]);
    expect(compareBehaviour(baseline, candidate).difference?.candidate).toMatch(
      /different results on repeated calls/,
    );
  });
});
