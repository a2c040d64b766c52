/**
 * The PyTorch trace reader and its facts on real recorded traces (test/fixtures/torch/README.md
 * says where each comes from): a CPU trace of the mlpeval example recorded by perfloop's hook, torch
 * 1.13's own legacy export, and two Kineto traces from A100s (Holistic Trace Analysis's test data).
 * Expected values are counted from the files themselves in each test where they can be.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { boundedTrace, MAX_KEPT_TRACE_BYTES } from "../src/core/loop/torch-trace-run.ts";
import { torchFacts } from "../src/core/profile/torch-facts.ts";
import { frameSite, nestingIndex } from "../src/core/profile/torch-sites.ts";
import { parseTorchTrace, TorchTraceError } from "../src/core/profile/torch-trace.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures/torch");
const EXAMPLE = path.resolve(import.meta.dirname, "../examples/mlpeval");
/** The mlpeval trace was recorded in a copy at this path (README of the fixtures). */
const RECORDED_AT = "/tmp/mlpeval-rec";

function fixture(name: string): string {
  const text = gunzipSync(readFileSync(path.join(FIXTURES, name))).toString("utf8");
  return name.startsWith("mlpeval") ? text.replaceAll(RECORDED_AT, EXAMPLE) : text;
}

type Raw = {
  ph?: string;
  cat?: string;
  name?: string;
  ts?: number;
  dur?: number;
  args?: Record<string, unknown>;
};
const rawEvents = (text: string): Raw[] => {
  const doc = JSON.parse(text);
  return Array.isArray(doc) ? doc : doc.traceEvents;
};

describe("a CPU trace of the mlpeval example (perfloop's legacy recorder, torch 1.13)", () => {
  const text = fixture("mlpeval-cpu-torch1.13.json.gz");
  const facts = torchFacts(parseTorchTrace(text, "cpu.json"), EXAMPLE, "profiles/torch-1.pt.trace.json");

  it("reads every operator and no GPU side", () => {
    expect(facts.recorder).toBe("legacy");
    expect(facts.opCount).toBe(rawEvents(text).length);
    expect(facts.gpu).toBeNull();
    expect(facts.kernels).toEqual([]);
    expect(facts.device).toBeNull();
  });

  it("counts the .item() reads of the 8 recorded steps (batch 1, three reads per item) at their Python line", () => {
    const items = rawEvents(text).filter((e) => e.name === "aten::item").length;
    expect(items).toBe(24);
    expect(facts.scalarReads.count).toBe(items);
    expect(facts.scalarReads.sites[0]).toEqual({
      site: { file: "mlpeval/evaluate.py", line: 26, function: "evaluate_batch" },
      count: 24,
    });
  });

  it("ranks operators by self time, with shapes and the repository function that called them", () => {
    const addmm = facts.operators.find((o) => o.name === "aten::addmm");
    expect(addmm).toMatchObject({ calls: 24, shapes: "[[64],[1,64],[64,64],[],[]]" });
    expect(addmm?.site).toEqual({ file: "mlpeval/evaluate.py", line: 26, function: "evaluate_batch" });
    const selfs = facts.operators.map((o) => o.selfMs);
    expect(selfs).toEqual([...selfs].sort((a, b) => b - a));
    // aten::linear wraps aten::addmm: its self time excludes the nested call.
    const linear = facts.operators.find((o) => o.name === "aten::linear");
    expect(linear && linear.selfMs < linear.totalMs).toBe(true);
    // Frames of torch itself (Debian compiles it with relative file names) are never the repository's.
    expect(facts.operators.every((o) => !o.site?.file.startsWith("torch/"))).toBe(true);
  });
});

describe("torch's own legacy export (a bare event array, no categories)", () => {
  it("reads the events as CPU operators", () => {
    const text = fixture("legacy-export-torch1.13.json.gz");
    const trace = parseTorchTrace(text, "legacy.json");
    expect(trace.recorder).toBe("legacy");
    expect(trace.ops.length).toBe(rawEvents(text).filter((e) => e.ph === "X").length);
    expect(torchFacts(trace, "/nonexistent", "x").scalarReads.count).toBe(20);
  });
});

describe("a Kineto trace of AlexNet's first step on an A100 (HTA's test data)", () => {
  const text = fixture("hta-alexnet-a100.json.gz");
  const facts = torchFacts(parseTorchTrace(text, "alexnet.json"), "/nonexistent", "alexnet.json");
  const raw = rawEvents(text);

  it("reads the device, the kernels and their launching operators", () => {
    expect(facts.device).toBe("NVIDIA A100-PG509-200");
    expect(facts.gpu?.kernelCount).toBe(raw.filter((e) => e.cat === "kernel").length);
    expect(facts.gpu?.launchCount).toBe(raw.filter((e) => e.name === "cudaLaunchKernel").length);
    const total = facts.kernels.reduce((s, k) => s + k.pctOfKernelTime, 0);
    expect(total).toBeLessThanOrEqual(100.0001);
    // The GEMM kernels of the classifier are launched by aten::addmm (the operator running when
    // their cudaLaunchKernel started).
    expect(facts.kernels.find((k) => k.name.includes("sgemm"))?.op).toBe("aten::addmm");
  });

  it("finds the GPU idle while the host autotunes cuDNN: host wait, by HTA's rule", () => {
    const g = facts.gpu;
    expect(g).not.toBeNull();
    if (!g) return;
    expect(g.idlePct).toBeGreaterThan(90);
    expect(g.idle.hostWaitMs / g.idleMs).toBeGreaterThan(0.99);
    // Every idle gap got one of HTA's categories: they add up to the idle time of the union.
    expect(g.idle.hostWaitMs + g.idle.kernelWaitMs + g.idle.otherMs).toBeCloseTo(g.idleMs, 6);
    // The program's own call (aten::conv2d, under which cuDNN autotunes), not what it calls.
    const names = g.hostDuringIdle.map((h) => h.name);
    expect(names).toContain("aten::conv2d");
    expect(names).not.toContain("aten::cudnn_convolution");
  });

  it("sums the copies by direction, pageable ones marked", () => {
    const htod = raw.filter((e) => e.cat === "gpu_memcpy" && e.name?.includes("HtoD"));
    const copy = facts.copies.find((c) => c.kind === "HtoD");
    expect(copy?.count).toBe(htod.length);
    expect(copy?.bytes).toBe(htod.reduce((s, e) => s + Number(e.args?.bytes ?? 0), 0));
    expect(copy?.pageableBytes).toBe(
      htod.filter((e) => e.name?.includes("Pageable")).reduce((s, e) => s + Number(e.args?.bytes ?? 0), 0),
    );
  });

  it("lists the synchronizing calls with their host time", () => {
    const streamSyncs = raw.filter((e) => e.name === "cudaStreamSynchronize");
    const s = facts.syncs.find((x) => x.name === "cudaStreamSynchronize");
    expect(s?.count).toBe(streamSyncs.length);
    expect(s?.ms).toBeCloseTo(streamSyncs.reduce((t, e) => t + (e.dur ?? 0), 0) / 1000, 6);
    expect(facts.syncMs).toBeCloseTo(
      facts.syncs.reduce((t, x) => t + x.ms, 0),
      9,
    );
  });
});

describe("a Kineto trace of one step with .item(), an event sync and a device sync (HTA's test data)", () => {
  const facts = torchFacts(
    parseTorchTrace(fixture("hta-event-sync.json.gz"), "sync.json"),
    "/nonexistent",
    "s",
  );

  it("names each synchronizing call once and the .item() behind the stream sync", () => {
    expect(facts.syncs.map((s) => s.name).sort()).toEqual([
      "cudaDeviceSynchronize",
      "cudaEventSynchronize",
      "cudaStreamSynchronize",
    ]);
    expect(facts.scalarReads.count).toBe(1);
    expect(facts.copies).toEqual([{ kind: "DtoH", count: 1, bytes: 1, ms: 0.002, pageableBytes: 1 }]);
  });
});

describe("parse errors", () => {
  it("says what is wrong with a file that is not a trace", () => {
    expect(() => parseTorchTrace("{", "a.json")).toThrow(TorchTraceError);
    expect(() => parseTorchTrace("{", "a.json")).toThrow(/a\.json is not JSON/);
    expect(() => parseTorchTrace('{"events": []}', "b.json")).toThrow(/no "traceEvents" array/);
    expect(() => parseTorchTrace('{"traceEvents": [{"ph": "M", "name": "x"}]}', "c.json")).toThrow(
      /no complete \("ph": "X"\) event/,
    );
  });
});

describe("call sites", () => {
  const toRepo = (file: string): string | null =>
    file.startsWith(`${EXAMPLE}/`) ? file.slice(EXAMPLE.length + 1) : null;
  it("reads a frame of the repository, and refuses relative frames that are not its files", () => {
    expect(frameSite(`${EXAMPLE}/mlpeval/evaluate.py(26): evaluate_batch`, toRepo, EXAMPLE)).toEqual({
      file: "mlpeval/evaluate.py",
      line: 26,
      function: "evaluate_batch",
    });
    expect(frameSite("mlpeval/evaluate.py(6): evaluate", toRepo, EXAMPLE)?.function).toBe("evaluate");
    expect(frameSite("torch/nn/modules/linear.py(113): forward", toRepo, EXAMPLE)).toBeNull();
    expect(frameSite("<built-in method item of Tensor object at 0x7f>", toRepo, EXAMPLE)).toBeNull();
  });
});

describe("nesting", () => {
  const ev = (name: string, ts: number, dur: number) => ({ name, pid: "1", tid: "1", ts, dur, args: {} });
  it("an event that ends when another starts does not enclose it", () => {
    const parent = ev("parent", 0, 100);
    const child = ev("child", 10, 10);
    const at = nestingIndex([parent, child]);
    expect(at(ev("q", 20, 1))?.name).toBe("parent");
    expect(at(ev("q", 15, 1))?.name).toBe("child");
    expect(at(ev("q", 100, 1))).toBeNull();
  });
  it("finds the enclosing event past any number of closed siblings", () => {
    const events = [ev("outer", 0, 1_000_000)];
    for (let i = 0; i < 50_000; i++) events.push(ev(`s${i}`, 1 + i * 10, 5));
    expect(nestingIndex(events)(ev("q", 499_998, 1))?.name).toBe("outer");
  });
});

describe("the trace kept in the bundle", () => {
  it("stays whole when small and is cut to its earliest events, still valid JSON, when large", () => {
    const small = fixture("hta-event-sync.json.gz");
    expect(boundedTrace(small)).toBe(small);
    const event = (i: number) => ({
      ph: "X",
      cat: "cpu_op",
      name: `op${i}`,
      pid: 1,
      tid: 1,
      ts: i,
      dur: 1,
      args: { pad: "x".repeat(200) },
    });
    const big = JSON.stringify({ traceEvents: Array.from({ length: 30_000 }, (_, i) => event(30_000 - i)) });
    expect(Buffer.byteLength(big)).toBeGreaterThan(MAX_KEPT_TRACE_BYTES);
    const cut = boundedTrace(big);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_KEPT_TRACE_BYTES);
    const doc = JSON.parse(cut);
    expect(doc.perfloopNote).toMatch(/^cut to fit the bundle: \d+ of 30000 events/);
    const ts = doc.traceEvents.map((e: { ts: number }) => e.ts);
    expect(ts[0]).toBe(1);
    expect(ts).toEqual([...ts].sort((a: number, b: number) => a - b));
  });
});
