/**
 * Compares what the baseline's and a candidate's hot functions returned for the same arguments
 * (two captures read by `capture.ts`), the check Codeflash-style optimizers run before measuring:
 * a faster candidate that returns other values is not an optimization.
 */
import type { CallRecord, Capture, Fingerprint } from "./capture.ts";

/**
 * Tolerance for floating-point values: two finite floats `a`, `b` are the same when
 * `|a - b| <= abs + rel * max(|a|, |b|)`. This is the symmetric rule of Python's `math.isclose`
 * (which takes the larger of the two terms; their sum, as here, differs by at most a factor 2)
 * rather than `numpy.isclose`'s asymmetric `abs + rel * |b|`, so that swapping baseline and
 * candidate never changes the answer. `rel` is unitless, `abs` in the values' own units.
 */
export interface Tolerance {
  rel: number;
  abs: number;
}

/**
 * The default {@link Tolerance}: `rel` 1e-6 accepts the rounding differences of a reordered or
 * vectorised computation (summation order, fused multiply-add, SIMD) in float64 — ~1e-16 per
 * operation, far below 1e-6 even over millions of terms — while catching any change of algorithm
 * that moves a result in its 6th significant digit; `abs` 1e-9 lets values that should be zero
 * but come out as tiny residues of cancellation (1e-17 against 0) compare equal. float32 results
 * (~1e-7 per operation) fit within `rel` too, unless long accumulations amplify their error.
 */
export const DEFAULT_TOLERANCE: Tolerance = { rel: 1e-6, abs: 1e-9 };

/**
 * The first call whose outcome differs: `function` the function key (`"pkg/mod.py::Shape.area"`),
 * `call` the call as recorded (`spell(3)`), `baseline` and `candidate` human renderings of the two
 * outcomes (`'poni'`, `'pony'`, `raised ValueError: x`), each at most 200 characters.
 */
export interface BehaviourDifference {
  function: string;
  call: string;
  baseline: string;
  candidate: string;
}

/**
 * Result of {@link compareBehaviour}: `functionsCompared` functions called on both sides,
 * `callsCompared` argument sets recorded (and stable) on both sides and compared, `differingCalls`
 * how many of those differ, `missing` the functions the baseline called and the candidate never did
 * (renamed, inlined or no longer reached: not a difference, but nothing was compared for them),
 * `difference` the first differing call (functions and calls in the baseline's recorded order), or
 * null when none differs.
 */
export interface BehaviourComparison {
  functionsCompared: number;
  callsCompared: number;
  differingCalls: number;
  missing: string[];
  difference: BehaviourDifference | null;
}

type Json = unknown;

function isObject(x: Json): x is Record<string, Json> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A float as captured: a number, or "nan" / "inf" / "-inf". */
function sameFloat(a: Json, b: Json, tol: Tolerance): boolean {
  if (typeof a === "number" && typeof b === "number")
    return Math.abs(a - b) <= tol.abs + tol.rel * Math.max(Math.abs(a), Math.abs(b));
  return a === b; // nan equals nan, inf equals the same inf
}

/** A float or a complex as `[re, im]`. */
function sameNumber(a: Json, b: Json, tol: Tolerance): boolean {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => sameFloat(x, b[i], tol));
  return sameFloat(a, b, tol);
}

/** The fields of two fingerprints other than `skip`, compared by {@link same}. */
function sameRest(a: Record<string, Json>, b: Record<string, Json>, skip: string[], tol: Tolerance): boolean {
  const ka = Object.keys(a).filter((k) => !skip.includes(k));
  const kb = Object.keys(b).filter((k) => !skip.includes(k));
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && same(a[k], b[k], tol));
}

/** The sum of a float array, within the tolerance scaled by the larger sum of absolute values. */
function sameSum(a: Record<string, Json>, b: Record<string, Json>, tol: Tolerance): boolean {
  const scaleA = a.abssum;
  const scaleB = b.abssum;
  if (typeof scaleA !== "number" || typeof scaleB !== "number")
    return same(a.sum, b.sum, tol) && scaleA === scaleB;
  const scale = Math.max(Math.abs(scaleA), Math.abs(scaleB));
  const within = (x: Json, y: Json): boolean =>
    typeof x === "number" && typeof y === "number" ? Math.abs(x - y) <= tol.abs + tol.rel * scale : x === y;
  if (Array.isArray(a.sum) && Array.isArray(b.sum))
    return a.sum.length === b.sum.length && a.sum.every((x, i) => within(x, (b.sum as Json[])[i]));
  return within(a.sum, b.sum);
}

/** Two captured JSON values: floats within `tol`, everything else exact. */
function same(a: Json, b: Json, tol: Tolerance): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => same(x, b[i], tol));
  }
  if (!isObject(a) || !isObject(b)) return false;
  if (typeof a.t === "string" && a.t === b.t) {
    if (a.t === "float" || a.t === "complex") return sameNumber(a.v, b.v, tol) && sameRest(a, b, ["v"], tol);
    if (a.t === "ndarray" && Object.hasOwn(a, "samples") && Object.hasOwn(b, "samples")) {
      const sa = a.samples;
      const sb = b.samples;
      return (
        Array.isArray(sa) &&
        Array.isArray(sb) &&
        sa.length === sb.length &&
        sa.every((x, i) => sameNumber(x, sb[i], tol)) &&
        sameSum(a, b, tol) &&
        sameRest(a, b, ["samples", "sum", "abssum"], tol)
      );
    }
  }
  return sameRest(a, b, [], tol);
}

function cut(text: string, max = 200): string {
  const line = text.replace(/\s*\n\s*/g, " ");
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

function renderFloat(v: Json): string {
  if (typeof v !== "number") return String(v);
  return Number.isInteger(v) && Math.abs(v) < 1e16 ? `${v}.0` : String(v);
}

function renderNumber(v: Json): string {
  if (Array.isArray(v)) return `(${renderFloat(v[0])}${Number(v[1]) < 0 ? "" : "+"}${renderFloat(v[1])}j)`;
  return renderFloat(v);
}

function pyString(s: string, prefix = ""): string {
  const body = JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
  return `${prefix}'${body}'`;
}

function renderItems(items: Json, len: Json, open: string, close: string, pair: boolean): string {
  const list = Array.isArray(items) ? items : [];
  const parts = list.map((item) =>
    pair && Array.isArray(item) ? `${render(item[0])}: ${render(item[1])}` : render(item),
  );
  const total = typeof len === "number" ? len : list.length;
  if (total > list.length) parts.push(`… ${total} items`);
  if (open === "(" && total === 1 && list.length === 1) return `(${parts[0]},)`;
  return `${open}${parts.join(", ")}${close}`;
}

/** A short Python-like rendering of a fingerprint (`'poni'`, `[1, 2.5]`, `raised ValueError: x`). */
export function renderFingerprint(fp: Json): string {
  return cut(render(fp));
}

function render(fp: Json): string {
  if (!isObject(fp)) return JSON.stringify(fp) ?? "?";
  const typed = (text: string): string => (typeof fp.type === "string" ? `${fp.type}(${text})` : text);
  switch (fp.t) {
    case "none":
      return "None";
    case "bool":
      return fp.v ? "True" : "False";
    case "int":
      return typed(typeof fp.v === "string" ? fp.v : `<int of ${String(fp.bits)} bits>`);
    case "float":
      return typed(renderFloat(fp.v));
    case "complex":
      return typed(renderNumber(fp.v));
    case "str":
      return typed(
        typeof fp.v === "string"
          ? pyString(fp.v)
          : `<str of ${String(fp.len)} chars, sha256 ${String(fp.sha256).slice(0, 12)}>`,
      );
    case "bytes":
      if (typeof fp.hex === "string") {
        const text = Buffer.from(fp.hex, "hex").toString("latin1");
        return typed(pyString(text, "b"));
      }
      return typed(`<bytes of ${String(fp.len)}, sha256 ${String(fp.sha256).slice(0, 12)}>`);
    case "list":
      return typed(renderItems(fp.items, fp.len, "[", "]", false));
    case "tuple":
      return typed(renderItems(fp.items, fp.len, "(", ")", false));
    case "set":
    case "frozenset":
      return typed(`${fp.t}(${renderItems(fp.items, fp.len, "{", "}", false)})`);
    case "dict":
      return typed(renderItems(fp.items, fp.len, "{", "}", true));
    case "ndarray": {
      const head = `${typeof fp.of === "string" ? fp.of : "ndarray"}(dtype ${String(fp.dtype)}, shape [${
        Array.isArray(fp.shape) ? fp.shape.join(", ") : "?"
      }]`;
      if (Array.isArray(fp.samples)) {
        const shown = fp.samples.slice(0, 6).map(renderNumber).join(", ");
        const more = fp.samples.length > 6 ? ", …" : "";
        return `${head}, values [${shown}${more}], sum ${renderNumber(fp.sum)})`;
      }
      if (Array.isArray(fp.items))
        return `${head}, items ${renderItems(fp.items, fp.items.length, "[", "]", false)})`;
      return `${head}, sha256 ${String(fp.sha256).slice(0, 12)})`;
    }
    case "obj":
      return `${String(fp.type)}(${render(fp.attrs)})`;
    case "repr":
      return String(fp.v);
    case "deep":
      return `<${String(fp.type)} …>`;
    case "raised":
      return `raised ${String(fp.type)}${fp.v === "" ? "" : `: ${String(fp.v)}`}`;
    default:
      return JSON.stringify(fp);
  }
}

function outcome(record: CallRecord): Fingerprint | null {
  return record.raised ?? record.result;
}

/**
 * Compares the candidate's capture against the baseline's: for every function the baseline
 * called, every argument set (key) recorded on both sides and stable on the baseline (not
 * `unstable`) is compared. A key stable on the baseline but `unstable` on the candidate (another
 * result on a repeated call) is a difference. Otherwise the return values (or raised exceptions: type and message) must match. Floats (also
 * complex parts, and the samples of float arrays) compare with `tolerance` (see {@link Tolerance});
 * a float array's sum compares with the tolerance scaled by the larger sum of absolute values, so
 * that a reordered summation of cancelling terms is not a difference; nan equals nan; everything
 * else (ints, strings, array hashes, dtypes, shapes, types) compares exactly, and a change of type
 * (int to float, list to tuple, a value to an exception) is a difference. Argument sets recorded on
 * one side only are not compared. Functions are taken in the baseline's order, calls in the
 * baseline's recorded order; `difference` is the first differing call. Pure; throws nothing.
 * @param tolerance defaults to {@link DEFAULT_TOLERANCE} (rel 1e-6, abs 1e-9).
 */
export function compareBehaviour(
  baseline: Capture,
  candidate: Capture,
  tolerance: Tolerance = DEFAULT_TOLERANCE,
): BehaviourComparison {
  const result: BehaviourComparison = {
    functionsCompared: 0,
    callsCompared: 0,
    differingCalls: 0,
    missing: [],
    difference: null,
  };
  for (const [fn, base] of Object.entries(baseline.functions)) {
    if (!Object.hasOwn(candidate.functions, fn) || candidate.functions[fn] === undefined) {
      if (base.calls > 0) result.missing.push(fn);
      continue;
    }
    const cand = candidate.functions[fn];
    result.functionsCompared += 1;
    const byKey = new Map(cand.kept.map((r) => [r.key, r]));
    for (const record of base.kept) {
      const other = byKey.get(record.key);
      if (record.unstable || other === undefined) continue;
      result.callsCompared += 1;
      if (other.unstable) {
        // Stable on the baseline, varying on the candidate for the same arguments (a cache handing
        // out a mutated value, say): a difference, not a call to skip.
        result.differingCalls += 1;
        result.difference ??= {
          function: fn,
          call: record.call,
          baseline: renderFingerprint(outcome(record)),
          candidate: "different results on repeated calls with these arguments",
        };
        continue;
      }
      const a = outcome(record);
      const b = outcome(other);
      if (same(a, b, tolerance)) continue;
      result.differingCalls += 1;
      result.difference ??= {
        function: fn,
        call: record.call,
        baseline: renderFingerprint(a),
        candidate: renderFingerprint(b),
      };
    }
  }
  return result;
}

/**
 * One line for reports, e.g. `pkg/mod.py::spell: spell(3) gave 'pony' instead of 'poni'`
 * (the candidate's outcome first, then the baseline's).
 */
export function describeDifference(d: BehaviourDifference): string {
  return cut(`${d.function}: ${d.call} gave ${d.candidate} instead of ${d.baseline}`, 600);
}
