/**
 * End to end: `perfloop profile` on a tiny Python project (in the sandbox) keeps the baseline's raw
 * profiles in the bundle — speedscope JSON, collapsed stacks — draws its flame graph, and report.md
 * links them.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { XMLValidator } from "fast-xml-parser";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/core/config/load.ts";
import { runPerfloop } from "../src/core/loop/run.ts";
import { parseFolded } from "../src/core/profile/folded.ts";

const APP = `def hot(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def main():
    print(hot(300_000))


if __name__ == "__main__":
    main()
`;

let work = "";
afterAll(() => (work ? rm(work, { recursive: true, force: true }) : undefined));

describe("a profiling run on a tiny Python project", () => {
  it("leaves speedscope JSON, collapsed stacks and the baseline's flame graph in the bundle", async () => {
    work = await mkdtemp(path.join(tmpdir(), "perfloop-loop-profiles-"));
    const repo = path.join(work, "repo");
    const out = path.join(work, "out");
    await mkdir(repo);
    await writeFile(path.join(repo, "app.py"), APP);
    const results = await runPerfloop({
      repoDir: repo,
      outDir: out,
      mode: "profile",
      model: null,
      config: parseConfig({
        test: "python3 -c pass",
        benchmark: { command: "python3 app.py" },
        repetitions: { warmup: 0, runs: 5 },
        statistics: { max_cv: 100 },
      }),
    });
    expect(results.status, results.message).toBe("no-improvement");
    expect(results.hotSpots[0]).toMatchObject({ file: "app.py", function: "hot" });

    const profiles = await readdir(path.join(out, "profiles"));
    expect(profiles).toContain("profile.speedscope.json");
    const foldedName = profiles.find((n) => /^py-\d+\.folded$/.test(n));
    expect(foldedName).toBeDefined();

    const speedscope = JSON.parse(await readFile(path.join(out, "profiles/profile.speedscope.json"), "utf8"));
    expect(speedscope.$schema).toBe("https://www.speedscope.app/file-format-schema.json");
    expect(speedscope.profiles[0]).toMatchObject({ type: "sampled", unit: "microseconds" });
    expect(speedscope.profiles[0].name).toMatch(/^python3 app\.py \(pid \d+\) — stacks rebuilt/);
    const folded = parseFolded(await readFile(path.join(out, "profiles", foldedName as string), "utf8"));
    expect(
      folded.some(
        (l) => l.frames.slice(-3).join(";") === "<module> (app.py:1);main (app.py:8);hot (app.py:1)",
      ),
    ).toBe(true);

    const svg = await readFile(path.join(out, "figures/flamegraph-baseline.svg"), "utf8");
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain("<title>hot\napp.py:1\n");
    const report = await readFile(path.join(out, "report.md"), "utf8");
    expect(report).toContain("[baseline](figures/flamegraph-baseline.svg)");
    expect(report).toContain("[baseline](profiles/profile.speedscope.json)");
  });
});
