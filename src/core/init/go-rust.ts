/**
 * Go (go.mod at the top) and Rust (Cargo.toml at the top): `go test ./...` and `cargo test`, and
 * their benchmarks — Go's `func BenchmarkX(b *testing.B)` run a fixed number of iterations, cargo's
 * `benches/` (or `[[bench]]` targets) with `cargo bench`.
 */
import type { DetectContext } from "./context.ts";
import { capEvidence, firstLine } from "./evidence.ts";
import { tableOf, valueAt } from "./manifests.ts";
import type { BenchmarkFinding, Evidence, TestFinding } from "./types.ts";

/** Iterations of each Go benchmark (`-benchtime=Nx`): fixed work, unlike the default 1 s budget. */
const GO_BENCH_ITERATIONS = 100;

/** `go test ./...` when go.mod is at the top; null otherwise. */
export async function detectGoTests(ctx: DetectContext): Promise<TestFinding | null> {
  if (!ctx.tree.has("go.mod")) return null;
  const text = (await ctx.tree.read("go.mod")) ?? "";
  const evidence = firstLine("go.mod", text, /^\s*module\s+\S/) ?? { file: "go.mod" };
  return { language: "go", runner: "go", command: "go test ./...", evidence: [evidence] };
}

/** Go benchmarks (`func Benchmark…(b *testing.B)` in `_test.go` files) when go.mod is at the top. */
export async function detectGoBenchmarks(ctx: DetectContext): Promise<BenchmarkFinding | null> {
  if (!ctx.tree.has("go.mod")) return null;
  const uses: Evidence[] = [];
  for (const file of ctx.tree.files.filter((f) => f.endsWith("_test.go"))) {
    const text = await ctx.tree.read(file);
    const line =
      text === null ? null : firstLine(file, text, /^func\s+Benchmark\w*\s*\(\s*\w+\s+\*testing\.B\s*\)/);
    if (line) uses.push(line);
  }
  if (uses.length === 0) return null;
  return {
    kind: "go-bench",
    // -run='^$' runs no tests (they are the test command's job); -benchtime=Nx fixes the iterations.
    command: `go test -run='^$' -bench=. -benchtime=${GO_BENCH_ITERATIONS}x ./...`,
    output: "ignore",
    files: [...new Set(uses.map((e) => e.file))],
    ...capEvidence(uses),
    caveat: `each benchmark runs exactly ${GO_BENCH_ITERATIONS} iterations (-benchtime=${GO_BENCH_ITERATIONS}x), so the wall time follows the code's speed; raise it if a run is too short to measure`,
  };
}

/** `cargo test` when Cargo.toml is at the top (even a malformed one: the note says so); null otherwise. */
export function detectCargoTests(ctx: DetectContext): TestFinding | null {
  const cargo = ctx.cargo;
  if (!cargo) return null;
  const evidence = firstLine(cargo.file, cargo.text, /^\s*\[\s*(package|workspace)\s*\]/) ?? {
    file: cargo.file,
  };
  return { language: "rust", runner: "cargo", command: "cargo test", evidence: [evidence] };
}

/** cargo benchmarks: files under `benches/` or `[[bench]]` targets in Cargo.toml; null when none. */
export function detectCargoBenchmarks(ctx: DetectContext): BenchmarkFinding | null {
  const cargo = ctx.cargo;
  if (!cargo) return null;
  const files = ctx.tree.files.filter((f) => /^benches\/.+\.rs$/.test(f));
  const targets = Array.isArray(valueAt(cargo.value, "bench"))
    ? [firstLine(cargo.file, cargo.text, /^\s*\[\[\s*bench\s*\]\]/)]
    : [];
  const criterion = Object.hasOwn(tableOf(valueAt(cargo.value, "dev-dependencies")), "criterion");
  const evidence = [...targets.filter((e): e is Evidence => e !== null), ...files.map((file) => ({ file }))];
  if (evidence.length === 0) return null;
  return {
    kind: "cargo-bench",
    command: "cargo bench",
    output: "ignore",
    files,
    ...capEvidence(evidence),
    caveat: criterion
      ? "criterion runs each benchmark for a time budget (3 s warm-up, 5 s measurement), so the wall time hardly follows the code: prefer a binary that does fixed work, with hyperfine-style timing left to perfloop"
      : "cargo bench compiles in release mode first; the build is cached in target/ after the first run",
  };
}
