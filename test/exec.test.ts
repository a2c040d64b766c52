import { execFileSync, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { CappedBuffer } from "../src/core/exec/capped-buffer.ts";
import { buildChildEnv } from "../src/core/exec/env.ts";
import { runCommand, succeeded } from "../src/core/exec/run-command.ts";
import { noSandbox, sandboxFor } from "./helpers/sandbox.ts";

const opts = {
  cwd: "/tmp",
  env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  timeoutMs: 10_000,
  outputLimit: 10_000,
  isolation: await noSandbox(),
};

describe("allow-listed environment", () => {
  it("passes harmless variables and never secrets, even when asked", () => {
    const env = buildChildEnv(
      {
        PATH: "/bin",
        HOME: "/h",
        LC_ALL: "C",
        GITHUB_TOKEN: "ghs_x",
        OPENAI_API_KEY: "sk",
        DB_PASSWORD: "p",
        AWS_SECRET_ACCESS_KEY: "a",
        RANDOM_VAR: "r",
        MY_SETTING: "m",
      },
      ["MY_SETTING", "GITHUB_TOKEN"],
      { KNOB: "4", SOME_TOKEN: "t" },
    );
    expect(env).toMatchObject({
      PATH: "/bin",
      HOME: "/h",
      LC_ALL: "C",
      MY_SETTING: "m",
      KNOB: "4",
      PYTHONHASHSEED: "0",
    });
    for (const name of [
      "GITHUB_TOKEN",
      "OPENAI_API_KEY",
      "DB_PASSWORD",
      "AWS_SECRET_ACCESS_KEY",
      "RANDOM_VAR",
      "SOME_TOKEN",
    ])
      expect(env).not.toHaveProperty(name);
  });

  it("passes RUNNER_TRACKING_ID, so the Actions runner's clean-up still finds what a command started", () => {
    expect(buildChildEnv({ RUNNER_TRACKING_ID: "github_123" })).toMatchObject({
      RUNNER_TRACKING_ID: "github_123",
    });
  });
});

describe("runCommand", () => {
  it("records exit code and both streams", async () => {
    const result = await runCommand("echo out; echo err >&2; exit 3", opts);
    expect(result).toMatchObject({
      exitCode: 3,
      signal: null,
      timedOut: false,
      stdout: "out\n",
      stderr: "err\n",
      truncated: false,
    });
    expect(succeeded(result)).toBe(false);
  });

  it("kills the whole process tree on timeout, background children included", async () => {
    const marker = `perfloop-test-${process.pid}-${Date.now()}`;
    const result = await runCommand(`(sleep 30; echo ${marker}) & sleep 30`, { ...opts, timeoutMs: 300 });
    expect(result.timedOut).toBe(true);
    expect(result.durationMs).toBeLessThan(5000);
    const left = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.includes("sleep 30") && l.includes(marker));
    expect(left).toEqual([]);
  });

  it("caps captured output, keeping head and tail", async () => {
    const result = await runCommand("seq 1 100000", { ...opts, outputLimit: 1000 });
    expect(result.truncated).toBe(true);
    expect(result.stdout.length).toBeLessThan(1200);
    expect(result.stdout.startsWith("1\n2\n3\n")).toBe(true);
    expect(result.stdout.endsWith("99999\n100000\n")).toBe(true);
    expect(result.stdout).toMatch(/\[… perfloop cut \d+ bytes …\]/);
  });

  it("runs without network in the sandbox", async () => {
    const isolation = await sandboxFor({ network: "off" });
    expect(isolation.networkOff).toBe(true);
    const result = await runCommand("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", {
      ...opts,
      isolation,
    });
    expect(result.stdout.trim()).toBe("lo"); // a fresh network namespace has only loopback
  });
});

describe("CappedBuffer", () => {
  it("keeps everything under the limit", () => {
    const buffer = new CappedBuffer(10);
    buffer.push(Buffer.from("abc"));
    buffer.push(Buffer.from("def"));
    expect(buffer.toString()).toBe("abcdef");
    expect(buffer.truncated).toBe(false);
  });
});

describe("runCommand and background children", () => {
  it("without a sandbox, a setsid daemon holding the output pipes costs seconds, not the timeout", async () => {
    // The daemon escapes the command's process group by design; the test ends it itself.
    const daemon = "sleep 30.293";
    try {
      const result = await runCommand(`setsid sh -c '${daemon}' & echo started`, {
        ...opts,
        timeoutMs: 60_000,
      });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false });
      expect(result.stdout).toContain("started");
      expect(result.durationMs).toBeLessThan(20_000);
    } finally {
      spawnSync("pkill", ["-f", `^${daemon}$`]);
    }
  });

  it("ends when the command exits, killing what it left running, instead of waiting for the timeout", async () => {
    const result = await runCommand("echo hi; sleep 30 &", { ...opts, timeoutMs: 20_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, stdout: "hi\n" });
    expect(result.durationMs).toBeLessThan(5000);
  });
});
