import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  chooseQueryFields,
  knownQueryFields,
  normalizeField,
  parseGpuCsvLine,
  parseGpuInventory,
  parseNumber,
  parseText,
  splitCsvLine,
} from "../src/core/measure/nvidia-smi.ts";

/** Recorded outputs: see test/fixtures/nvidia-smi/SOURCES.md for where each comes from. */
const fixture = (name: string): string =>
  readFileSync(path.join(import.meta.dirname, "fixtures", "nvidia-smi", name), "utf8");
const HELP_R535 = fixture("help-query-gpu.event-reasons.r535.txt");
const HELP_OLD = fixture("help-query-gpu.throttle-reasons.netdata.txt");

const BASE = [
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
];
const REASONS = [
  "sw_power_cap",
  "hw_slowdown",
  "hw_thermal_slowdown",
  "hw_power_brake_slowdown",
  "sw_thermal_slowdown",
  "sync_boost",
];

describe("chooseQueryFields", () => {
  it("prefers clocks_event_reasons on a driver that has both names (R535)", () => {
    expect(chooseQueryFields(HELP_R535)).toEqual([
      ...BASE,
      ...REASONS.map((r) => `clocks_event_reasons.${r}`),
    ]);
  });

  it("falls back to clocks_throttle_reasons on an older driver", () => {
    expect(chooseQueryFields(HELP_OLD)).toEqual([
      ...BASE,
      ...REASONS.map((r) => `clocks_throttle_reasons.${r}`),
    ]);
  });

  it('reads both spellings of a `"a" or "b"` line and ignores quoted words in descriptions', () => {
    const known = knownQueryFields(HELP_R535);
    expect(known.has("clocks.current.sm") && known.has("clocks.sm")).toBe(true);
    expect(known.has("clocks_throttle_reasons.sync_boost")).toBe(true);
    expect(known.has("Enabled")).toBe(false); // `"Enabled" indicates…` sits inside a description
    expect(knownQueryFields(HELP_OLD).has("clocks_event_reasons.sw_power_cap")).toBe(false);
  });

  it("keeps only what the driver knows, and nothing from text that is not a help", () => {
    const partial = HELP_OLD.replace(/"clocks\.max\.sm" or "clocks\.max\.sm"/, '"clocks.max.gone"');
    expect(chooseQueryFields(partial)).not.toContain("clocks.max.sm");
    expect(chooseQueryFields("")).toEqual([]);
    expect(
      chooseQueryFields("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."),
    ).toEqual([]);
  });
});

describe("value parsing", () => {
  it("maps nvidia-smi's placeholders to null and drops units", () => {
    for (const v of ["[N/A]", "N/A", "[Not Supported]", "[Unknown Error]", "", "  ", "P3", "Default"]) {
      expect(parseNumber(v)).toBeNull();
    }
    expect(parseNumber("75.10 W")).toBe(75.1);
    expect(parseNumber("26 %")).toBe(26);
    expect(parseNumber("1695 MHz")).toBe(1695);
    expect(parseNumber(" 7979")).toBe(7979);
    expect(parseText("[N/A]")).toBeNull();
    expect(parseText("N/A")).toBeNull();
    expect(parseText("GeForce RTX 2080")).toBe("GeForce RTX 2080");
    expect(normalizeField("power.draw [W]")).toBe("power.draw");
  });

  it("reads a recorded [N/A] under a header (mig.mode.current on an RTX)", () => {
    const [header = "", value = ""] = fixture("mig-mode.rtx.nvtop-470.csv").split("\n");
    expect(normalizeField(header)).toBe("mig.mode.current");
    expect(parseText(value)).toBeNull();
  });
});

describe("parseGpuCsvLine on recorded lines", () => {
  it("Tesla P100: header-driven fields, [N/A] fan, no index field (→ 0)", () => {
    const [header = "", line = ""] = fixture("tesla-p100.netdata.csv").split("\n");
    const fields = splitCsvLine(header);
    expect(parseGpuCsvLine(header, fields, 0)).toBeNull();
    expect(parseGpuCsvLine(line, fields, 12.5)).toEqual({
      tMs: 12.5,
      index: 0,
      utilGpuPct: 0,
      utilMemPct: 0,
      memUsedMiB: 0,
      memTotalMiB: null,
      powerW: 28.16,
      powerLimitW: null,
      tempC: 37,
      smClockMHz: 405,
      smClockMaxMHz: null,
      slowdown: [],
    });
  });

  it("a looping --format=csv stream (values with units): every recorded line parses, the header does not", () => {
    const [header = "", ...lines] = fixture("lms-stream.ksysguard-gpu-27.csv").trimEnd().split("\n");
    const fields = splitCsvLine(header);
    expect(parseGpuCsvLine(header, fields, 0)).toBeNull();
    const samples = lines.map((line, i) => parseGpuCsvLine(line, fields, i * 100));
    expect(samples).toHaveLength(13);
    expect(samples[0]).toMatchObject({ index: 0, tempC: 56, utilGpuPct: 26, utilMemPct: 4, powerW: 83.92 });
    expect(samples[0]?.smClockMHz).toBe(1320);
    expect(samples.map((s) => s?.powerW)).toEqual([
      83.92, 78.22, 84.77, 78.63, 83.67, 77.39, 82.81, 77.0, 82.64, 76.64, 82.4, 77.8, 83.43,
    ]);
  });

  it("RTX 3080 where utilization, power, clocks and flags all print [N/A]", () => {
    const fields = [
      "timestamp",
      "index",
      "name",
      "uuid",
      "serial",
      "utilization.gpu",
      "utilization.memory",
      "memory.total",
      "memory.free",
      "memory.used",
      "power.draw",
      "power.limit",
      "fan.speed",
      "temperature.gpu",
      "compute_mode",
      "clocks.current.graphics",
      "clocks.current.sm",
      "clocks.current.memory",
      "clocks.current.video",
      "gpu_operation_mode.current",
      "pstate",
      "clocks_throttle_reasons.active",
      "clocks_throttle_reasons.gpu_idle",
      "clocks_throttle_reasons.applications_clocks_setting",
      "clocks_throttle_reasons.sw_power_cap",
      "clocks_throttle_reasons.hw_slowdown",
      "clocks_throttle_reasons.sync_boost",
    ];
    const line = fixture("rtx3080.zabbix-17.noheader.csv").trim();
    expect(parseGpuCsvLine(line, fields, 0)).toEqual({
      tMs: 0,
      index: 0,
      utilGpuPct: null,
      utilMemPct: null,
      memUsedMiB: 1211,
      memTotalMiB: 10240,
      powerW: null,
      powerLimitW: null,
      tempC: 54,
      smClockMHz: null,
      smClockMaxMHz: null,
      slowdown: [],
    });
    expect(parseGpuCsvLine(line, fields.slice(1), 0)).toBeNull(); // one field short: not a sample
  });

  it("RTX 2080 noheader,nounits line with an unbracketed N/A", () => {
    const line = fixture("rtx2080.gpu-utils-83.noheader.csv").trim();
    const sample = parseGpuCsvLine(line, RTX2080_FIELDS, 0);
    expect(sample).toMatchObject({
      index: 0,
      powerW: 176.98,
      powerLimitW: 200,
      memTotalMiB: 7979,
      tempC: 45,
    });
    expect(sample).toMatchObject({ smClockMHz: 1965, utilGpuPct: 86, utilMemPct: 55, memUsedMiB: null });
  });
});

const RTX2080_FIELDS = [
  "power.limit",
  "power.min_limit",
  "power.max_limit",
  "memory.total",
  "vbios_version",
  "driver_version",
  "name",
  "gpu_uuid",
  "power.draw",
  "temperature.gpu",
  "temperature.memory",
  "clocks.current.graphics",
  "clocks.sm",
  "clocks.mem",
  "utilization.gpu",
  "utilization.memory",
  "fan.speed",
  "pcie.link.width.current",
  "pstate",
];

describe("parseGpuCsvLine on lines that are not samples, and on flags", () => {
  it("returns null and never throws", () => {
    const fields = ["index", "utilization.gpu", "clocks_event_reasons.sw_power_cap"];
    // Error messages of nvidia-smi (not recorded here; typed in as inputs that must be rejected).
    expect(parseGpuCsvLine("No devices were found", fields, 0)).toBeNull();
    const failed = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.";
    expect(parseGpuCsvLine(failed, fields, 0)).toBeNull();
    expect(parseGpuCsvLine("", fields, 0)).toBeNull();
    expect(parseGpuCsvLine("x, 1, Active", fields, 0)).toBeNull(); // index must be an integer
    for (const junk of ["\u0000,\u0000,\u0000", ",,", "1,2,3,4", "💥, 2, Active", "0, [N/A], [N/A]\r"]) {
      expect(() => parseGpuCsvLine(junk, fields, 0)).not.toThrow();
    }
    expect(parseGpuCsvLine("0, [N/A], [N/A]\r", fields, 0)?.utilGpuPct).toBeNull();
  });

  it("an `Active` flag is a slowdown reason (line built here: no recording with one was found)", () => {
    const fields = [
      "index",
      "clocks_event_reasons.sw_power_cap",
      "clocks_throttle_reasons.hw_slowdown",
      "clocks_event_reasons.hw_thermal_slowdown",
      "clocks_event_reasons.sync_boost",
      "clocks_event_reasons.gpu_idle",
    ];
    const sample = parseGpuCsvLine("1, Active, Active, Not Active, [N/A], Active", fields, 5);
    expect(sample?.index).toBe(1);
    expect(sample?.slowdown).toEqual(["sw_power_cap", "hw_slowdown"]); // gpu_idle is not a slowdown reason
  });
});

describe("parseGpuInventory", () => {
  it("reads name, driver, memory and power limit from a recorded line, by field names", () => {
    const csv = fixture("rtx2080.gpu-utils-83.noheader.csv");
    expect(parseGpuInventory(csv, RTX2080_FIELDS)).toEqual([
      {
        index: null,
        name: "GeForce RTX 2080",
        driverVersion: "440.64",
        memoryTotalMiB: 7979,
        powerLimitW: 200,
      },
    ]);
  });

  it("reads the default inventory fields, skips headers and lines of another shape", () => {
    // Constructed input (values borrowed from the P100 recording), to exercise headers and placeholders.
    const header = "index, name, driver_version, memory.total [MiB], power.limit [W]";
    const csv = `${header}\n0, Tesla P100-PCIE-16GB, [N/A], 16280, [Not Supported]\nNo devices were found\n`;
    expect(parseGpuInventory(csv)).toEqual([
      {
        index: 0,
        name: "Tesla P100-PCIE-16GB",
        driverVersion: null,
        memoryTotalMiB: 16280,
        powerLimitW: null,
      },
    ]);
    expect(parseGpuInventory("")).toEqual([]);
  });
});
