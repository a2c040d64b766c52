/**
 * `profile.tool: nsys`: the Nsight Systems SQLite reader on a real export (CloverLeaf on an A100
 * 80GB at NERSC's Perlmutter, from pipit's test data; test/fixtures/torch/README.md), the facts and
 * rules it feeds, the Chrome trace kept in the bundle, and the nsys command line.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classify } from "../src/core/analyze/classify.ts";
import { summarizeSignals } from "../src/core/analyze/signals.ts";
import { shellQuote } from "../src/core/exec/shell-quote.ts";
import { nsysCommand } from "../src/core/loop/nsys-run.ts";
import { loadSqlite } from "../src/core/memory/sqlite.ts";
import { readNsysExport } from "../src/core/profile/nsys-export.ts";
import { torchFacts } from "../src/core/profile/torch-facts.ts";
import {
  parseTorchTrace,
  type TorchTrace,
  TorchTraceError,
  toChromeTrace,
} from "../src/core/profile/torch-trace.ts";
import { traceInput } from "./fixtures/traces/load-trace.ts";

let dir = "";
let file = "";
let trace: TorchTrace;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "perfloop-nsys-"));
  file = path.join(dir, "cloverleaf.sqlite");
  await writeFile(
    file,
    gunzipSync(
      readFileSync(path.join(import.meta.dirname, "fixtures/torch/pipit-cloverleaf-nsys-a100.sqlite.gz")),
    ),
  );
  trace = await readNsysExport(file);
});
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

/** One number from the export, by SQL: the expected values are counted from the file itself. */
async function query(sql: string): Promise<number> {
  const { DatabaseSync } = await loadSqlite();
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number(Object.values(db.prepare(sql).get() as Record<string, unknown>)[0]);
  } finally {
    db.close();
  }
}

describe("an Nsight Systems export of CloverLeaf on an A100", () => {
  it("reads the device, kernels, runtime calls without their version suffix, and copies in Kineto's names", async () => {
    expect(trace.recorder).toBe("nsys");
    expect(trace.devices[0]).toMatchObject({ name: "NVIDIA A100-SXM4-80GB" });
    expect(trace.kernels.length).toBe(await query("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL"));
    expect(trace.runtime.length).toBe(await query("SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME"));
    expect(trace.runtime.some((r) => r.name === "cudaLaunchKernel")).toBe(true);
    expect(trace.runtime.some((r) => /_v\d+$/.test(r.name))).toBe(false);
    expect(new Set(trace.copies.map((c) => c.name))).toEqual(
      new Set(["Memcpy HtoD (Pageable -> Device)", "Memcpy DtoH (Device -> Pageable)"]),
    );
  });

  it("gives the facts: a device sync after every kernel, pageable copies", async () => {
    const facts = torchFacts(trace, dir, "nsys.trace.json");
    const sync = facts.syncs.find((s) => s.name === "cudaDeviceSynchronize");
    expect(sync?.count).toBe(
      await query(
        "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_RUNTIME r JOIN StringIds s ON s.id = r.nameId WHERE s.value LIKE 'cudaDeviceSynchronize%'",
      ),
    );
    expect(sync?.count).toBe(facts.gpu?.kernelCount);
    const htod = facts.copies.find((c) => c.kind === "HtoD");
    expect(htod?.bytes).toBe(
      await query("SELECT sum(bytes) FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE copyKind = 1"),
    );
    expect(htod?.pageableBytes).toBe(htod?.bytes);
  });

  it("is sync-bound by the rules, its share the GPU idle after the syncs, not the host's whole wait", () => {
    const facts = torchFacts(trace, dir, "nsys.trace.json");
    const verdicts = classify({ ...summarizeSignals(traceInput("cpu-single")), torch: facts });
    const v = verdicts.find((x) => x.category === "gpu-sync");
    expect(v?.rule).toMatch(/^Nsight Systems trace: the host was blocked/);
    expect(facts.syncMs / facts.windowMs).toBeGreaterThan(0.4);
    expect(v?.sharePct).toBeLessThan((100 * (facts.gpu?.idleMs ?? 0)) / facts.windowMs + 0.1);
    // Kernels of ~5 µs median, but the GPU idles only ~11% of its span: not launch-bound.
    expect(verdicts.find((x) => x.category === "gpu-launch-bound")).toBeUndefined();
  });

  it("is kept as a Chrome trace that reads back to the same events", () => {
    const again = parseTorchTrace(toChromeTrace(trace), "kept");
    expect(again.recorder).toBe("nsys");
    expect(again.kernels.length).toBe(trace.kernels.length);
    expect(again.copies.map((c) => c.args.bytes)).toEqual(trace.copies.map((c) => c.args.bytes));
  });

  it("refuses a file that is not an nsys export, saying what to do", async () => {
    const empty = path.join(dir, "empty.sqlite");
    const { DatabaseSync } = await loadSqlite();
    new DatabaseSync(empty).close();
    await expect(readNsysExport(empty)).rejects.toThrow(TorchTraceError);
    await expect(readNsysExport(empty)).rejects.toThrow(/--trace=cuda/);
  });
});

describe("the nsys command line", () => {
  it("profiles the benchmark through sh, quoted as one word whatever it holds", async () => {
    const benchmark = `python3 -c 'print("it'"'"'s")' && echo $HOME`;
    const line = nsysCommand(benchmark, "/tmp/out dir");
    expect(line).toMatch(
      /^nsys profile --trace=cuda,nvtx .*--export=sqlite .*-o '\/tmp\/out dir\/perfloop' sh -c '/,
    );
    // The shell gives back exactly the benchmark: checked by a real sh.
    const { stdout } = await promisify(execFile)("sh", ["-c", `printf %s ${shellQuote(benchmark)}`]);
    expect(stdout).toBe(benchmark);
  });
});
