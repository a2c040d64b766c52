/**
 * Safe parsing of the manifests detection reads (pyproject.toml, Cargo.toml, package.json): a file
 * that does not parse becomes a note naming the file and the parser's line, never an exception,
 * so one broken manifest cannot stop init. TOML is parsed with smol-toml (TOML 1.0; small, no
 * dependencies).
 */
import { parse as parseToml, TomlError } from "smol-toml";
import type { ProjectTree } from "./files.ts";
import type { InitNote } from "./types.ts";

/** A parsed manifest: its text (for evidence lines) and its value; null value when malformed. */
export interface Manifest {
  file: string;
  text: string;
  /** The parsed document (a plain object for TOML; any JSON value for JSON); null when it did not parse. */
  value: unknown;
}

/**
 * Reads and parses `rel` as TOML or JSON (by extension: `.toml`, else JSON).
 * @returns null when the file is not listed or not readable; a Manifest with `value: null` and a
 *   note pushed to `notes` when it does not parse.
 */
export async function readManifest(
  tree: ProjectTree,
  rel: string,
  notes: InitNote[],
): Promise<Manifest | null> {
  const text = await tree.read(rel);
  if (text === null) return null;
  const toml = rel.endsWith(".toml");
  try {
    return { file: rel, text, value: toml ? parseToml(text) : JSON.parse(text) };
  } catch (error) {
    const line = error instanceof TomlError ? error.line : jsonErrorLine(error, text);
    const reason = (error as Error).message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "";
    notes.push({
      file: rel,
      ...(line ? { line } : {}),
      message: `malformed ${toml ? "TOML" : "JSON"} (${reason}); it was not used: fix it and run perfloop init again`,
    });
    return { file: rel, text, value: null };
  }
}

/** The line of a JSON.parse error from its message (Node: "... at position N (line L column C)"). */
function jsonErrorLine(error: unknown, text: string): number | undefined {
  const message = (error as Error).message ?? "";
  const line = /\(line (\d+) column \d+\)/.exec(message);
  if (line?.[1]) return Number(line[1]);
  const position = /at position (\d+)/.exec(message);
  if (position?.[1]) return text.slice(0, Number(position[1])).split("\n").length;
  return undefined;
}

/** The value at `keys` inside a parsed document; undefined when any step is missing or not an object. */
export function valueAt(doc: unknown, ...keys: string[]): unknown {
  let value = doc;
  for (const key of keys) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/** `value` when it is a plain object (a TOML table, a JSON object); else an empty one. */
export function tableOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The strings of `value` when it is an array (others dropped); else an empty list. */
export function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}
