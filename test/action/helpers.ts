/**
 * Test helpers for the Action: a "server" git repository of the bundled example (the default branch
 * with a fast test config, and a PR branch whose own config is broken — the Action must read the
 * default branch's), the environment the Actions runtime gives a step (INPUT_* from action.yml's
 * defaults, GITHUB_*, RUNNER_TEMP, the summary and output files), a recording wrapper around the real
 * `@actions/core`, and readers for GITHUB_OUTPUT and the evidence bundle.
 */
import { execFileSync } from "node:child_process";
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import * as actionsCore from "@actions/core";
import { parse as parseYaml } from "yaml";
import type { ActionCore } from "../../src/action/deps.ts";
import { parseResults } from "../../src/core/evidence/results-schema.ts";
import { createEvidenceWriter } from "../../src/core/evidence/writer.ts";
import type { runPerfloop } from "../../src/core/loop/run.ts";
import { EXAMPLE_DIR, MODEL_URL } from "../helpers/example.ts";

/** The repository root (action.yml, dist/, .github/workflows). */
export const ROOT = path.resolve(import.meta.dirname, "../..");
/** The fixture repository is `octo/textstats`. */
export const OWNER = "octo";
/** See {@link OWNER}. */
export const REPO = "textstats";
/** GITHUB_API_URL of the tests (nock intercepts it). */
export const API = "https://api.github.com";
/** The model key and the token given as inputs: the bundle is grepped for both. */
export const API_KEY = "sk-perfloop-test-secret-0123456789";
/** See {@link API_KEY}. */
export const TOKEN = "ghs_perfloopTestToken0123456789abcdef";

/**
 * The example's config made fast (as test/helpers/example.ts's testConfig, with the CV limit raised
 * further: these tests check the Action, not the machine's quietness), with the knob and the model
 * endpoint. `setup` starts with `env`, so setup.log shows the environment user commands get.
 */
export const CONFIG_YAML = `setup: env; python3 gen_corpus.py corpus.txt 12000
test: python3 -m unittest discover -s tests -q
benchmark:
  command: python3 -m textstats corpus.txt
  output: exact
paths: ["textstats/**"]
rounds: 3
min_improvement: 5%
repetitions: { warmup: 1, runs: 6 }
statistics: { bootstrap: 2000, max_cv: 60 }
model: { name: test-model, base_url: "${MODEL_URL}/v1", max_turns: 4, candidates: 1 }
memory: { embedding_model: null }
tune:
  - name: stem-cache
    literal: { file: textstats/settings.py, pattern: "STEM_CACHE_SIZE = (\\\\d+)" }
    values: [256, 1024, 4096]
    helps: [cpu-single-thread]
`;

/** The fake GitHub: where things live on disk. */
export interface Fixture {
  root: string;
  /** GITHUB_SERVER_URL (file://…): the repository is `<serverUrl>/octo/textstats.git`. */
  serverUrl: string;
  /** The repository's directory (a non-bare repo; `main` checked out). */
  repoDir: string;
  /** main's tip: the workflow's commit (GITHUB_SHA). */
  baseSha: string;
  /** The PR branch's tip (its config is broken on purpose). */
  headSha: string;
  /** The workflow's own checkout (GITHUB_WORKSPACE), which must stay untouched. */
  workspace: string;
  runnerTemp: string;
  summaryFile: string;
  outputFile: string;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8" }).trim();
}

/** Creates the fixture: repository with main and a PR branch `feature`, workspace, runner temp. */
export async function makeFixture(): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), "perfloop-action-"));
  const repoDir = path.join(root, "server", OWNER, `${REPO}.git`);
  await cp(EXAMPLE_DIR, repoDir, { recursive: true, filter: (src) => !src.endsWith("corpus.txt") });
  await writeFile(path.join(repoDir, ".github/perfloop.yml"), CONFIG_YAML);
  git(repoDir, "init", "-q", "-b", "main");
  git(repoDir, "config", "user.email", "dev@example.com");
  git(repoDir, "config", "user.name", "dev");
  git(repoDir, "add", "-A");
  git(repoDir, "commit", "-q", "-m", "base");
  const baseSha = git(repoDir, "rev-parse", "HEAD");
  git(repoDir, "checkout", "-q", "-b", "feature");
  await writeFile(path.join(repoDir, "textstats/__init__.py"), "# changed by the pull request\n", {
    flag: "a",
  });
  // A pull request that edits its own config: were it read, the baseline tests would fail.
  await writeFile(
    path.join(repoDir, ".github/perfloop.yml"),
    CONFIG_YAML.replace(/^test: .*$/m, "test: exit 3"),
  );
  git(repoDir, "commit", "-q", "-am", "pull request");
  const headSha = git(repoDir, "rev-parse", "HEAD");
  git(repoDir, "checkout", "-q", "main");

  const workspace = path.join(root, "workspace");
  await mkdir(workspace, { recursive: true });
  await writeFile(path.join(workspace, "untouched.txt"), "the workflow's own checkout\n");
  const runnerTemp = path.join(root, "runner-temp");
  await mkdir(runnerTemp, { recursive: true });
  return {
    root,
    serverUrl: `file://${path.join(root, "server")}`,
    repoDir,
    baseSha,
    headSha,
    workspace,
    runnerTemp,
    summaryFile: path.join(root, "summary.md"),
    outputFile: path.join(root, "output.txt"),
  };
}

/** action.yml's input defaults, as the runtime sets them (expressions such as `${{ github.token }}` left out). */
export async function actionDefaults(): Promise<Record<string, string>> {
  const action = parseYaml(await readFile(path.join(ROOT, "action.yml"), "utf8")) as {
    inputs: Record<string, { default?: string }>;
  };
  return Object.fromEntries(
    Object.entries(action.inputs).map(([name, spec]) => [
      name,
      String(spec.default ?? "").includes("${{") ? "" : String(spec.default ?? ""),
    ]),
  );
}

/**
 * The step's environment: `inputs` over action.yml's defaults as INPUT_<NAME> (the runtime's naming:
 * upper case, spaces to `_`, dashes kept), and the GITHUB_* / RUNNER_* variables of a workflow run.
 */
export async function stepEnv(
  fx: Fixture,
  inputs: Record<string, string>,
  extra: Record<string, string> = {},
): Promise<Record<string, string>> {
  const merged = { ...(await actionDefaults()), ...inputs };
  await writeFile(fx.summaryFile, "");
  await writeFile(fx.outputFile, "");
  return {
    ...Object.fromEntries(
      Object.entries(merged).map(([k, v]) => [`INPUT_${k.replace(/ /g, "_").toUpperCase()}`, v]),
    ),
    GITHUB_ACTIONS: "true",
    GITHUB_REPOSITORY: `${OWNER}/${REPO}`,
    GITHUB_SERVER_URL: fx.serverUrl,
    GITHUB_API_URL: API,
    GITHUB_RUN_ID: "4242",
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_SHA: fx.baseSha,
    GITHUB_ACTOR: "octocat",
    GITHUB_EVENT_NAME: "workflow_dispatch",
    GITHUB_WORKSPACE: fx.workspace,
    RUNNER_TEMP: fx.runnerTemp,
    GITHUB_STEP_SUMMARY: fx.summaryFile,
    GITHUB_OUTPUT: fx.outputFile,
    ...extra,
  };
}

/** Sets `vars` in process.env (where `@actions/core` reads inputs); returns the function that restores it. */
export function setEnv(vars: Record<string, string>): () => void {
  const saved = new Map(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}

/** The real `@actions/core`, with failures, masked values and group titles recorded. */
export function recordingCore(): ActionCore & { failures: string[]; masked: string[]; groups: string[] } {
  const failures: string[] = [];
  const masked: string[] = [];
  const groups: string[] = [];
  return {
    ...actionsCore,
    failures,
    masked,
    groups,
    setFailed(message: string | Error) {
      failures.push(String(message instanceof Error ? message.message : message));
    },
    setSecret(secret: string) {
      masked.push(secret);
      actionsCore.setSecret(secret);
    },
    startGroup(name: string) {
      groups.push(name);
      actionsCore.startGroup(name);
    },
  };
}

/** Parses a GITHUB_OUTPUT file (`name<<delimiter … delimiter` blocks). */
export async function readOutputs(file: string): Promise<Record<string, string>> {
  const text = await readFile(file, "utf8");
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm)) if (m[1]) out[m[1]] = m[3] ?? "";
  return out;
}

/** Every file under `dir` with its text (relative path → contents). */
export async function readTree(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) {
      const file = path.join(e.parentPath, e.name);
      files.set(path.relative(dir, file), await readFile(file, "latin1"));
    }
  return files;
}

/** `git` in the fixture's repository (for assertions on pushed branches and blobs). */
export function repoGit(fx: Fixture, ...args: string[]): string {
  return git(fx.repoDir, ...args);
}

/**
 * A stand-in for `runPerfloop` that replays a recorded bundle (reusing a real loop run of an earlier
 * test, as the loop takes 15–30 s): writes its files into `outDir` through the caller's evidence
 * writer (as the loop does; the Action publishes the writer's copies) and gives results.json the new
 * request.
 */
export function replayLoop(bundleDir: string): typeof runPerfloop {
  return async (options) => {
    options.onEvent?.({ type: "phase", phase: "replay", detail: bundleDir });
    const evidence = options.evidence ?? (await createEvidenceWriter(options.outDir));
    const recorded = JSON.parse(await readFile(path.join(bundleDir, "results.json"), "utf8")) as Record<
      string,
      unknown
    >;
    const results = parseResults({ ...recorded, request: options.request ?? { trigger: "cli" } });
    for (const e of await readdir(bundleDir, { recursive: true, withFileTypes: true })) {
      const name = path.relative(bundleDir, path.join(e.parentPath, e.name));
      if (e.isFile() && name !== "results.json")
        await evidence.text(name, await readFile(path.join(bundleDir, name), "utf8"));
    }
    await evidence.json("results.json", results);
    return results;
  };
}
