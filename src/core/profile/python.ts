import path from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { ProfileConfig } from "../config/schema.ts";
import type { RawFunctionTimes } from "./hotspots.ts";

/** Absolute directory holding perfloop's `sitecustomize.py`. */
export const SITECUSTOMIZE_DIR: string = fileURLToPath(new URL("./python/", import.meta.url)).replace(
  /[\\/]$/,
  "",
);

/** Thrown when a Python profile file cannot be read or is not in the shape `sitecustomize.py` writes. */
export class PythonProfileReadError extends Error {
  override name = "PythonProfileReadError";
  /** The file that failed. */
  readonly file: string;
  constructor(file: string, options: { cause: unknown }) {
    super(`cannot read Python profile ${file}: ${String(options.cause)}`, options);
    this.file = file;
  }
}

/**
 * Environment for running a command with every Python process profiled: a copy of `baseEnv`
 * with perfloop's `sitecustomize` directory prepended to `PYTHONPATH` (existing entries kept
 * after it, so the user's own `sitecustomize` is still found and chained to) and
 * `PERFLOOP_PROFILE_DIR` set to the absolute `profileDir` (created by the first process that
 * writes). `baseEnv` is not modified. Processes started with `-S`, `-I` or `-E` are not profiled.
 */
export function pythonProfileEnv(
  baseEnv: Record<string, string>,
  profileDir: string,
): Record<string, string> {
  const existing = baseEnv.PYTHONPATH ?? "";
  return {
    ...baseEnv,
    PYTHONPATH: existing === "" ? SITECUSTOMIZE_DIR : `${SITECUSTOMIZE_DIR}${path.delimiter}${existing}`,
    PERFLOOP_PROFILE_DIR: path.resolve(profileDir),
  };
}

/** The `profile` config keys the PyTorch trace run reads (config/schema.ts). */
export type TorchTraceSettings = Pick<ProfileConfig, "torch_step" | "torch_steps" | "torch_skip">;

/**
 * Environment for the PyTorch trace run: perfloop's `sitecustomize` directory first on
 * `PYTHONPATH` (as pythonProfileEnv), `PERFLOOP_TORCH_DIR` set to the absolute `traceDir`, and the
 * step window (`PERFLOOP_TORCH_STEP`, `_STEPS`, `_SKIP`) when a step function is configured. No
 * `PERFLOOP_PROFILE_DIR`: cProfile stays off in this run (profile/python/_perfloop_torch.py says why).
 * `baseEnv` is not modified.
 */
export function torchTraceEnv(
  baseEnv: Record<string, string>,
  traceDir: string,
  settings: TorchTraceSettings,
): Record<string, string> {
  const { PERFLOOP_PROFILE_DIR: _, ...rest } = pythonProfileEnv(baseEnv, traceDir);
  const env: Record<string, string> = { ...rest, PERFLOOP_TORCH_DIR: path.resolve(traceDir) };
  if (settings.torch_step) {
    env.PERFLOOP_TORCH_STEP = settings.torch_step;
    env.PERFLOOP_TORCH_STEPS = String(settings.torch_steps);
    env.PERFLOOP_TORCH_SKIP = String(settings.torch_skip);
  }
  return env;
}

const PyFunctionSchema = z.object({
  file: z.string(),
  line: z.number().int(),
  function: z.string(),
  calls: z.number(),
  primitive_calls: z.number(),
  tottime_s: z.number(),
  cumtime_s: z.number(),
  // [caller index in `functions`, calls, primitive calls, tottime s, cumtime s] of this function
  // in the calls from that caller; absent in files of hooks older than the field. Only the rebuilt
  // stacks use it: a malformed list is dropped (`undefined`) rather than costing the hot spots.
  callers: z
    .array(z.tuple([z.number().int(), z.number(), z.number(), z.number(), z.number()]))
    .optional()
    .catch(undefined),
});

/** One `py-<pid>.json` file as `sitecustomize.py` writes it (seconds). */
const PyProfileSchema = z.object({
  pid: z.number().int(),
  argv: z.array(z.string()),
  total_s: z.number(),
  /** Whether the process had imported torch by its exit; absent in files of older hooks. */
  torch: z.boolean().optional(),
  functions: z.array(PyFunctionSchema),
});

/**
 * One Python process's profile as `sitecustomize.py` writes it: `pid`, `argv`, `total_s` (Σ
 * tottime, s), `torch` (imported by exit) and `functions` (file, 1-based line, name, calls, primitive calls, tottime_s and
 * cumtime_s in s, and optionally `callers`: `[caller index, calls, primitive calls, tottime_s,
 * cumtime_s]` per caller edge).
 */
export type PythonProfile = z.infer<typeof PyProfileSchema>;

/**
 * `json` checked against the shape `sitecustomize.py` writes ({@link PythonProfile}).
 * @throws PythonProfileReadError (with `source` as its file) for any other shape.
 */
export function parsePythonProfile(json: unknown, source = "<py profile>"): PythonProfile {
  try {
    return PyProfileSchema.parse(json);
  } catch (error) {
    throw new PythonProfileReadError(source, { cause: error });
  }
}

/**
 * A profile's function entries, unmerged: `selfMs` = cProfile tottime, `cumulativeMs` = cumtime
 * (recursion counted once, by cProfile), `calls` = total calls. Built-ins keep cProfile's file `~`
 * and line 0.
 */
export function pythonFunctionTimes(profile: PythonProfile): RawFunctionTimes[] {
  return profile.functions.map((f) => ({
    file: f.file,
    line: f.line,
    function: f.function,
    calls: f.calls,
    selfMs: f.tottime_s * 1000,
    cumulativeMs: f.cumtime_s * 1000,
  }));
}
