/**
 * hyperfine calls in the project's scripts: package.json scripts, the Makefile, the justfile, and
 * shell scripts (under scripts/, or `*.sh` at the top). hyperfine times whole process runs of a
 * command — what perfloop measures — so the benchmarked command is recovered (hyperfine-args.ts)
 * after expanding what make or just would expand first (simple variables, `$$`).
 */
import { baseName, type DetectContext } from "./context.ts";
import { capEvidence, clipLine, linesOf } from "./evidence.ts";
import { parseHyperfineArgs } from "./hyperfine-args.ts";
import { packageScripts } from "./node.ts";
import { shellWords } from "./shell-words.ts";
import type { BenchmarkFinding, Evidence } from "./types.ts";

/** A line that calls hyperfine, after the file's own expansion, with where it was written. */
interface Call {
  evidence: Evidence;
  /** The shell text of the call (make/just variables expanded). */
  shell: string;
}

const HYPERFINE = /(^|[\s;&|(/'"])hyperfine(\s|$)/;

/** Logical lines (backslash-newline joined) with the 0-based index of their first physical line. */
function logicalLines(text: string): Array<{ index: number; text: string }> {
  const out: Array<{ index: number; text: string }> = [];
  let start = -1;
  let acc = "";
  linesOf(text).forEach((line, i) => {
    if (start < 0) start = i;
    if (line.endsWith("\\")) {
      acc += `${line.slice(0, -1)} `;
      return;
    }
    out.push({ index: start, text: acc + line });
    acc = "";
    start = -1;
  });
  if (start >= 0) out.push({ index: start, text: acc });
  return out;
}

/** Simple variable assignments of a Makefile (`X = v`, `X := v`, `X ?= v`) or justfile (`x := "v"`). */
function assignments(lines: Array<{ text: string }>, just: boolean): Map<string, string> {
  const vars = new Map<string, string>();
  const re = just
    ? /^([A-Za-z_][A-Za-z0-9_-]*)\s*:=\s*(?:"([^"]*)"|'([^']*)')\s*$/
    : /^([A-Za-z_][A-Za-z0-9_]*)\s*(?::{1,3}=|\?=|=)\s*(.*?)\s*$/;
  for (const { text } of lines) {
    if (/^\t/.test(text)) continue; // a recipe line, not an assignment
    const m = re.exec(text);
    if (m?.[1]) vars.set(m[1], m[2] ?? m[3] ?? "");
  }
  return vars;
}

/** Expands make's `$(X)`/`${X}` (to a fixed depth: variables may refer to variables) and `$$`. */
function expandMake(text: string, vars: Map<string, string>): string {
  let out = text;
  for (let depth = 0; depth < 5; depth++)
    out = out.replace(/\$[({]([A-Za-z_][A-Za-z0-9_]*)[)}]/g, (m, name: string) => vars.get(name) ?? m);
  return out.replace(/\$\$/g, "$");
}

/** Expands just's `{{x}}`. */
function expandJust(text: string, vars: Map<string, string>): string {
  return text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}/g, (m, name: string) => vars.get(name) ?? m);
}

/** The hyperfine calls of one text file, expanded as its tool would (`make`, `just` or the shell). */
function callsIn(file: string, text: string, tool: "make" | "just" | "sh"): Call[] {
  const lines = logicalLines(text);
  const vars = tool === "sh" ? new Map<string, string>() : assignments(lines, tool === "just");
  return lines.flatMap(({ index, text: line }) => {
    // make's recipe prefixes (@ silent, - ignore errors, + always run) are not part of the command.
    let shell = line.replace(/^\s*[@+-]*/, "");
    if (/^\s*#/.test(line) || !HYPERFINE.test(shell)) return [];
    if (tool === "make") shell = expandMake(shell, vars);
    if (tool === "just") shell = expandJust(shell, vars);
    const physical = linesOf(text)[index] ?? line;
    return [{ evidence: { file, line: index + 1, text: clipLine(physical) }, shell }];
  });
}

/** Makefiles, justfiles and shell scripts that may call hyperfine. */
function scriptFiles(files: readonly string[]): Array<{ file: string; tool: "make" | "just" | "sh" }> {
  return files.flatMap((file): Array<{ file: string; tool: "make" | "just" | "sh" }> => {
    const name = baseName(file);
    const top = !file.includes("/");
    if (top && (["Makefile", "makefile", "GNUmakefile"].includes(name) || name.endsWith(".mk")))
      return [{ file, tool: "make" }];
    if (top && ["justfile", "Justfile", ".justfile"].includes(name)) return [{ file, tool: "just" }];
    if ((top || file.startsWith("scripts/")) && /\.(sh|bash)$/.test(name)) return [{ file, tool: "sh" }];
    return [];
  });
}

/** One finding per hyperfine call found, in the order package.json, Makefile, justfile, scripts. */
export async function detectHyperfine(ctx: DetectContext): Promise<BenchmarkFinding[]> {
  const calls: Call[] = [];
  const pkg = ctx.packageJson;
  if (pkg?.value)
    for (const [name, body] of Object.entries(packageScripts(ctx))) {
      if (!HYPERFINE.test(body)) continue;
      const i = linesOf(pkg.text).findIndex((l) => l.includes(`"${name}"`) && l.includes("hyperfine"));
      const evidence: Evidence =
        i < 0
          ? { file: pkg.file }
          : { file: pkg.file, line: i + 1, text: clipLine(linesOf(pkg.text)[i] ?? "") };
      calls.push({ evidence, shell: body });
    }
  for (const { file, tool } of scriptFiles(ctx.tree.files)) {
    const text = await ctx.tree.read(file);
    if (text !== null) calls.push(...callsIn(file, text, tool));
  }
  return calls.map(toFinding);
}

function toFinding(call: Call): BenchmarkFinding {
  const tokens = shellWords(call.shell);
  const at = tokens.findIndex(
    (t) => !t.operator && (t.value === "hyperfine" || t.value.endsWith("/hyperfine")),
  );
  const parsed = parseHyperfineArgs(at < 0 ? [] : tokens.slice(at + 1));
  const command = parsed.commands[0]?.trim() || null;
  const caveats = [...parsed.caveats];
  if (command === null) caveats.push("could not read the benchmarked command from this hyperfine call");
  else if (/\$|\{\{/.test(command))
    caveats.push("the command refers to variables perfloop cannot see here: check it runs as written");
  return {
    kind: "hyperfine",
    command,
    output: "exact",
    files: [],
    ...capEvidence([call.evidence]),
    ...(caveats.length > 0 ? { caveat: caveats.join("; ") } : {}),
  };
}
