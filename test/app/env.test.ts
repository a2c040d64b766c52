/** Start-up checks: no production start without a webhook secret. */
import { describe, expect, it } from "vitest";
import { EnvironmentError, readEnvironment } from "../../src/app/env.ts";

describe("readEnvironment", () => {
  it("refuses production without WEBHOOK_SECRET, and never echoes values", () => {
    expect(() => readEnvironment({ NODE_ENV: "production" })).toThrow(EnvironmentError);
    expect(() => readEnvironment({ NODE_ENV: "production", WEBHOOK_SECRET: "short" })).toThrow(
      /WEBHOOK_SECRET/,
    );
    try {
      readEnvironment({ NODE_ENV: "production", WEBHOOK_SECRET: "s3cr3t" });
    } catch (error) {
      expect((error as Error).message).not.toContain("s3cr3t");
    }
    expect(
      readEnvironment({ NODE_ENV: "production", WEBHOOK_SECRET: "a-long-enough-secret", APP_ID: "123" }),
    ).toEqual({ appId: 123 });
  });

  it("allows development without a secret and validates APP_ID", () => {
    expect(readEnvironment({})).toEqual({});
    expect(() => readEnvironment({ APP_ID: "abc" })).toThrow(/APP_ID/);
  });
});
