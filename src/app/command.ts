/**
 * The `/optimize` comment command: `/optimize [--rounds N] [--target P%] [--strategy llm|tune|auto]`,
 * `/optimize help`, `/optimize cancel`. The command is the first line of the comment that starts
 * with `/optimize` outside code fences and quotes; other text in the comment is ignored. Flags take
 * `--flag value` or `--flag=value`. Arguments are validated with zod.
 */
import { z } from "zod";

/** A parsed comment: a command, or the problems that make it invalid (answered with the usage). */
export type Command =
  | { kind: "optimize"; rounds?: number; target?: number; strategy?: "auto" | "llm" | "tune" }
  | { kind: "help" }
  | { kind: "cancel" }
  | { kind: "invalid"; problems: string[] };

/** The command word. */
export const COMMAND = "/optimize";

/** Usage text for replies (markdown; no line starts with the command, so replies never trigger). */
export const USAGE = [
  "`/optimize` — optimize this pull request's head commit with the settings of `.github/perfloop.yml`",
  "`/optimize --rounds 3 --target 20% --strategy llm` — override rounds (1–50), the target improvement (%) and the strategy (`auto`, `llm`, `tune`)",
  "`/optimize cancel` — cancel the active run for this head commit",
  "`/optimize help` — this help",
]
  .map((line) => `- ${line}`)
  .join("\n");

/** Rounds: the core config's own bounds (1..50). Target: a positive percentage up to 1000. */
const argsSchema = z.strictObject({
  rounds: z.coerce
    .number({ message: "a whole number of rounds" })
    .int("a whole number of rounds")
    .min(1, "at least 1 round")
    .max(50, "at most 50 rounds")
    .optional(),
  target: z
    .string()
    .regex(/^\d+(\.\d+)?%?$/, 'a percentage like "20%"')
    .transform((v) => Number.parseFloat(v))
    .pipe(z.number().gt(0, "a target above 0%").max(1000, "a target of at most 1000%"))
    .optional(),
  strategy: z.enum(["auto", "llm", "tune"], { message: "one of auto, llm, tune" }).optional(),
});

/**
 * Finds and parses the command in a comment body.
 * @returns null when the comment holds no `/optimize` line (not for perfloop: ignore silently).
 */
export function parseCommand(body: string): Command | null {
  const line = commandLine(body);
  if (line === null) return null;
  const tokens = line.split(/\s+/).slice(1).filter(Boolean);
  const first = tokens[0]?.toLowerCase();
  if (first === "help" || first === "cancel") {
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

/** The first line starting with `/optimize` (then a space or the end) outside fences and block quotes. */
function commandLine(body: string): string | null {
  let fence: string | null = null;
  for (const raw of body.replace(/\r\n?/g, "\n").split("\n")) {
    const line = raw.trim();
    const opener = /^(`{3,}|~{3,})/.exec(line)?.[1];
    if (opener) {
      if (fence === null) fence = opener;
      else if (opener.startsWith(fence[0] ?? "") && opener.length >= fence.length) fence = null;
      continue;
    }
    if (fence !== null || line.startsWith(">")) continue;
    if (line === COMMAND || line.startsWith(`${COMMAND} `) || line.startsWith(`${COMMAND}\t`)) return line;
  }
  return null;
}

/** Untrusted text shown back in a reply: at most 40 characters, no backticks. */
function clip(text: string): string {
  return text.replace(/`/g, "'").slice(0, 40);
}
