/**
 * The raw profiles a profiling run keeps in the bundle (src/core/loop/profile-files.ts), the flame
 * graphs made from them (src/core/loop/flamegraphs.ts) and report.md's links to both — from the
 * recorded profiles of test/fixtures/profiles/, written through a real evidence writer.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RoundRecord } from "../src/core/evidence/results-schema.ts";
import { createEvidenceWriter, type EvidenceWriter } from "../src/core/evidence/writer.ts";
import type { LoopContext } from "../src/core/loop/context.ts";
import { BASELINE_FLAMEGRAPH, FINAL_FLAMEGRAPH, writeFlameGraphs } from "../src/core/loop/flamegraphs.ts";
import {
  keepProfiles,
  MAX_CPUPROFILE_BYTES,
  nodeProcessName,
  profilesFolderFor,
} from "../src/core/loop/profile-files.ts";
import { parseFolded } from "../src/core/profile/folded.ts";
import { readProfileDir } from "../src/core/profile/profile-dir.ts";
import { profilesSection } from "../src/core/report/profiles.ts";
import { renderReport } from "../src/core/report/report.ts";
import { improved } from "./report-helpers.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/profiles");
const CPUPROFILE = "CPU.20260101.120000.4242.0.001.cpuprofile";
const PYPROFILE = "py-4343.json";

let work: string;
let tree: string;
let evidence: EvidenceWriter;
let ctx: LoopContext;

/** A profile folder as a profiling run leaves it: the fixtures, recorded in `tree`. */
async function profileDir(name: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  const node = await readFile(path.join(FIXTURES, "shared-callee.cpuprofile"), "utf8");
  const py = await readFile(path.join(FIXTURES, "shared_callee.py.json"), "utf8");
  await writeFile(path.join(dir, CPUPROFILE), node.replaceAll("file:///__FIXTURE_DIR__", `file://${tree}`));
  await writeFile(path.join(dir, PYPROFILE), py.replaceAll("/__FIXTURE_DIR__", tree));
  for (const [file, text] of Object.entries(extra)) await writeFile(path.join(dir, file), text);
  return dir;
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), "perfloop-profile-files-"));
  tree = path.join(work, "tree");
  await mkdir(tree);
  evidence = await createEvidenceWriter(path.join(work, "out"));
  ctx = { evidence } as unknown as LoopContext; // keepProfiles and writeFlameGraphs use the writer only
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("profilesFolderFor", () => {
  it("puts the profiles next to the run's log", () => {
    expect(profilesFolderFor("profile.log")).toBe("profiles");
    expect(profilesFolderFor("rounds/2/profile.log")).toBe("rounds/2/profiles");
    expect(profilesFolderFor("rounds/1/candidates/2/profile-3.log")).toBe("rounds/1/candidates/2/profiles-3");
    expect(profilesFolderFor("x/bench.log")).toBe("x/bench-profiles");
  });

  it("names a Node profile by its pid and thread", () => {
    expect(nodeProcessName(CPUPROFILE)).toBe("node (pid 4242, thread 0)");
    expect(nodeProcessName("odd.cpuprofile")).toBe("node (odd.cpuprofile)");
  });
});

describe("keepProfiles", () => {
  it("writes speedscope JSON, collapsed stacks per process and the raw .cpuprofile", async () => {
    const dir = await profileDir("baseline");
    const kept = await keepProfiles(ctx, await readProfileDir(dir), tree, "profiles");
    expect(kept).toMatchObject({
      speedscope: "profiles/profile.speedscope.json",
      folded: expect.arrayContaining([
        "profiles/py-4343.folded",
        "profiles/CPU.20260101.120000.4242.0.001.folded",
      ]),
      cpuprofiles: [`profiles/${CPUPROFILE}`],
      reconstructed: true,
      notes: [],
    });
    const out = path.join(work, "out");
    const speedscope = JSON.parse(await readFile(path.join(out, "profiles/profile.speedscope.json"), "utf8"));
    expect(speedscope.$schema).toBe("https://www.speedscope.app/file-format-schema.json");
    expect(speedscope.profiles.map((p: { name: string }) => p.name)).toEqual([
      "node (pid 4242, thread 0)", // the longer process first
      expect.stringMatching(
        /^python3 shared_callee\.py \(pid \d+\) — stacks rebuilt from cProfile caller edges/,
      ),
    ]);
    // Files inside the profiled tree are shown relative to it.
    const files = speedscope.shared.frames.map((f: { file?: string }) => f.file);
    expect(files).toContain("shared_callee.py");
    expect(files).toContain("shared-callee.cjs");
    expect(files.some((f: string | undefined) => f?.startsWith(tree))).toBe(false);
    const folded = parseFolded(await readFile(path.join(out, "profiles/py-4343.folded"), "utf8"));
    expect(folded.some((l) => l.frames.at(-1) === "weigh (shared_callee.py:6)")).toBe(true);
    expect(await readFile(path.join(out, `profiles/${CPUPROFILE}`), "utf8")).toBe(
      await readFile(path.join(dir, CPUPROFILE), "utf8"),
    );
  });

  it("skips an unreadable profile with a note, and a raw .cpuprofile over the limit", async () => {
    const big = JSON.parse(await readFile(path.join(FIXTURES, "shared-callee.cpuprofile"), "utf8"));
    big.padding = "x".repeat(MAX_CPUPROFILE_BYTES);
    const dir = await profileDir("round", {
      "py-1.json": "{not json",
      "CPU.20260101.120001.77.0.002.cpuprofile": JSON.stringify(big),
    });
    const kept = await keepProfiles(ctx, await readProfileDir(dir), tree, "rounds/2/profiles");
    expect(kept.notes).toEqual([
      expect.stringMatching(/^py-1\.json not kept: /),
      expect.stringMatching(
        /^CPU\.20260101\.120001\.77\.0\.002\.cpuprofile \(3\.\d\d MiB\) not kept raw: over 3\.00 MiB$/,
      ),
    ]);
    expect(kept.folded).toContain("rounds/2/profiles/CPU.20260101.120001.77.0.002.folded");
    expect(kept.cpuprofiles).toEqual([`rounds/2/profiles/${CPUPROFILE}`]);
    expect(evidence.files().get("audit.log")).toMatch(/ profiles py-1\.json not kept: /);
  });

  it("writes nothing for a run that left no profile", async () => {
    const kept = await keepProfiles(
      ctx,
      await readProfileDir(path.join(work, "no-such-dir")),
      tree,
      "rounds/3/profiles",
    );
    expect(kept).toMatchObject({ speedscope: null, folded: [], cpuprofiles: [], notes: [] });
    expect([...evidence.files().keys()].some((k) => k.startsWith("rounds/3/"))).toBe(false);
  });
});

describe("writeFlameGraphs and the report's links", () => {
  const rounds = [
    { n: 1, outcome: "rejected" },
    { n: 2, outcome: "accepted" },
  ] as RoundRecord[];

  it("draws the baseline and the final state (the last accepted round) from the kept stacks", async () => {
    const links = await writeFlameGraphs(ctx, rounds);
    expect(links).toEqual({
      flameGraphs: [
        { label: "baseline", path: BASELINE_FLAMEGRAPH },
        { label: "final state (round 2)", path: FINAL_FLAMEGRAPH },
      ],
      speedscope: [
        { label: "baseline", path: "profiles/profile.speedscope.json" },
        { label: "final state (round 2)", path: "rounds/2/profiles/profile.speedscope.json" },
      ],
      reconstructed: true,
    });
    const svg = await readFile(path.join(work, "out", FINAL_FLAMEGRAPH), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain("Flame graph: final state (round 2)");
    expect(svg).toContain("Python stacks rebuilt from cProfile caller edges, not sampled");
    expect(svg).toContain("<title>weigh\nshared_callee.py:6\n");
  });

  it("draws only the baseline when no round was accepted", async () => {
    const links = await writeFlameGraphs(ctx, [{ n: 1, outcome: "rejected" }] as RoundRecord[]);
    expect(links.flameGraphs.map((l) => l.path)).toEqual([BASELINE_FLAMEGRAPH]);
  });

  it("links them from report.md in a short Profiles section", async () => {
    const links = await writeFlameGraphs(ctx, rounds);
    const section = profilesSection(links);
    expect(section).toBe(
      [
        "### Profiles",
        "",
        "Flame graphs (SVG): [baseline](figures/flamegraph-baseline.svg) · [final state (round 2)](figures/flamegraph-final.svg).",
        "",
        "speedscope: [baseline](profiles/profile.speedscope.json) · [final state (round 2)](rounds/2/profiles/profile.speedscope.json) — open https://www.speedscope.app and drag the file in.",
        "",
        "Python stacks are rebuilt from cProfile's caller edges (time split by caller), not sampled.",
      ].join("\n"),
    );
    expect(renderReport(improved, { profiles: links })).toContain(section);
    expect(renderReport(improved)).not.toContain("### Profiles");
    expect(profilesSection({ flameGraphs: [], speedscope: [], reconstructed: false })).toBe("");
  });
});
