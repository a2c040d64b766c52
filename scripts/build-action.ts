/**
 * Builds the Action's and the CLI's bundles into dist/ (committed; .github/workflows/dist.yml
 * rebuilds it and `npm test` checks it, failing when it differs):
 *   dist/index.js          src/action/index.ts and every dependency, one ES module (esbuild)
 *   dist/cli.js            src/cli/index.ts likewise: the installed `perfloop` command runs it through
 *                          bin/perfloop.js (which first checks the Node version), no node_modules needed
 *   dist/package.json      {"type": "module"}, so Node loads index.js as ESM wherever the action lives
 *   dist/runner.py         the measurement runner, at the path the bundled code computes
 *                          (`new URL("./runner.py", import.meta.url)` in src/core/measure/runner.ts)
 *   dist/python/sitecustomize.py   the Python profiler (`new URL("./python/", …)` in src/core/profile/python.ts)
 *   dist/python/_perfloop_capture.py, _perfloop_fingerprint.py   behaviour capture, loaded by sitecustomize.py
 *   dist/python/_perfloop_exit.py   writing each process's record at exit, loaded by the profiler and the capture
 *   dist/python/_perfloop_torch.py   the PyTorch trace hook, loaded by sitecustomize.py
 *   dist/licenses.txt      the licenses of the bundled packages
 * Deterministic: dist/ is emptied first, inputs are the lockfile's packages, no timestamps or
 * absolute paths are written, and package lists are sorted.
 *
 * Usage: node scripts/build-action.ts [--check]   (--check: build to a temp dir and compare with dist/)
 */
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");

/** Files the core finds next to its modules at run time: source → path under dist/. */
const RUNTIME_FILES: ReadonlyArray<[string, string]> = [
  ["src/core/measure/runner.py", "runner.py"],
  ["src/core/profile/python/sitecustomize.py", "python/sitecustomize.py"],
  ["src/core/profile/python/_perfloop_capture.py", "python/_perfloop_capture.py"],
  ["src/core/profile/python/_perfloop_fingerprint.py", "python/_perfloop_fingerprint.py"],
  ["src/core/profile/python/_perfloop_exit.py", "python/_perfloop_exit.py"],
  ["src/core/profile/python/_perfloop_torch.py", "python/_perfloop_torch.py"],
];

/** Builds the bundle into `outDir` (emptied first). */
async function buildInto(outDir: string): Promise<void> {
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [
      { in: "src/action/index.ts", out: "index" },
      { in: "src/cli/index.ts", out: "cli" },
    ],
    outdir: outDir,
    bundle: true,
    platform: "node",
    format: "esm",
    // The CLI supports Node 22 and later (bin/perfloop.js checks); the Action runs on node24.
    target: "node22",
    // Some bundled CommonJS packages call require() for Node built-ins; an ES module has none.
    banner: {
      js: 'import { createRequire as __perfloopCreateRequire } from "node:module";\nconst require = __perfloopCreateRequire(import.meta.url);',
    },
    legalComments: "none",
    charset: "utf8",
    metafile: true,
    logLevel: "warning",
  });
  await writeFile(path.join(outDir, "package.json"), '{\n  "type": "module"\n}\n');
  for (const [from, to] of RUNTIME_FILES) {
    await mkdir(path.dirname(path.join(outDir, to)), { recursive: true });
    await cp(path.join(ROOT, from), path.join(outDir, to));
  }
  await writeFile(path.join(outDir, "licenses.txt"), await licenses(Object.keys(result.metafile.inputs)));
}

/** The name, version, license and license text of every package the bundle contains, sorted. */
async function licenses(inputs: string[]): Promise<string> {
  const dirs = new Set<string>();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m?.[1]) dirs.add(m[1]);
  }
  const parts: string[] = [];
  for (const dir of [...dirs].sort()) {
    const pkg = JSON.parse(await readFile(path.join(ROOT, dir, "package.json"), "utf8")) as {
      name: string;
      version: string;
      license?: string;
    };
    const file = (await readdir(path.join(ROOT, dir))).find((f) => /^(licen[cs]e|copying)/i.test(f));
    const text = file ? (await readFile(path.join(ROOT, dir, file), "utf8")).trim() : "(no license file)";
    parts.push(`${pkg.name}@${pkg.version}\n${pkg.license ?? "UNKNOWN"}\n\n${text}`);
  }
  // @hpcc-js/wasm-graphviz's LICENSE covers its JavaScript; the WebAssembly inside it is Graphviz,
  // whose own license its package does not carry.
  if (dirs.has("node_modules/@hpcc-js/wasm-graphviz"))
    parts.push(
      "Graphviz (compiled to WebAssembly inside @hpcc-js/wasm-graphviz)\nEPL-1.0\n\nGraphviz is distributed under the Eclipse Public License 1.0: https://graphviz.org/license/ and https://www.eclipse.org/legal/epl-v10.html",
    );
  return `${parts.join("\n\n-----\n\n")}\n`;
}

/** Relative paths of every file under `dir`, sorted. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const dist = path.join(ROOT, "dist");
if (process.argv.includes("--check")) {
  const fresh = await mkdtemp(path.join(tmpdir(), "perfloop-dist-"));
  await buildInto(fresh);
  const [want, have] = [await files(fresh), await files(dist).catch(() => [])];
  const stale: string[] = [];
  for (const f of [...new Set([...want, ...have])].sort()) {
    const a = await readFile(path.join(fresh, f)).catch(() => null);
    const b = await readFile(path.join(dist, f)).catch(() => null);
    if (a === null || b === null || !a.equals(b)) stale.push(f);
  }
  await rm(fresh, { recursive: true, force: true });
  if (stale.length > 0) {
    console.error(`dist/ is out of date (${stale.join(", ")}): run \`npm run build\` and commit dist/.`);
    process.exitCode = 1;
  } else console.log("dist/ is up to date.");
} else {
  await buildInto(dist);
  console.log(`built ${(await files(dist)).map((f) => `dist/${f}`).join(", ")}`);
}
