/**
 * GPU use: Python modules importing a GPU framework (torch, cupy, jax, numba.cuda, tensorflow),
 * CUDA sources (`.cu`, `.cuh`), and CUDA enabled in a CMakeLists.txt. It matters for the config:
 * GPU kernels run asynchronously, so a GPU program should time its own synchronised GPU work and
 * print it as `benchmark.metric` (README, "Choosing what to measure").
 */
import { baseName, type DetectContext } from "./context.ts";
import { capEvidence, matchingLines } from "./evidence.ts";
import type { Evidence, GpuFinding } from "./types.ts";

/** Python files read at most for imports. */
const MAX_PY_FILES = 1500;

/** The GPU frameworks recognised, by the module path an import names. */
const FRAMEWORKS = ["torch", "cupy", "jax", "numba.cuda", "tensorflow"] as const;

/**
 * The framework a Python import line brings in; null when none. `import numba` alone is not GPU
 * use; `from numba import cuda` and `import numba.cuda` are.
 */
export function gpuImport(line: string): (typeof FRAMEWORKS)[number] | null {
  if (/^\s*from\s+numba\s+import\s+.*\bcuda\b/.test(line)) return "numba.cuda";
  const m = /^\s*(?:import\s+([\w.]+(?:\s*,\s*[\w.]+)*)|from\s+([\w.]+)\s+import\b)/.exec(line);
  if (!m) return null;
  const modules = (m[1] ?? m[2] ?? "").split(",").map((s) => s.trim());
  for (const module of modules)
    for (const fw of FRAMEWORKS) if (module === fw || module.startsWith(`${fw}.`)) return fw;
  return null;
}

/** CMake lines that enable CUDA. */
const CMAKE_CUDA =
  /^\s*(enable_language\s*\(\s*CUDA\b|project\s*\([^)]*\bCUDA\b|find_package\s*\(\s*(CUDA|CUDAToolkit)\b|cuda_add_(executable|library)\s*\()|CUDA::|\bLANGUAGES\b[^)]*\bCUDA\b/i;

/** GPU findings: one per framework imported, CUDA sources, CUDA in CMake; empty when none. */
export async function detectGpu(ctx: DetectContext): Promise<GpuFinding[]> {
  const { tree } = ctx;
  const byFramework = new Map<string, Evidence[]>();
  for (const file of tree.files.filter((f) => f.endsWith(".py")).slice(0, MAX_PY_FILES)) {
    const text = await tree.read(file);
    if (text === null || !/\b(torch|cupy|jax|numba|tensorflow)\b/.test(text)) continue;
    for (const e of matchingLines(file, text, /^\s*(import|from)\s/)) {
      const fw = gpuImport(e.text ?? "");
      if (fw) byFramework.set(fw, [...(byFramework.get(fw) ?? []), e]);
    }
  }
  const found: GpuFinding[] = FRAMEWORKS.filter((fw) => byFramework.has(fw)).map((fw) => ({
    kind: "python-import",
    what: fw,
    ...capEvidence(byFramework.get(fw) ?? []),
  }));
  const sources = tree.files.filter((f) => /\.(cu|cuh)$/.test(f));
  if (sources.length > 0)
    found.push({
      kind: "cuda-source",
      what: "CUDA sources",
      ...capEvidence(sources.map((file) => ({ file }))),
    });
  const cmake: Evidence[] = [];
  for (const file of tree.files.filter((f) => baseName(f) === "CMakeLists.txt")) {
    const text = await tree.read(file);
    if (text !== null) cmake.push(...matchingLines(file, text, CMAKE_CUDA));
  }
  if (cmake.length > 0) found.push({ kind: "cmake-cuda", what: "CUDA in CMake", ...capEvidence(cmake) });
  return found;
}
