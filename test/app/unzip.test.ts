/** The in-memory zip reader: stored and deflated entries, caps, corruption. */
import { describe, expect, it } from "vitest";
import { extractEntries, ZipError } from "../../src/app/unzip.ts";
import { zip } from "./helpers.ts";

const limits = new Map([
  ["results.json", 1_000],
  ["final.patch", 1_000],
]);

describe("extractEntries", () => {
  it("reads stored and deflated entries and skips the others", () => {
    for (const method of [0, 8] as const) {
      const files = extractEntries(
        zip({ "results.json": '{"a":1}', "perf_raw.json": "[]", "final.patch": "diff" }, method),
        limits,
      );
      expect(files.get("results.json")?.toString()).toBe('{"a":1}');
      expect(files.get("final.patch")?.toString()).toBe("diff");
      expect(files.has("perf_raw.json")).toBe(false);
    }
  });

  it("refuses an entry over its limit, by header and by inflated size (a zip bomb)", () => {
    expect(() => extractEntries(zip({ "results.json": "x".repeat(2_000) }), limits)).toThrow(
      /over the limit/,
    );
    const bomb = zip({ "results.json": "x".repeat(2_000) });
    // Lie in the central directory: claim 10 bytes uncompressed.
    const cd = bomb.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    bomb.writeUInt32LE(10, cd + 24);
    expect(() => extractEntries(bomb, limits)).toThrow(ZipError);
  });

  it("refuses garbage, truncation and a CRC mismatch", () => {
    expect(() => extractEntries(Buffer.from("not a zip"), limits)).toThrow(/not a zip/);
    const good = zip({ "results.json": "{}" }, 0);
    expect(() => extractEntries(good.subarray(0, good.length - 30), limits)).toThrow(ZipError);
    const flipped = Buffer.from(good);
    flipped[30 + "results.json".length] = "[".charCodeAt(0);
    expect(() => extractEntries(flipped, limits)).toThrow(/CRC-32/);
  });
});
