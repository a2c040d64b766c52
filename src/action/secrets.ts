/**
 * Keeping the API key and the token out of everything the user's code or the evidence can see
 * (docs/design.md, "Sandbox"; issue 4, "Secrets"): both are masked in the log, and
 * the loop gets a parent environment without them — no `INPUT_*` variable (the runtime passes every
 * input, secrets included, as `INPUT_<NAME>`), no `ACTIONS_*` runtime credential, no `GITHUB_TOKEN`,
 * and no variable whose value is one of the secrets, whatever its name. The core's allow-list then
 * applies on top (names with TOKEN, SECRET, KEY, PASSWORD, CREDENTIAL never pass).
 */

/** Variables of the runtime that carry credentials or inputs, removed by name (prefixes end in `*`). */
const RUNTIME_SECRETS = ["INPUT_*", "ACTIONS_*", "GITHUB_TOKEN", "GH_TOKEN", "RUNNER_TOKEN"];

/**
 * Registers each non-empty secret with the log masker (`::add-mask::`), so the runner prints `***`
 * wherever it appears.
 * @param setSecret `@actions/core`'s setSecret.
 */
export function maskSecrets(secrets: readonly string[], setSecret: (value: string) => void): void {
  for (const secret of secrets) if (secret !== "") setSecret(secret);
}

/**
 * The environment handed to the loop (which builds its commands' environments from it).
 * @param env the step's environment (process.env).
 * @param secrets values that must not appear in any variable (the API key, the token).
 * @returns a fresh object; `env` is not modified.
 */
export function loopEnv(env: NodeJS.ProcessEnv, secrets: readonly string[]): NodeJS.ProcessEnv {
  const values = secrets.filter((s) => s.length >= 4);
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (RUNTIME_SECRETS.some((p) => (p.endsWith("*") ? name.startsWith(p.slice(0, -1)) : name === p)))
      continue;
    if (values.some((s) => value.includes(s))) continue;
    out[name] = value;
  }
  return out;
}
