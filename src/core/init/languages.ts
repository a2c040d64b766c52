/**
 * The project's languages, from the files that declare them: Python (pyproject.toml, setup.py,
 * setup.cfg, requirements*.txt, or any `.py` file), Node (package.json), Go (go.mod), Rust
 * (Cargo.toml). Manifests at any depth count as evidence; only those at the top give commands
 * (perfloop runs commands from the project directory), and a language seen only deeper says so.
 */
import { baseName, type DetectContext } from "./context.ts";
import { capEvidence } from "./evidence.ts";
import type { Language, LanguageFinding } from "./types.ts";

/** Manifest names per language; Python also counts its `.py` files. */
const MANIFESTS: Record<Language, (name: string) => boolean> = {
  python: (n) => ["pyproject.toml", "setup.py", "setup.cfg"].includes(n) || /^requirements.*\.txt$/i.test(n),
  node: (n) => n === "package.json",
  go: (n) => n === "go.mod",
  rust: (n) => n === "Cargo.toml",
};

/** The order languages are listed in (and their test commands joined in). */
const LANGUAGE_ORDER: readonly Language[] = ["python", "node", "go", "rust"];

/** Depth of a project-relative path: 0 for a top-level file. */
function depth(rel: string): number {
  return rel.split("/").length - 1;
}

/** Languages found, manifests first (shallowest first), then `.py` files for Python. */
export function detectLanguages(ctx: DetectContext): LanguageFinding[] {
  const files = ctx.tree.files;
  const found: LanguageFinding[] = [];
  for (const language of LANGUAGE_ORDER) {
    const manifests = files
      .filter((f) => MANIFESTS[language](baseName(f)))
      .sort((a, b) => depth(a) - depth(b));
    const sources = language === "python" ? files.filter((f) => f.endsWith(".py")) : [];
    if (manifests.length === 0 && sources.length === 0) continue;
    found.push({ language, ...capEvidence([...manifests, ...sources].map((file) => ({ file }))) });
    const top = manifests.some((f) => depth(f) === 0);
    if (!top && language !== "python")
      ctx.notes.push({
        file: manifests[0],
        message: `${language} was found only below the top (${manifests[0]}): its commands were not guessed; write them as \`cd <dir> && …\``,
      });
  }
  return found;
}
