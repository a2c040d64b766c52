/** The App's config: the `app:` section validated here, the core keys by the core schema. */
import { describe, expect, it } from "vitest";
import { loadRepoConfig, splitConfig } from "../../src/app/config.ts";
import { ConfigError } from "../../src/core/config/load.ts";

const core = { test: "pytest -q", benchmark: { command: "python bench.py" } };

function problems(raw: unknown): string[] {
  try {
    splitConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("splitConfig", () => {
  it("fills the app defaults and keeps the core keys", () => {
    const { app, core: c } = splitConfig(core);
    expect(app).toEqual({
      label: "perfloop:optimize",
      workflow: "perfloop.yml",
      allow_bots: [],
      allow_forks: false,
      draft: true,
      stale_after_hours: 24,
    });
    expect(c.test).toBe("pytest -q");
    expect(splitConfig({ ...core, app: { allow_bots: ["renovate[bot]"], draft: false } }).app).toMatchObject({
      allow_bots: ["renovate[bot]"],
      draft: false,
    });
  });

  it("names the keys of both halves", () => {
    const found = problems({ benchmark: {}, app: { label: "", workflow: "../x.yml", colour: "red" } });
    expect(found.join("\n")).toContain("`app.label`");
    expect(found.join("\n")).toContain("`app.workflow`");
    expect(found.join("\n")).toContain("`colour`");
    expect(found.join("\n")).toContain("`test`");
    expect(found.join("\n")).toContain("`benchmark.command`");
  });

  it("reports a missing file and a YAML error", async () => {
    expect(problems(null)[0]).toContain("not found on the default branch");
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
