/**
 * The flame graph SVG renderer: well-formed XML whatever the frame names hold, rectangle widths
 * proportional to the weights, tooltips with function, file:line and share, deterministic output —
 * on hand-made stacks and on the recorded profiles of test/fixtures/profiles/.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { type FoldedStack, parseFolded, toFolded } from "../src/core/profile/folded.ts";
import { parseCpuProfile } from "../src/core/profile/node.ts";
import { cpuProfileStacks } from "../src/core/profile/node-stacks.ts";
import { parsePythonProfile } from "../src/core/profile/python.ts";
import { pythonProfileStacks } from "../src/core/profile/python-stacks.ts";
import { displayPaths, pruneStacks } from "../src/core/profile/stacks.ts";
import { escapeXml } from "../src/core/report/escape.ts";
import { colour, renderFlameGraph } from "../src/core/report/flamegraph.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/profiles");
const WIDTH = 1200;
const INNER = WIDTH - 20; // 10 px padding each side

interface Frame {
  title: string;
  x: number;
  y: number;
  width: number;
  text: string | null;
}

/** Every frame of an SVG: its tooltip, rectangle and label, entities decoded by a real XML parser. */
function frames(svg: string): Frame[] {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    isArray: (name) => name === "g",
    trimValues: false,
  }).parse(svg) as {
    svg: { g?: Array<{ title: string; rect: Record<string, string>; text?: { "#text": string } | string }> };
  };
  return (doc.svg.g ?? []).map((g) => ({
    title: String(g.title),
    x: Number(g.rect.x),
    y: Number(g.rect.y),
    width: Number(g.rect.width),
    text: g.text === undefined ? null : typeof g.text === "string" ? g.text : String(g.text["#text"]),
  }));
}

/** The share in a tooltip's last line (`12.34% of the total, …`), %. */
function pctOf(title: string): number {
  const m = /\n([\d.]+)% of the total/.exec(title);
  if (!m) throw new Error(`no share in ${JSON.stringify(title)}`);
  return Number(m[1]);
}

describe("renderFlameGraph on hand-made stacks", () => {
  const hostile = `c <x> & "y" 'z'`;
  const stacks: FoldedStack[] = [
    { frames: ["a (app.py:3)", "b (app.py:9)"], weight: 3000 },
    { frames: ["a (app.py:3)", hostile], weight: 1000 },
    { frames: ["d"], weight: 4000 },
    { frames: ["ignored"], weight: 0 },
  ];
  const svg = renderFlameGraph(stacks, {
    title: `Flame graph: <baseline> & "final"`,
    subtitle: "sub & title",
  });
  const all = frames(svg);

  it("draws one rectangle per frame of the merged tree, widths proportional to the weights", () => {
    const byName = new Map(all.map((f) => [f.title.split("\n")[0], f]));
    expect([...byName.keys()].sort()).toEqual(["a", "all", "b", hostile, "d"].sort());
    expect(byName.get("all")?.width).toBe(INNER);
    expect(byName.get("a")?.width).toBeCloseTo((INNER * 4000) / 8000, 2);
    expect(byName.get("b")?.width).toBeCloseTo((INNER * 3000) / 8000, 2);
    expect(byName.get(hostile)?.width).toBeCloseTo((INNER * 1000) / 8000, 2);
    expect(byName.get("d")?.width).toBeCloseTo((INNER * 4000) / 8000, 2);
    // Children sit on their parent, left to right in name order, from the parent's left edge.
    expect(byName.get("b")?.x).toBe(byName.get("a")?.x);
    expect(byName.get(hostile)?.x).toBeCloseTo((byName.get("b")?.x ?? 0) + (byName.get("b")?.width ?? 0), 2);
    expect(byName.get("b")?.y).toBeLessThan(byName.get("a")?.y ?? 0); // a flame: callees above
  });

  it("gives each frame a tooltip with function, file:line and share", () => {
    const b = all.find((f) => f.title.startsWith("b\n"));
    expect(b?.title).toBe("b\napp.py:9\n37.50% of the total, 3.00 ms");
  });

  it("escapes every name for XML: a parser reads back exactly the original text", () => {
    expect(svg).not.toContain("<x>");
    expect(svg).toContain("c &lt;x&gt; &amp; &quot;y&quot; &apos;z&apos;");
    expect(all.find((f) => f.title.startsWith(hostile))?.text).toBe(hostile);
    expect(svg).toContain("Flame graph: &lt;baseline&gt; &amp; &quot;final&quot;");
  });

  it("is the same bytes every time, and colours a function the same everywhere", () => {
    expect(
      renderFlameGraph(stacks, { title: `Flame graph: <baseline> & "final"`, subtitle: "sub & title" }),
    ).toBe(svg);
    expect(colour("weigh (x.py:1)", 3)).toBe(colour("weigh (x.py:1)", 7));
    expect(colour("[python3 app.py (pid 1)]", 1)).toBe(colour("all", 0));
  });

  it("cuts a label to its rectangle and drops it under three characters", () => {
    const narrow = renderFlameGraph(
      [
        { frames: ["a_very_long_function_name_that_cannot_fit (some/long/path.py:123)"], weight: 60 },
        { frames: ["z"], weight: 9940 },
      ],
      { title: "t", width: 1200 },
    );
    const cut = frames(narrow).find((f) => f.title.startsWith("a_very"));
    // 60/10000 of 1180 px = 7 px: no room for three characters.
    expect(cut?.text).toBeNull();
    const wider = frames(
      renderFlameGraph(
        [
          { frames: ["a_very_long_function_name_that_cannot_fit (some/long/path.py:123)"], weight: 1000 },
          { frames: ["z"], weight: 9000 },
        ],
        { title: "t" },
      ),
    ).find((f) => f.title.startsWith("a_very"));
    expect(wider?.text).toMatch(/^a_very_long.*\.\.$/); // 118 px: 15 characters
    expect((wider?.text?.length ?? 0) * 12 * 0.59).toBeLessThanOrEqual((wider?.width ?? 0) - 6 + 0.01);
  });

  it("keeps the XML valid with control characters and unpaired surrogates in a name", () => {
    const bad = renderFlameGraph([{ frames: ["bad\u0001name\ud800 (x.py:1)"], weight: 1 }], {
      title: "t\u0007",
    });
    expect(XMLValidator.validate(bad)).toBe(true);
    expect(escapeXml("a\u0000b\udc00c")).toBe("a\ufffdb\ufffdc");
  });

  it("draws only the root for no stacks", () => {
    const empty = frames(renderFlameGraph([], { title: "empty" }));
    expect(empty.map((f) => f.title.split("\n")[0])).toEqual(["all"]);
  });
});

describe("renderFlameGraph on the recorded profiles", () => {
  const node = cpuProfileStacks(
    parseCpuProfile(JSON.parse(readFileSync(path.join(FIXTURES, "shared-callee.cpuprofile"), "utf8"))),
    {
      file: displayPaths("/__FIXTURE_DIR__"),
      name: "node (pid 1, thread 0)",
    },
  );
  const python = pythonProfileStacks(
    parsePythonProfile(JSON.parse(readFileSync(path.join(FIXTURES, "shared_callee.py.json"), "utf8"))),
    { file: displayPaths("/__FIXTURE_DIR__") },
  );
  const folded = parseFolded(toFolded(pruneStacks(node)) + toFolded(pruneStacks(python)));
  const svg = renderFlameGraph(folded, { title: "Flame graph: baseline" });
  const all = frames(svg);

  it("parses, and every rectangle's width is its tooltip's share of the graph's width", () => {
    expect(all.length).toBeGreaterThan(20);
    for (const f of all) expect(f.width).toBeCloseTo((INNER * pctOf(f.title)) / 100, 0);
    const total = folded.reduce((s, l) => s + l.weight, 0);
    const weigh = all.filter((f) => f.title.startsWith("weigh\nshared-callee.cjs:4\n"));
    // weigh is drawn once per distinct caller path (heavy, light and the walk chain).
    expect(weigh.length).toBeGreaterThanOrEqual(3);
    const nodeWeighUs = node.stacks
      .filter((s) => node.frames[s.frames.at(-1) ?? -1]?.name === "weigh")
      .reduce((s, x) => s + x.weightUs, 0);
    const drawn = weigh.reduce((s, f) => s + f.width, 0);
    expect(drawn).toBeCloseTo((INNER * nodeWeighUs) / total, 0);
  });

  it("names the processes in grey root frames, Python's saying its stacks are rebuilt", () => {
    const roots = all.filter((f) => f.title.startsWith("["));
    expect(roots.map((f) => f.title.split("\n")[0])).toEqual(
      expect.arrayContaining([
        "[node (pid 1, thread 0)]",
        expect.stringMatching(
          /^\[python3 shared_callee\.py \(pid \d+\), stacks rebuilt from caller edges\]$/,
        ),
      ]),
    );
    expect(svg).toContain("&lt;module&gt;"); // cProfile's names are escaped
  });
});
