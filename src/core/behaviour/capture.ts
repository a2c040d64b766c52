/**
 * Behaviour capture for Python: run a command with chosen hot functions wrapped so that each
 * records which arguments it was called with and what it returned (or raised), then read those
 * records back. The Python side is `src/core/profile/python/_perfloop_capture.py`, loaded by the
 * same `sitecustomize.py` the profiler uses; its module docstring gives the fingerprint format
 * and the limits (functions of a `__main__` script are not wrapped, among others).
 * The comparison of two captures is `compare.ts`.
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { PROFILE_READ, readInside } from "../fs/inside.ts";
import { SITECUSTOMIZE_DIR } from "../profile/python.ts";

/**
 * One function to capture: `file` is the path of its source file relative to the tree root
 * (posix separators), `function` its code name (`co_name`, as the profiler reports it: `area`
 * for a method `Shape.area`). Every function, method, staticmethod and classmethod of that file
 * with that code name is wrapped.
 */
export interface CaptureTarget {
  file: string;
  function: string;
}

/**
 * A JSON fingerprint of one Python value, as `_perfloop_capture.py` writes it: `t` names the
 * kind (`"none"`, `"bool"`, `"int"`, `"float"`, `"complex"`, `"str"`, `"bytes"`, `"list"`,
 * `"tuple"`, `"set"`, `"frozenset"`, `"dict"`, `"ndarray"`, `"obj"`, `"repr"`, `"deep"`,
 * `"raised"`), the other fields depend on it (see that file's docstring).
 */
export type Fingerprint = { t: string } & Record<string, unknown>;

/**
 * One distinct argument set of one function: `key` the sha256 (hex) of the arguments'
 * fingerprint, `call` a short human form (`spell(3)`, at most 200 characters), `args` the
 * arguments' fingerprint (`{args: Fingerprint[], kwargs: {name: Fingerprint}}`), and the first
 * outcome seen: `result` (the return value's fingerprint) or `raised` (`{t: "raised", type, v}`),
 * the other null. `unstable` is true when another call with the same arguments had another outcome
 * (in the same process or in another): such a record says nothing and is never compared.
 */
export interface CallRecord {
  key: string;
  call: string;
  args: unknown;
  result: Fingerprint | null;
  raised: Fingerprint | null;
  unstable: boolean;
}

/**
 * What one function did: `calls` the number of calls seen (all processes), `kept` the distinct
 * argument sets recorded, in the order first seen, and `truncated` true when some calls were not
 * fingerprinted (the per-process limit on kept argument sets or fingerprinted calls was reached).
 */
export interface FunctionCapture {
  calls: number;
  kept: CallRecord[];
  truncated: boolean;
}

/**
 * Everything a captured command recorded, by function key `"<relative file>::<qualname>"`
 * (e.g. `"pkg/mod.py::Shape.area"`); only functions called at least once appear.
 */
export interface Capture {
  functions: Record<string, FunctionCapture>;
}

/** Thrown when a capture file cannot be read or is not in the shape `_perfloop_capture.py` writes. */
export class CaptureReadError extends Error {
  override name = "CaptureReadError";
  /** The file (or directory) that failed. */
  readonly file: string;
  constructor(file: string, options: { cause: unknown }) {
    super(`cannot read behaviour capture ${file}: ${String(options.cause)}`, options);
    this.file = file;
  }
}

/**
 * Environment for running a command with behaviour capture: a copy of `baseEnv` with perfloop's
 * `sitecustomize` directory prepended to `PYTHONPATH` (as `pythonProfileEnv` does; existing
 * entries kept after it) and `PERFLOOP_CAPTURE_DIR` (absolute `dir`, created by the first process
 * that writes), `PERFLOOP_CAPTURE_ROOT` (absolute `root`, the tree the targets' files are relative
 * to), `PERFLOOP_CAPTURE_TARGETS` (the targets as JSON) and `PERFLOOP_CAPTURE_MAX_CALLS` (distinct
 * argument sets kept per function and process). `baseEnv` is not modified; combining it with
 * `pythonProfileEnv` is harmless (both put the same directory first).
 * @throws RangeError when `maxCalls` is not a positive integer.
 */
export function captureEnv(
  baseEnv: Record<string, string>,
  dir: string,
  root: string,
  targets: CaptureTarget[],
  maxCalls = 200,
): Record<string, string> {
  if (!Number.isInteger(maxCalls) || maxCalls < 1)
    throw new RangeError(`maxCalls must be a positive integer, got ${maxCalls}`);
  const existing = baseEnv.PYTHONPATH ?? "";
  const entries = existing === "" ? [] : existing.split(path.delimiter);
  return {
    ...baseEnv,
    PYTHONPATH:
      entries[0] === SITECUSTOMIZE_DIR
        ? existing
        : existing === ""
          ? SITECUSTOMIZE_DIR
          : `${SITECUSTOMIZE_DIR}${path.delimiter}${existing}`,
    PERFLOOP_CAPTURE_DIR: path.resolve(dir),
    PERFLOOP_CAPTURE_ROOT: path.resolve(root),
    PERFLOOP_CAPTURE_TARGETS: JSON.stringify(targets.map((t) => ({ file: t.file, function: t.function }))),
    PERFLOOP_CAPTURE_MAX_CALLS: String(maxCalls),
  };
}

const FingerprintSchema = z.looseObject({ t: z.string() });

const CallRecordSchema = z.object({
  key: z.string(),
  call: z.string(),
  args: z.unknown(),
  result: FingerprintSchema.nullable(),
  raised: FingerprintSchema.nullable(),
  unstable: z.boolean(),
});

const FunctionCaptureSchema = z.object({
  calls: z.number().int().nonnegative(),
  kept: z.array(CallRecordSchema),
  truncated: z.boolean(),
});

/** One `cap-<pid>.json` file as `_perfloop_capture.py` writes it. */
const CaptureFileSchema = z.object({
  pid: z.number().int(),
  functions: z.record(z.string(), FunctionCaptureSchema),
});

/** Deep equality of two JSON values (key order ignored). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((item, i) => sameJson(item, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  const ob = b as Record<string, unknown>;
  const oa = a as Record<string, unknown>;
  return ka.every((k) => Object.hasOwn(ob, k) && sameJson(oa[k], ob[k]));
}

/** The pid a capture file name carries, for ordering (files of earlier pids first). */
function pidOf(name: string): number {
  const match = /^cap-(\d+)/.exec(name);
  return match ? Number(match[1]) : Number.MAX_SAFE_INTEGER;
}

/**
 * Reads every `cap-*.json` file in `dir` (one per Python process that called a target) and merges
 * them, files in pid order: per function `calls` are summed, `truncated` is true if it is in any
 * process, and `kept` lists each argument key once with the first record seen; a record is
 * `unstable` if any process marked it so or two processes saw different outcomes for it.
 * A missing directory gives an empty capture (`{functions: {}}`).
 * @throws CaptureReadError (with `cause`) for a file that is not valid JSON of the expected shape,
 *   is refused by `readInside` (a link, a FIFO, over 512 MiB), or a directory that cannot be listed.
 */
export async function readCapture(dir: string): Promise<Capture> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { functions: {} };
    throw new CaptureReadError(dir, { cause: error });
  }
  const files = names
    .filter((n) => /^cap-.*\.json$/.test(n))
    .sort((a, b) => pidOf(a) - pidOf(b) || (a < b ? -1 : a > b ? 1 : 0));
  const merged = new Map<string, { calls: number; truncated: boolean; kept: Map<string, CallRecord> }>();
  for (const name of files) {
    let parsed: z.infer<typeof CaptureFileSchema>;
    try {
      parsed = CaptureFileSchema.parse(JSON.parse((await readInside(dir, name, PROFILE_READ)) ?? ""));
    } catch (error) {
      throw new CaptureReadError(path.join(dir, name), { cause: error });
    }
    for (const [fn, capture] of Object.entries(parsed.functions)) {
      let into = merged.get(fn);
      if (into === undefined) {
        into = { calls: 0, truncated: false, kept: new Map() };
        merged.set(fn, into);
      }
      into.calls += capture.calls;
      into.truncated ||= capture.truncated;
      for (const record of capture.kept) {
        const first = into.kept.get(record.key);
        if (first === undefined) {
          into.kept.set(record.key, { ...record });
        } else if (
          record.unstable ||
          !sameJson(first.result, record.result) ||
          !sameJson(first.raised, record.raised)
        ) {
          first.unstable = true;
        }
      }
    }
  }
  return {
    functions: Object.fromEntries(
      [...merged].map(([fn, m]) => [
        fn,
        { calls: m.calls, kept: [...m.kept.values()], truncated: m.truncated },
      ]),
    ),
  };
}
