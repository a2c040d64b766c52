/**
 * The agents' execution tools, run exactly like the loop's own commands: the same sandbox, env
 * allow-list, network rule, timeouts and output caps (context.ts), one command at a time across all
 * sessions (`ctx.exclusive`). Each call is written to the audit log; the session log
 * (rounds/<n>/candidates/<k>/session.jsonl) gets the text the model saw.
 */
import path from "node:path";
import { describeOutcome, succeeded } from "../exec/run-command.ts";
import { MeasurementError } from "../measure/protocol.ts";
import { hotSpotLines } from "../optimize/llm/prompt.ts";
import { subsetCommand, type ToolReport, type Workbench } from "../optimize/llm/session-tools.ts";
import type { BenchOutput } from "./compare.ts";
import { type LoopContext, runInTree } from "./context.ts";
import { profileTree } from "./profile-run.ts";
import { describeScreen, type ScreenResult, screen } from "./screen.ts";

/** Characters of a command's output the model gets back (its tail, where failures show). */
const OUTPUT_TAIL_CHARS = 6000;

/** Where a workbench's evidence goes and what it compares with. */
export interface WorkbenchScope {
  /** Round and candidate numbers (evidence names, audit lines). */
  n: number;
  k: number;
  /** Environment additions of the best state (accepted env knobs). */
  env: Record<string, string>;
  /** The baseline's benchmark output (the output gate's reference). */
  reference: BenchOutput;
}

/** A workbench for one session of round `scope.n`. */
export function createWorkbench(ctx: LoopContext, scope: WorkbenchScope): Workbench {
  const where = `round ${scope.n}, candidate ${scope.k}`;
  let profiles = 0;
  return {
    runTests: (tree, filter) =>
      ctx.exclusive(async () => {
        const started = performance.now();
        const picked =
          filter === null ? { command: ctx.config.test } : subsetCommand(ctx.config.test, filter);
        if ("error" in picked) return { text: picked.error, summary: "refused filter" };
        await ctx.evidence.audit(
          "agent run_tests",
          `${where}: ${picked.command} (in ${path.basename(tree)})`,
        );
        const result = await runInTree(ctx, picked.command, tree, {
          env: { ...ctx.baseEnv, ...scope.env },
          access: "rw",
          timeoutMs: ctx.config.timeouts.test * 1000,
        });
        const outcome = succeeded(result) ? "tests passed" : "TESTS FAILED";
        const summary = `${outcome} (${describeOutcome(result)}, ${(result.durationMs / 1000).toFixed(1)} s)`;
        await ctx.evidence.audit("agent run_tests finished", `${where}: ${summary}`);
        return {
          text: `$ ${picked.command}\n${summary}\n${tail(result.stdout, result.stderr)}`,
          summary,
          ms: performance.now() - started,
        };
      }),
    runBenchmark: async (start, tree, runs) => {
      await ctx.evidence.audit("agent run_benchmark", `${where}: ${runs} runs a side`);
      let result: ScreenResult;
      try {
        result = await screen(
          ctx,
          { start, startEnv: scope.env, tree, env: scope.env },
          runs,
          `${where} screen`,
          scope.reference,
        );
      } catch (error) {
        // The start tree (A) failed: the machine's problem or a flaky benchmark, not the change's.
        if (!(error instanceof MeasurementError)) throw error;
        const text = `the screen could not run: the start tree's benchmark failed this time (${error.message}); try again, or submit`;
        await ctx.evidence.audit("agent run_benchmark finished", `${where}: ${text}`);
        return { text, summary: text };
      }
      const text = describeScreen(result);
      await ctx.evidence.audit("agent run_benchmark finished", `${where}: ${text}`);
      return { text, summary: text, ms: result.ms };
    },
    profile: (tree) =>
      ctx.exclusive(async () => {
        const started = performance.now();
        profiles += 1;
        await ctx.evidence.audit("agent profile", where);
        const dir = `rounds/${scope.n}/candidates/${scope.k}`;
        const hotSpots = await profileTree(
          ctx,
          tree,
          { log: `${dir}/profile-${profiles}.log`, json: `${dir}/hot_spots-${profiles}.json` },
          scope.env,
        );
        const lines = hotSpotLines(hotSpots, 15);
        const summary = `${hotSpots.length} hot spot(s)${hotSpots[0] ? `, top ${hotSpots[0].function} ${hotSpots[0].selfPct.toFixed(1)}% self` : ""}`;
        return {
          text:
            lines.length > 0
              ? `Hot spots of your workspace (cProfile / V8 CPU profile, files you may edit):\n${lines.join("\n")}`
              : "profiling found no hot spot in files you may edit",
          summary,
          ms: performance.now() - started,
        } satisfies ToolReport;
      }),
  };
}

function tail(stdout: string, stderr: string): string {
  const text = [
    stdout.trim() && `## stdout\n${stdout.trim()}`,
    stderr.trim() && `## stderr\n${stderr.trim()}`,
  ]
    .filter(Boolean)
    .join("\n");
  return text.length <= OUTPUT_TAIL_CHARS
    ? text
    : `…(${text.length - OUTPUT_TAIL_CHARS} characters cut)\n${text.slice(-OUTPUT_TAIL_CHARS)}`;
}
