import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfigText } from "../src/core/config/load.ts";

function problems(text: string): string[] {
  try {
    parseConfigText(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("fills documented defaults", () => {
    const config = parseConfigText("test: pytest\nbenchmark:\n  command: python bench.py\n");
    expect(config.min_improvement).toBe(5);
    expect(config.rounds).toBe(5);
    expect(config.repetitions).toEqual({ warmup: 1, runs: 10 });
    expect(config.statistics).toMatchObject({ alpha: 0.01, confidence: 0.95, max_cv: 10 });
    expect(config.benchmark.output).toBe("exact");
    expect(config.sandbox.network).toBe("off");
    expect(config.paths).toEqual(["**/*"]);
  });

  it('reads percentages written as 7, "7%" or 7%', () => {
    for (const value of ["7", '"7%"', "7%"])
      expect(
        parseConfigText(`test: t\nbenchmark: {command: b}\nmin_improvement: ${value}`).min_improvement,
      ).toBe(7);
  });

  it('reads a quoted bare number as percent too ("10" is 10 %), and refuses a fraction below 1 with a hint', () => {
    expect(
      parseConfigText('test: t\nbenchmark: {command: b}\nstatistics: {max_cv: "10"}').statistics.max_cv,
    ).toBe(10);
    expect(
      parseConfigText('test: t\nbenchmark: {command: b}\nstatistics: {max_cv: "0.5%"}').statistics.max_cv,
    ).toBe(0.5);
    expect(problems("test: t\nbenchmark: {command: b}\nstatistics: {max_cv: 0.1}")).toEqual([
      '`statistics.max_cv`: found 0.1, expected a percentage (this looks like a fraction: write 10% for 10 percent, or "0.1%" if you mean 0.1 percent)',
    ]);
    expect(problems("test: t\nbenchmark: {command: b}\nmin_improvement: '0.05'")[0]).toMatch(
      /write 5% for 5 percent/,
    );
    // 0 stays allowed where the key allows it (no minimum improvement).
    expect(parseConfigText("test: t\nbenchmark: {command: b}\nmin_improvement: 0").min_improvement).toBe(0);
  });

  it("names the key, what was found and what is expected", () => {
    expect(problems("test: 1\nbenchmark: {command: x}\nrounds: many")).toEqual([
      "`test`: found 1, expected string",
      '`rounds`: found "many", expected number',
    ]);
  });

  it("refuses unknown keys at any depth instead of ignoring them", () => {
    expect(problems("test: t\nbenchmark: {command: b, comand: c}\nroudns: 3")).toEqual([
      'unknown key `comand` in `benchmark`: remove or rename (keys are listed in README.md, "Configuration")',
      'unknown key `roudns` at the top level: remove or rename (keys are listed in README.md, "Configuration")',
    ]);
  });

  it("explains a knob that is neither env nor literal", () => {
    const [problem] = problems("test: t\nbenchmark: {command: b}\ntune: [{name: k, values: [1]}]");
    expect(problem).toMatch(/^`tune\.0`: found .* either `env` or `literal: \{file, pattern\}`/);
  });

  it("rejects an invalid regular expression in a metric, saying the syntax is RE2", () => {
    const [problem] = problems(
      "test: t\nbenchmark: {command: b, metric: {pattern: '([0-9]', direction: higher}}",
    );
    expect(problem).toMatch(
      /^`benchmark\.metric\.pattern`: .*a regular expression in RE2 syntax .*not valid RE2 syntax \(missing closing \)/,
    );
  });

  it("leaves memory.path unset by default: the store lives outside the repository (docs/memory.md)", () => {
    expect(parseConfigText("test: t\nbenchmark: {command: b}").memory.path).toBeUndefined();
  });

  it("reports YAML syntax errors with line and column", () => {
    const [problem] = problems("test: t\nbenchmark: [\n");
    expect(problem).toMatch(/^YAML syntax error at line \d+, column \d+/);
  });

  it("says where it looked when the file is missing, and what is required when it is empty", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-config-"));
    await expect(loadConfig(dir)).rejects.toThrow(/cannot read .*\.github\/perfloop\.yml: ENOENT/);
    await mkdir(path.join(dir, ".github"));
    await writeFile(path.join(dir, ".github/perfloop.yml"), "");
    await expect(loadConfig(dir)).rejects.toThrow(/empty: it needs at least `test` and `benchmark.command`/);
  });
});
