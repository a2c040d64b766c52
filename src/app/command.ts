/**
 * The `/optimize` comment command: `/optimize [--rounds N] [--target P%] [--strategy llm|tune|auto]`,
 * `/optimize status`, `/optimize retry`, `/optimize cancel`, `/optimize help`. The command is the
 * first line of plain paragraph text that starts with `/optimize` (command-line.ts: not in code,
 * quotes or HTML comments); other text in the comment is ignored. Flags take `--flag value` or
 * `--flag=value`. Arguments are validated with zod, in the ranges the runner accepts
 * (src/core/config/overrides.ts).
 */
import { z } from "zod";
import { findCommandLine } from "./command-line.ts";

/** A parsed comment: a command, or the problems that make it invalid (answered with the usage). */
export type Command =
  | { kind: "optimize"; rounds?: number; target?: number; strategy?: "auto" | "llm" | "tune" }
  | { kind: "help" }
  | { kind: "cancel" }
  | { kind: "status" }
  | { kind: "retry" }
  | { kind: "invalid"; problems: string[] };

/** The command word. */
export const COMMAND = "/optimize";

/** Subcommands: words after the command that take no arguments. */
const SUBCOMMANDS = ["help", "cancel", "status", "retry"] as const;

/** Usage text for replies (markdown; no line starts with the command, so replies never trigger). */
export const USAGE = [
  "`/optimize` — optimize this pull request's head commit with the settings of `.github/perfloop.yml`",
  "`/optimize --rounds N --target P% --strategy S` — the same with overrides, each optional: `--rounds` how many rounds (1–50), `--target` the improvement to aim for (a percentage above 0 and below 100, e.g. `20%`), `--strategy` `auto`, `llm` or `tune`; `--flag=value` works too",
  "`/optimize status` — where this pull request's latest run stands: queued, running or finished, its workflow run, request id, when it started and who asked",
  "`/optimize retry` — run again on the current head commit with the arguments of this pull request's last run",
  "`/optimize cancel` — cancel the active run for this head commit",
  "`/optimize help` — this help",
]
  .map((line) => `- ${line}`)
  .join("\n");

/** Rounds: the core config's own bounds (1..50). Target: above 0 and below 100 %, as the runner accepts. */
const argsSchema = z.strictObject({
  rounds: z.coerce
    .number({ message: "a whole number of rounds" })
    .int("a whole number of rounds")
    .min(1, "at least 1 round")
    .max(50, "at most 50 rounds")
    .optional(),
  target: z
    .string()
    // At most 3 decimals: "0.0000001" would reach the dispatch as "1e-7", which no runner reads.
    .regex(/^\d{1,3}(\.\d{1,3})?%?$/, 'a percentage like "20%" (at most 3 decimals)')
    .transform((v) => Number.parseFloat(v))
    .pipe(z.number().gt(0, "a target above 0%").lt(100, "a target below 100%"))
    .optional(),
  strategy: z.enum(["auto", "llm", "tune"], { message: "one of auto, llm, tune" }).optional(),
});

/**
 * Finds and parses the command in a comment body.
 * @returns null when the comment holds no `/optimize` line (not for perfloop: ignore silently).
 */
export function parseCommand(body: string): Command | null {
  const line = findCommandLine(body, COMMAND);
  if (line === null) return null;
  const tokens = line.split(/\s+/).slice(1).filter(Boolean);
  const first = SUBCOMMANDS.find((word) => word === tokens[0]?.toLowerCase());
  if (first) {
    if (tokens.length > 1) return { kind: "invalid", problems: [`\`${first}\` takes no arguments`] };
    return { kind: first };
  }
  const flags: Record<string, string> = {};
  const problems: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? "";
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(token);
    if (!match?.[1]) {
      problems.push(`unexpected \`${clip(token)}\` (flags start with \`--\`)`);
      continue;
    }
    const value = match[2] ?? tokens[++i];
    if (value === undefined || value.startsWith("--")) problems.push(`\`--${match[1]}\` needs a value`);
    else if (match[1] in flags) problems.push(`\`--${match[1]}\` is given twice`);
    else flags[match[1]] = value;
  }
  if (problems.length > 0) return { kind: "invalid", problems };
  const parsed = argsSchema.safeParse(flags);
  if (!parsed.success) {
    return {
      kind: "invalid",
      problems: parsed.error.issues.map((issue) =>
        issue.code === "unrecognized_keys"
          ? `unknown flag${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `\`--${clip(k)}\``).join(", ")}`
          : `\`--${String(issue.path[0])}\`: expected ${issue.message}, found \`${clip(flags[String(issue.path[0])] ?? "")}\``,
      ),
    };
  }
  const { rounds, target, strategy } = parsed.data;
  return {
    kind: "optimize",
    ...(rounds !== undefined ? { rounds } : {}),
    ...(target !== undefined ? { target } : {}),
    ...(strategy ? { strategy } : {}),
  };
}

/** Untrusted text shown back in a reply: at most 40 characters, no backticks. */
function clip(text: string): string {
  return text.replace(/`/g, "'").slice(0, 40);
}
