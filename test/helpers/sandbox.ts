/** Isolations for tests: the real bubblewrap sandbox (CI installs it) and none. */
import { parseConfig } from "../../src/core/config/load.ts";
import { type Isolation, resolveIsolation } from "../../src/core/exec/isolation.ts";

/**
 * The sandbox a run with `sandbox` settings gets.
 * @param sandbox the config's `sandbox` section (defaults filled in).
 * @param hide host paths no command may see.
 */
export async function sandboxFor(
  sandbox: Record<string, unknown> = {},
  hide: string[] = [],
): Promise<Isolation> {
  const config = parseConfig({ test: "true", benchmark: { command: "true" }, sandbox });
  return resolveIsolation(config.sandbox, { env: process.env, hide });
}

/** `sandbox.isolation: none`, with every limit off. */
export function noSandbox(): Promise<Isolation> {
  return sandboxFor({
    isolation: "none",
    limits: { processes: 0, memory: 0, file_size: 0, open_files: 0, tmp: 0 },
  });
}
