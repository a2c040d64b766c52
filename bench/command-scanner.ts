/**
 * How long the `/optimize` scanner (src/app/command-line.ts) takes on hostile 64 KiB comments —
 * shapes that make micromark itself take minutes (docs/github-app.md). Printed by
 * `npm run bench:app` before the server benchmark; the tests check the scanner's answers on the
 * same comments, not its speed (a busy runner would fail a timed test).
 */
import { findCommandLine } from "../src/app/command-line.ts";

/** Comments of 64 KiB each that blow up a full CommonMark parser, by name. */
export function hostileComments(word = "/optimize", n = 65_536): Record<string, string> {
  const cut = (s: string) => s.slice(0, n);
  return {
    "nested quote-list": cut(`${word}\n${"> - ".repeat(n / 4)}`),
    "setext headings": cut(`${word}\n${"a\n=\n".repeat(n / 4)}`),
    "emphasis runs": cut(`${word}\n${"*a_".repeat(n / 3)}`),
    "open links": cut(`${word}\n${"[a](".repeat(n / 4)}`),
    "open attributes": cut(`${word}\n${"<a b='".repeat(n / 6)}`),
    "code-span lines": cut("`\n/optimize x\n`\n".repeat(n / 16)),
    "comment openers": cut("a <!--\n/optimize x\n".repeat(n / 16)),
    "open images": cut("![a\n".repeat(n / 4)),
  };
}

/** One line per comment: the scanner's time, ms (best of 3). */
export function scannerFigures(): string[] {
  return Object.entries(hostileComments()).map(([name, body]) => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      findCommandLine(body, "/optimize");
      best = Math.min(best, performance.now() - started);
    }
    return `   ${name.padEnd(18)} ${best.toFixed(1)} ms`;
  });
}
