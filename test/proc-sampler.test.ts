import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  coreBusyBetween,
  parseCpuLines,
  parseLoadavg,
  parseMachineStat,
  parseProcIo,
  parseProcStat,
  parseSchedStat,
  startProcSampler,
} from "../src/core/measure/proc-sampler.ts";

const FIXTURES = path.join(import.meta.dirname, "fixtures", "proc");
const fixture = (name: string): Promise<string> => readFile(path.join(FIXTURES, name), "latin1");
const temps: string[] = [];
afterEach(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe("parsers on /proc text captured from this machine", () => {
  it("parses a stat line", async () => {
    expect(parseProcStat(await fixture("parent.stat"))).toEqual({
      pid: 5894,
      comm: "bash",
      state: "S",
      ppid: 5890,
      majflt: 0,
      utime: 0,
      stime: 0,
      rssPages: 765,
    });
  });

  it("counts fields from the last parenthesis when the command name has spaces and parentheses", async () => {
    const stat = parseProcStat(await fixture("child.stat"));
    expect(stat?.comm).toBe("odd (name) x");
    expect(stat?.ppid).toBe(5894);
    expect(stat?.rssPages).toBe(421);
  });

  it("rejects text that is not a stat line", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("12 (x) S")).toBeNull();
    expect(parseProcStat("not a stat line at all")).toBeNull();
  });

  it("parses /proc/<pid>/io", async () => {
    expect(parseProcIo(await fixture("parent.io"))).toEqual({ readBytes: 0, writeBytes: 8192 });
    expect(parseProcIo("rchar: 1\nwchar: 2\n")).toBeNull();
  });

  it("parses a thread's schedstat: ns on CPU, ns waiting on a run queue, timeslices", async () => {
    expect(parseSchedStat(await fixture("thread0.schedstat"))).toEqual({
      runNs: 64720012,
      waitNs: 440224,
      slices: 42,
    });
    expect(parseSchedStat("")).toBeNull();
    expect(parseSchedStat("12 x 3")).toBeNull();
  });

  it("reads procs_running and the aggregate steal ticks of /proc/stat, and the 1-minute load", async () => {
    // cpu  9551 0 1970 70695 794 0 141 7 0 0 → steal (field 8) = 7; "procs_running 1".
    expect(parseMachineStat(await fixture("proc-stat.txt"))).toEqual({ procsRunning: 1, stealTicks: 7 });
    expect(parseMachineStat("cpu0 1 2 3\n")).toEqual({ procsRunning: null, stealTicks: null });
    expect(parseLoadavg(await fixture("loadavg.txt"))).toBe(1.52);
    expect(parseLoadavg("")).toBeNull();
  });

  it("parses per-core lines of /proc/stat and computes busy shares between two readings", async () => {
    const before = parseCpuLines(await fixture("proc-stat.txt"));
    const after = parseCpuLines(await fixture("proc-stat-later.txt"));
    // cpu0 5123 0 1089 34723 573 0 52 3 0 0 -> busy = 5123+0+1089+0+52+3, total = busy+34723+573
    expect(before).toEqual([
      { cpu: 0, busy: 6267, total: 41563 },
      { cpu: 1, busy: 5400, total: 41592 },
    ]);
    const busy = coreBusyBetween(before, after);
    expect(busy).toHaveLength(2);
    // cpu0: busy +(5185-5123)+(1099-1089)+0 = 72 of total +72+285+0 = 357 ticks
    expect(busy[0]).toBeCloseTo((100 * 72) / 357, 6);
    for (const pct of busy) expect(pct).toBeGreaterThanOrEqual(0);
    expect(coreBusyBetween(after, after)).toEqual([0, 0]);
  });
});

/** A fake /proc made of the captured files, laid out as the kernel does. */
async function fakeProc(withChildrenFiles: boolean): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), "perfloop-proc-"));
  temps.push(root);
  for (const [pid, name] of [
    [5894, "parent"],
    [5895, "child"],
  ] as const) {
    await mkdir(path.join(root, String(pid), "task", String(pid)), { recursive: true });
    await cp(path.join(FIXTURES, `${name}.stat`), path.join(root, String(pid), "stat"));
    await cp(path.join(FIXTURES, `${name}.io`), path.join(root, String(pid), "io"));
    const thread = name === "parent" ? "thread0" : "thread1";
    await cp(
      path.join(FIXTURES, `${thread}.schedstat`),
      path.join(root, String(pid), "task", String(pid), "schedstat"),
    );
    if (withChildrenFiles) {
      const children = name === "parent" ? await fixture("parent.children") : "";
      await writeFile(path.join(root, String(pid), "task", String(pid), "children"), children);
    }
  }
  await cp(path.join(FIXTURES, "proc-stat.txt"), path.join(root, "stat"));
  await cp(path.join(FIXTURES, "loadavg.txt"), path.join(root, "loadavg"));
  return root;
}

describe("sampling a fake /proc tree", () => {
  it("walks children files and ignores a child that vanished (pid 5901)", async () => {
    const sampler = startProcSampler(5894, { intervalMs: 20, procRoot: await fakeProc(true) });
    await new Promise((resolve) => setTimeout(resolve, 90));
    const samples = await sampler.stop();
    expect(samples.length).toBeGreaterThanOrEqual(2);
    const last = samples.at(-1);
    expect(last?.procs).toBe(2);
    expect(last?.cpuMs).toBe(0);
    expect(last?.writeBytes).toBe(8192);
    expect(last?.majorFaults).toBe(0);
    // 765 + 421 pages, times the page size (a power of two, 4 KiB or more).
    const pageSize = (last?.rssBytes ?? 0) / 1186;
    expect(Number.isInteger(Math.log2(pageSize)) && pageSize >= 4096).toBe(true);
    expect(last?.coreBusyPct).toEqual([0, 0]); // the same /proc/stat every time
    // Run-queue delay: Σ schedstat field 2 of both threads (440224 + 91366 ns); machine state.
    expect(last?.runQueueMs).toBeCloseTo((440224 + 91366) / 1e6, 9);
    expect(last?.procsRunning).toBe(1);
    expect(last?.stealMs).toBe(0); // the same /proc/stat every time: no steal since the start
    expect(last?.loadavg1).toBe(1.52);
    expect(sampler.notes).toEqual([]);
    // Ticks are scheduled from the ideal time, so they stay near multiples of the interval.
    for (const [i, s] of samples.entries())
      if (i > 0) expect(s.tMs).toBeGreaterThan(samples[i - 1]?.tMs ?? 0);
  });

  it("keeps the run-queue delay of a child that exited between samples", async () => {
    const root = await fakeProc(true);
    const sampler = startProcSampler(5894, { intervalMs: 20, procRoot: root });
    await new Promise((resolve) => setTimeout(resolve, 200)); // several ticks, even on a busy machine
    // The child is reaped: gone from /proc and from its parent's children file.
    await rm(path.join(root, "5895"), { recursive: true });
    await writeFile(path.join(root, "5894", "task", "5894", "children"), "");
    await new Promise((resolve) => setTimeout(resolve, 60));
    const samples = await sampler.stop();
    const both = (440224 + 91366) / 1e6;
    expect(samples.some((s) => s.procs === 2)).toBe(true);
    expect(samples.at(-1)?.procs).toBe(1);
    expect(samples.at(-1)?.runQueueMs).toBeCloseTo(both, 9); // not only the parent's 0.44 ms
    for (const [i, s] of samples.entries())
      if (i > 0) expect(s.runQueueMs ?? 0).toBeGreaterThanOrEqual(samples[i - 1]?.runQueueMs ?? 0);
  });

  it("falls back to a ppid scan when the kernel has no children files", async () => {
    const sampler = startProcSampler(5894, { intervalMs: 20, procRoot: await fakeProc(false) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const samples = await sampler.stop();
    expect(samples.at(-1)?.procs).toBe(2);
    expect(samples.at(-1)?.runQueueMs).toBeCloseTo((440224 + 91366) / 1e6, 9); // threads listed anyway
    expect(sampler.notes.join("\n")).toMatch(/scanning ppids/);
  });

  it("returns samples of an empty tree when the root does not exist, without throwing", async () => {
    const sampler = startProcSampler(999_999_999, { intervalMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    const samples = await sampler.stop();
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples.every((s) => s.procs === 0 && s.rssBytes === 0)).toBe(true);
    expect(samples.every((s) => s.runQueueMs === null)).toBe(true); // no thread: not measured, not 0
    expect(await sampler.stop()).toBe(samples); // a second stop changes nothing
  });
});

describe("sampling a live process tree", () => {
  it("sees CPU time grow, a second process, and its 50 MB", async () => {
    const script = [
      "import subprocess, sys, time",
      "t = time.time()",
      "while time.time() - t < 0.5: pass",
      "subprocess.run([sys.executable, '-c', 'b = bytearray(50 * 1024 * 1024); import time; time.sleep(0.6)'])",
    ].join("\n");
    const child = spawn("python3", ["-c", script], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    const sampler = startProcSampler(child.pid as number, { intervalMs: 50 });
    await exited;
    const samples = await sampler.stop();
    expect(samples.length).toBeGreaterThan(5);
    const live = samples.filter((s) => s.procs > 0);
    expect(live.at(-1)?.cpuMs ?? 0).toBeGreaterThan(live[0]?.cpuMs ?? 0);
    expect(Math.max(...samples.map((s) => s.cpuMs))).toBeGreaterThanOrEqual(300);
    expect(Math.max(...samples.map((s) => s.procs))).toBeGreaterThanOrEqual(2);
    expect(Math.max(...samples.map((s) => s.rssBytes))).toBeGreaterThanOrEqual(50 * 1024 * 1024);
    expect(samples.at(-1)?.procs).toBe(0); // the last sample is taken after the tree exited
    for (const s of samples) expect(s.coreBusyPct.length).toBeGreaterThan(0);
    // Contention fields are read from the live tree and the machine (values depend on the load).
    const read = samples.filter((s) => s.runQueueMs !== null);
    expect(read.length).toBeGreaterThan(0);
    for (const s of read) expect(s.runQueueMs).toBeGreaterThanOrEqual(0);
    for (const s of samples) {
      expect(s.procsRunning).toBeGreaterThanOrEqual(0);
      expect(s.stealMs).toBeGreaterThanOrEqual(0);
      expect(s.loadavg1).toBeGreaterThanOrEqual(0);
    }
    expect(sampler.notes).toEqual([]);
  });
});
