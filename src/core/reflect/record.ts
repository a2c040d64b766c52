/**
 * Writing a round's reflection into the evidence bundle: `rounds/<n>/reflection.json`, built from the
 * round's own evidence (its test.log when the tests gate failed).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { EvidenceWriter } from "../evidence/writer.ts";
import { type Reflection, type ReflectionInput, reflect } from "./reflection.ts";

/**
 * Builds the reflection of rejected round `input.round` and writes it to the bundle.
 * @param input everything but `testLog`, which is read from `<logDir>/test.log` for the tests gate.
 * @param logDir the candidate's evidence folder: `rounds/<n>` (default), or
 *   `rounds/<n>/candidates/<k>` in a round of several candidates.
 * @returns the reflection.
 * @throws the fs error when the bundle cannot be written.
 */
export async function recordReflection(
  evidence: EvidenceWriter,
  input: Omit<ReflectionInput, "testLog">,
  logDir = `rounds/${input.round}`,
): Promise<Reflection> {
  const testLog =
    input.gate === "tests"
      ? await readFile(path.join(evidence.dir, logDir, "test.log"), "utf8").catch(() => null)
      : null;
  const reflection = reflect({ ...input, testLog });
  await evidence.json(`rounds/${input.round}/reflection.json`, reflection);
  return reflection;
}
