/**
 * Reads an Nsight Systems SQLite export (`nsys profile --export=sqlite`, or `nsys export --type
 * sqlite`) into the same `TorchTrace` the PyTorch trace gives, so one set of facts and rules serves
 * both (`profile.tool: nsys`, README "GPU programs"). Tables and columns as NVIDIA documents the
 * export ("Nsight Systems Exporter", SQLite schema): `CUPTI_ACTIVITY_KIND_KERNEL`, `_RUNTIME`,
 * `_MEMCPY`, `_MEMSET` (times in ns, names through `StringIds`), `NVTX_EVENTS` (ranges, as
 * annotations), `TARGET_INFO_GPU` (the devices), and the enums `ENUM_CUDA_MEMCPY_OPER` /
 * `ENUM_CUDA_MEM_KIND` where the export has them. Runtime names lose nsys's API-version suffix
 * (`cudaLaunchKernel_v7000` → `cudaLaunchKernel`). A host thread is `globalTid`: pid = bits 24–47,
 * tid = bits 0–23; a GPU event's process is `globalPid`'s bits 24–47, kept in `args.process` to
 * scope its correlation id. Times whose start or end is missing are skipped. An export has no
 * PyTorch operators or Python frames: call sites stay unknown.
 */
import { loadSqlite } from "../memory/sqlite.ts";
import { emptyTrace, type TorchTrace, TorchTraceError, type TraceEvent } from "./torch-trace.ts";

/** CUPTI's memcpy kinds (CUpti_ActivityMemcpyKind), the fallback when the export has no enum table. */
const COPY_KINDS: Record<number, string> = {
  1: "HtoD",
  2: "DtoH",
  3: "HtoA",
  4: "AtoH",
  5: "AtoA",
  6: "AtoD",
  7: "DtoA",
  8: "DtoD",
  9: "HtoH",
  10: "PtoP",
};
/** nsys's memory kinds (`ENUM_CUDA_MEM_KIND` of exports that carry it), the fallback likewise. */
const MEM_KINDS: Record<number, string> = {
  0: "Pageable",
  1: "Pinned",
  2: "Device",
  3: "Array",
  4: "Managed",
};

type Row = Record<string, unknown>;
const n = (v: unknown): number =>
  typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : Number.NaN;

/**
 * The export at `file` as a trace (times converted to µs).
 * @throws TorchTraceError when the file is not an SQLite database with nsys's kernel or runtime table.
 */
export async function readNsysExport(file: string): Promise<TorchTrace> {
  const { DatabaseSync } = await loadSqlite();
  let db: InstanceType<typeof DatabaseSync>;
  try {
    db = new DatabaseSync(file, { readOnly: true });
  } catch (error) {
    throw new TorchTraceError(`${file} cannot be opened as SQLite: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    const tables = new Set(
      (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Row[]).map((r) =>
        String(r.name),
      ),
    );
    if (!tables.has("CUPTI_ACTIVITY_KIND_KERNEL") && !tables.has("CUPTI_ACTIVITY_KIND_RUNTIME"))
      throw new TorchTraceError(
        `${file} is not an nsys export with CUDA activity (no CUPTI_ACTIVITY_KIND_KERNEL or _RUNTIME table): profile with --trace=cuda`,
      );
    const all = (sql: string): Row[] => db.prepare(sql).all() as Row[];
    const strings = new Map<number, string>();
    if (tables.has("StringIds"))
      for (const r of all("SELECT id, value FROM StringIds")) strings.set(n(r.id), String(r.value));
    const str = (id: unknown): string => strings.get(n(id)) ?? (typeof id === "string" ? id : "?");
    const enumOf = (
      table: string,
      fallback: Record<number, string>,
      short: (name: string) => string,
    ): Record<number, string> => {
      if (!tables.has(table)) return fallback;
      return Object.fromEntries(
        all(`SELECT id, name FROM ${table}`).map((r) => [n(r.id), short(String(r.name))]),
      );
    };
    const copyKinds = enumOf("ENUM_CUDA_MEMCPY_OPER", COPY_KINDS, (s) =>
      s.replace(/^CUDA_MEMCPY_KIND_/, "").replace(/^(\w)TO(\w)$/, "$1to$2"),
    );
    const memKinds = enumOf("ENUM_CUDA_MEM_KIND", MEM_KINDS, (s) => {
      const k = s.replace(/^CUDA_MEMOPR_MEMORY_KIND_/, "").toLowerCase();
      return k.charAt(0).toUpperCase() + k.slice(1);
    });
    const event = (
      name: string,
      pid: unknown,
      tid: string,
      start: unknown,
      end: unknown,
      args: Record<string, unknown>,
    ): TraceEvent => ({
      name,
      pid: String(n(pid)),
      tid,
      ts: n(start) / 1000,
      dur: Math.max(0, n(end) - n(start)) / 1000,
      args,
    });
    const hostThread = (globalTid: unknown): { pid: number; tid: string } => {
      const g = BigInt(n(globalTid) || 0);
      return { pid: Number((g >> 24n) & 0xffffffn), tid: String(Number(g & 0xffffffn)) };
    };
    const trace = emptyTrace(
      "nsys",
      tables.has("TARGET_INFO_GPU")
        ? all("SELECT id, name, totalMemory FROM TARGET_INFO_GPU").map((r) => ({
            id: n(r.id),
            name: String(r.name),
            totalGlobalMem: n(r.totalMemory),
          }))
        : [],
    );
    const put = (list: TraceEvent[], e: TraceEvent): void => {
      if (Number.isFinite(e.ts) && Number.isFinite(e.dur)) list.push(e);
    };
    const processOf = (globalPid: unknown): number => Number((BigInt(n(globalPid) || 0) >> 24n) & 0xffffffn);
    // `process` scopes the correlation ids, which repeat across the processes of one export.
    const gpu = (r: Row, extra: Record<string, unknown> = {}): [number, string, Record<string, unknown>] => [
      processOf(r.globalPid),
      `stream ${n(r.streamId)}`,
      {
        correlation: n(r.correlationId),
        device: n(r.deviceId),
        stream: n(r.streamId),
        process: processOf(r.globalPid),
        ...extra,
      },
    ];
    const rows = (table: string, columns: string): Row[] =>
      tables.has(table) ? all(`SELECT ${columns} FROM ${table}`) : [];
    for (const r of rows("CUPTI_ACTIVITY_KIND_RUNTIME", "start, end, globalTid, correlationId, nameId")) {
      const t = hostThread(r.globalTid);
      const name = str(r.nameId).replace(/_v\d+$/, "");
      put(
        trace.runtime,
        event(name, t.pid, t.tid, r.start, r.end, { correlation: n(r.correlationId), process: t.pid }),
      );
    }
    for (const r of rows(
      "CUPTI_ACTIVITY_KIND_KERNEL",
      "start, end, deviceId, streamId, correlationId, globalPid, demangledName",
    )) {
      const [pid, tid, args] = gpu(r);
      put(trace.kernels, event(str(r.demangledName), pid, tid, r.start, r.end, args));
    }
    const copyColumns =
      "start, end, deviceId, streamId, correlationId, globalPid, bytes, copyKind, srcKind, dstKind";
    for (const r of rows("CUPTI_ACTIVITY_KIND_MEMCPY", copyColumns)) {
      // Kineto's name for a copy, which the copy facts read: "Memcpy HtoD (Pageable -> Device)".
      const name = `Memcpy ${copyKinds[n(r.copyKind)] ?? "other"} (${memKinds[n(r.srcKind)] ?? "?"} -> ${memKinds[n(r.dstKind)] ?? "?"})`;
      const [pid, tid, args] = gpu(r, { bytes: n(r.bytes) });
      put(trace.copies, event(name, pid, tid, r.start, r.end, args));
    }
    for (const r of rows(
      "CUPTI_ACTIVITY_KIND_MEMSET",
      "start, end, deviceId, streamId, correlationId, globalPid",
    )) {
      const [pid, tid, args] = gpu(r);
      put(trace.memsets, event("Memset", pid, tid, r.start, r.end, args));
    }
    for (const r of rows("NVTX_EVENTS", "start, end, globalTid, text, textId")) {
      const t = hostThread(r.globalTid);
      const text = r.text ?? (r.textId === null || r.textId === undefined ? null : str(r.textId));
      if (text !== null && r.end !== null)
        put(trace.annotations, event(String(text), t.pid, t.tid, r.start, r.end, {}));
    }
    for (const list of [trace.runtime, trace.kernels, trace.copies, trace.memsets, trace.annotations])
      list.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    return trace;
  } finally {
    db.close();
  }
}
