/**
 * The rewrite prompt: what the model must know to make the measured program faster — the verdict
 * with its numbers, the hot code, the repository's AGENTS.md instructions in scope, the rules a
 * candidate must follow, why earlier candidates failed (their reflections), and what perfloop's memory
 * recalls from earlier runs. The system prompt comes in variants the strategy bandit chooses between.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { readInside } from "../../fs/inside.ts";
import type { HotSpot, Verdict } from "../../types.ts";

/** Everything the prompt is built from. */
export interface PromptInput {
  /** The tree the model reads (the current best). */
  root: string;
  verdicts: Verdict[];
  hotSpots: HotSpot[];
  benchmarkCommand: string;
  testCommand: string;
  /** Editable globs and protected globs from the config. */
  paths: string[];
  protect: string[];
  /** Median wall time of the current best, ms; and the improvement over the baseline so far, %. */
  bestWallMs: number;
  bestImprovementPct: number;
  /**
   * One entry per earlier rejected candidate of this run: "description — gate: reason", optionally
   * followed by indented lines (the reflection: numbers, test output, likely cause, what to change).
   */
  failures: string[];
  /** Lines recalled from earlier runs (memory/retrieve.ts `retrievedLine`); empty or absent = none. */
  remembered?: string[];
  /** What the pull request changed, for runs that belong to one (focus); absent = no PR. */
  pullRequest?: string;
}

/** Lines of code shown around each hot spot (before, after). */
const CONTEXT_LINES = { before: 5, after: 40 };
const MAX_HOT_SNIPPETS = 3;
/** The largest source file a hot-code excerpt is cut from, bytes (the model's read_file cap, tools.ts). */
const MAX_HOT_FILE_BYTES = 200_000;
/** The largest AGENTS.md put into the prompt, bytes; a larger one is left out. */
const MAX_AGENTS_BYTES = 64_000;

/**
 * A repository file's text for the prompt, read inside `root` only (src/core/fs/inside.ts: no `..`,
 * no absolute path, no symbolic link out — an AGENTS.md linked to /proc/self/environ would otherwise
 * send perfloop's own environment to the model —, only regular files); null when it is missing or
 * refused, so the prompt simply goes without it.
 */
async function readForPrompt(root: string, rel: string, maxBytes: number): Promise<string | null> {
  return readInside(root, rel, { maxBytes }).catch(() => null);
}

/** The fixed instructions, including the one edit format perfloop parses. */
export const SYSTEM_PROMPT = `You are perfloop's optimizer. You make a program measurably faster without changing what it computes.
You work in your own copy of the repository (a workspace), in a sandbox. Tools:
- read_file, search, list_files: read the workspace.
- apply_patch: edit the workspace (edits accumulate; each is checked against the patch policy). diff: your change so far.
- run_tests: run the tests (all, or a filter). run_benchmark: a quick screen of your workspace against the starting tree
  (a few interleaved runs: medians, ratio, noise note, output check) — a screen, not the verdict. profile: hot spots of your workspace.
- submit: ends the session; your workspace's change becomes the candidate. Submit once the tests pass and the screen looks faster.
After you submit, perfloop checks the tests, the benchmark's output and the hot functions' results against the original, then
measures your change against the current best with an interleaved A/B test; only a statistically significant gain is kept.

Rules:
- Keep behaviour identical: the tests must pass and the benchmark's output must stay the same.
- Edit only files matching the editable globs; never tests, benchmarks, .github/, lock files or protected files.
- Small, focused changes to the hot code beat rewrites. Explain the change in the rationale, tied to the measured bottleneck.

Patch format (apply_patch):
*** Begin Patch
*** Update File: path/relative/to/repo.py
@@ def the_function_or_class_line
 unchanged context line
-removed line
+added line
*** End Patch
Use "*** Add File: path" with every line prefixed by "+", and "*** Delete File: path". Include 3 lines of
context around each change, copied exactly from the file.`;

/**
 * Builds the user message of a rewrite session.
 * @returns markdown text; hot code and AGENTS.md are read from inside `input.root` only (missing
 *   files, and files refused by src/core/fs/inside.ts `readInside`, are skipped).
 */
export async function buildUserPrompt(input: PromptInput): Promise<string> {
  const parts: string[] = [];
  parts.push(
    `## Goal\nMake \`${input.benchmarkCommand}\` faster. Current best median wall time: ${input.bestWallMs.toFixed(1)} ms (${input.bestImprovementPct.toFixed(1)}% better than the baseline so far). Tests: \`${input.testCommand}\`.`,
  );
  parts.push(
    `## Bottleneck verdict (measured)\n${input.verdicts.length === 0 ? "No clear bottleneck category fired; use the hot spots." : input.verdicts.map(describeVerdict).join("\n")}`,
  );
  if (input.hotSpots.length > 0) {
    parts.push(
      `## Hot spots (cProfile / V8 CPU profile, files you may edit)\n${hotSpotLines(input.hotSpots).join("\n")}`,
    );
    parts.push(`## Hot code\n${(await hotSnippets(input.root, input.hotSpots)).join("\n\n")}`);
  }
  const agents = await agentsInstructions(
    input.root,
    input.hotSpots.map((h) => h.file),
  );
  if (agents) parts.push(`## Repository instructions (AGENTS.md)\n${agents}`);
  const others = await otherInstructions(input.root);
  if (others) parts.push(`## Repository instructions for coding agents\n${others}`);
  if (input.pullRequest) parts.push(`## The pull request\n${input.pullRequest}`);
  parts.push(
    `## Editable files\nGlobs: ${input.paths.map((p) => `\`${p}\``).join(", ")}${input.protect.length > 0 ? `; protected (never edit): ${input.protect.map((p) => `\`${p}\``).join(", ")}` : ""}.`,
  );
  if (input.remembered && input.remembered.length > 0) {
    parts.push(
      `## From earlier runs on this repository (perfloop's memory; measured then, verify now)\n${input.remembered.join("\n")}`,
    );
  }
  if (input.failures.length > 0) {
    parts.push(
      `## Earlier candidates that failed (do not repeat them)\n${input.failures.map((f) => `- ${f}`).join("\n")}`,
    );
  }
  return parts.join("\n\n");
}

/** Hot spots as the model sees them, one line each: `file:line \`fn\`: self %, cumulative %, calls`. */
export function hotSpotLines(hotSpots: HotSpot[], limit = 10): string[] {
  return hotSpots
    .slice(0, limit)
    .map(
      (h) =>
        `- ${h.file}:${h.line} \`${h.function}\`: self ${h.selfPct.toFixed(1)}%, cumulative ${h.cumulativePct.toFixed(1)}%${h.calls === null ? "" : `, ${h.calls} calls`}`,
    );
}

/** Other agent-instruction files read at the root, besides AGENTS.md (Claude Code's, GitHub Copilot's). */
export const OTHER_INSTRUCTION_FILES = ["CLAUDE.md", ".github/copilot-instructions.md"] as const;

/**
 * The root's CLAUDE.md and .github/copilot-instructions.md, read like AGENTS.md (inside the
 * repository only, regular files, at most 64 KB each).
 * @returns markdown, "" when there are none.
 */
export async function otherInstructions(root: string): Promise<string> {
  const found: string[] = [];
  for (const rel of OTHER_INSTRUCTION_FILES) {
    const text = await readForPrompt(root, rel, MAX_AGENTS_BYTES);
    if (text?.trim()) found.push(`From ${rel}:\n${text.trim()}`);
  }
  return found.join("\n\n");
}

/** A variant of the system prompt: extra guidance appended to {@link SYSTEM_PROMPT}. */
export interface PromptVariant {
  id: string;
  guidance: string;
}

/**
 * The variants the strategy bandit chooses between (memory/policy.ts). "focused" is the plain prompt;
 * "algorithmic" pushes towards removing work. Adding a variant or editing a text makes a new prompt
 * version, which the trust region watches.
 */
export const PROMPT_VARIANTS: readonly PromptVariant[] = [
  { id: "focused", guidance: "" },
  {
    id: "algorithmic",
    guidance:
      "Approach: remove work before speeding it up. Prefer a better algorithm or data structure, skipping work whose result is not needed, caching repeated results, or hoisting invariant work out of loops, over micro-optimizing statements.",
  },
];

/** The system prompt of a variant. */
export function systemPromptFor(variant: PromptVariant): string {
  return variant.guidance ? `${SYSTEM_PROMPT}\n\n${variant.guidance}` : SYSTEM_PROMPT;
}

/** A prompt version: "llm:<variant>@<first 8 hex digits of the SHA-256 of its system text>". */
export function promptVersion(variantId: string, systemText: string): string {
  return `llm:${variantId}@${createHash("sha256").update(systemText).digest("hex").slice(0, 8)}`;
}

function describeVerdict(v: Verdict): string {
  const numbers = Object.entries(v.numbers)
    .map(([k, n]) => `${k} = ${Number(n.toPrecision(4))}`)
    .join(", ");
  return `- **${v.category}** (confidence ${v.confidence.toFixed(2)}, explains ${v.sharePct.toFixed(0)}% of run time, Amdahl bound ${v.amdahlBound.toFixed(1)}×): ${v.rule}. Numbers: ${numbers}. Try: ${v.remedies.join("; ")}.`;
}

async function hotSnippets(root: string, hotSpots: HotSpot[]): Promise<string[]> {
  const snippets: string[] = [];
  for (const spot of hotSpots.slice(0, MAX_HOT_SNIPPETS)) {
    const text = await readForPrompt(root, spot.file, MAX_HOT_FILE_BYTES);
    if (text === null) continue;
    const lines = text.split("\n");
    const start = Math.max(1, spot.line - CONTEXT_LINES.before);
    const end = Math.min(lines.length, spot.line + CONTEXT_LINES.after);
    const body = lines
      .slice(start - 1, end)
      .map((line, i) => `${String(start + i).padStart(5)}  ${line}`)
      .join("\n");
    snippets.push(`### ${spot.file}:${start}-${end} (\`${spot.function}\`)\n\`\`\`\n${body}\n\`\`\``);
  }
  return snippets;
}

/**
 * AGENTS.md files in scope of the hot files: the root one and those in each hot file's directories
 * (nearest last, so more specific instructions come after general ones — the AGENTS.md convention).
 * Each is read inside `root` only (see readForPrompt): one that is a link out of the repository, not
 * a regular file, or larger than 64 KB is left out.
 * @param files repository-relative paths of the hot files.
 * @returns the instructions as markdown, "" when there are none.
 */
export async function agentsInstructions(root: string, files: string[]): Promise<string> {
  const dirs = new Set<string>(["."]);
  for (const file of files) {
    let dir = path.posix.dirname(file);
    while (dir !== "." && dir !== "/") {
      dirs.add(dir);
      dir = path.posix.dirname(dir);
    }
  }
  const found: string[] = [];
  for (const dir of [...dirs].sort(
    (a, b) => a.split("/").length - b.split("/").length || a.localeCompare(b),
  )) {
    const text = await readForPrompt(root, dir === "." ? "AGENTS.md" : `${dir}/AGENTS.md`, MAX_AGENTS_BYTES);
    if (text !== null) found.push(`From ${dir === "." ? "" : `${dir}/`}AGENTS.md:\n${text.trim()}`);
  }
  return found.join("\n\n");
}
