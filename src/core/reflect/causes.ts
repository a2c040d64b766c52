/**
 * The likely cause of a rejection and what to change, by gate — rules over the evidence, in the order
 * of the gates of docs/design.md, "The loop" (policy → apply → tests → output → performance). They state what the evidence
 * supports and no more: a "no significant change" says the change did not reach the dominant cost,
 * never that the idea is wrong everywhere; an "inconclusive" one says whether noise or too few runs
 * stood in the way, and how many runs a side would settle it when the comparison's reason says so.
 */
import type { Gate } from "../evidence/results-schema.ts";
import type { HotSpot } from "../types.ts";
import type { ReflectionNumbers } from "./reflection.ts";

/** What {@link diagnose} reads. */
export interface DiagnoseInput {
  strategy: "llm" | "tune";
  gate: Gate;
  reason: string;
  numbers: ReflectionNumbers | null;
  excerpt: string | null;
  files: string[];
  knob: { name: string; value: string } | null;
  hotSpots: HotSpot[];
  minImprovementPct: number;
}

/** The diagnosis: one sentence each. */
export interface Diagnosis {
  likelyCause: string;
  whatToChange: string;
}

/** Diagnoses one rejection. Never throws. */
export function diagnose(input: DiagnoseInput): Diagnosis {
  switch (input.gate) {
    case "policy":
      return {
        likelyCause: `the change edits files the patch policy forbids (${input.reason.slice(0, 200)})`,
        whatToChange:
          "edit only files matching the editable globs; never tests, benchmark files, .github/, lock files or protected files",
      };
    case "parse":
      return {
        likelyCause: `no usable patch was submitted (${input.reason.slice(0, 200)})`,
        whatToChange:
          "edit with apply_patch (copy each context line exactly from the file), check with run_tests and run_benchmark, then call submit",
      };
    case "apply":
      return input.strategy === "tune"
        ? {
            likelyCause: `the knob cannot be applied to the code (${input.reason.slice(0, 200)})`,
            whatToChange:
              "fix the knob's file or pattern in the config; the knob's other values are skipped for the rest of this run",
          }
        : {
            likelyCause: "the patch's context lines do not match the file as it is now",
            whatToChange:
              "read the file again (read_file) and copy the context lines exactly, with their indentation",
          };
    case "tests":
      return tests(input);
    case "output":
      return {
        likelyCause: `the benchmark's output changed (${input.reason.slice(0, 200)}): the change alters what the program computes or prints`,
        whatToChange:
          "keep the output identical: the same values, order, formatting and rounding; optimize how, not what",
      };
    case "behaviour":
      return {
        likelyCause: `a hot function returns something else for the same arguments (${input.reason.slice(0, 300)})`,
        whatToChange:
          "keep every hot function's results identical for every input (types, float rounding, order of items); optimize how it computes, not what",
      };
    case "screen":
      return {
        likelyCause: `the quick screen ranked other candidates of the round higher (${input.reason.slice(0, 200)})`,
        whatToChange: "nothing was wrong with the change itself; a larger speed-up wins the round",
      };
    case "performance":
      return performance(input);
    default:
      return {
        likelyCause: `perfloop or the model endpoint failed, not the change itself (${input.reason.slice(0, 200)})`,
        whatToChange: "nothing in the code; the attempt can be retried",
      };
  }
}

function tests(input: DiagnoseInput): Diagnosis {
  const failing =
    input.excerpt?.match(/^(?:FAIL|ERROR): (\S+)/m)?.[1] ?? input.excerpt?.match(/not ok \d+ - (.+)$/m)?.[1];
  // The assertion message: Python's AssertionError line, else pytest's "E  " lines, else any assert.
  const assertion = [/^.*AssertionError.*$/m, /^E\s{2,}.*$/m, /^.*\bassert.*$/m]
    .map((re) => input.excerpt?.match(re)?.[0]?.trim())
    .find((m) => m !== undefined);
  return {
    likelyCause: `the change altered behaviour${failing ? `: ${failing} fails` : ""}${assertion ? ` (${assertion.slice(0, 200)})` : ""}`,
    whatToChange: input.knob
      ? `the value ${input.knob.value} of knob "${input.knob.name}" is outside what the code supports; it is not retried`
      : "keep the computed results identical; the failing test shows which behaviour changed — make the fast path give the same answer",
  };
}

function performance(input: DiagnoseInput): Diagnosis {
  const n = input.numbers;
  const hot = input.hotSpots[0];
  const hotText = hot
    ? `${hot.file}:${hot.line} \`${hot.function}\` (self ${hot.selfPct.toFixed(0)}%)`
    : null;
  const what = input.knob ? `${input.knob.name} = ${input.knob.value}` : "the change";
  if (!n)
    return {
      likelyCause: `the A/B measurement could not judge ${what} (${input.reason.slice(0, 200)})`,
      whatToChange: "nothing proven about the change; measure again on a quieter machine",
    };
  const pct = `${Math.abs(n.improvementPct).toFixed(1)}%`;
  if (n.verdict === "inconclusive") return inconclusive(input, n, what);
  if (n.verdict === "slower")
    return {
      likelyCause: `${what} made ${n.metric} ${pct} worse (ratio ${n.ratio.toFixed(3)}, CI ${n.ci[0].toFixed(3)}…${n.ci[1].toFixed(3)})`,
      whatToChange: input.knob
        ? `do not use ${input.knob.value} for "${input.knob.name}" on this machine; try values on the other side of the current best`
        : "revert this direction; it adds cost on the measured path",
    };
  const measured = measuredText(n);
  const min = input.minImprovementPct;
  const why =
    n.ci[0] > 1 - min / 100 && n.ci[1] < 1 + min / 100
      ? `the confidence interval lies within ±${min}%: whatever it changed is smaller than the ${min}% minimum`
      : n.improvementPct > min
        ? "the runs vary too much to tell it from noise (the p-value or the CI's far end misses the bar)"
        : `the confidence interval does not clear the ${min}% minimum`;
  return {
    likelyCause: `${what} did not beat the current best: ${measured}; ${why}${hotText && !input.knob ? `; it may not touch the dominant cost, ${hotText}` : ""}`,
    whatToChange: input.knob
      ? `${input.knob.value} for "${input.knob.name}" was not shown to beat the current best; another value, or another knob, is the next thing to try`
      : `target the hottest code${hotText ? ` (${hotText})` : ""} with a change that removes work there, or a bigger change of algorithm`,
  };
}

/** "measured 12.0% better (ratio 0.880, CI 0.700…1.090, p = 0.21)". */
function measuredText(n: ReflectionNumbers): string {
  const pct = `${Math.abs(n.improvementPct).toFixed(1)}%`;
  return `measured ${n.improvementPct >= 0 ? `${pct} better` : `${pct} worse`} (ratio ${n.ratio.toFixed(3)}, CI ${n.ci[0].toFixed(3)}…${n.ci[1].toFixed(3)}, p = ${n.pValue.toPrecision(2)})`;
}

/**
 * An "inconclusive" comparison (rules of `compareSamples`, src/core/measure/stats.ts), told apart by
 * its reason: noise above `max_cv` or a compromised measurement ("inconclusive: baseline CV …",
 * "candidate CV …", "measurement compromised …"), which more runs do not fix; or an interval too wide
 * to decide, which the run count in the reason ("about N runs a side would settle it") would.
 */
function inconclusive(input: DiagnoseInput, n: ReflectionNumbers, what: string): Diagnosis {
  const runs = input.reason.match(/about (\d+) runs a side would settle it/)?.[1];
  const doubts = input.reason.match(
    /^inconclusive: ((?:baseline CV|candidate CV|measurement compromised).*?) \(observed/,
  )?.[1];
  if (doubts)
    return {
      likelyCause: `the measurement was too noisy or compromised to judge ${what} (${doubts.slice(0, 300)})`,
      whatToChange: `nothing proven about the change; reduce noise (a quieter machine) before judging it: more runs do not lower a CV${runs ? `, though at this noise about ${runs} runs a side would settle the interval` : ""}`,
    };
  if (/^inconclusive: (?:B measured|.*runs a side)/.test(input.reason) || runs)
    return {
      likelyCause: `the A/B measurement could not settle ${what}: ${measuredText(n)}, an interval too wide to tell a ${input.minImprovementPct}% change from none`,
      whatToChange: `nothing proven about the change; ${runs ? `about ${runs} runs a side (repetitions.runs) would settle it` : "more runs a side would settle it"}`,
    };
  return {
    likelyCause: `the measurement was too noisy or compromised to judge ${what} (CV of A ${n.cvPctA.toFixed(1)}%)`,
    whatToChange:
      "nothing proven about the change; reduce noise (quieter machine, more runs) before judging it",
  };
}
