/**
 * The bundle's flame graphs: `figures/flamegraph-baseline.svg` from the baseline's profiling run and
 * `figures/flamegraph-final.svg` from the last accepted round's (the final state), each from the
 * collapsed stacks that run left in the bundle (profile-files.ts), all processes together. Also the
 * links report.md gives to them and to the speedscope files.
 */
import type { RoundRecord } from "../evidence/results-schema.ts";
import { parseFolded } from "../profile/folded.ts";
import { renderFlameGraph } from "../report/flamegraph.ts";
import type { ProfileLink, ProfileLinks } from "../report/profiles.ts";
import type { LoopContext } from "./context.ts";
import { profilesFolderFor, SPEEDSCOPE_FILE } from "./profile-files.ts";

/** The baseline's flame graph in the bundle. */
export const BASELINE_FLAMEGRAPH = "figures/flamegraph-baseline.svg";
/** The final state's flame graph in the bundle. */
export const FINAL_FLAMEGRAPH = "figures/flamegraph-final.svg";

/**
 * Writes the flame graphs of the baseline and of the final state (the last accepted round; none
 * when no round was accepted: the final state is then the baseline) and returns the links for
 * report.md. A profiling run that kept no stacks gets no flame graph. Never throws: a failure is
 * audited and the links are what was written.
 */
export async function writeFlameGraphs(ctx: LoopContext, rounds: RoundRecord[]): Promise<ProfileLinks> {
  const links: ProfileLinks = { flameGraphs: [], speedscope: [], reconstructed: false };
  try {
    const files = ctx.evidence.files();
    const baseline = profilesFolderFor("profile.log");
    const accepted = rounds.filter((r) => r.outcome === "accepted").map((r) => r.n);
    const runs: Array<{ label: string; folder: string; figure?: string }> = [
      { label: "baseline", folder: baseline, figure: BASELINE_FLAMEGRAPH },
      ...accepted.map((n, i) => ({
        label: i === accepted.length - 1 ? `final state (round ${n})` : `round ${n}`,
        folder: profilesFolderFor(`rounds/${n}/profile.log`),
        ...(i === accepted.length - 1 ? { figure: FINAL_FLAMEGRAPH } : {}),
      })),
    ];
    for (const run of runs) {
      const folded = [...files].filter(
        ([name]) =>
          name.startsWith(`${run.folder}/`) &&
          !name.slice(run.folder.length + 1).includes("/") &&
          name.endsWith(".folded"),
      );
      const python = folded.some(([name]) => name.slice(run.folder.length + 1).startsWith("py-"));
      links.reconstructed ||= python;
      const speedscope = `${run.folder}/${SPEEDSCOPE_FILE}`;
      if (files.has(speedscope)) links.speedscope.push({ label: run.label, path: speedscope });
      if (!run.figure || folded.length === 0) continue;
      const svg = renderFlameGraph(
        folded.flatMap(([, text]) => parseFolded(text)),
        {
          title: `Flame graph: ${run.label}`,
          subtitle: [
            "every profiled process of the benchmark; width = share of the profiled time",
            ...(python ? ["Python stacks rebuilt from cProfile caller edges, not sampled"] : []),
          ].join(" · "),
        },
      );
      await ctx.evidence.text(run.figure, svg);
      links.flameGraphs.push({ label: run.label, path: run.figure } satisfies ProfileLink);
    }
  } catch (error) {
    await ctx.evidence.audit("flame graphs failed", (error as Error).message).catch(() => undefined);
  }
  return links;
}
