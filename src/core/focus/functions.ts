/**
 * Where a function ends, from its source text and the line a profiler gives for it (cProfile's
 * `co_firstlineno`, V8's `callFrame.lineNumber`): Python by indentation, JavaScript/TypeScript by
 * brace matching. Small scanners, not parsers: they understand strings, comments, template literals
 * and regular expressions well enough to skip the brackets inside them, and fall back to the
 * definition line when they cannot tell.
 */

/** The languages {@link functionEnd} reads. */
export type SourceLanguage = "python" | "javascript";

const JS_EXTENSIONS = new Set([".js", ".mjs", ".cjs", ".ts", ".mts", ".cts", ".jsx", ".tsx"]);

/**
 * The language of `file` by its extension (case-insensitive): `.py` → python; `.js .mjs .cjs .ts
 * .mts .cts .jsx .tsx` → javascript (TypeScript and JSX read the same way); anything else → null.
 */
export function languageOf(file: string): SourceLanguage | null {
  const dot = file.lastIndexOf(".");
  if (dot < 0 || dot < file.lastIndexOf("/")) return null;
  const ext = file.slice(dot).toLowerCase();
  if (ext === ".py") return "python";
  return JS_EXTENSIONS.has(ext) ? "javascript" : null;
}

/**
 * The last line (1-based) of the function defined at `defLine` (1-based) of `source`.
 * - Python: the body is every line after the header (the `def`/`class` line and its bracketed or
 *   backslash-continued lines) up to, not including, the first non-blank, non-comment line indented
 *   no deeper than the `def` (tabs to multiples of 8, as Python reads them); lines inside
 *   triple-quoted strings and brackets do not end it; trailing blank and comment lines are not part
 *   of it. A `defLine` on a decorator (Python ≥ 3.8 reports decorated functions there) is moved to
 *   the decorated `def`.
 * - JavaScript/TypeScript: from the start of `defLine`, the first `{` that opens a body (after `)`,
 *   `=>`, a name or a type; braces of destructured or defaulted parameters are skipped) is matched to
 *   its `}`, ignoring braces in strings, template literals (with `${…}`), comments and regular
 *   expressions. An arrow function whose body is not a block, or a statement that ends (`;`) before
 *   any body, gives `defLine`. Known limits: a `{` of an object return type (`(): {a: 1} {`) and
 *   apostrophes in JSX text may mislead it.
 * @returns a line ≥ `defLine`; `defLine` itself when it is outside `source` or no body is found; the
 *   last line of `source` when a body brace is never closed.
 */
export function functionEnd(source: string, defLine: number, language: SourceLanguage): number {
  const text = source.replace(/\r\n?/g, "\n");
  const lines = text.split("\n");
  if (!Number.isInteger(defLine) || defLine < 1 || defLine > lines.length) return defLine;
  const end = language === "python" ? pythonEnd(lines, defLine - 1) + 1 : javascriptEnd(text, defLine);
  return Math.max(defLine, end);
}

// ---------------------------------------------------------------------------------------------
// Python

/** Indentation width of `line`: a tab advances to the next multiple of 8 (Python's tokenizer rule). */
function indentWidth(line: string): number {
  let w = 0;
  for (const ch of line) {
    if (ch === " ") w++;
    else if (ch === "\t") w = (Math.floor(w / 8) + 1) * 8;
    else break;
  }
  return w;
}

/** What carries over from one physical line of Python to the next. */
interface PyState {
  /** The delimiter of the triple-quoted string open at the end of the line, if any. */
  triple: string | null;
  /** Open brackets `( [ {`. */
  depth: number;
  /** The line ended with a backslash (explicit line joining). */
  continued: boolean;
}

/** Advances `state` over one physical line (strings, comments, brackets, backslash joins). */
function scanPythonLine(line: string, state: PyState): void {
  state.continued = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i] as string;
    if (state.triple) {
      if (ch === "\\") i += 2;
      else if (line.startsWith(state.triple, i)) {
        i += 3;
        state.triple = null;
      } else i++;
      continue;
    }
    if (ch === "#") return;
    if (ch === '"' || ch === "'") {
      if (line.startsWith(ch.repeat(3), i)) {
        state.triple = ch.repeat(3);
        i += 3;
        continue;
      }
      let j = i + 1;
      while (j < line.length && line[j] !== ch) j += line[j] === "\\" ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (ch === "(" || ch === "[" || ch === "{") state.depth++;
    else if (ch === ")" || ch === "]" || ch === "}") state.depth = Math.max(0, state.depth - 1);
    i++;
  }
  state.continued = !state.triple && line.endsWith("\\");
}

const PY_DEF = /^\s*(?:async\s+def|def|class)\b/;

/** 0-based index of the last line of the Python function whose header starts at index `at`. */
function pythonEnd(lines: string[], at: number): number {
  let def = at;
  if (/^\s*@/.test(lines[def] ?? "")) {
    for (let k = def + 1; k < lines.length; k++) {
      if (PY_DEF.test(lines[k] ?? "")) {
        def = k;
        break;
      }
    }
  }
  const indent = indentWidth(lines[def] ?? "");
  const state: PyState = { triple: null, depth: 0, continued: false };
  let k = def;
  scanPythonLine(lines[k] ?? "", state);
  while ((state.triple || state.depth > 0 || state.continued) && k + 1 < lines.length) {
    k++;
    scanPythonLine(lines[k] ?? "", state);
  }
  let last = k;
  for (let j = k + 1; j < lines.length; j++) {
    const line = lines[j] ?? "";
    const logicalStart = !state.triple && state.depth === 0 && !state.continued;
    const trimmed = line.trim();
    if (logicalStart) {
      if (trimmed === "" || trimmed.startsWith("#")) continue;
      if (indentWidth(line) <= indent) break;
    }
    scanPythonLine(line, state);
    if (trimmed !== "") last = j;
  }
  return last;
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript

/** A significant token: a bracket, `;`, `=>`, a word, `value` (a literal) or one punctuation char. */
interface JsToken {
  t: string;
  /** 1-based line where the token starts. */
  line: number;
}

/** Words after which `/` starts a regular expression and `{` an object, not a block. */
const EXPRESSION_WORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
  "extends",
  "keyof",
  "as",
  "satisfies",
  "is",
  "default",
]);

/** Whether a `/` after the token `prev` starts a regular expression (rather than dividing). */
function regexAllowed(prev: string): boolean {
  if (prev === "" || prev === "=>" || EXPRESSION_WORDS.has(prev)) return true;
  return prev.length === 1 && "(,=:[!&|?{};+-*%<>~^".includes(prev);
}

/**
 * The significant tokens of `src` from offset `start` (at line `line`): strings, template literals
 * (their `${…}` code included), comments and regular expressions are consumed whole.
 */
function* jsTokens(src: string, start: number, line: number): Generator<JsToken> {
  let i = start;
  let prev = "";
  /** Open `{` of code (`brace`) and of template substitutions (`interp`). */
  const stack: Array<"brace" | "interp"> = [];
  const skipTo = (j: number) => {
    for (let k = i; k < j && k < src.length; k++) if (src.charCodeAt(k) === 10) line++;
    i = Math.min(j, src.length);
  };
  /** Consumes template text after a "`" or a substitution's `}`; stops after "`" or `${`. */
  const template = () => {
    while (i < src.length) {
      const c = src[i];
      if (c === "\\") skipTo(i + 2);
      else if (c === "`") {
        i++;
        return;
      } else if (c === "$" && src[i + 1] === "{") {
        stack.push("interp");
        i += 2;
        return;
      } else skipTo(i + 1);
    }
  };
  while (i < src.length) {
    const c = src[i] as string;
    const n = src[i + 1];
    const at = line;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === "/" && n === "/") {
      const e = src.indexOf("\n", i);
      i = e < 0 ? src.length : e;
    } else if (c === "/" && n === "*") {
      const e = src.indexOf("*/", i + 2);
      skipTo(e < 0 ? src.length : e + 2);
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      skipTo(j + 1);
      prev = "value";
      yield { t: prev, line: at };
    } else if (c === "`") {
      i++;
      template();
      prev = stack[stack.length - 1] === "interp" && src[i - 1] === "{" ? "{" : "value";
      yield { t: "value", line: at };
    } else if (c === "/" && regexAllowed(prev)) {
      let j = i + 1;
      let inClass = false;
      while (j < src.length && src[j] !== "\n") {
        const r = src[j];
        if (r === "\\") j++;
        else if (r === "[") inClass = true;
        else if (r === "]") inClass = false;
        else if (r === "/" && !inClass) break;
        j++;
      }
      j++;
      while (j < src.length && /[A-Za-z]/.test(src[j] as string)) j++;
      skipTo(j);
      prev = "value";
      yield { t: prev, line: at };
    } else if (c === "=" && n === ">") {
      i += 2;
      prev = "=>";
      yield { t: prev, line: at };
    } else if (c === "{") {
      stack.push("brace");
      i++;
      prev = c;
      yield { t: c, line: at };
    } else if (c === "}") {
      i++;
      if (stack.pop() === "interp") {
        template();
        prev = stack[stack.length - 1] === "interp" && src[i - 1] === "{" ? "{" : "value";
      } else {
        prev = c;
        yield { t: c, line: at };
      }
    } else if (/[\w$]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\w$]/.test(src[j] as string)) j++;
      prev = src.slice(i, j);
      i = j;
      yield { t: prev, line: at };
    } else {
      i++;
      prev = c;
      yield { t: c, line: at };
    }
  }
}

/** Whether a `{` after token `prev` opens a body (function, method or class) rather than an object. */
function opensBody(prev: string): boolean {
  if (prev === ")" || prev === "=>" || prev === ">" || prev === "}" || prev === "]") return true;
  return /^[A-Za-z_$][\w$]*$/.test(prev) && !EXPRESSION_WORDS.has(prev);
}

/**
 * 1-based last line of the JavaScript function starting on `defLine` of `source` (`\n` line ends;
 * see {@link functionEnd}).
 */
function javascriptEnd(source: string, defLine: number): number {
  let offset = 0;
  for (let l = 1; l < defLine; l++) offset = source.indexOf("\n", offset) + 1;
  let prev = "";
  let body = 0;
  let object = 0;
  for (const tok of jsTokens(source, offset, defLine)) {
    if (body > 0) {
      if (tok.t === "{") body++;
      else if (tok.t === "}" && --body === 0) return tok.line;
      continue;
    }
    if (object > 0) {
      if (tok.t === "{") object++;
      else if (tok.t === "}") object--;
      prev = tok.t;
      continue;
    }
    if (prev === "=>" && tok.t !== "{") return defLine;
    if (tok.t === "{") {
      if (opensBody(prev)) body = 1;
      else object = 1;
    } else if (tok.t === ";") return defLine;
    prev = tok.t;
  }
  return body > 0 ? source.split("\n").length : defLine;
}
