/**
 * Knob warm start (issue 5): on the same hardware fingerprint, try remembered winning values first and
 * skip values remembered as failing. Memory only changes the order and what is skipped; every value
 * that is tried still passes every gate, and when a remembered winner is rejected now, the values it
 * had made unnecessary are tried after all.
 *
 * Rules, per knob (identity: {@link knobKey}), using only results measured on this machine:
 * - winner: the newest result marked `winner` (the knob's value in a verified final state) whose value
 *   is among this run's trials goes first; without one, the newest value accepted by a round (not
 *   verified by a final comparison) goes first, but holds nothing back;
 * - failing (skipped): the newest result for a value is a rejection by the tests or output gate
 *   (the value breaks the program), or by the performance gate with verdict "slower";
 *   also "no significant change" when it was measured on this same commit (nothing changed since);
 * - dominated (deferred): the other values measured in the winner's run — each was superseded by, or
 *   lost to, a state that led to the winner — are held back; they are re-queued only if the winner is
 *   rejected in this run. A winner the code already has (the current value) defers them the same way.
 */
import type { Knob } from "../config/schema.ts";
import type { KnobTrial } from "../optimize/knobs.ts";
import type { KnobResult } from "./records.ts";

/** A trial memory held back, with the remembered result that justifies it. */
export interface HeldBack {
  trial: KnobTrial;
  reason: string;
  resultId: number;
}

/** The tuner's plan after memory. */
export interface WarmStartPlan {
  /** Trials in the order to try. */
  trials: KnobTrial[];
  /** Trials moved to the front because they won before, with the result id. */
  remembered: Array<{ trial: KnobTrial; resultId: number }>;
  /** Trials not tried because they failed before (never re-queued in this run). */
  skipped: HeldBack[];
  /** Trials deferred behind a remembered winner, by knob name: re-queued if that winner is rejected. */
  deferred: Map<string, HeldBack[]>;
}

/** A knob's identity across runs: its name and what it changes (env var, or file and pattern). */
export function knobKey(knob: Knob): string {
  return "env" in knob
    ? `${knob.name}|env:${knob.env}`
    : `${knob.name}|${knob.literal.file}|${knob.literal.pattern}`;
}

/**
 * Reorders and filters `trials` (as planned by `planKnobTrials`) with remembered results.
 * @param results knob results of this machine's fingerprint, any order.
 * @param current each knob's current value by name (literal knobs), to recognise a winner in place.
 * @param commit this run's commit, when known.
 */
export function planWarmStart(
  trials: KnobTrial[],
  results: KnobResult[],
  current: Record<string, string | null>,
  commit: string | null,
): WarmStartPlan {
  const plan: WarmStartPlan = { trials: [], remembered: [], skipped: [], deferred: new Map() };
  const newestFirst = [...results].sort((a, b) => b.id - a.id);
  const front: KnobTrial[] = [];
  const rest: KnobTrial[] = [];
  const byKnob = new Map<string, KnobTrial[]>();
  for (const trial of trials) byKnob.set(trial.knob.name, [...(byKnob.get(trial.knob.name) ?? []), trial]);

  for (const [name, knobTrials] of byKnob) {
    const knob = (knobTrials[0] as KnobTrial).knob;
    const mine = newestFirst.filter((r) => r.knobKey === knobKey(knob));
    const values = new Set([...knobTrials.map((t) => t.value), current[name] ?? ""]);
    const winner = mine.find((r) => r.winner && values.has(r.value));
    const accepted = winner ?? mine.find((r) => r.outcome === "accepted" && values.has(r.value));
    const deferred: HeldBack[] = [];
    for (const trial of knobTrials) {
      const latest = mine.find((r) => r.value === trial.value);
      const failing = latest ? failureOf(latest, commit) : null;
      if (latest && failing) {
        plan.skipped.push({ trial, reason: failing, resultId: latest.id });
      } else if (accepted && trial.value === accepted.value) {
        front.push(trial);
        plan.remembered.push({ trial, resultId: accepted.id });
      } else if (winner && latest && mine.some((r) => r.runId === winner.runId && r.value === trial.value)) {
        const inPlace = winner.value === current[name] ? ", which the code already has" : "";
        deferred.push({
          trial,
          reason: `lost to ${winner.value}${inPlace} in run ${winner.runId} on this machine`,
          resultId: latest.id,
        });
      } else rest.push(trial);
    }
    if (deferred.length > 0) plan.deferred.set(name, deferred);
  }
  plan.trials = [...front, ...rest];
  return plan;
}

/** Why a remembered result makes its value not worth retrying, or null. */
function failureOf(r: KnobResult, commit: string | null): string | null {
  if (r.outcome !== "rejected") return null;
  const when = `(run ${r.runId}${r.commit ? `, commit ${r.commit.slice(0, 7)}` : ""}, this machine)`;
  if (r.gate === "tests" || r.gate === "output")
    return `remembered failing the ${r.gate} gate ${when}: ${r.reason.slice(0, 160)}`;
  if (r.gate === "performance" && r.verdict === "slower")
    return `remembered slower ${when}: ${r.reason.slice(0, 160)}`;
  if (
    r.gate === "performance" &&
    r.verdict === "no significant change" &&
    commit !== null &&
    r.commit === commit
  )
    return `remembered with no significant change on this same commit ${when}`;
  return null;
}
