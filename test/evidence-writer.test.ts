/**
 * The evidence writer (src/core/evidence/writer.ts): every file passes through the redactor and the
 * size ceilings, the exact text written is kept in memory with the redaction count, and
 * `restoreBundle` makes the directory hold exactly that again — whatever a process left behind
 * rewrote, added or linked. Also: the command logs keep at most 1 MiB per stream
 * (src/core/loop/context.ts `commandLog`), and report.md says how many secrets were redacted.
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { capText, STREAM_CEILING_BYTES, TEXT_FILE_CEILING_BYTES } from "../src/core/evidence/cap.ts";
import { createRedactor } from "../src/core/evidence/redact.ts";
import { createEvidenceWriter, EvidencePathError, restoreBundle } from "../src/core/evidence/writer.ts";
import type { CommandResult } from "../src/core/exec/run-command.ts";
import { commandLog } from "../src/core/loop/context.ts";
import { renderReport } from "../src/core/report/report.ts";
import { improved, variant } from "./report-helpers.ts";

const SECRET = "s3cr3t-value-from-the-environment";
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "perfloop-evidence-"));
  dirs.push(dir);
  return dir;
}

async function writer(dir: string) {
  return createEvidenceWriter(path.join(dir, "out"), {
    redactor: createRedactor({ env: { PATH: "/bin", DEPLOY_TOKEN: SECRET } }),
  });
}

describe("createEvidenceWriter", () => {
  it("redacts json, text and audit writes, keeps what it wrote in memory, and counts", async () => {
    const dir = await tempDir();
    const w = await writer(dir);
    await w.text("setup.log", `env\nDEPLOY=${Buffer.from(`x${SECRET}`).toString("base64")}\n`);
    await w.json("rounds/1/response.json", { key: SECRET, note: "fine", n: 3 });
    await w.audit("run setup", `printed ${SECRET}\nsecond line`);
    await w.audit("done");
    await w.text("clean.md", "# nothing to hide\n");

    const files = w.files();
    expect([...files.keys()]).toEqual(["audit.log", "clean.md", "rounds/1/response.json", "setup.log"]);
    for (const [name, text] of files) {
      expect(await readFile(path.join(w.dir, name), "utf8"), name).toBe(text);
      expect(text.includes(SECRET), name).toBe(false);
    }
    expect(JSON.parse(files.get("rounds/1/response.json") ?? "")).toEqual({
      key: "[REDACTED:secret-value]",
      note: "fine",
      n: 3,
    });
    expect(files.get("setup.log")).toMatch(/^DEPLOY=.*\[REDACTED:secret-value\]/m);
    expect(files.get("audit.log")).toMatch(
      /^\S+Z run setup printed \[REDACTED:secret-value\]\\nsecond line\n\S+Z done\n$/,
    );
    expect(w.redactions()).toEqual({ count: 3, files: ["audit.log", "rounds/1/response.json", "setup.log"] });

    // A rewritten file counts its latest version only.
    await w.text("setup.log", "clean now");
    expect(w.redactions()).toEqual({ count: 2, files: ["audit.log", "rounds/1/response.json"] });
  });

  it("refuses names outside the bundle", async () => {
    const w = await writer(await tempDir());
    for (const name of ["../x.log", "/etc/x", "a/../../x", ".", ""])
      await expect(w.text(name, "x"), name).rejects.toThrow(EvidencePathError);
    expect(await w.text("a/./b/../c.log", "x")).toBe(path.join(w.dir, "a/c.log"));
  });

  it("keeps at most 1 MiB of any JSON string and 4 MiB of a text file, head and tail", async () => {
    const w = await writer(await tempDir());
    const stdout = `HEAD${"x".repeat(3 * STREAM_CEILING_BYTES)}TAIL`;
    await w.json("perf_raw.json", { stdout: { B: stdout } });
    const kept = JSON.parse(w.files().get("perf_raw.json") ?? "").stdout.B as string;
    expect(Buffer.byteLength(kept)).toBeLessThan(STREAM_CEILING_BYTES + 100);
    expect(kept).toMatch(/^HEADx+\n\[… perfloop cut \d+ bytes …\]\nx+TAIL$/);
    await w.text("rounds/1/bench.log", `HEAD${"y".repeat(2 * TEXT_FILE_CEILING_BYTES)}TAIL`);
    const log = w.files().get("rounds/1/bench.log") ?? "";
    expect(Buffer.byteLength(log)).toBeLessThan(TEXT_FILE_CEILING_BYTES + 100);
    expect(log.startsWith("HEAD") && log.endsWith("TAIL")).toBe(true);
    expect(capText("short", 8)).toBe("short");
  });
});

describe("restoreBundle", () => {
  it("rewrites tampered files, removes planted ones and links (never following them), from memory", async () => {
    const dir = await tempDir();
    const w = await writer(dir);
    await w.json("results.json", { status: "no-improvement" });
    await w.text("report.md", "## perfloop · no improvement\n");
    await w.text("rounds/1/bench.log", "runs\n");
    await w.audit("finish", "no-improvement");
    const outside = path.join(dir, "outside.txt");
    await writeFile(outside, "not the bundle's\n");

    // What a process left behind does once the loop has written its files.
    await writeFile(path.join(w.dir, "results.json"), '{"status":"improved"}');
    await writeFile(path.join(w.dir, "report.md"), "## perfloop · improved: 10x faster\n");
    await writeFile(path.join(w.dir, "stolen.txt"), SECRET);
    await mkdir(path.join(w.dir, "extra/deep"), { recursive: true });
    await writeFile(path.join(w.dir, "extra/deep/x.bin"), "x");
    await rm(path.join(w.dir, "rounds/1/bench.log"));
    await symlink(outside, path.join(w.dir, "rounds/1/bench.log"));
    await symlink(dir, path.join(w.dir, "link-to-parent"));
    await rm(path.join(w.dir, "audit.log"));

    const restored = await restoreBundle(w);
    expect(restored.files).toEqual(
      ["audit.log", "report.md", "results.json", "rounds/1/bench.log"].map((f) => path.join(w.dir, f)),
    );
    expect(restored.changed).toEqual(["audit.log", "report.md", "results.json", "rounds/1/bench.log"]);
    expect(restored.removed).toEqual(["extra/deep/x.bin", "link-to-parent", "stolen.txt"]);
    for (const [name, text] of w.files()) {
      expect(await readFile(path.join(w.dir, name), "utf8")).toBe(text);
      expect((await lstat(path.join(w.dir, name))).isFile()).toBe(true);
    }
    expect((await readdir(w.dir)).sort()).toEqual(["audit.log", "report.md", "results.json", "rounds"]);
    expect(await readFile(outside, "utf8")).toBe("not the bundle's\n");
    expect(await readdir(dir)).toEqual(expect.arrayContaining(["out", "outside.txt"]));

    // An untouched bundle restores to itself, with nothing to report.
    expect(await restoreBundle(w)).toMatchObject({ changed: [], removed: [] });
  });

  it("replaces a link put in the bundle directory's place without touching its target", async () => {
    const dir = await tempDir();
    const w = await writer(dir);
    await w.text("report.md", "mine\n");
    const elsewhere = path.join(dir, "elsewhere");
    await mkdir(elsewhere);
    await writeFile(path.join(elsewhere, "keep.txt"), "keep");
    await rm(w.dir, { recursive: true });
    await symlink(elsewhere, w.dir);
    const restored = await restoreBundle(w);
    expect(restored.removed).toEqual(["."]);
    expect((await lstat(w.dir)).isDirectory()).toBe(true);
    expect(await readdir(w.dir)).toEqual(["report.md"]);
    expect(await readdir(elsewhere)).toEqual(["keep.txt"]);
  });
});

describe("logs in the bundle", () => {
  const result = (stdout: string, stderr = ""): CommandResult => ({
    command: "python3 bench.py",
    cwd: "/tmp/x",
    exitCode: 0,
    signal: null,
    timedOut: false,
    durationMs: 1200,
    stdout,
    stderr,
    truncated: false,
  });

  it("keeps at most 1 MiB per stream, head and tail, and says the output was truncated", () => {
    const huge = `first line\n${"z".repeat(5 * STREAM_CEILING_BYTES)}\nlast line`;
    const log = commandLog(result(huge, huge));
    expect(Buffer.byteLength(log)).toBeLessThan(2 * STREAM_CEILING_BYTES + 500);
    expect(log.split("\n")[1]).toBe("# exit code 0 in 1.20 s (output truncated)");
    expect(log.match(/\[… perfloop cut \d+ bytes …\]/g)).toHaveLength(2);
    expect(log).toMatch(
      /## stdout\nfirst line\nz+\n\[… perfloop cut \d+ bytes …\]\nz+\nlast line\n## stderr\nfirst line/,
    );
    expect(commandLog(result("ok"))).toBe(
      "$ python3 bench.py\n# exit code 0 in 1.20 s\n## stdout\nok\n## stderr\n",
    );
  });
});

describe("report.md", () => {
  it("says under the title how many secrets were redacted, and from which files", () => {
    const md = renderReport(improved, {
      redactions: { count: 3, files: ["setup.log", "rounds/1/bench.log"] },
    });
    const lines = md.split("\n");
    expect(lines[0]).toMatch(/^## perfloop · improved/);
    expect(lines[2]).toBe(
      "> **At least 3 secrets redacted** from the evidence (`setup.log`, `rounds/1/bench.log`): a secret's value (plain, base64 or hex) or a token-shaped string that a command printed was replaced by `[REDACTED:…]`.",
    );
    expect(renderReport(improved, { redactions: { count: 0, files: [] } })).toBe(renderReport(improved));
    // From results.json's sandbox section when the caller passes nothing; kept when the report is cut short.
    const withSandbox = variant((r) => {
      r.sandbox = {
        mode: "bwrap",
        network: "off",
        warning: null,
        limits: {},
        userTree: null,
        redactions: { count: 1, files: ["baseline-bench.log"] },
      };
    });
    expect(renderReport(withSandbox)).toContain(
      "> **At least 1 secret redacted** from the evidence (`baseline-bench.log`)",
    );
    expect(renderReport(withSandbox, { maxChars: 4000 })).toContain("At least 1 secret redacted");
  });
});
