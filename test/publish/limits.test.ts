/** Truncation under GitHub's limits, and the sticky comment body. */
import { describe, expect, it } from "vitest";
import { COMMENT_MAX_CHARS, STICKY_MARKER, stickyBody, truncateMarkdown } from "../../src/publish/index.ts";

describe("truncateMarkdown", () => {
  it("leaves short text alone", () => {
    expect(truncateMarkdown("hello", 100, "cut")).toBe("hello");
  });

  it("cuts at a line end, closes an open fence and <details>, ends with the notice", () => {
    const text = `<details><summary>s</summary>\n\n\`\`\`\n${"line of code\n".repeat(10_000)}\`\`\`\n</details>\n`;
    const out = truncateMarkdown(text, 5_000, "Full report: https://example.com/a");
    expect(out.length).toBeLessThanOrEqual(5_000);
    expect(out.endsWith("Full report: https://example.com/a\n")).toBe(true);
    expect((out.match(/^```/gm) ?? []).length % 2).toBe(0);
    expect(out).toContain("</details>");
  });

  it("never splits a surrogate pair", () => {
    const out = truncateMarkdown("😀".repeat(10_000), 1_001, "n");
    expect(out.length).toBeLessThanOrEqual(1_001);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(out)).toBe(false);
  });
});

describe("stickyBody", () => {
  it("starts with the marker and fits a comment whatever the length", () => {
    const body = stickyBody("x\n".repeat(100_000), "Full report in the artifact.");
    expect(body.startsWith(`${STICKY_MARKER}\n`)).toBe(true);
    expect(body.length).toBeLessThanOrEqual(COMMENT_MAX_CHARS);
    expect(body).toContain("Full report in the artifact.");
  });
});
