/**
 * The patch policy publishing re-checks a bundle against (src/core/patch/policy.ts), taken from the
 * repository's config as the App or the Action read it. The App passes the config unvalidated (it
 * validates only `app:`, src/app/config.ts), so every key is read leniently: a key that is missing
 * or malformed gets the core schema's default (src/core/config/schema.ts), and glob lists keep
 * their string entries (a `protect` glob the App's schema would refuse still protects).
 */
import { MAX_LIMITS } from "../core/config/bounds.ts";
import { CONFIG_PATH } from "../core/config/load.ts";
import { configSchema } from "../core/config/schema.ts";
import type { PatchPolicy } from "../core/patch/policy.ts";

/** The core schema's defaults of the keys the policy reads (schema.ts `paths`, `limits`). */
const LIMITS = configSchema.shape.limits.parse(undefined);

/**
 * The policy of a config that sets none of its keys: the core schema's defaults (`paths: ["**\/*"]`,
 * no `protect`, `limits` 10 files, 400 changed lines, 200,000 bytes per file), the built-in rules.
 */
export const DEFAULT_POLICY: Readonly<PatchPolicy> = Object.freeze({
  paths: configSchema.shape.paths.parse(undefined),
  protect: [],
  maxFiles: LIMITS.max_files,
  maxChangedLines: LIMITS.max_changed_lines,
  maxFileBytes: LIMITS.max_file_bytes,
  benchmarkFiles: [],
  configPath: CONFIG_PATH,
});

/**
 * The policy when the run's config is unknown (the caller passed none, or could not read it): every
 * built-in rule (tests, benchmarks, `.github/`, the perfloop config, lock files, `.git`, unsafe
 * paths), any path, and the size caps at the schema's upper bounds (bounds.ts `MAX_LIMITS`), which
 * no config can exceed, so a bundle is never refused for a cap its config may have raised.
 */
export const UNKNOWN_CONFIG_POLICY: Readonly<PatchPolicy> = Object.freeze({
  ...DEFAULT_POLICY,
  maxFiles: MAX_LIMITS.files,
  maxChangedLines: MAX_LIMITS.changedLines,
  maxFileBytes: MAX_LIMITS.fileBytes,
});

/**
 * The policy of a config object (parsed YAML or a validated `Config`): `paths`, `protect`,
 * `benchmark.files`, `limits.max_files`, `limits.max_changed_lines`, `limits.max_file_bytes`.
 * Missing or malformed keys take {@link DEFAULT_POLICY}'s value (the runner used the default for a
 * missing key); limits are capped at the schema's bounds (bounds.ts `MAX_LIMITS`).
 * `null`/`undefined` (config unknown) gives {@link UNKNOWN_CONFIG_POLICY}. Never throws.
 */
export function patchPolicyFromConfig(raw: unknown): PatchPolicy {
  if (raw === null || raw === undefined)
    return { ...UNKNOWN_CONFIG_POLICY, paths: [...UNKNOWN_CONFIG_POLICY.paths] };
  const config = record(raw);
  const limits = record(config.limits);
  const paths = globs(config.paths);
  return {
    paths: paths.length > 0 ? paths : [...DEFAULT_POLICY.paths],
    protect: globs(config.protect),
    maxFiles: count(limits.max_files, DEFAULT_POLICY.maxFiles, MAX_LIMITS.files),
    maxChangedLines: count(limits.max_changed_lines, DEFAULT_POLICY.maxChangedLines, MAX_LIMITS.changedLines),
    maxFileBytes: count(limits.max_file_bytes, DEFAULT_POLICY.maxFileBytes, MAX_LIMITS.fileBytes),
    benchmarkFiles: globs(record(config.benchmark).files),
    configPath: CONFIG_PATH,
  };
}

/** `value` as a plain object, or an empty one. */
function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The non-empty strings of a list (a single string counts as a list of one). */
function globs(value: unknown): string[] {
  const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
  return list.filter((g): g is string => typeof g === "string" && g.trim() !== "");
}

/** A positive integer no larger than `max`, else `fallback`. */
function count(value: unknown, fallback: number, max: number): number {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? Math.min(value, max) : fallback;
}
