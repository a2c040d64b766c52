/**
 * `/proc` sampler: reads the measured process tree at a fixed rate (default 10 Hz) without spawning
 * anything per sample (docs/design.md, "Hardware signals": systeminformation's process
 * functions spawn shell commands per call, far too costly at 10 Hz).
 *
 * What a sample holds is the LIVE tree: CPU time, faults and I/O of processes that exited between
 * two samples leave the sums with them. Whole-run CPU time comes from the OS elsewhere (rusage of the
 * process that waits for the others); `ProcSample.cpuMs` here is only the live tree's.
 * Sources of the formats: proc(5) — `/proc/<pid>/stat` fields 10–24, `/proc/<pid>/io`,
 * `/proc/<pid>/task/<tid>/children` (Linux ≥ 3.5, CONFIG_PROC_CHILDREN), `/proc/stat` (cpu lines,
 * `procs_running`), `/proc/loadavg`; kernel Documentation/scheduler/sched-stats.rst —
 * `/proc/<pid>/task/<tid>/schedstat` (time on CPU, time waiting on a run queue, both ns; timeslices).
 *
 * Contention (README, "How perfloop measures"): the run-queue delay is per thread, so it is read for
 * every thread of the tree (`/proc/<pid>/schedstat` alone is only the main thread's). Unlike the
 * other sums it is kept per thread across samples: a thread that exited keeps its last reading, so
 * `ProcSample.runQueueMs` never falls when a child is reaped (the delay after its last sample is lost).
 */
import { execFile } from "node:child_process";
import { type FileHandle, open, readdir } from "node:fs/promises";
import {
  type CpuTicks,
  coreBusyBetween,
  parseCpuLines,
  parseLoadavg,
  parseMachineStat,
  parseProcIo,
  parseProcStat,
  parseSchedStat,
} from "./proc-parse.ts";

export * from "./proc-parse.ts";

import { promisify } from "node:util";
import type { ProcSample } from "../types.ts";

/** Handle of a running sampler. */
export interface ProcSampler {
  /** Stops the timer, takes one last sample, returns every sample in time order. Never rejects. */
  stop(): Promise<ProcSample[]>;
  /** Things the sampler could not read, in words (e.g. `/proc/<pid>/io` denied: I/O counted as 0). */
  readonly notes: readonly string[];
}

/**
 * USER_HZ and page size, read ONCE per process with `getconf` (one spawn at first use). Stat times
 * are in USER_HZ ticks, which Linux fixes at 100 on x86 and arm64; pages are 4 KiB on x86 but may be
 * 16 or 64 KiB on arm64. Falls back to 100 / 4096 where getconf is missing.
 */
let sysconfPromise: Promise<{ clkTck: number; pageSize: number }> | undefined;
async function getconf(name: string, fallback: number): Promise<number> {
  const out = await promisify(execFile)("getconf", [name], { timeout: 2000 }).catch(() => ({ stdout: "" }));
  const value = Number(out.stdout.trim());
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

function sysconf(): Promise<{ clkTck: number; pageSize: number }> {
  sysconfPromise ??= (async () => ({
    clkTck: await getconf("CLK_TCK", 100),
    pageSize: await getconf("PAGESIZE", 4096),
  }))();
  return sysconfPromise;
}

/**
 * Starts sampling the tree rooted at `rootPid` every `intervalMs` (default 100 ms) from `procRoot`
 * (default `/proc`; injectable for tests). Ticks are scheduled from the ideal time `start + k·interval`
 * so the rate does not drift; a tick that finds the previous sample still running is skipped. The
 * timer is unref'd (it never keeps Node alive). The first `/proc/stat` read is a baseline, so every
 * sample's `coreBusyPct` is a delta over a real interval. Never throws: unreadable files are skipped.
 */
export function startProcSampler(
  rootPid: number,
  opts: { intervalMs?: number; procRoot?: string } = {},
): ProcSampler {
  const intervalMs = Math.max(1, opts.intervalMs ?? 100);
  const root = opts.procRoot ?? "/proc";
  const t0 = performance.now();
  const samples: ProcSample[] = [];
  const notes: string[] = [];
  const note = (text: string): void => void (notes.includes(text) || notes.push(text));
  const handles = new Map<string, FileHandle>();
  const used = new Set<string>();
  let buffer = Buffer.allocUnsafe(16 * 1024);
  let prevCpu: CpuTicks[] | null = null;
  let stealStart: number | null = null;
  /** Latest run-queue delay per thread id, ns, and the delay of threads whose id was reused. */
  const waitByTid = new Map<number, number>();
  let waitOfReused = 0;
  /** Thread ids of each pid, from the task directory listing of the current sample. */
  let tidsOf = new Map<number, string[]>();
  let childrenFiles = true;
  let busy: Promise<void> | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let tick = 0;

  /**
   * Reads a small /proc file into the shared buffer (one sample runs at a time); null if unreadable.
   * Handles stay open between samples and are re-read at offset 0, which makes the kernel generate
   * the file afresh (seq_file): a steady tree costs one pread per file per sample. A read that leaves
   * room in the buffer is the whole file. Files of a vanished pid fail (ESRCH/ENOENT): dropped
   * silently. EACCES (e.g. another user's `io`) is noted once and read as absent.
   */
  async function read(path: string, cache = true): Promise<string | null> {
    let handle = handles.get(path);
    try {
      handle ??= await open(path, "r");
      if (cache) handles.set(path, handle);
      if (cache) used.add(path);
      let length = 0;
      for (;;) {
        const room = buffer.length - length;
        length += (await handle.read(buffer, length, room, length)).bytesRead;
        if (length < buffer.length) return buffer.toString("latin1", 0, length);
        const bigger = Buffer.allocUnsafe(buffer.length * 2);
        buffer.copy(bigger, 0, 0, length);
        buffer = bigger;
      }
    } catch (error) {
      handles.delete(path);
      await handle?.close().catch(() => undefined);
      handle = undefined;
      const kind = path.replace(/\/\d+\//g, "/<pid>/").replace(/\/task\/<pid>\//, "/task/<tid>/");
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EACCES") note(`${kind}: permission denied, counted as 0`);
      else if (code !== "ENOENT" && code !== "ESRCH") note(`${kind}: ${String(error)}`);
      return null;
    } finally {
      if (!cache) await handle?.close().catch(() => undefined);
    }
  }

  /** Closes the handles no read used since the last call (their pids or threads are gone). */
  async function sweep(all: boolean): Promise<void> {
    for (const [path, handle] of handles) {
      if (all || !used.has(path)) {
        handles.delete(path);
        await handle.close().catch(() => undefined);
      }
    }
    used.clear();
  }

  /** Direct children of `pid` from its threads' children files; null when the kernel has none. */
  async function childrenOf(pid: number): Promise<number[] | null> {
    const tids = await readdir(`${root}/${pid}/task`).catch(() => [] as string[]);
    tidsOf.set(pid, tids);
    const kids: number[] = [];
    for (const tid of tids) {
      const text = await read(`${root}/${pid}/task/${tid}/children`);
      // A live thread without a children file: kernel built without CONFIG_PROC_CHILDREN.
      if (
        text === null &&
        tid === tids[0] &&
        (await readdir(`${root}/${pid}/task/${tid}`).catch(() => null))
      ) {
        return null;
      }
      for (const word of text?.split(/\s+/) ?? []) if (word) kids.push(Number(word));
    }
    return kids;
  }

  /** Every pid of the tree, root first (breadth-first); falls back to a ppid scan of `/proc/*`. */
  async function treePids(): Promise<number[]> {
    const queue = [rootPid];
    const seen = new Set(queue);
    let childrenByParent: Map<number, number[]> | undefined;
    if (!childrenFiles) {
      childrenByParent = new Map();
      for (const name of await readdir(root).catch(() => [] as string[])) {
        const stat = /^\d+$/.test(name)
          ? parseProcStat((await read(`${root}/${name}/stat`, false)) ?? "")
          : null;
        if (stat) childrenByParent.set(stat.ppid, [...(childrenByParent.get(stat.ppid) ?? []), stat.pid]);
      }
    }
    for (let i = 0; i < queue.length; i++) {
      const pid = queue[i] as number;
      const kids = childrenByParent ? (childrenByParent.get(pid) ?? []) : await childrenOf(pid);
      if (kids === null) {
        childrenFiles = false;
        note("no /proc/<pid>/task/<tid>/children: process tree found by scanning ppids");
        return treePids();
      }
      for (const kid of kids.filter((k) => !seen.has(k))) seen.add(kid) && queue.push(kid);
    }
    return queue;
  }

  /**
   * Reads the schedstat of every thread of `pid` into `waitByTid`. A thread id whose delay went
   * down was reused by a new thread: the old thread's delay is kept in `waitOfReused`.
   */
  async function readWaits(pid: number): Promise<void> {
    const tids = tidsOf.get(pid) ?? (await readdir(`${root}/${pid}/task`).catch(() => [] as string[]));
    for (const tid of tids) {
      const stat = parseSchedStat((await read(`${root}/${pid}/task/${tid}/schedstat`)) ?? "");
      if (!stat) continue;
      const key = Number(tid);
      const before = waitByTid.get(key) ?? 0;
      if (stat.waitNs < before) waitOfReused += before;
      waitByTid.set(key, stat.waitNs);
    }
  }

  /** Σ run-queue delay of every thread seen, ms; null before any schedstat was read. */
  function runQueueMs(): number | null {
    if (waitByTid.size === 0) return null;
    let ns = waitOfReused;
    for (const wait of waitByTid.values()) ns += wait;
    return ns / 1e6;
  }

  async function sample(): Promise<void> {
    const { clkTck, pageSize } = await sysconf();
    const tMs = performance.now() - t0;
    // cpuMs and rssBytes add up ticks and pages here, scaled once at the end.
    const sum = { procs: 0, cpuMs: 0, rssBytes: 0, majorFaults: 0, readBytes: 0, writeBytes: 0 };
    tidsOf = new Map();
    for (const pid of await treePids()) {
      const stat = parseProcStat((await read(`${root}/${pid}/stat`)) ?? "");
      if (!stat) continue; // vanished between listing and reading
      if (stat.state !== "Z" && stat.state !== "X") sum.procs++;
      sum.cpuMs += stat.utime + stat.stime;
      sum.rssBytes += stat.rssPages;
      sum.majorFaults += stat.majflt;
      const io = parseProcIo((await read(`${root}/${pid}/io`)) ?? "");
      sum.readBytes += io?.readBytes ?? 0;
      sum.writeBytes += io?.writeBytes ?? 0;
      await readWaits(pid);
    }
    const statText = (await read(`${root}/stat`)) ?? "";
    const cpu = parseCpuLines(statText);
    const machine = parseMachineStat(statText);
    const coreBusyPct = coreBusyBetween(prevCpu ?? cpu, cpu);
    const steal =
      machine.stealTicks !== null && stealStart !== null
        ? (Math.max(0, machine.stealTicks - stealStart) * 1000) / clkTck
        : null;
    samples.push({
      tMs,
      ...sum,
      cpuMs: (sum.cpuMs * 1000) / clkTck,
      rssBytes: sum.rssBytes * pageSize,
      coreBusyPct,
      runQueueMs: runQueueMs(),
      procsRunning: machine.procsRunning,
      stealMs: steal,
      loadavg1: parseLoadavg((await read(`${root}/loadavg`)) ?? ""),
    });
    prevCpu = cpu;
    await sweep(false);
  }

  /** Runs `work` after whatever is running; failures become notes. Clears `busy` when idle again. */
  function run(work: () => Promise<void>): Promise<void> {
    const next: Promise<void> = (busy ?? Promise.resolve())
      .then(work)
      .catch((error: unknown) => note(`sample failed: ${String(error)}`))
      .finally(() => {
        if (busy === next) busy = null;
      });
    busy = next;
    return next;
  }

  /** Arms the timer for the next ideal tick `k·interval` still ahead (ticks never drift; late ones are skipped). */
  function schedule(): void {
    const now = performance.now() - t0;
    tick = Math.max(tick + 1, Math.ceil(now / intervalMs));
    timer = setTimeout(
      () => {
        if (stopped) return;
        if (busy === null) void run(sample);
        schedule();
      },
      tick * intervalMs - now,
    );
    timer.unref();
  }

  void run(async () => {
    // Baselines of the first sample: per-core ticks and the machine's steal ticks.
    const statText = (await read(`${root}/stat`)) ?? "";
    prevCpu = parseCpuLines(statText);
    stealStart = parseMachineStat(statText).stealTicks;
  });
  schedule();

  return {
    notes,
    async stop(): Promise<ProcSample[]> {
      if (!stopped) {
        stopped = true;
        clearTimeout(timer);
        await run(sample);
        await sweep(true);
      }
      return samples;
    },
  };
}
