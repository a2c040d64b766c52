/**
 * The explanation `perfloop init` prints: every guess with the evidence (file and line) it came
 * from, what was not found and how to fill it in, and the notes (malformed files, limits). Plain
 * text, one item a line, evidence indented under its item.
 */
import type { BenchmarkFinding, Detection, Evidence } from "./types.ts";

/** Something the config needs that detection could not find, and how to fill it in. */
interface MissingItem {
  /** The config key concerned. */
  key: "test" | "benchmark.command" | "benchmark.metric";
  message: string;
}

/** `file:line  text`, or the file alone. */
export function formatEvidence(e: Evidence): string {
  return e.line === undefined ? e.file : `${e.file}:${e.line}${e.text ? `  ${e.text}` : ""}`;
}

function evidenceLines(items: { evidence: Evidence[]; omitted?: number }, indent: string): string[] {
  return [
    ...items.evidence.map((e) => `${indent}${formatEvidence(e)}`),
    ...(items.omitted ? [`${indent}… and ${items.omitted} more`] : []),
  ];
}

/** What the user must fill in before `perfloop profile` can work, or should, given what was found. */
function missingItems(d: Detection): MissingItem[] {
  const missing: MissingItem[] = [];
  if (d.test === null)
    missing.push({
      key: "test",
      message:
        "no test command was found: `test` is a placeholder that fails. Replace it with the command that runs your tests (e.g. `python3 -m pytest -q`, `npm test`, `go test ./...`); it is the correctness gate every candidate must pass",
    });
  for (const l of d.languages.filter((l) => !d.tests.some((t) => t.language === l.language)))
    if (d.test !== null)
      missing.push({
        key: "test",
        message: `no ${l.language} tests were found: if the project has some, add their command to \`test\` (joined with &&)`,
      });
  if (d.benchmark === null)
    missing.push({
      key: "benchmark.command",
      message:
        "no benchmark was found: `benchmark.command` is a placeholder that fails with a message, so `perfloop profile` stops until you replace it with a command that runs your workload once (e.g. `python3 -m mypkg data.txt`, `node bench.js`); perfloop times whole runs of it",
    });
  if (d.gpu.length > 0)
    missing.push({
      key: "benchmark.metric",
      message:
        "GPU code was found: GPU work is asynchronous, so have the benchmark time its own GPU work with synchronisation (CUDA events, torch.cuda.synchronize()) and print it, then fill in the commented-out `benchmark.metric` in the config",
    });
  return missing;
}

function benchmarkLines(b: BenchmarkFinding, chosen: boolean): string[] {
  const head = chosen
    ? `  ${b.kind}: ${b.command}  (used)`
    : `  ${b.kind}: ${b.command ?? "(no command could be made)"}`;
  return [head, ...evidenceLines(b, "      "), ...(b.caveat ? [`      note: ${b.caveat}`] : [])];
}

/**
 * The explanation of `d` for the project `dir` (as the user named it), ending with a newline.
 * @param written project-relative paths of the files written, listed at the end.
 */
export function explainDetection(d: Detection, dir: string, written: string[] = []): string {
  const out: string[] = [
    `perfloop init: ${dir} (${d.scanned.files} files looked at${d.scanned.truncated ? ", stopped at the limit" : ""})`,
    "",
  ];
  out.push("Languages:");
  if (d.languages.length === 0) out.push("  none recognised");
  for (const l of d.languages) out.push(`  ${l.language}`, ...evidenceLines(l, "      "));
  out.push("", `Test command: ${d.test ?? "none found"}`);
  for (const t of d.tests)
    out.push(`  ${t.runner} (${t.language}): ${t.command}`, ...evidenceLines(t, "      "));
  out.push("", `Benchmark: ${d.benchmark ?? "none found"}`);
  const chosen = d.benchmarks.find((b) => b.command !== null && b.command === d.benchmark);
  for (const b of d.benchmarks) out.push(...benchmarkLines(b, b === chosen));
  if (d.benchmarkFiles.length > 0)
    out.push(`  protected from edits (benchmark.files): ${d.benchmarkFiles.join(", ")}`);
  out.push("", `GPU: ${d.gpu.length > 0 ? d.gpu.map((g) => g.what).join(", ") : "none found"}`);
  for (const g of d.gpu) out.push(`  ${g.what}`, ...evidenceLines(g, "      "));
  const missing = missingItems(d);
  if (missing.length > 0) {
    out.push("", "To fill in:");
    for (const m of missing) out.push(`  - ${m.key}: ${m.message}`);
  }
  if (d.notes.length > 0) {
    out.push("", "Notes:");
    for (const n of d.notes)
      out.push(`  - ${n.file ? `${n.file}${n.line ? `:${n.line}` : ""}: ` : ""}${n.message}`);
  }
  if (written.length > 0) {
    out.push("", "Wrote:");
    for (const f of written) out.push(`  ${f}`);
  }
  return `${out.join("\n")}\n`;
}
