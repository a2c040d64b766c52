import { describe, expect, it } from "vitest";
import {
  clipText,
  codeBlock,
  codeSpan,
  escapeHtmlText,
  escapeInline,
  escapeMarkdown,
  escapeTableCell,
  ZWJ,
} from "../src/core/report/escape.ts";
import {
  formatBytes,
  formatCi,
  formatFactor,
  formatMs,
  formatNumber,
  formatP,
  formatPct,
  formatPercent,
  formatPValue,
  formatValue,
} from "../src/core/report/format.ts";

describe("formatMs", () => {
  it.each([
    [1234, "1.23 s"],
    [842, "842 ms"],
    [12.4, "12.4 ms"],
    [1.5, "1.50 ms"],
    [0.842, "842 µs"],
    [0, "0 ms"],
    [999.4, "999 ms"],
    [999.6, "1.00 s"], // rounding would print "1000 ms"
    [59_940, "59.9 s"],
    [59_990, "1.00 min"], // rounding would print "60.0 s"
    [123_000, "2.05 min"],
    [5_400_000, "1.50 h"],
    [-12.4, "−12.4 ms"],
    [Number.NaN, "n/a"],
  ])("%s ms → %s", (ms, text) => expect(formatMs(ms)).toBe(text));
});

describe("formatBytes", () => {
  it.each([
    [512, "512 B"],
    [1023, "1023 B"],
    [1024, "1.00 KiB"],
    [1536, "1.50 KiB"],
    [1023.7, "1.00 KiB"],
    [12.3 * 1024 ** 2, "12.3 MiB"],
    [412_939_000, "394 MiB"],
    [1024 ** 2 - 10, "1.00 MiB"],
    [1.23 * 1024 ** 3, "1.23 GiB"],
    [67_430_866_944, "62.8 GiB"],
    [-2048, "−2.00 KiB"],
  ])("%s B → %s", (b, text) => expect(formatBytes(b)).toBe(text));
});

describe("percentages, CIs, p-values, plain numbers", () => {
  it("formatPct is signed with a typographic minus and no −0.0%", () => {
    expect(formatPct(12.34)).toBe("+12.3%");
    expect(formatPct(-4.06)).toBe("−4.1%");
    expect(formatPct(-0.04)).toBe("0.0%");
    expect(formatPct(0)).toBe("0.0%");
    expect(formatPct(Number.POSITIVE_INFINITY)).toBe("n/a");
  });

  it("formatPercent is unsigned", () => {
    expect(formatPercent(88.44)).toBe("88.4%");
    expect(formatPercent(0)).toBe("0.0%");
  });

  it("formatCi shows the ratio CI as a % change range, low bound first", () => {
    expect(formatCi([0.5348273447179874, 0.5502524975299155])).toBe("−46.5% … −45.0%");
    expect(formatCi([1.02, 1.1])).toBe("+2.0% … +10.0%");
    expect(formatCi([0.97, 1.03])).toBe("−3.0% … +3.0%");
  });

  it("formatP and formatPValue", () => {
    expect(formatP(0.000010825)).toBe("p < 0.001");
    expect(formatP(0.004)).toBe("p = 0.004");
    expect(formatP(0.0043)).toBe("p = 0.0043");
    expect(formatP(0.4512)).toBe("p = 0.45");
    expect(formatP(1)).toBe("p = 1");
    expect(formatP(0.001)).toBe("p = 0.001");
    expect(formatPValue(0.00996)).toBe("0.01");
    expect(formatPValue(0.00996, 0.01)).toBe("0.00996"); // keeps p's side of alpha
    expect(formatPValue(0.0002)).toBe("< 0.001");
  });

  it("formatNumber, formatFactor, formatValue", () => {
    expect(formatNumber(200000)).toBe("200,000");
    expect(formatNumber(0.985)).toBe("0.985");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(12.34)).toBe("12.3");
    expect(formatNumber(-3.1)).toBe("−3.1");
    expect(formatFactor(1 / 0.5430831324322128)).toBe("1.84×");
    expect(formatValue(1845.85, "ms")).toBe("1.85 s");
    expect(formatValue(412_939_000, "bytes")).toBe("394 MiB");
    expect(formatValue(1234.5, "items/s")).toBe("1,235 items/s");
    expect(formatValue(0.95, "")).toBe("0.95");
  });
});

describe("escaping untrusted text", () => {
  it("neutralizes HTML tags, comments and entities", () => {
    const out = escapeMarkdown('<img src=x onerror="alert(1)"> <!-- c --> &lt; </details>');
    expect(out).not.toMatch(/<[A-Za-z!/]/);
    expect(out).toContain("&lt;img");
    expect(out).toContain("&amp;lt;");
    expect(out).toContain("&lt;/details");
    expect(escapeMarkdown("p < 0.01 and a > b & c")).toBe("p < 0.01 and a > b & c");
  });

  it("breaks mentions, issue references and autolinks", () => {
    const out = escapeInline(
      "@octocat @org/team #123 acme/repo#7 GH-42 https://evil.example www.evil.example a@b.io",
    );
    expect(out).not.toMatch(/@[A-Za-z]/);
    expect(out).not.toMatch(/#\d/);
    expect(out).not.toMatch(/GH-\d/);
    expect(out).not.toContain("://");
    expect(out).not.toMatch(/www\./i);
    expect(out).toContain(`@${ZWJ}octocat`);
  });

  it("breaks link, image and reference syntax", () => {
    const out = escapeMarkdown(
      "[click](https://evil.example) ![x](y.png) [a][b] [c]\n[d]: https://evil.example",
    );
    expect(out).not.toMatch(/[^\\]\]\(/);
    expect(out).not.toMatch(/[^\\]\]\[/);
    expect(out).not.toMatch(/[^\\]\]:/);
    expect(escapeInline("see [x]")).toBe("see [x\\]");
  });

  it("keeps structure: no block starts, no fences, one line in cells", () => {
    expect(escapeMarkdown("# title\n- item\n1. first\n> quote\n    code\n---\n```js")).toBe(
      "\\# title\n\\- item\n1\\. first\n\\> quote\ncode\n\\---\n\\`\\`\\`js",
    );
    expect(escapeTableCell("a | b\nc")).toBe("a \\| b c");
    expect(escapeInline("count_words _em_ *b* ~s~ $x$")).toBe("count_words \\_em\\_ \\*b\\* \\~s\\~ \\$x\\$");
    expect(escapeInline("1.85 s")).toBe("1.85 s");
  });

  it("removes control and bidi characters", () => {
    expect(escapeInline("a\u202Eb\u0007c")).toBe("abc");
  });

  it("escapeHtmlText for raw HTML lines", () => {
    expect(escapeHtmlText("<b>x</b>\n@me")).toBe(`&lt;b>x&lt;/b> @${ZWJ}me`);
  });

  it("code spans and blocks cannot be closed from inside", () => {
    expect(codeSpan("a`b")).toBe("``a`b``");
    expect(codeSpan("`x`")).toBe("`` `x` ``");
    expect(codeSpan("a|b", { inTable: true })).toBe("`a\\|b`");
    expect(codeBlock("echo ```\nls", "sh")).toBe("````sh\necho ```\nls\n````");
  });

  it("clipText", () => {
    expect(clipText("abcdef", 4)).toBe("abc…");
    expect(clipText("abc", 4)).toBe("abc");
    expect(clipText("ab😀cd", 4)).toBe("ab…");
  });
});
