// Folder-driven scenarios for the patch pipeline, laid out like Codex's apply-patch crate
// (codex-rs/apply-patch/tests/fixtures/scenarios): each test/fixtures/patch/<scenario>/ holds
// input/ (the tree before), expected/ (the tree after; absent when the patch must fail), patch (the
// text a model submitted) and expect.json ({ error: "parse" | "apply" | "policy" | null, rules,
// policy?, symlinks?, messageIncludes? }). Pipeline: parse, policy on the parsed paths, compute in
// memory, policy on the computed changes, write.
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyPatch, computePatchedFiles, PatchApplyError, repoFileReader } from "../src/core/patch/apply.ts";
import { PatchParseError, parsePatch } from "../src/core/patch/parse.ts";
import {
  changesFromPatch,
  checkPatchPolicy,
  type PatchPolicy,
  type PolicyRule,
} from "../src/core/patch/policy.ts";

type Expect = {
  error: "parse" | "apply" | "policy" | null;
  rules?: PolicyRule[];
  policy?: Partial<PatchPolicy>;
  symlinks?: Record<string, string>;
  messageIncludes?: string[];
};

type Outcome = { error: Expect["error"]; rules: PolicyRule[]; message: string };

const FIXTURES = join(import.meta.dirname, "fixtures", "patch");
const DEFAULT_POLICY: PatchPolicy = {
  paths: ["**"],
  protect: [],
  maxFiles: 20,
  maxChangedLines: 1000,
  maxFileBytes: 1_000_000,
};
const temps: string[] = [];

afterAll(async () => {
  await Promise.all(temps.map((t) => rm(t, { recursive: true, force: true })));
});

/** Regular files under `dir` (symlinks and empty directories ignored), path → bytes. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string) => {
    const entries = await readdir(join(dir, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) out.set(child, await readFile(join(dir, child)));
    }
  };
  await walk("");
  return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
}

function asText(tree: Map<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...tree].map(([p, b]) => [p, JSON.stringify(b.toString("latin1"))]));
}

/** Runs the pipeline on `root`; returns what failed, if anything. */
async function run(root: string, text: string, policy: PatchPolicy): Promise<Outcome> {
  let patch: ReturnType<typeof parsePatch>;
  try {
    patch = parsePatch(text);
  } catch (error) {
    if (error instanceof PatchParseError) return { error: "parse", rules: [], message: error.message };
    throw error;
  }
  const early = await checkPatchPolicy(root, changesFromPatch(patch), policy);
  const fail = (v: typeof early): Outcome => ({
    error: "policy",
    rules: [...new Set(v.map((x) => x.rule))].sort(),
    message: v.map((x) => x.message).join("\n"),
  });
  if (early.length > 0) return fail(early);
  try {
    const computed = await computePatchedFiles(repoFileReader(root), patch);
    const late = await checkPatchPolicy(root, computed.changed, policy);
    if (late.length > 0) return fail(late);
    await applyPatch(root, patch);
  } catch (error) {
    if (error instanceof PatchApplyError) return { error: "apply", rules: [], message: error.message };
    throw error;
  }
  return { error: null, rules: [], message: "" };
}

const scenarios = (await readdir(FIXTURES, { withFileTypes: true }))
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("patch scenarios", () => {
  it("has at least 20 scenarios", () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of scenarios) {
    it(name, async () => {
      const dir = join(FIXTURES, name);
      const spec = JSON.parse(await readFile(join(dir, "expect.json"), "utf8")) as Expect;
      const root = await mkdtemp(join(tmpdir(), `perfloop-patch-${name}-`));
      temps.push(root);
      const hasInput = await lstat(join(dir, "input")).then(
        () => true,
        () => false,
      );
      if (hasInput) await cp(join(dir, "input"), root, { recursive: true });
      for (const [link, target] of Object.entries(spec.symlinks ?? {})) {
        await mkdir(dirname(join(root, link)), { recursive: true });
        await symlink(target, join(root, link));
      }
      const before = await snapshot(root);
      const text = await readFile(join(dir, "patch"), "utf8");
      const outcome = await run(root, text, { ...DEFAULT_POLICY, ...spec.policy });

      expect({ error: outcome.error, rules: outcome.rules }, outcome.message).toEqual({
        error: spec.error,
        rules: [...(spec.rules ?? [])].sort(),
      });
      for (const part of spec.messageIncludes ?? []) expect(outcome.message).toContain(part);
      const after = await snapshot(root);
      if (spec.error !== null) {
        expect(asText(after), "a failing patch must leave the tree untouched").toEqual(asText(before));
      }
      const hasExpected = await lstat(join(dir, "expected")).then(
        () => true,
        () => false,
      );
      const wanted = hasExpected ? await snapshot(join(dir, "expected")) : await snapshot(join(dir, "input"));
      expect(asText(after)).toEqual(asText(wanted));
    });
  }
});
