/**
 * The hardware fingerprint: which machine a knob result was measured on. A knob value that won on one
 * CPU or GPU says little about another, so warm starts only use results with the same fingerprint.
 */
import { createHash } from "node:crypto";
import type { EnvSnapshot } from "../measure/env-snapshot.ts";

/** 2^30: memory is compared in whole GiB, so a few MiB of kernel reservations do not change it. */
const GIB = 2 ** 30;

/**
 * A short stable id of the machine: SHA-256 (first 12 hex digits) of the CPU model, the logical core
 * count, the memory in whole GiB and the sorted GPU names, from the env snapshot's summary
 * (`env_snapshot.json`). The GPU driver version is left out (a driver update keeps the fingerprint);
 * host names, serials and UUIDs are never part of it.
 */
export function hardwareFingerprint(summary: EnvSnapshot["summary"]): string {
  return createHash("sha256").update(describeHardware(summary)).digest("hex").slice(0, 12);
}

/** The text the fingerprint hashes, e.g. "AMD EPYC 7763 | 16 cores | 125 GiB | NVIDIA H100". */
export function describeHardware(summary: EnvSnapshot["summary"]): string {
  const gpus =
    summary.gpus
      .map((g) => g.replace(/, driver .*$/, ""))
      .sort()
      .join(", ") || "no GPU";
  return `${summary.cpu.trim()} | ${summary.cores} cores | ${Math.round(summary.memoryBytes / GIB)} GiB | ${gpus}`;
}
