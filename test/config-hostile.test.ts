/**
 * A config from a pull request is hostile input (README.md, "Configuration"): path keys stay inside
 * the repository (text and symbolic links), regular expressions run on RE2, numbers have ceilings,
 * the default memory store lives outside the repository, and a `.perfloop` link is not followed.
 */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../src/cli/main.ts";
import { ConfigError, checkConfigPaths, loadConfig, parseConfig } from "../src/core/config/load.ts";
import { outputDifference } from "../src/core/loop/compare.ts";
import { readMetric } from "../src/core/measure/run-once.ts";
import { defaultStorePath, resolveStorePath } from "../src/core/memory/session.ts";
import { currentKnobValue, KnobError, knobChange } from "../src/core/optimize/knobs.ts";
import { sink } from "./helpers/cli.ts";

const SECRET = "OUTSIDE-SECRET-91c2";
const BASE = { test: "t", benchmark: { command: "b" } };
let base: string;
let outside: string;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "perfloop-hostile-"));
  outside = path.join(base, "outside");
  await mkdir(outside);
  await writeFile(path.join(outside, "settings.py"), `SIZE = 64  # ${SECRET}\n`);
});
afterAll(() => rm(base, { recursive: true, force: true }));

/** A fresh repository directory with the given files (text) and symbolic links. */
async function repoWith(files: Record<string, string>, links: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(base, "repo-"));
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  for (const [rel, target] of Object.entries(links)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await symlink(target, path.join(dir, rel));
  }
  return dir;
}

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig({ ...BASE, ...raw });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

const literalKnob = (file: string, pattern = "SIZE = (\\d+)") => ({
  name: "size",
  values: [128],
  literal: { file, pattern },
});

describe("path keys stay inside the repository", () => {
  it("refuses literal.file through .., as an absolute path or under ~, naming the key", () => {
    expect(problems({ tune: [literalKnob("../outside/settings.py")] })).toEqual([
      "`tune.0.literal.file`: found \"../outside/settings.py\", expected a path relative to the repository root, without '..' (like \"src/settings.py\"); this one has a '..' segment",
    ]);
    expect(problems({ tune: [literalKnob("/etc/passwd")] })[0]).toMatch(
      /^`tune\.0\.literal\.file`: .*this one is absolute$/,
    );
    expect(problems({ tune: [literalKnob("~/.bashrc")] })[0]).toMatch(
      /^`tune\.0\.literal\.file`: .*starts with ~/,
    );
  });

  it("refuses memory.path ../.. and globs that leave the repository", () => {
    expect(problems({ memory: { path: "../../memory.sqlite" } })[0]).toMatch(
      /^`memory\.path`: found "\.\.\/\.\.\/memory\.sqlite", expected a path relative to the repository root/,
    );
    expect(problems({ paths: ["../../etc/**"] })).toEqual([
      "`paths.0`: found \"../../etc/**\", expected a glob relative to the repository root, without '..' (like \"src/**\"); this one has a '..' segment",
    ]);
    expect(problems({ protect: ["/etc/**"] })[0]).toMatch(/^`protect\.0`: .*is absolute$/);
    expect(problems({ benchmark: { command: "b", files: ["~/bench.py"] } })[0]).toMatch(
      /^`benchmark\.files\.0`: .*starts with ~/,
    );
  });

  it("refuses literal.file and memory.path that leave through a symbolic link, naming the key (loadConfig)", async () => {
    const config = [
      "test: t",
      "benchmark: {command: b}",
      "tune: [{name: size, values: [128], literal: {file: conf/settings.py, pattern: 'SIZE = (\\d+)'}}]",
      "memory: {path: store/memory.sqlite}",
    ].join("\n");
    const repo = await repoWith({ ".github/perfloop.yml": config }, { conf: outside, store: outside });
    const error = await loadConfig(repo).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(
        /^`tune\.0\.literal\.file`: found "conf\/settings\.py", expected a path that stays inside the repository; .*symbolic link/,
      ),
      expect.stringMatching(
        /^`memory\.path`: found "store\/memory\.sqlite", expected a path that stays inside the repository/,
      ),
    ]);
    expect((error as ConfigError).message).not.toContain(SECRET);
  });

  it("accepts paths inside the repository, also ones that do not exist yet", async () => {
    const repo = await repoWith({ "src/settings.py": "SIZE = 64\n" });
    const config = parseConfig({
      ...BASE,
      tune: [literalKnob("src/settings.py")],
      memory: { path: ".perfloop-memory/m.sqlite" },
    });
    expect(() => checkConfigPaths(config, repo)).not.toThrow();
  });

  it("refuses a config file linked out of the repository", async () => {
    await writeFile(path.join(outside, "perfloop.yml"), "test: t\nbenchmark: {command: b}\n");
    const repo = await repoWith({}, { ".github/perfloop.yml": path.join(outside, "perfloop.yml") });
    await expect(loadConfig(repo)).rejects.toThrow(/leads outside the repository through a symbolic link/);
  });

  it("at run time, a knob never reads a literal file through a link, .. or a FIFO (the Action parses without loadConfig)", async () => {
    const repo = await repoWith({}, { "settings.py": path.join(outside, "settings.py"), conf: outside });
    execFileSync("mkfifo", [path.join(repo, "fifo.py")]);
    for (const file of ["settings.py", "conf/settings.py", "fifo.py"]) {
      const [knob] = parseConfig({ ...BASE, tune: [literalKnob(file)] }).tune;
      if (!knob) throw new Error("no knob");
      const error = await knobChange(repo, { knob, value: "128" }).catch((e: unknown) => e);
      expect(error, file).toBeInstanceOf(KnobError);
      expect((error as Error).message).toMatch(new RegExp(`^knob "size": ${file} refused: `));
      expect((error as Error).message).not.toContain(SECRET);
      await expect(currentKnobValue(repo, knob)).rejects.toThrow(KnobError);
    }
    // A hand-built knob (no schema) with `..` is refused too.
    const [knob] = parseConfig({ ...BASE, tune: [literalKnob("settings.py")] }).tune;
    if (!knob || !("literal" in knob)) throw new Error("no knob");
    const escaped = { ...knob, literal: { ...knob.literal, file: "../outside/settings.py" } };
    await expect(knobChange(repo, { knob: escaped, value: "1" })).rejects.toThrow(/refused: .*'\.\.'/);
  });
});

describe("regular expressions run on RE2", () => {
  it("refuses backreferences and lookaround with a message naming the key and RE2", () => {
    expect(problems({ tune: [literalKnob("a.py", "(a)\\1")] })[0]).toMatch(
      /^`tune\.0\.literal\.pattern`: found "\(a\)\\\\1", expected a regular expression in RE2 syntax \(no backreferences, lookahead or lookbehind\) with one capture group; this one is not valid RE2 syntax \(invalid escape sequence/,
    );
    expect(
      problems({ benchmark: { command: "b", metric: { pattern: "(?=x)(\\d+)", direction: "lower" } } })[0],
    ).toMatch(/^`benchmark\.metric\.pattern`: .*RE2 syntax/);
    expect(problems({ tune: [literalKnob("a.py", "SIZE = \\d+")] })[0]).toMatch(/has no capture group$/);
  });

  it("a ^(a+)+$ knob pattern on a long 'aaaa…b' file finishes (no catastrophic backtracking)", async () => {
    const repo = await repoWith({ "long.txt": `${"a".repeat(200_000)}b\n` });
    const [knob] = parseConfig({ ...BASE, tune: [literalKnob("long.txt", "^(a+)+$")] }).tune;
    if (!knob) throw new Error("no knob");
    await expect(knobChange(repo, { knob, value: "1" })).rejects.toThrow(/matches nothing in long\.txt/);
  });

  it("a ^(a+)+$ metric pattern finishes on a long output, in readMetric and in the output gate", () => {
    const stdout = `${"a".repeat(200_000)}b\nresult 12\n`;
    expect(readMetric(stdout, "^(a+)+$")).toBeNull();
    const config = parseConfig({
      ...BASE,
      benchmark: { command: "b", metric: { pattern: "^(a+)+$", direction: "lower" } },
    });
    const out = { text: stdout, sha256: "x", bytes: stdout.length };
    expect(outputDifference(out, out, config, 1_000_000)).toBeNull();
  });

  it("keeps the semantics: first capture group of the last matching line with a number", () => {
    expect(readMetric("time 1.5 ms\nnoise\ntime 2.5 ms\ntime n/a ms\n", "time (\\S+) ms")).toBe(2.5);
    expect(readMetric("nothing here", "time (\\d+)")).toBeNull();
    expect(readMetric("\n\nscore=7", "^score=(\\d+)$")).toBe(7);
  });
});

describe("numeric keys have ceilings", () => {
  it("refuses output_limit 3e9 and other absurd numbers, naming the key and the bound", () => {
    expect(problems({ sandbox: { output_limit: 3e9 } })).toEqual([
      "`sandbox.output_limit`: found 3000000000, expected at most 67108864",
    ]);
    expect(
      problems({
        timeouts: { total: 1e9 },
        statistics: { bootstrap: 1e9 },
        repetitions: { warmup: 1e6 },
        model: { max_turns: 1e6, max_tokens: 1e12 },
        limits: { max_file_bytes: 1e12 },
        memory: { max_entries: 1e9 },
        benchmark: { command: "b", tolerance: 5 },
      }).sort(),
    ).toEqual(
      [
        "`timeouts.total`: found 1000000000, expected at most 86400",
        "`statistics.bootstrap`: found 1000000000, expected at most 1000000",
        "`repetitions.warmup`: found 1000000, expected at most 100",
        "`model.max_turns`: found 1000000, expected at most 200",
        "`model.max_tokens`: found 1000000000000, expected at most 100000000",
        "`limits.max_file_bytes`: found 1000000000000, expected at most 10000000",
        "`memory.max_entries`: found 1000000000, expected at most 100000",
        "`benchmark.tolerance`: found 5, expected at most 1",
      ].sort(),
    );
    const values = Array.from({ length: 101 }, (_, i) => i);
    expect(problems({ tune: [{ name: "k", values, env: "K" }] })[0]).toMatch(
      /^`tune\.0\.values`: .*at most 100 values/,
    );
  });
});

describe("the memory store", () => {
  it("defaults to the user's cache directory, outside the repository, one file per repository", async () => {
    const repo = await repoWith({});
    const other = await repoWith({});
    const cache = path.join(base, "cache");
    const memory = parseConfig(BASE).memory;
    expect(memory.path).toBeUndefined();
    const file = resolveStorePath(memory, repo, undefined, { XDG_CACHE_HOME: cache });
    expect(file.startsWith(path.join(cache, "perfloop") + path.sep)).toBe(true);
    expect(file).toMatch(/\/repo-\w+-[0-9a-f]{12}\/memory\.sqlite$/);
    expect(path.relative(repo, file).startsWith("..")).toBe(true);
    expect(resolveStorePath(memory, other, undefined, { XDG_CACHE_HOME: cache })).not.toBe(file);
    // Without XDG_CACHE_HOME: ~/.cache; a relative XDG_CACHE_HOME is ignored (XDG spec).
    expect(defaultStorePath(repo, { HOME: "/home/u", XDG_CACHE_HOME: "rel" })).toMatch(
      /^\/home\/u\/\.cache\/perfloop\/repo-/,
    );
  });

  it("never lands inside the repository, even when the repository is the home directory", async () => {
    const home = await repoWith({});
    const file = defaultStorePath(home, { HOME: home });
    expect(path.relative(home, file).startsWith("..")).toBe(true);
  });

  it("memory.path stays inside the repository; --memory / the Action's override may point anywhere", async () => {
    const repo = await repoWith({}, { store: outside });
    const inside = parseConfig({ ...BASE, memory: { path: "state/memory.sqlite" } }).memory;
    expect(resolveStorePath(inside, repo)).toBe(path.join(repo, "state/memory.sqlite"));
    const linked = parseConfig({ ...BASE, memory: { path: "store/memory.sqlite" } }).memory;
    expect(() => resolveStorePath(linked, repo)).toThrow(ConfigError);
    expect(() => resolveStorePath(linked, repo)).toThrow(/`memory\.path`/);
    expect(resolveStorePath(linked, repo, "/var/lib/perfloop/x.sqlite")).toBe("/var/lib/perfloop/x.sqlite");
  });
});

describe("the CLI", () => {
  const CONFIG = "test: 'true'\nbenchmark: {command: 'true'}\n";

  it("refuses a .perfloop symbolic link as the default --out, with exit 2 and the fix", async () => {
    const repo = await repoWith({ ".github/perfloop.yml": CONFIG }, { ".perfloop": outside });
    const err = sink();
    expect(await main(["profile", repo], { out: sink(), err, env: {} })).toBe(2);
    expect(err.text).toMatch(
      /\.perfloop is a symbolic link to .*outside: .*Pass --out DIR explicitly, or remove the link/,
    );
    expect(await readFile(path.join(outside, "settings.py"), "utf8")).toContain("SIZE = 64");
  });

  it("exits 2 when a knob's literal.file leaves the repository through a link", async () => {
    const config = `${CONFIG}tune: [{name: k, values: [1], literal: {file: conf/settings.py, pattern: 'SIZE = (\\d+)'}}]\n`;
    const repo = await repoWith({ ".github/perfloop.yml": config }, { conf: outside });
    const err = sink();
    expect(await main(["optimize", repo], { out: sink(), err, env: {} })).toBe(2);
    expect(err.text).toMatch(/`tune\.0\.literal\.file`: found "conf\/settings\.py"/);
  });

  it("stats reads the default store from the user's cache directory", async () => {
    const repo = await repoWith({ ".github/perfloop.yml": CONFIG });
    const cache = path.join(base, "stats-cache");
    const err = sink();
    expect(await main(["stats", repo], { out: sink(), err, env: { XDG_CACHE_HOME: cache } })).toBe(1);
    expect(err.text).toContain(`no memory store at ${path.join(cache, "perfloop")}`);
  });
});
