/**
 * The reading tools of a rewrite session: `read_file`, `search` and `list_files`, on the session's
 * workspace (session-tools.ts has the others). Every
 * failure is returned as tool output text so the model can correct itself; nothing here throws.
 * Files are read through src/core/fs/inside.ts `readInside` (regular files inside the tree only),
 * and `search` runs the model's pattern on RE2 (re2js, linear time): a model — or a repository file
 * that talks it into it — cannot stall perfloop with a catastrophically backtracking pattern.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import type OpenAI from "openai";
import { RE2JS } from "re2js";
import { MAX_LIMITS } from "../../config/bounds.ts";
import { readInside } from "../../fs/inside.ts";
import { realRelative } from "../../patch/paths.ts";

/** Schemas of the reading tools (OpenAI function-calling format). */
export const READ_TOOL_DEFINITIONS: OpenAI.Chat.Completions.ChatCompletionFunctionTool[] = [
  fn(
    "read_file",
    "Read a text file of the repository, optionally a line range (1-based, inclusive). Lines come back numbered.",
    {
      path: { type: "string", description: "Path relative to the repository root." },
      start_line: { type: "integer", minimum: 1 },
      end_line: { type: "integer", minimum: 1 },
    },
    ["path"],
  ),
  fn(
    "search",
    "Search the repository's text files for a regular expression (RE2 syntax: no backreferences or lookaround). Returns up to 50 matching lines as path:line: text.",
    {
      pattern: { type: "string" },
      path_prefix: { type: "string", description: "Only search under this directory (relative)." },
    },
    ["pattern"],
  ),
  fn(
    "list_files",
    "List the files under a directory of the repository (relative path, default the root).",
    {
      dir: { type: "string" },
    },
    [],
  ),
];

const SKIP_DIRS = new Set([".git", "node_modules", "__pycache__", ".venv", "venv", "dist", "build"]);
const MAX_READ_BYTES = 200_000;
const MAX_LISTED = 500;

/**
 * Runs one read-only tool call against `root`.
 * @param args the raw JSON argument string from the model (may be malformed).
 * @returns the text given back to the model; errors start with "error:".
 */
export async function runReadTool(tree: string, name: string, args: string): Promise<string> {
  const root = await realpath(tree); // one spelling of the root, so relative paths come out right
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(args || "{}") as Record<string, unknown>;
    if (parsed === null || typeof parsed !== "object") throw new Error("arguments must be a JSON object");
  } catch (error) {
    return `error: the arguments of ${name} are not valid JSON (${(error as Error).message}). Send a JSON object such as {"path": "src/main.py"}.`;
  }
  try {
    if (name === "read_file") return await readTool(root, parsed);
    if (name === "search") return await searchTool(root, parsed);
    if (name === "list_files") return await listTool(root, parsed);
    return `error: unknown tool "${name}". Available: read_file, search, list_files, apply_patch, diff, run_tests, run_benchmark, profile, submit.`;
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/**
 * Resolves a model-given relative path inside root, following symlinks: a link that leads outside
 * the repository is refused like `..` (the model must not read the runner's files).
 * @throws Error when the path is absolute, climbs out with `..` or a symlink, or is not a string.
 */
export async function resolveInside(root: string, relative: unknown): Promise<string> {
  if (typeof relative !== "string" || relative.length === 0)
    throw new Error("path must be a non-empty string relative to the repository root");
  if (path.isAbsolute(relative) || relative.split(/[\\/]/).includes("..")) {
    throw new Error(`path "${relative}" must be relative to the repository root, without ".."`);
  }
  const rootReal = await realpath(root);
  const inside = await realRelative(root, rootReal, relative);
  if (inside === null) throw new Error(`path "${relative}" leads outside the repository (through a symlink)`);
  return path.join(rootReal, inside);
}

async function readTool(root: string, args: Record<string, unknown>): Promise<string> {
  const file = await resolveInside(root, args.path);
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return `error: no file "${String(args.path)}". Use list_files to see what exists.`;
  if (info.size > MAX_READ_BYTES)
    return `error: "${String(args.path)}" is ${info.size} bytes; read a line range instead.`;
  const text = await readInside(root, path.relative(root, file), { maxBytes: MAX_READ_BYTES });
  if (text === null) return `error: no file "${String(args.path)}". Use list_files to see what exists.`;
  const lines = text.split("\n");
  const start = Math.max(1, Number(args.start_line ?? 1));
  const end = Math.min(lines.length, Number(args.end_line ?? lines.length));
  if (!Number.isFinite(start) || !Number.isFinite(end) || start > end)
    return `error: bad line range ${String(args.start_line)}..${String(args.end_line)} (file has ${lines.length} lines)`;
  return lines
    .slice(start - 1, end)
    .map((line, i) => `${String(start + i).padStart(5)}  ${line}`)
    .join("\n");
}

async function searchTool(root: string, args: Record<string, unknown>): Promise<string> {
  if (typeof args.pattern !== "string") return "error: pattern must be a string";
  let regex: RE2JS;
  try {
    regex = RE2JS.compile(args.pattern);
  } catch (error) {
    return `error: invalid regular expression (RE2 syntax: no backreferences or lookaround): ${(error as Error).message}`;
  }
  const base = args.path_prefix === undefined ? root : await resolveInside(root, args.path_prefix);
  const hits: string[] = [];
  for (const file of await walk(base)) {
    // Larger files than a candidate may have are not searched (they could not be edited either).
    const text =
      (await readInside(root, path.relative(root, file), { maxBytes: MAX_LIMITS.fileBytes }).catch(
        () => null,
      )) ?? "";
    if (text.includes("\u0000")) continue; // binary
    for (const [i, line] of text.split("\n").entries()) {
      if (regex.test(line)) hits.push(`${path.relative(root, file)}:${i + 1}: ${line.slice(0, 200)}`);
      if (hits.length >= 50) return `${hits.join("\n")}\n(first 50 matches)`;
    }
  }
  return hits.length > 0 ? hits.join("\n") : "no matches";
}

async function listTool(root: string, args: Record<string, unknown>): Promise<string> {
  const base =
    args.dir === undefined || args.dir === "" || args.dir === "."
      ? root
      : await resolveInside(root, args.dir);
  const files = (await walk(base)).map((file) => path.relative(root, file));
  if (files.length === 0) return `no files under "${String(args.dir ?? ".")}"`;
  return files.length > MAX_LISTED
    ? `${files.slice(0, MAX_LISTED).join("\n")}\n(${files.length - MAX_LISTED} more)`
    : files.join("\n");
}

async function walk(dir: string, out: string[] = []): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (out.length >= 5000) break;
    if (entry.isDirectory() && !SKIP_DIRS.has(entry.name)) await walk(path.join(dir, entry.name), out);
    else if (entry.isFile()) out.push(path.join(dir, entry.name));
  }
  return out;
}

/** One tool schema in the OpenAI function-calling format (parameters: a closed JSON-schema object). */
export function fn(
  name: string,
  description: string,
  properties: Record<string, unknown>,
  required: string[],
): OpenAI.Chat.Completions.ChatCompletionFunctionTool {
  return {
    type: "function",
    function: {
      name,
      description,
      parameters: { type: "object", properties, required, additionalProperties: false },
    },
  };
}
