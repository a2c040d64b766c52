/**
 * Parsers of the `/proc` files the sampler reads (src/core/measure/proc-sampler.ts). Sources of the
 * formats: proc(5) — `/proc/<pid>/stat` fields 10–24, `/proc/<pid>/io`, `/proc/stat` (cpu lines,
 * `procs_running`), `/proc/loadavg`; kernel Documentation/scheduler/sched-stats.rst —
 * `/proc/<pid>/task/<tid>/schedstat`.
 */

/** One parsed `/proc/<pid>/stat` line; proc(5) field numbers in brackets, times in clock ticks. */
export interface ProcStat {
  pid: number;
  comm: string;
  /** [3] R, S, D, Z (zombie), T, ... */
  state: string;
  /** [4] ppid, [12] major page faults, [14] utime, [15] stime, [24] resident set size in pages. */
  ppid: number;
  majflt: number;
  utime: number;
  stime: number;
  rssPages: number;
}

/** `/proc/<pid>/io` counters, bytes. */
export interface ProcIo {
  readBytes: number;
  writeBytes: number;
}

/** One logical core from a `/proc/stat` `cpuN` line, cumulative clock ticks since boot. */
export interface CpuTicks {
  cpu: number;
  /** user + nice + system + irq + softirq + steal (guest time is already inside user). */
  busy: number;
  /** busy + idle + iowait. */
  total: number;
}

/** `/proc/<pid>/task/<tid>/schedstat`, ns (sched-stats.rst: fields 1 and 2) and timeslices (field 3). */
export interface SchedStat {
  runNs: number;
  /** Time spent runnable but waiting on a run queue, ns. */
  waitNs: number;
  slices: number;
}

/** What `/proc/stat` says about the machine besides the per-core lines. */
export interface MachineStat {
  /** `procs_running`: runnable tasks now (Linux ≥ 2.5.45); null when the line is missing. */
  procsRunning: number | null;
  /** Steal ticks of all CPUs since boot: field 8 of the aggregate `cpu` line (Linux ≥ 2.6.11). */
  stealTicks: number | null;
}

/**
 * Parses one `/proc/<pid>/stat` text. The command name sits in parentheses and may itself contain
 * spaces and parentheses, so fields are counted from the LAST `)` (proc(5)). Returns null when the
 * text is not of that form.
 */
export function parseProcStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  const num = (n: number): number => Number(rest[n - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? "",
    ppid: num(4),
    majflt: num(12),
    utime: num(14),
    stime: num(15),
    rssPages: num(24),
  };
  const numbers = [stat.pid, stat.ppid, stat.majflt, stat.utime, stat.stime, stat.rssPages];
  return numbers.every(Number.isFinite) && stat.state !== "" ? stat : null;
}

/** Parses `/proc/<pid>/io` (`key: value` lines); null when read_bytes or write_bytes is missing. */
export function parseProcIo(text: string): ProcIo | null {
  const read = /^read_bytes:\s*(\d+)/m.exec(text);
  const write = /^write_bytes:\s*(\d+)/m.exec(text);
  if (!read?.[1] || !write?.[1]) return null;
  return { readBytes: Number(read[1]), writeBytes: Number(write[1]) };
}

/** Parses a schedstat line (three non-negative integers); null otherwise. */
export function parseSchedStat(text: string): SchedStat | null {
  const m = /^\s*(\d+)\s+(\d+)\s+(\d+)/.exec(text);
  if (!m) return null;
  return { runNs: Number(m[1]), waitNs: Number(m[2]), slices: Number(m[3]) };
}

/** `procs_running` and the aggregate steal ticks of a `/proc/stat` text (either null when absent). */
export function parseMachineStat(text: string): MachineStat {
  const running = /^procs_running\s+(\d+)/m.exec(text);
  const cpu = /^cpu\s+(.*)$/m.exec(text);
  const steal = cpu?.[1]?.trim().split(/\s+/)[7];
  return {
    procsRunning: running ? Number(running[1]) : null,
    stealTicks: steal !== undefined && /^\d+$/.test(steal) ? Number(steal) : null,
  };
}

/** The 1-minute load average of a `/proc/loadavg` text ("0.52 0.58 0.59 2/345 1234"); null otherwise. */
export function parseLoadavg(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s/.exec(text);
  return m ? Number(m[1]) : null;
}

/** Parses the per-core `cpuN` lines of `/proc/stat` (the aggregate `cpu` line is skipped). */
export function parseCpuLines(text: string): CpuTicks[] {
  const cores: CpuTicks[] = [];
  for (const line of text.split("\n")) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = m[2]
      .trim()
      .split(/\s+/)
      .map(Number);
    const busy = user + nice + system + irq + softirq + steal;
    cores.push({ cpu: Number(m[1]), busy, total: busy + idle + iowait });
  }
  return cores;
}

/** Busy share of each core between two `/proc/stat` readings, %, indexed by core number. */
export function coreBusyBetween(before: CpuTicks[], after: CpuTicks[]): number[] {
  const prev = new Map(before.map((c) => [c.cpu, c]));
  const width = after.reduce((max, c) => Math.max(max, c.cpu + 1), 0);
  const out = new Array<number>(width).fill(0);
  for (const c of after) {
    const p = prev.get(c.cpu);
    const dTotal = p ? c.total - p.total : 0;
    out[c.cpu] = dTotal > 0 ? Math.min(100, Math.max(0, (100 * (c.busy - (p?.busy ?? 0))) / dTotal)) : 0;
  }
  return out;
}
