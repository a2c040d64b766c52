/**
 * Collapsed ("folded") stacks, Brendan Gregg's format read by flamegraph.pl, inferno and speedscope:
 * one line per distinct stack, `frame;frame;frame <weight>`, outermost frame first. perfloop's weights
 * are integer microseconds, and every line starts with a frame naming the process (`[python3 app.py
 * (pid 41)]`), so the files of several processes can be concatenated into one flame graph.
 */
import type { StackFrame, StackProfile } from "./stacks.ts";

/** One parsed line: the frames (outermost first) and the weight (µs for perfloop's files). */
export interface FoldedStack {
  frames: string[];
  weight: number;
}

/**
 * A frame as one folded-stack token: `name (file:line)`, `name (file)` without a line, the bare name
 * for V8's pseudo-frames, perfloop's markers and cProfile's built-ins (file `~`). `;` (the separator)
 * becomes `,` and control characters a space, since the format has no escapes.
 */
function frameLabel(frame: StackFrame): string {
  const where =
    frame.file === "" || frame.file === "~"
      ? ""
      : frame.line > 0
        ? ` (${frame.file}:${frame.line})`
        : ` (${frame.file})`;
  return clean(`${frame.name}${where}`);
}

function clean(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  return text.replace(/;/g, ",").replace(/[\u0000-\u001f\u007f]/g, " ");
}

/**
 * The folded text of `profile`: its stacks in their order, each prefixed with the process frame
 * `[<profile name>]`, weights rounded to integer µs so that they sum to the rounded total (largest
 * remainder); stacks that round to 0 µs are left out. Ends with a newline ("" for no stack).
 */
export function toFolded(profile: StackProfile): string {
  const process = clean(
    `[${profile.name}${profile.origin === "reconstructed" ? ", stacks rebuilt from caller edges" : ""}]`,
  );
  const weights = roundToTotal(profile.stacks.map((s) => s.weightUs));
  const lines: string[] = [];
  profile.stacks.forEach((s, i) => {
    const w = weights[i] ?? 0;
    if (w <= 0) return;
    const labels = s.frames.map((f) =>
      frameLabel(profile.frames[f] ?? { name: "(unknown)", file: "", line: 0 }),
    );
    lines.push(`${[process, ...labels].join(";")} ${w}`);
  });
  return lines.length > 0 ? `${lines.join("\n")}\n` : "";
}

/**
 * Integers (same order) whose sum is the rounded sum of `values` and each within 1 of its value:
 * floors, then +1 to the largest remainders (ties: first).
 */
export function roundToTotal(values: number[]): number[] {
  const clean = values.map((v) => (Number.isFinite(v) && v > 0 ? v : 0));
  const floors = clean.map(Math.floor);
  let missing = Math.round(clean.reduce((a, b) => a + b, 0)) - floors.reduce((a, b) => a + b, 0);
  const byRemainder = clean
    .map((v, i) => ({ i, r: v - Math.floor(v) }))
    .sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (missing <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    missing -= 1;
  }
  return floors;
}

/**
 * Parses folded text: for each line `frames weight` (the weight after the last space, a finite
 * number ≥ 0; frames split on `;`). Blank lines and lines that do not end in a number are skipped.
 */
export function parseFolded(text: string): FoldedStack[] {
  const out: FoldedStack[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    const space = line.lastIndexOf(" ");
    if (space <= 0) continue;
    const weight = Number(line.slice(space + 1));
    if (!Number.isFinite(weight) || weight < 0 || line.slice(space + 1) === "") continue;
    out.push({ frames: line.slice(0, space).split(";"), weight });
  }
  return out;
}
