import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { clearGpuProbeCache, probeGpu, startGpuSampler } from "../src/core/measure/gpu-sampler.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures", "nvidia-smi");
const temps: string[] = [];
beforeEach(() => clearGpuProbeCache());
afterEach(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

/**
 * The projection the fake applies to a recording: its first line is a header naming the columns
 * (units in brackets are dropped); each later row is printed with the REQUESTED fields in the
 * requested order, values copied as recorded; a field the recording lacks prints `[N/A]`, as
 * nvidia-smi does for a field a board does not report. With -lms N it prints one row every N ms,
 * then waits to be killed, like the real loop; without, it prints the first row only.
 */
const PROJECT_AWK = String.raw`
BEGIN { n = split(q, want, ","); delay = (ms == "") ? 0 : ms / 1000 }
NR == 1 { nh = split($0, h, /, */); for (i = 1; i <= nh; i++) { name = h[i]; sub(/ \[.*\]$/, "", name); col[name] = i }; next }
{
  split($0, v, /, */)
  out = ""
  for (j = 1; j <= n; j++) {
    f = want[j]; c = col[f]
    if (!c && f == "clocks.sm") c = col["clocks.current.sm"]
    out = out (j > 1 ? ", " : "") (c ? v[c] : "[N/A]")
  }
  print out; fflush()
  if (!delay) exit
  system("sleep " delay " </dev/null >/dev/null 2>&1")
}
`;

/**
 * Writes a fake `nvidia-smi` that replays RECORDED fixtures: `--help-query-gpu` prints `help`,
 * `--query-gpu=…` replays `stream` through PROJECT_AWK. Every invocation is appended to `calls.log`.
 */
async function fakeNvidiaSmi(
  help: string,
  stream: string,
): Promise<{ bin: string; calls: () => Promise<string[]> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "perfloop-fake-smi-"));
  temps.push(dir);
  const bin = path.join(dir, "nvidia-smi");
  const log = path.join(dir, "calls.log");
  await writeFile(path.join(dir, "project.awk"), PROJECT_AWK);
  await writeFile(
    bin,
    [
      "#!/bin/bash",
      `echo "$*" >> '${log}'`,
      `if [ "$1" = "--help-query-gpu" ]; then exec cat '${path.join(FIXTURES, help)}'; fi`,
      'q=""; ms=""',
      `while [ $# -gt 0 ]; do case "$1" in --query-gpu=*) q="\${1#--query-gpu=}";; -lms) ms="$2"; shift;; esac; shift; done`,
      `awk_run() { exec awk -v q="$q" -v ms="$ms" -f '${path.join(dir, "project.awk")}' '${path.join(FIXTURES, stream)}'; }`,
      'if [ -z "$ms" ]; then awk_run; fi',
      "# The -lms loop runs until killed; on SIGTERM the replay stops at once, like nvidia-smi.",
      "trap 'kill $(jobs -p) 2>/dev/null; exit 143' TERM",
      "awk_run &",
      "wait",
      "sleep 600 &",
      "wait",
      "",
    ].join("\n"),
  );
  await chmod(bin, 0o755);
  const calls = async (): Promise<string[]> =>
    (await readFile(log, "utf8").catch(() => "")).split("\n").filter((l) => l !== "");
  return { bin, calls };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("startGpuSampler with a fake nvidia-smi replaying recorded output", () => {
  it("probes an R535 driver, streams -lms lines, parses every recorded row", async () => {
    const fake = await fakeNvidiaSmi(
      "help-query-gpu.event-reasons.r535.txt",
      "lms-stream.ksysguard-gpu-27.csv",
    );
    const sampler = await startGpuSampler({ intervalMs: 20, nvidiaSmi: fake.bin });
    await sleep(1000); // 13 rows at 20 ms each
    const trace = await sampler.stop();
    expect(trace.available).toBe(true);
    expect(trace.reason).toBeUndefined();
    expect(trace.fields).toContain("clocks_event_reasons.hw_thermal_slowdown");
    expect(trace.fields).toHaveLength(16);
    expect(trace.samples.map((s) => s.powerW)).toEqual([
      83.92, 78.22, 84.77, 78.63, 83.67, 77.39, 82.81, 77.0, 82.64, 76.64, 82.4, 77.8, 83.43,
    ]);
    expect(trace.samples[0]).toMatchObject({
      index: 0,
      utilGpuPct: 26,
      utilMemPct: 4,
      tempC: 56,
      smClockMHz: 1320,
    });
    expect(trace.samples[0]).toMatchObject({ memUsedMiB: null, powerLimitW: null, slowdown: [] });
    for (const [i, s] of trace.samples.entries()) {
      if (i > 0) expect(s.tMs).toBeGreaterThanOrEqual(trace.samples[i - 1]?.tMs ?? 0);
    }
    // One long-lived sampling process: help, one index query, one -lms run.
    const calls = await fake.calls();
    expect(calls).toHaveLength(3);
    expect(calls[2]).toMatch(/^--query-gpu=index,utilization\.gpu,.* --format=csv,noheader,nounits -lms 20$/);
    expect(await sampler.stop()).toBe(trace); // stop twice: same trace
  });

  it("queries clocks_throttle_reasons on an older driver", async () => {
    const fake = await fakeNvidiaSmi(
      "help-query-gpu.throttle-reasons.netdata.txt",
      "lms-stream.ksysguard-gpu-27.csv",
    );
    const sampler = await startGpuSampler({ intervalMs: 10, nvidiaSmi: fake.bin });
    await sleep(600);
    const trace = await sampler.stop();
    expect(trace.available).toBe(true);
    expect(trace.fields.filter((f) => f.startsWith("clocks_throttle_reasons."))).toHaveLength(6);
    expect(trace.samples).toHaveLength(13);
  });

  it("probes once per binary per process", async () => {
    const fake = await fakeNvidiaSmi(
      "help-query-gpu.event-reasons.r535.txt",
      "lms-stream.ksysguard-gpu-27.csv",
    );
    for (let i = 0; i < 2; i++) {
      const sampler = await startGpuSampler({ intervalMs: 50, nvidiaSmi: fake.bin });
      await sleep(200); // let the fake log its call before it is killed
      await sampler.stop();
    }
    const calls = await fake.calls();
    expect(calls.filter((c) => c === "--help-query-gpu")).toHaveLength(1);
    expect(calls.filter((c) => c.includes("-lms"))).toHaveLength(2);
  });

  it("returns what it has when stopped at once", async () => {
    const fake = await fakeNvidiaSmi(
      "help-query-gpu.event-reasons.r535.txt",
      "lms-stream.ksysguard-gpu-27.csv",
    );
    const trace = await (await startGpuSampler({ intervalMs: 1000, nvidiaSmi: fake.bin })).stop();
    expect(trace.fields).toHaveLength(16);
    expect(trace.samples.length).toBeLessThanOrEqual(1);
    if (trace.samples.length === 0) expect(trace).toMatchObject({ available: false, reason: /no sample/ });
  });
});

describe("startGpuSampler without a usable GPU", () => {
  it("no nvidia-smi: available false, with a reason, never throws", async () => {
    const trace = await (await startGpuSampler({ nvidiaSmi: "/nonexistent/dir/nvidia-smi" })).stop();
    expect(trace).toEqual({
      available: false,
      reason: expect.stringMatching(/not found/),
      fields: [],
      samples: [],
    });
  });

  it("a driver that lists no GPU: available false with nvidia-smi's own words", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "perfloop-fake-smi-"));
    temps.push(dir);
    const bin = path.join(dir, "nvidia-smi");
    // The help is recorded; "No devices were found" (exit 6) is nvidia-smi's message on a host without GPUs.
    const help = path.join(FIXTURES, "help-query-gpu.event-reasons.r535.txt");
    await writeFile(
      bin,
      `#!/bin/sh\n[ "$1" = "--help-query-gpu" ] && exec cat '${help}'\necho "No devices were found"\nexit 6\n`,
    );
    await chmod(bin, 0o755);
    expect(await probeGpu(bin)).toEqual({
      ok: false,
      reason: expect.stringMatching(/No devices were found/),
    });
    const trace = await (await startGpuSampler({ nvidiaSmi: bin })).stop();
    expect(trace.available).toBe(false);
    expect(trace.reason).toMatch(/No devices were found/);
  });

  it("a binary that is not nvidia-smi: available false", async () => {
    const trace = await (await startGpuSampler({ nvidiaSmi: "/bin/false" })).stop();
    expect(trace.available).toBe(false);
    expect(trace.reason).toMatch(/failed/);
  });
});
