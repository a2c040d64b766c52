/**
 * GPU sampler: ONE long-lived `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits -lms N`
 * per measurement, its lines parsed as they stream (docs/design.md, "Hardware signals":
 * never one spawn per sample). The fields are probed once per process and binary with
 * `nvidia-smi --help-query-gpu` (drivers differ: `clocks_event_reasons.*` vs `clocks_throttle_reasons.*`).
 * No nvidia-smi, a failed probe or no GPU is not an error: the trace says `available: false` and why
 * (docs/design.md, "Hardware signals": "say so and carry on with what there is").
 */
import { execa, type ResultPromise } from "execa";
import type { GpuSample, GpuTrace } from "../types.ts";
import { chooseQueryFields, parseGpuCsvLine } from "./nvidia-smi.ts";

/** Handle of a running GPU sampler. */
export interface GpuSampler {
  /** Stops nvidia-smi and returns what it reported. Never rejects; safe to call twice. */
  stop(): Promise<GpuTrace>;
}

/** Outcome of the one-off probe of a binary: the fields to query, or why there is no GPU to sample. */
export type GpuProbe = { ok: true; fields: string[]; gpus: number } | { ok: false; reason: string };

/** Time limit of each probe command, ms: nvidia-smi answers in well under a second when healthy. */
const PROBE_TIMEOUT_MS = 10_000;
/** How long stop() waits for nvidia-smi to exit after SIGTERM before SIGKILL, ms. */
const KILL_GRACE_MS = 2_000;
/** Most characters of unparsed output kept to explain a failure. */
const KEEP_CHARS = 2_000;

const probes = new Map<string, Promise<GpuProbe>>();

/** Forgets cached probes (tests; or after a driver change in a long-lived process). */
export function clearGpuProbeCache(): void {
  probes.clear();
}

/** First non-empty line of a text, trimmed and cut to 200 characters. */
function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find((l) => l !== "")
      ?.slice(0, 200) ?? ""
  );
}

/** Why an execa run failed, in words. */
function failure(
  bin: string,
  args: string,
  r: {
    code?: string;
    timedOut: boolean;
    exitCode?: number;
    stdout: unknown;
    stderr: unknown;
  },
): string {
  if (r.code === "ENOENT") return `${bin} not found (no NVIDIA driver tools on PATH)`;
  if (r.code === "EACCES") return `${bin} is not executable`;
  if (r.timedOut) return `\`${bin} ${args}\` timed out after ${PROBE_TIMEOUT_MS / 1000} s`;
  const said = firstLine(`${String(r.stderr ?? "")}\n${String(r.stdout ?? "")}`);
  return `\`${bin} ${args}\` failed (exit code ${r.exitCode ?? "?"})${said ? `: ${said}` : ""}`;
}

/**
 * Probes `bin` once per process (cached, also when it fails): `--help-query-gpu` for the known fields,
 * then `--query-gpu=index` for whether any GPU answers. Never rejects.
 */
export function probeGpu(bin = "nvidia-smi"): Promise<GpuProbe> {
  let probe = probes.get(bin);
  if (!probe) {
    probe = runProbe(bin).catch((error: unknown) => ({
      ok: false,
      reason: `probe failed: ${String(error)}`,
    }));
    probes.set(bin, probe);
  }
  return probe;
}

async function runProbe(bin: string): Promise<GpuProbe> {
  const options = {
    timeout: PROBE_TIMEOUT_MS,
    reject: false,
    stdin: "ignore",
    env: { LC_ALL: "C" },
  } as const;
  const help = await execa(bin, ["--help-query-gpu"], options);
  if (help.failed) return { ok: false, reason: failure(bin, "--help-query-gpu", help) };
  const fields = chooseQueryFields(help.stdout);
  if (!fields.includes("index")) {
    return { ok: false, reason: `\`${bin} --help-query-gpu\` lists none of the fields perfloop queries` };
  }
  const list = await execa(bin, ["--query-gpu=index", "--format=csv,noheader,nounits"], options);
  const gpus = list.stdout.split("\n").filter((l) => /^\s*\d+\s*$/.test(l)).length;
  if (list.failed || gpus === 0) {
    const said = firstLine(`${list.stdout}\n${list.stderr}`);
    return {
      ok: false,
      reason: list.failed
        ? failure(bin, "--query-gpu=index", list)
        : `no GPU: ${said || "nvidia-smi listed none"}`,
    };
  }
  return { ok: true, fields, gpus };
}

/**
 * Starts sampling every GPU nvidia-smi sees, every `intervalMs` (default 100). Resolves once the probe
 * is done and nvidia-smi is started; never rejects. Each sample's `tMs` is when its line arrived,
 * measured from this call. Output lines that are not samples (e.g. a driver error) are kept to explain
 * an empty trace. nvidia-smi is expected to flush each loop's lines; were it to block-buffer a pipe,
 * samples would arrive bunched and their `tMs` would be late, but their values would still be right.
 */
export async function startGpuSampler(
  opts: { intervalMs?: number; nvidiaSmi?: string } = {},
): Promise<GpuSampler> {
  const bin = opts.nvidiaSmi ?? "nvidia-smi";
  const intervalMs = Math.max(1, Math.round(opts.intervalMs ?? 100));
  const t0 = performance.now();
  const probe = await probeGpu(bin);
  if (!probe.ok) {
    const trace: GpuTrace = { available: false, reason: probe.reason, fields: [], samples: [] };
    return { stop: async () => trace };
  }
  const fields = probe.fields;
  const samples: GpuSample[] = [];
  let unparsed = "";
  let partial = "";
  const keep = (text: string): void => {
    if (unparsed.length < KEEP_CHARS) unparsed += `${text.slice(0, KEEP_CHARS - unparsed.length)}\n`;
  };
  const take = (line: string, tMs: number): void => {
    const sample = parseGpuCsvLine(line, fields, tMs);
    if (sample) samples.push(sample);
    else if (line.trim() !== "") keep(line.trim());
  };

  let child: ResultPromise<{ reject: false; buffer: false; stdin: "ignore" }>;
  try {
    child = execa(
      bin,
      [`--query-gpu=${fields.join(",")}`, "--format=csv,noheader,nounits", "-lms", String(intervalMs)],
      {
        reject: false,
        buffer: false,
        stdin: "ignore",
        forceKillAfterDelay: KILL_GRACE_MS,
        env: { LC_ALL: "C" },
      },
    );
  } catch (error) {
    const trace: GpuTrace = {
      available: false,
      reason: `could not start ${bin}: ${String(error)}`,
      fields,
      samples,
    };
    return { stop: async () => trace };
  }
  child.stdout?.setEncoding("utf8");
  child.stdout?.on("data", (chunk: string) => {
    const tMs = performance.now() - t0;
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) take(line, tMs);
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => keep(chunk.trim()));

  let exited = false;
  const done = child.then((result) => {
    exited = true;
    return result;
  });
  let stopped: Promise<GpuTrace> | undefined;

  return {
    stop(): Promise<GpuTrace> {
      stopped ??= (async () => {
        const exitedEarly = exited;
        if (!exited) child.kill("SIGTERM");
        const result = await done;
        if (partial.trim() !== "") take(partial, performance.now() - t0);
        partial = "";
        const why = firstLine(unparsed);
        const how = exitedEarly
          ? `${bin} exited (code ${result.exitCode ?? "?"})`
          : `${bin} printed no sample`;
        const reason = why ? `${how}: ${why}` : how;
        if (samples.length === 0) return { available: false, reason, fields, samples };
        // Samples, but nvidia-smi died before the end: the trace is partial, and says so.
        return exitedEarly
          ? { available: true, reason, fields, samples }
          : { available: true, fields, samples };
      })();
      return stopped;
    },
  };
}
