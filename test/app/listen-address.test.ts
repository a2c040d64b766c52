/** Where the App server listens: loopback unless HOST is set; PORT validated. */
import { describe, expect, it } from "vitest";
import { DEFAULT_HOST, EnvironmentError, readListenAddress } from "../../src/app/env.ts";

describe("readListenAddress", () => {
  it("defaults to 127.0.0.1:3000 when HOST and PORT are unset or empty", () => {
    expect(DEFAULT_HOST).toBe("127.0.0.1");
    expect(readListenAddress({})).toEqual({ host: "127.0.0.1", port: 3000 });
    expect(readListenAddress({ HOST: "", PORT: "" })).toEqual({ host: "127.0.0.1", port: 3000 });
  });

  it("takes HOST and PORT when set (the Docker image sets HOST=0.0.0.0)", () => {
    expect(readListenAddress({ HOST: "0.0.0.0", PORT: "8080" })).toEqual({ host: "0.0.0.0", port: 8080 });
  });

  it("refuses a PORT that is not a TCP port, without echoing it", () => {
    for (const PORT of ["http", "70000", "-1", "3.5"]) {
      expect(() => readListenAddress({ PORT })).toThrow(EnvironmentError);
      expect(() => readListenAddress({ PORT })).not.toThrow(new RegExp(PORT.replace(".", "\\.")));
    }
  });
});
