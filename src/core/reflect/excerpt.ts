/**
 * The part of a test log that says what failed. Test runners print a lot; the model and the reader need
 * the failing test's name, the assertion and the summary line, not the whole log.
 */

/** Characters kept at most. */
export const EXCERPT_MAX_CHARS = 1_500;

/**
 * Lines that start a failure report in common runners: unittest/pytest (`FAIL:`, `ERROR:`,
 * `Traceback`, `E   assert`, `FAILED`), node:test/TAP (`not ok`), vitest/jest (`×`, `✗`, `FAIL`),
 * Go (`--- FAIL`), cargo (`panicked at`), and any `…Error:` / `AssertionError`.
 */
const MARKER =
  /^(\s*(FAIL|ERROR|FAILED)\b|Traceback|\s*E\s{2,}|\s*not ok\b|\s*[×✗]|--- FAIL|.*panicked at|.*\b\w*(Error|Exception)\b:)/;

/**
 * Cuts `log` (a `test.log` as written by the loop: command, outcome, `## stdout`, `## stderr`) down to
 * the failure reports: up to 8 lines after each of the first 4 markers, then the last line (the
 * runner's summary). Without a marker: the last 15 non-empty lines.
 * @returns at most {@link EXCERPT_MAX_CHARS} characters (cut at a line boundary where possible).
 */
export function testExcerpt(log: string): string {
  const lines = log
    .split("\n")
    .filter((l) => !/^(## std(out|err)|\$ |# )/.test(l))
    .map((l) => l.replace(/\s+$/, ""));
  const nonEmpty = lines.filter((l) => l.trim() !== "");
  const picked = new Set<number>();
  let markers = 0;
  for (let i = 0; i < lines.length && markers < 4; i++) {
    if (!MARKER.test(lines[i] ?? "")) continue;
    if (picked.has(i)) continue;
    markers += 1;
    for (let j = i; j < Math.min(lines.length, i + 8); j++) picked.add(j);
  }
  let chosen: string[];
  if (picked.size === 0) chosen = nonEmpty.slice(-15);
  else {
    chosen = [...picked]
      .sort((a, b) => a - b)
      .map((i) => lines[i] ?? "")
      .filter((l) => l.trim() !== "" && !/^-{10,}$/.test(l.trim()));
    const last = nonEmpty[nonEmpty.length - 1];
    if (last !== undefined && chosen[chosen.length - 1] !== last) chosen.push(last);
  }
  let text = "";
  for (const line of chosen) {
    if (text.length + line.length + 1 > EXCERPT_MAX_CHARS) break;
    text += `${text ? "\n" : ""}${line}`;
  }
  return text || (chosen[0] ?? "").slice(0, EXCERPT_MAX_CHARS);
}
