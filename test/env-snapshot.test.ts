import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { collectEnvSnapshot } from "../src/core/measure/env-snapshot.ts";

const CANARY_NAME = "PERFLOOP_CANARY_SECRET";
const CANARY_VALUE = "xyz123";
const temps: string[] = [];
afterEach(async () => {
  delete process.env[CANARY_NAME];
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** The RTX 2080 line recorded in Ricks-Lab/gpu-utils#83 and the fields its command asked for. */
const RTX2080_FIELDS =
  "power.limit,power.min_limit,power.max_limit,memory.total,vbios_version,driver_version,name,gpu_uuid,power.draw," +
  "temperature.gpu,temperature.memory,clocks.current.graphics,clocks.sm,clocks.mem,utilization.gpu," +
  "utilization.memory,fan.speed,pcie.link.width.current,pstate";

/**
 * A fake nvidia-smi answering `--query-gpu=<fields>` with the recorded RTX 2080 line, its values
 * picked by field name in the requested order (`[N/A]` for a field the recording lacks).
 */
async function fakeNvidiaSmi(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "perfloop-fake-smi-"));
  temps.push(dir);
  const recorded = await readFile(
    path.join(import.meta.dirname, "fixtures", "nvidia-smi", "rtx2080.gpu-utils-83.noheader.csv"),
    "utf8",
  );
  const recording = path.join(dir, "recording.csv");
  await writeFile(recording, `${RTX2080_FIELDS.replaceAll(",", ", ")}\n${recorded}`);
  const bin = path.join(dir, "nvidia-smi");
  const awk = `BEGIN { n = split(q, want, ",") }
NR == 1 { for (i = 1; i <= split($0, h, /, */); i++) col[h[i]] = i; next }
{ split($0, v, /, */); out = ""; for (j = 1; j <= n; j++) out = out (j > 1 ? ", " : "") (col[want[j]] ? v[col[want[j]]] : "[N/A]"); print out }`;
  await writeFile(path.join(dir, "project.awk"), awk);
  await writeFile(
    bin,
    `#!/bin/sh\nq="\${1#--query-gpu=}"\nexec awk -v q="$q" -f '${path.join(dir, "project.awk")}' '${recording}'\n`,
  );
  await chmod(bin, 0o755);
  return bin;
}

describe("collectEnvSnapshot", () => {
  it("has the documented shape, takes a few seconds at most, and leaks no environment value", async () => {
    process.env[CANARY_NAME] = CANARY_VALUE;
    const started = performance.now();
    const snapshot = await collectEnvSnapshot({ nvidiaSmi: "/nonexistent/dir/nvidia-smi" });
    expect(performance.now() - started).toBeLessThan(10_000);

    expect(Number.isNaN(Date.parse(snapshot.collectedAt))).toBe(false);
    expect(snapshot.cpu.logicalCores).toBeGreaterThan(0);
    expect(snapshot.cpu.availableCores).toBeGreaterThan(0);
    expect(snapshot.cpu.brand).toEqual(expect.any(String));
    expect(snapshot.memTotalBytes).toBeGreaterThan(0);
    expect(snapshot.os.platform).toBe(process.platform);
    expect(snapshot.os.kernel).not.toBe("");
    expect(snapshot.versions.node).toBe(process.versions.node);
    expect(typeof snapshot.runtime.container).toBe("boolean");
    expect(snapshot.gpus).toEqual([]);
    expect(snapshot.gpuNote).toMatch(/not found/);
    expect(snapshot.summary).toMatchObject({
      cores: snapshot.cpu.logicalCores,
      memoryBytes: snapshot.memTotalBytes,
    });
    expect(snapshot.summary.gpus).toEqual([]);

    const json = JSON.stringify(snapshot);
    expect(json).not.toContain(CANARY_VALUE);
    expect(json).not.toContain(CANARY_NAME);
    for (const key of ["hostname", "fqdn", "serial", "uuid", "env"]) expect(json).not.toContain(`"${key}"`);
    // No other variable's value either (those long enough to be told apart from ordinary words).
    for (const [name, value] of Object.entries(process.env)) {
      if (value && value.length >= 10) expect(json.includes(value), `value of ${name}`).toBe(false);
    }
  });

  it("lists GPUs from nvidia-smi's inventory query", async () => {
    const snapshot = await collectEnvSnapshot({ nvidiaSmi: await fakeNvidiaSmi() });
    expect(snapshot.gpus).toEqual([
      {
        index: null,
        name: "GeForce RTX 2080",
        driverVersion: "440.64",
        memoryTotalMiB: 7979,
        powerLimitW: 200,
      },
    ]);
    expect(snapshot.gpuNote).toBeUndefined();
    expect(snapshot.summary.gpus).toEqual(["GeForce RTX 2080, 7979 MiB, driver 440.64"]);
  });

  it("says why there are no GPUs when nvidia-smi fails", async () => {
    const snapshot = await collectEnvSnapshot({ nvidiaSmi: "/bin/false" });
    expect(snapshot.gpus).toEqual([]);
    expect(snapshot.gpuNote).toMatch(/failed \(exit code 1\)/);
  });
});
