/**
 * The App's config: only the `app:` section is validated here (in perfloop's words); every other
 * key passes through to the runner, which validates it. YAML errors from Probot's config loader
 * (the real loader, through ProbotOctokit and nock) keep their line, column and a snippet.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import nock from "nock";
import { ProbotOctokit } from "probot";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadRepoConfig, splitConfig } from "../../src/app/config.ts";
import { ConfigError, parseConfigText } from "../../src/core/config/load.ts";

const core = { test: "pytest -q", benchmark: { command: "python bench.py" } };
const SURFACE = path.resolve(import.meta.dirname, "../fixtures/github-surface");

function problems(raw: unknown): string[] {
  try {
    splitConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

beforeEach(() => {
  nock.cleanAll();
  nock.disableNetConnect();
});
afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
});

describe("splitConfig", () => {
  it("fills the app defaults and keeps the other keys as read", () => {
    const { app, core: c } = splitConfig(core);
    expect(app).toEqual({
      label: "perfloop:optimize",
      workflow: "perfloop.yml",
      allow_bots: [],
      allow_forks: false,
      draft: true,
      stale_after_hours: 24,
      gate: false,
    });
    expect(c).toEqual(core);
    expect(splitConfig({ ...core, app: { allow_bots: ["renovate[bot]"], draft: false } }).app).toMatchObject({
      allow_bots: ["renovate[bot]"],
      draft: false,
    });
  });

  it("passes keys only the runner knows, and leaves the other keys' problems to the runner", () => {
    const raw = { ...core, a_runner_only_key: { enabled: true }, rounds: "many", app: { label: "perf" } };
    const { core: c, app } = splitConfig(raw);
    expect(c).toMatchObject({ a_runner_only_key: { enabled: true }, rounds: "many" });
    expect(app.label).toBe("perf");
    expect(problems({ benchmark: {} })).toEqual([]);
  });

  it("names every bad `app:` key, what was found and what is expected, in perfloop's words", () => {
    const found = problems({
      ...core,
      app: { label: "", workflow: "../x.yml", lable: "x", allow_forks: "yes", stale_after_hours: 0 },
    });
    expect(found).toHaveLength(5);
    expect(found).toEqual(
      expect.arrayContaining([
        '`app.label`: found "", expected a label name of 1 to 50 characters, like perfloop:optimize',
        '`app.workflow`: found "../x.yml", expected a workflow file name in .github/workflows, like perfloop.yml',
        "unknown key `lable` (did you mean `label`?) in `app`: the keys are label, workflow, allow_bots, allow_forks, draft, stale_after_hours, gate",
        '`app.allow_forks`: found "yes", expected true or false',
        "`app.stale_after_hours`: found 0, expected a number of hours above 0 and at most 336 (14 days)",
      ]),
    );
    expect(problems({ ...core, app: { allow_bots: ["renovate[bot]", "not a login"] } })).toEqual([
      '`app.allow_bots.1`: found "not a login", expected a bot login like renovate[bot]',
    ]);
    expect(problems({ ...core, app: "yes" })).toEqual([
      '`app`: found "yes", expected a mapping of the keys label, workflow, allow_bots, allow_forks, draft, stale_after_hours, gate',
    ]);
    expect(problems(["test"])[0]).toBe(
      'the file must be a YAML mapping of keys (like `test: pytest -q`), not ["test"]',
    );
  });
});

describe("loadRepoConfig", () => {
  /** Probot's own config loader, called as `context.config("perfloop.yml")` calls it. */
  function probotRead(body: string | null) {
    const api = nock("https://api.github.com");
    if (body === null) {
      api.get("/repos/o/r/contents/.github%2Fperfloop.yml").reply(404, { message: "Not Found" });
      api.get("/repos/o/.github/contents/.github%2Fperfloop.yml").reply(404, { message: "Not Found" });
    } else api.get("/repos/o/r/contents/.github%2Fperfloop.yml").reply(200, body);
    const octokit = new ProbotOctokit({ auth: { token: "t" }, retry: { enabled: false } });
    // What context.config("perfloop.yml") does with the loader's answer (probot/lib/context.js).
    return async () => {
      const { config, files } = await octokit.config.get({
        owner: "o",
        repo: "r",
        path: ".github/perfloop.yml",
      });
      return files.some((f) => f.config !== null) ? config : null;
    };
  }

  it("keeps a YAML error's line, column and a snippet with a caret", async () => {
    const yaml = readFileSync(path.join(SURFACE, "bad-indent.perfloop.yml"), "utf8");
    const error = await loadRepoConfig(probotRead(yaml)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      [
        "YAML syntax error at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ] (check the indentation, and that every [ or { opened above is closed)",
        "      3 |   command: [python, bench.py",
        '    > 4 | paths: ["src/**"]',
        "        | ^",
      ].join("\n"),
    ]);
  });

  it("reports a missing file, a loader error and passes API failures through", async () => {
    await expect(loadRepoConfig(probotRead(null))).rejects.toThrow(/not found on the default branch/);
    await expect(
      loadRepoConfig(async () =>
        Promise.reject(
          new Error("[@probot/octokit-plugin-config] Configuration could not be parsed (invalid YAML)"),
        ),
      ),
    ).rejects.toThrow(/cannot be parsed/);
    const apiError = Object.assign(new Error("Server Error"), { status: 500 });
    await expect(loadRepoConfig(async () => Promise.reject(apiError))).rejects.toBe(apiError);
  });
});

describe("YAML errors of the CLI and the Action (core's parseConfigText)", () => {
  it("show line, column and the snippet, indented under the problem in the message", () => {
    const yaml = readFileSync(path.join(SURFACE, "bad-indent.perfloop.yml"), "utf8");
    expect(() => parseConfigText(yaml)).toThrow(
      [
        ".github/perfloop.yml is invalid:",
        "  - YAML syntax error at line 4, column 1: Flow sequence in block collection must be sufficiently indented and end with a ] (check the indentation, and that every [ or { opened above is closed)",
        "          3 |   command: [python, bench.py",
        '        > 4 | paths: ["src/**"]',
        "            | ^",
      ].join("\n"),
    );
    const tabs = (() => {
      try {
        parseConfigText("test: t\n\tbenchmark: b\n");
      } catch (error) {
        return (error as ConfigError).problems[0];
      }
    })();
    expect(tabs).toBe(
      [
        "YAML syntax error at line 2, column 1: Tabs are not allowed as indentation (indent with spaces: YAML does not allow tabs there)",
        "      1 | test: t",
        "    > 2 |  benchmark: b",
        "        | ^",
      ].join("\n"),
    );
  });
});
