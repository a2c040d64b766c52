/**
 * The allow-listed environment for the user's commands (docs/design.md, "Sandbox").
 * Only known-harmless variables pass; anything whose name looks like a secret never does, even when
 * the config asks for it.
 */

/** Variable names passed through by default: locale, paths, toolchains, GPU selection. */
export const DEFAULT_ALLOWED_ENV = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TERM",
  "TMPDIR",
  "TZ",
  "CI",
  "PYTHONPATH",
  "PYTHONHASHSEED",
  "VIRTUAL_ENV",
  "CONDA_PREFIX",
  "LD_LIBRARY_PATH",
  "CUDA_HOME",
  "CUDA_VISIBLE_DEVICES",
  "NVIDIA_VISIBLE_DEVICES",
  "OMP_NUM_THREADS",
  "MKL_NUM_THREADS",
  "NODE_PATH",
  // The Actions runner tags the job's processes with it and kills what still carries it when the
  // job ends: passing it on keeps that clean-up working for anything a command starts.
  "RUNNER_TRACKING_ID",
] as const;

/** Name fragments that mark a secret (docs/design.md, "Sandbox"): such variables are never passed to user code. */
export const SECRET_NAME = /TOKEN|SECRET|KEY|PASSWORD|PASSWD|CREDENTIAL/i;

/**
 * Builds the environment of a user command from the parent's.
 * @param parent usually `process.env`.
 * @param extraAllowed names from `sandbox.env` in the config; `LC_*` style prefixes end in `*`.
 * @param overrides values perfloop sets itself (a knob's env var, profiler variables); secret-looking
 *   names are refused here too.
 * @returns a fresh object; the parent is not modified.
 */
export function buildChildEnv(
  parent: NodeJS.ProcessEnv,
  extraAllowed: readonly string[] = [],
  overrides: Record<string, string> = {},
): Record<string, string> {
  const allowed = [...DEFAULT_ALLOWED_ENV, "LC_*", ...extraAllowed];
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined || SECRET_NAME.test(name)) continue;
    if (allowed.some((pattern) => matchesName(pattern, name))) env[name] = value;
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (!SECRET_NAME.test(name)) env[name] = value;
  }
  // Deterministic hashing makes Python programs' timings and outputs comparable across runs.
  env.PYTHONHASHSEED ??= "0";
  env.PYTHONDONTWRITEBYTECODE = "1";
  return env;
}

function matchesName(pattern: string, name: string): boolean {
  return pattern.endsWith("*") ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}
