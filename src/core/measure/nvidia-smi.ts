/**
 * Pure parsing of nvidia-smi output: which `--query-gpu` fields this driver knows, one CSV line of a
 * `--query-gpu … --format=csv,noheader,nounits -lms N` stream, and the GPU inventory.
 * Field names and value forms: `nvidia-smi --help-query-gpu` (recorded outputs of two driver
 * generations under test/fixtures/nvidia-smi/) and nvidia-smi(1). Drivers from R535 on name the
 * slowdown flags `clocks_event_reasons.*` and keep `clocks_throttle_reasons.*` as aliases; older ones
 * know only `clocks_throttle_reasons.*`.
 */
import type { GpuSample, GpuSlowdownReason } from "../types.ts";

/** The per-sample fields perfloop wants, in query order (docs/design.md, "Hardware signals"). */
export const WANTED_FIELDS = [
  "index",
  "utilization.gpu",
  "utilization.memory",
  "memory.used",
  "memory.total",
  "power.draw",
  "power.limit",
  "temperature.gpu",
  "clocks.sm",
  "clocks.max.sm",
] as const;

/** The slowdown reasons, as named after the `clocks_event_reasons.` / `clocks_throttle_reasons.` prefix. */
export const SLOWDOWN_REASONS: readonly GpuSlowdownReason[] = [
  "sw_power_cap",
  "hw_slowdown",
  "hw_thermal_slowdown",
  "hw_power_brake_slowdown",
  "sw_thermal_slowdown",
  "sync_boost",
];

/** Fields of the one-off inventory query for the environment snapshot. */
export const INVENTORY_FIELDS = ["index", "name", "driver_version", "memory.total", "power.limit"] as const;

/** One GPU of the environment snapshot; null where nvidia-smi printed `[N/A]` or the like. */
export interface GpuInventoryEntry {
  index: number | null;
  name: string | null;
  driverVersion: string | null;
  memoryTotalMiB: number | null;
  powerLimitW: number | null;
}

/** Other spellings nvidia-smi accepts or prints for the wanted fields (`"a" or "b"` in its help). */
const ALIASES: Record<string, readonly string[]> = {
  "clocks.sm": ["clocks.current.sm"],
  "clocks.current.sm": ["clocks.sm"],
  name: ["gpu_name"],
};

/**
 * Every field name a `nvidia-smi --help-query-gpu` text declares: the quoted names on the lines that
 * start with `"` (`"clocks_event_reasons.sw_power_cap" or "clocks_throttle_reasons.sw_power_cap"`).
 */
export function knownQueryFields(helpQueryGpuText: string): Set<string> {
  const known = new Set<string>();
  for (const line of helpQueryGpuText.split("\n")) {
    if (!line.startsWith('"')) continue;
    for (const m of line.matchAll(/"([A-Za-z0-9_.]+)"/g)) if (m[1]) known.add(m[1]);
  }
  return known;
}

/**
 * The query fields to use on this driver, given its `nvidia-smi --help-query-gpu` output: the wanted
 * fields it knows (in `WANTED_FIELDS` order; `clocks.current.sm` if it only knows that spelling), then
 * for each slowdown reason `clocks_event_reasons.<r>`, or `clocks_throttle_reasons.<r>` where the
 * driver predates the rename, or nothing where it knows neither. Empty when the text declares none.
 */
export function chooseQueryFields(helpQueryGpuText: string): string[] {
  const known = knownQueryFields(helpQueryGpuText);
  const fields: string[] = [];
  for (const field of WANTED_FIELDS) {
    const spelling = [field, ...(ALIASES[field] ?? [])].find((name) => known.has(name));
    if (spelling) fields.push(spelling);
  }
  for (const reason of SLOWDOWN_REASONS) {
    const spelling = [`clocks_event_reasons.${reason}`, `clocks_throttle_reasons.${reason}`].find((name) =>
      known.has(name),
    );
    if (spelling) fields.push(spelling);
  }
  return fields;
}

/**
 * A field name as a CSV header prints it (`utilization.gpu [%]`) without the unit, lower-cased.
 * Header names from a `--format=csv` recording can thus drive the parsers too.
 */
export function normalizeField(name: string): string {
  return name
    .replace(/\s*\[[^\]]*\]\s*$/, "")
    .trim()
    .toLowerCase();
}

/** Splits one nvidia-smi CSV line (values are separated by `, `; none of them contains a comma). */
export function splitCsvLine(line: string): string[] {
  return line
    .replace(/\r$/, "")
    .split(",")
    .map((v) => v.trim());
}

/**
 * A numeric value, or null for what nvidia-smi prints when it has none: `[N/A]`, `N/A`,
 * `[Not Supported]`, `[Unknown Error]`, `[Insufficient Permissions]`, an empty field, or anything
 * else that is not a number. A trailing unit (`75.10 W`, `0 %`, `1695 MHz`, from `--format=csv`
 * without `nounits`) is dropped.
 */
export function parseNumber(value: string): number | null {
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*[A-Za-z%]+)?$/.exec(value.trim());
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

/** A text value, or null for `[N/A]`-like placeholders (`[...]`, `N/A`, empty). */
export function parseText(value: string): string | null {
  const v = value.trim();
  return v === "" || v === "N/A" || /^\[.*\]$/.test(v) ? null : v;
}

/** The slowdown reason a field reports, if it is one of the six flags. */
function reasonOf(field: string): GpuSlowdownReason | null {
  const m = /^clocks_(?:event|throttle)_reasons\.(\w+)$/.exec(field);
  const reason = m?.[1] as GpuSlowdownReason | undefined;
  return reason && SLOWDOWN_REASONS.includes(reason) ? reason : null;
}

type NumericKey = Exclude<keyof GpuSample, "tMs" | "index" | "slowdown">;
const NUMERIC: Record<string, NumericKey> = {
  "utilization.gpu": "utilGpuPct",
  "utilization.memory": "utilMemPct",
  "memory.used": "memUsedMiB",
  "memory.total": "memTotalMiB",
  "power.draw": "powerW",
  "power.limit": "powerLimitW",
  "temperature.gpu": "tempC",
  "clocks.sm": "smClockMHz",
  "clocks.current.sm": "smClockMHz",
  "clocks.max.sm": "smClockMaxMHz",
};

/**
 * Parses one line of `nvidia-smi --query-gpu=<fields> --format=csv,noheader,nounits` into a sample at
 * `tMs`. `fields` are the queried names (header names with units are accepted). Fields perfloop does
 * not use are skipped; a flag is active when it reads `Active`.
 * @returns null — never throws — for a line that is not a sample: wrong number of values, a header
 *   line, or an error message (`No devices were found`, `NVIDIA-SMI has failed …`). When `index` is
 *   among the fields it must be an integer; without it the sample gets index 0.
 */
export function parseGpuCsvLine(line: string, fields: readonly string[], tMs: number): GpuSample | null {
  if (line.trim() === "") return null;
  const values = splitCsvLine(line);
  if (values.length !== fields.length) return null;
  if (values.every((v, i) => normalizeField(v) === normalizeField(fields[i] ?? ""))) return null; // header
  const sample: GpuSample = {
    tMs,
    index: 0,
    utilGpuPct: null,
    utilMemPct: null,
    memUsedMiB: null,
    memTotalMiB: null,
    powerW: null,
    powerLimitW: null,
    tempC: null,
    smClockMHz: null,
    smClockMaxMHz: null,
    slowdown: [],
  };
  for (const [i, raw] of fields.entries()) {
    const field = normalizeField(raw);
    const value = values[i] ?? "";
    if (field === "index") {
      if (!/^\d+$/.test(value)) return null;
      sample.index = Number(value);
      continue;
    }
    const key = NUMERIC[field];
    if (key) {
      sample[key] = parseNumber(value);
      continue;
    }
    const reason = reasonOf(field);
    if (reason && value === "Active" && !sample.slowdown.includes(reason)) sample.slowdown.push(reason);
  }
  return sample;
}

/**
 * Parses the inventory query (`--query-gpu=<fields> --format=csv,noheader,nounits`, default fields
 * `INVENTORY_FIELDS`) into one entry per GPU. Lines with the wrong number of values and header lines
 * are skipped; never throws.
 */
export function parseGpuInventory(
  csv: string,
  fields: readonly string[] = INVENTORY_FIELDS,
): GpuInventoryEntry[] {
  const names = fields.map(normalizeField);
  const entries: GpuInventoryEntry[] = [];
  for (const line of csv.split("\n")) {
    if (line.trim() === "") continue;
    const values = splitCsvLine(line);
    if (values.length !== names.length) continue;
    if (values.every((v, i) => normalizeField(v) === names[i])) continue; // a header line
    const get = (field: string): string => {
      const at = [field, ...(ALIASES[field] ?? [])].map((f) => names.indexOf(f)).find((i) => i >= 0);
      return at === undefined ? "" : (values[at] ?? "");
    };
    const index = get("index");
    entries.push({
      index: /^\d+$/.test(index) ? Number(index) : null,
      name: parseText(get("name")),
      driverVersion: parseText(get("driver_version")),
      memoryTotalMiB: parseNumber(get("memory.total")),
      powerLimitW: parseNumber(get("power.limit")),
    });
  }
  return entries;
}
