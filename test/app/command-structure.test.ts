/**
 * The command-line scanner (src/app/command-line.ts) against CommonMark as micromark renders it
 * (mdast-util-from-markdown, a dev dependency: the oracle). The oracle's rule: a line of a top-level
 * paragraph whose rendered text starts with the command (emphasis, link text and image alt text
 * count as text; code spans and raw HTML do not). Property: whenever the scanner finds a command
 * line, the oracle sees a command on that line too — the scanner may miss odd layouts, never invent
 * one. On the usual layouts both find the same line. And the scanner stays fast on hostile comments
 * where micromark itself takes minutes.
 */

import fc from "fast-check";
import { fromMarkdown } from "mdast-util-from-markdown";
import { describe, expect, it } from "vitest";
import { hostileComments } from "../../bench/command-scanner.ts";
import { findCommandLine, locateCommandLine } from "../../src/app/command-line.ts";

const WORD = "/optimize";

type Block = ReturnType<typeof fromMarkdown>["children"][number];
type Inline = Extract<Block, { type: "paragraph" }>["children"][number];

/** The oracle: the trimmed source line of the first command line, or null. */
function oracle(body: string): string | null {
  const first = oracleLines(body)[0];
  return first === undefined ? null : (body.split(/\r\n|\r|\n/)[first] ?? "").trim();
}

/** The oracle: the (0-based) indices of every command line. */
function oracleLines(body: string): number[] {
  const found: number[] = [];
  for (const block of fromMarkdown(body).children) {
    if (block.type !== "paragraph") continue;
    const lines: { text: string; opaqueStart: boolean; line: number }[] = [
      { text: "", opaqueStart: false, line: block.position?.start.line ?? 1 },
    ];
    const walk = (nodes: readonly Inline[]) => {
      for (const node of nodes) {
        const current = lines[lines.length - 1];
        if (!current) return;
        if (node.type === "text" || node.type === "image" || node.type === "imageReference") {
          // An image's alt text counts as text: its source, as written (code spans in it included).
          const value =
            node.type === "text"
              ? node.value
              : body.slice(node.position?.start.offset ?? 0, node.position?.end.offset ?? 0);
          const [first = "", ...rest] = value.split(/\r\n|\r|\n/);
          current.text += first;
          rest.forEach((piece, k) => {
            lines.push({ text: piece, opaqueStart: false, line: (node.position?.start.line ?? 0) + k + 1 });
          });
        } else if (node.type === "break") {
          lines.push({ text: "", opaqueStart: false, line: node.position?.end.line ?? 0 });
        } else if ("children" in node) {
          walk(node.children as Inline[]);
        } else {
          if (current.text.trim() === "") current.opaqueStart = true;
          const start = node.position?.start.offset ?? 0;
          const end = node.position?.end.offset ?? 0;
          current.text += body.slice(start, end).replace(/\s+/g, " ");
        }
      }
    };
    walk(block.children);
    for (const l of lines) {
      const text = l.text.replace(/^[ \t]+/, "");
      if (l.opaqueStart || !text.startsWith(WORD)) continue;
      if (text.length === WORD.length || /\s/.test(text[WORD.length] ?? "")) found.push(l.line - 1);
    }
  }
  return found;
}

/** Lines the generated comments are made of: commands, text, and every construct that can hide one. */
const FRAGMENTS = [
  "/optimize",
  "/optimize --rounds 2",
  "  /optimize status",
  "    /optimize",
  "\t/optimize",
  "text",
  "more text",
  "",
  "   ",
  "```",
  "```sh",
  "~~~",
  "````",
  "> /optimize",
  "> text",
  ">",
  "- item",
  "- /optimize",
  "* x",
  "+ x",
  "1. x",
  "2. x",
  "1)",
  "  continued",
  "   - nested",
  "<!--",
  "-->",
  "<!-- c -->",
  "<div>",
  "</div>",
  "<b>",
  "<span title='a",
  "'>",
  "`",
  "``",
  "`code`",
  "a `",
  "text <!--",
  "---",
  "===",
  "- - -",
  "# h",
  "***",
  "| a | b |",
  "|---|---|",
  "[ref]: /url",
  '"title',
  "<?",
  "?>",
  "<![CDATA[",
  "]]>",
  "<!X",
  "<script>",
  "</script>",
  "![alt",
  "](u)",
  "<http://a`b>",
  "<a@b.c>",
  "\\<!-- `",
  "\\``",
  "``\\`",
  ">\t/optimize",
  "  > /optimize",
  "> > x",
  ">> /optimize",
  "-\t/optimize",
  "  ```",
  "   ~~~~",
  "  - x",
  "    - x",
  "10) x",
  "<pre>",
  "</pre>",
  "<details>",
  "<!-- /optimize -->",
  "`` ` ``",
  "\\",
  "&#96;",
  "<a href='x'>",
  "*",
  "[a",
  "](https://x)",
  "\\`",
];

const comment = fc
  .array(
    fc.oneof(
      fc.constantFrom(...FRAGMENTS),
      fc.tuple(fc.constantFrom(...FRAGMENTS), fc.constantFrom(...FRAGMENTS)).map(([a, b]) => `${a} ${b}`),
    ),
    { maxLength: 16 },
  )
  .chain((lines) => fc.constantFrom("\n", "\r\n").map((eol) => lines.join(eol)));

describe("findCommandLine against CommonMark", () => {
  it("never finds a command where the rendered comment shows none (generated comments)", () => {
    fc.assert(
      fc.property(comment, (body) => {
        const found = locateCommandLine(body, WORD);
        if (found !== null) expect(oracleLines(body), JSON.stringify(body)).toContain(found.line);
      }),
      // PROPERTY_RUNS=100000 for a longer search (it ran clean for over a million comments).
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 4_000) },
    );
  });

  it("agrees with CommonMark on the usual layouts", () => {
    const bodies = [
      "/optimize",
      "Looks slow.\n/optimize --rounds 3",
      "Please run it:\n\n/optimize --target 20%\n\nThanks!",
      "<!-- template -->\n/optimize",
      "```\nnot this\n```\n/optimize status",
      "> quoted\n\n/optimize retry",
      "- a list\n\n/optimize",
      "text  \n/optimize",
      "`code` then\n/optimize",
      "Hi @team,\n    /optimize",
      "[link](https://example.com)\n/optimize help",
    ];
    for (const body of bodies) {
      const found = findCommandLine(body, WORD);
      expect(found, JSON.stringify(body)).not.toBeNull();
      expect(oracle(body), JSON.stringify(body)).toBe(found);
    }
  });

  it("answers on hostile comments that make micromark itself take minutes (its speed: npm run bench:app)", () => {
    // What CommonMark renders: the command on the first line of a paragraph, except where "=" under
    // it makes that paragraph a heading, where every `/optimize` sits in a code span, or where there
    // is none; an unclosed `<!--` is literal text, so the line after it is a command line.
    const expected: Record<string, string | null> = {
      "nested quote-list": WORD,
      "setext headings": null,
      "emphasis runs": WORD,
      "open links": WORD,
      "open attributes": WORD,
      "code-span lines": null,
      "comment openers": `${WORD} x`,
      "open images": null,
    };
    for (const [name, body] of Object.entries(hostileComments(WORD)))
      expect(findCommandLine(body, WORD), name).toBe(expected[name]);
  });
});
