/**
 * The memory store file: creation, migration from an older schema, and the failure paths that must
 * never stop a run (a corrupt file, a newer schema, a path that cannot be opened).
 */
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { MIGRATIONS, migrate, SCHEMA_VERSION, schemaVersion } from "../src/core/memory/migrations.ts";
import { listEntries } from "../src/core/memory/records.ts";
import { loadSqlite, withoutSqliteWarning } from "../src/core/memory/sqlite.ts";
import { MemoryStoreError, openStore, openStoreForReading } from "../src/core/memory/store.ts";

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "perfloop-memory-"));
  dirs.push(dir);
  return dir;
}
const tables = (db: { prepare(sql: string): { all(): unknown[] } }) =>
  (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>
  )
    .map((t) => t.name)
    .filter((n) => !n.startsWith("sqlite_"));

describe("memory store", () => {
  it("creates a fresh store (and its directory) at the latest schema", async () => {
    const file = path.join(await scratch(), "nested/.perfloop/memory.sqlite");
    const store = await openStore(file);
    expect(store.notes).toEqual([]);
    expect(store.file).toBe(file);
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    expect(tables(store.db)).toEqual([
      "arm_outcomes",
      "entries",
      "knob_results",
      "prompt_versions",
      "retrievals",
      "rollbacks",
      "runs",
      "schema_version",
    ]);
    store.db.close();
    const again = await openStore(file); // reopening changes nothing
    expect(again.notes).toEqual([]);
    expect((again.db.prepare("SELECT COUNT(*) AS n FROM schema_version").get() as { n: number }).n).toBe(
      MIGRATIONS.length,
    );
    again.db.close();
  });

  it("migrates a version-1 store, keeping its rows", async () => {
    const file = path.join(await scratch(), "memory.sqlite");
    const { DatabaseSync } = await loadSqlite();
    const old = new DatabaseSync(file);
    expect(migrate(old, 1)).toEqual({ from: 0, to: 1 });
    old
      .prepare(
        "INSERT INTO entries (kind, run_id, created_at, strategy, summary) VALUES ('success', 'r1', '2026-01-01T00:00:00Z', 'llm', 'suffix check first')",
      )
      .run();
    old.close();

    const store = await openStore(file);
    expect(store.notes).toEqual([]);
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    const [entry] = listEntries(store.db);
    expect(entry).toMatchObject({
      kind: "success",
      runId: "r1",
      summary: "suffix check first",
      fixedBy: null,
    });
    // Columns added by migration 2 exist on the old row.
    expect(store.db.prepare("SELECT embedding FROM entries").get()).toEqual({ embedding: null });
    store.db.close();
  });

  it("moves a corrupt file aside, says so clearly, and starts a fresh store", async () => {
    const dir = await scratch();
    const file = path.join(dir, "memory.sqlite");
    await writeFile(
      file,
      "this is not a SQLite database, just text that was left here by accident\n".repeat(20),
    );
    const store = await openStore(file);
    expect(store.file).toBe(file);
    expect(store.notes).toHaveLength(1);
    expect(store.notes[0]).toMatch(
      /memory store .*memory\.sqlite was unreadable \(file is not a database\): it was moved to .*memory\.sqlite\.corrupt-.* and a fresh, empty store was created/,
    );
    expect(schemaVersion(store.db)).toBe(SCHEMA_VERSION);
    store.db.close();
    const files = await readdir(dir);
    const aside = files.find((f) => f.startsWith("memory.sqlite.corrupt-"));
    expect(aside).toBeDefined();
    expect(await readFile(path.join(dir, aside as string), "utf8")).toMatch(/^this is not a SQLite database/);
  });

  it("detects a damaged database page (not only a foreign file)", async () => {
    const dir = await scratch();
    const file = path.join(dir, "memory.sqlite");
    const store = await openStore(file);
    const insert = store.db.prepare(
      "INSERT INTO entries (kind, run_id, created_at, strategy, summary) VALUES ('failure', 'r', 'now', 'llm', ?)",
    );
    for (let i = 0; i < 300; i++) insert.run(`failure number ${i} `.repeat(20));
    store.db.close();
    const bytes = await readFile(file);
    bytes.fill(0x41, 4096 * 2, 4096 * 4); // overwrite two pages in the middle
    await writeFile(file, bytes);
    const reopened = await openStore(file);
    expect(reopened.notes[0]).toMatch(
      /was unreadable \(.*(malformed|integrity check failed).*\): it was moved to/,
    );
    expect(listEntries(reopened.db)).toEqual([]);
    reopened.db.close();
  });

  it("leaves a store of a newer schema untouched and uses a temporary one", async () => {
    const file = path.join(await scratch(), "memory.sqlite");
    const store = await openStore(file);
    store.db.prepare("INSERT INTO schema_version VALUES (99, 'from the future', 'now')").run();
    store.db.close();
    const before = await readFile(file);
    const opened = await openStore(file);
    expect(opened.file).toBe(":memory:");
    expect(opened.notes[0]).toMatch(/schema version 99, newer than this perfloop's 2; upgrade perfloop/);
    opened.db.close();
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it("uses a temporary store when the path cannot be opened at all", async () => {
    const dir = await scratch();
    const opened = await openStore(dir); // a directory is not a database file
    expect(opened.file).toBe(":memory:");
    expect(opened.notes[0]).toMatch(/could not be opened .*temporary store/);
    opened.db.close();
  });

  it("opens for reading without creating or replacing anything", async () => {
    const dir = await scratch();
    await expect(openStoreForReading(path.join(dir, "none.sqlite"))).rejects.toThrow(MemoryStoreError);
    const bad = path.join(dir, "bad.sqlite");
    await writeFile(bad, "garbage ".repeat(100));
    await expect(openStoreForReading(bad)).rejects.toThrow(
      /bad\.sqlite cannot be read: file is not a database/,
    );
    expect(await readdir(dir)).toEqual(["bad.sqlite"]);
  });

  it("loads node:sqlite without printing an ExperimentalWarning, and lets other warnings through", () => {
    const module = path.resolve(import.meta.dirname, "../src/core/memory/sqlite.ts");
    const script = `const m = await import(${JSON.stringify(module)}); const s = await m.loadSqlite(); new s.DatabaseSync(":memory:").close(); process.emitWarning("still shown", "UserWarning");`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/ExperimentalWarning/);
    expect(result.stderr).toMatch(/UserWarning: still shown/);
  });

  it("filters exactly the SQLite experimental warning (as Node 22.13–24.x emit it)", () => {
    const seen: unknown[][] = [];
    const emit = withoutSqliteWarning(((...args: unknown[]) => {
      seen.push(args);
    }) as typeof process.emitWarning);
    emit("SQLite is an experimental feature and might change at any time", "ExperimentalWarning");
    emit("SQLite is an experimental feature", { type: "ExperimentalWarning" });
    emit("VM Modules is an experimental feature", "ExperimentalWarning");
    emit("SQLite handle leaked", "UserWarning");
    expect(seen.map((a) => a[0])).toEqual(["VM Modules is an experimental feature", "SQLite handle leaked"]);
  });
});
