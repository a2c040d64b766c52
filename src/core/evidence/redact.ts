/**
 * Keeping secrets out of the evidence bundle (README, "Safety: patch policy and sandbox"; issue 10,
 * item 5): what a command stole and printed — plainly, in base64 or in hex — must not leave the
 * runner in the uploaded artifact. A {@link Redactor} replaces, in any text, (a) the values of
 * perfloop's own secrets and their base64 / base64url / hex forms, and (b) well-known token formats
 * whatever their value, and counts what it replaced.
 *
 * Cost: every search is a literal `indexOf` or one regex whose matches can only start at a token
 * prefix that no word character precedes, so a text of n characters costs O(n × number of searched
 * strings), with no backtracking blow-up.
 */
import { SECRET_NAME } from "../exec/env.ts";

/** Values shorter than this are not searched (too many false hits; no real credential is this short). */
export const MIN_SECRET_LENGTH = 8;

/** What a marker says was removed: a known secret's value (in any form), or a token format. */
export type RedactionKind = "secret-value" | "github-token" | "openai-key" | "aws-access-key-id";

/** The text put where a secret was: `[REDACTED:<kind>]`. */
export function redactionMarker(kind: RedactionKind): string {
  return `[REDACTED:${kind}]`;
}

/** A text after redaction, and how many secrets were replaced in it. */
export interface RedactedText {
  text: string;
  count: number;
}

/** Replaces secrets in text and in JSON-able values. */
export interface Redactor {
  /** Redacts one text. Every match (of any search) counts 1; overlapping matches count once. */
  text(input: string): RedactedText;
  /**
   * Redacts every string of a JSON-able value (object keys included), returning a copy; numbers,
   * booleans and null are kept. Objects are read as `JSON.stringify` would (`toJSON` applied).
   */
  value(input: unknown): { value: unknown; count: number };
  /** How many literal strings (values and their encoded forms) are searched; for tests and logs. */
  readonly literals: number;
}

/**
 * Token formats searched whatever their value. Each must begin with a fixed prefix and be preceded
 * by no character of its own alphabet (the lookbehind), so a match can start at most once per run of
 * such characters: linear time.
 * - GitHub: `ghp_` (personal), `gho_` (OAuth), `ghu_` (user-to-server), `ghs_` (server-to-server,
 *   Actions' GITHUB_TOKEN), `ghr_` (refresh), then [A-Za-z0-9_], 36 characters today, "up to 255"
 *   announced; fine-grained personal tokens `github_pat_` + 22 + `_` + 59 today (GitHub changelog
 *   2021-03-31, "Authentication token format updates are generally available",
 *   https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available,
 *   and docs.github.com "About authentication to GitHub", "GitHub's token formats").
 * - OpenAI: API keys `sk-…` and project keys `sk-proj-…` of letters, digits, `-` and `_`
 *   (https://platform.openai.com/docs/api-reference/authentication); 20 characters at least here.
 * - AWS: access key ids, `AKIA` (long-term) or `ASIA` (temporary, STS) + 16 of [A-Z0-9] (IAM User
 *   Guide, "IAM identifiers", unique ID prefixes,
 *   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids;
 *   STS API reference, GetAccessKeyInfo).
 */
export const TOKEN_FORMATS: ReadonlyArray<{ kind: RedactionKind; pattern: RegExp }> = [
  {
    kind: "github-token",
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9_]{36,}|github_pat_[A-Za-z0-9_]{82,})/g,
  },
  { kind: "openai-key", pattern: /(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}/g },
  { kind: "aws-access-key-id", pattern: /(?<![A-Za-z0-9])A(?:KI|SI)A[A-Z0-9]{16}(?![A-Za-z0-9])/g },
];

/**
 * The values of every variable of `env` whose name looks like a secret (`SECRET_NAME` of
 * src/core/exec/env.ts: TOKEN, SECRET, KEY, PASSWORD, PASSWD, CREDENTIAL), without empty ones.
 * @param env usually process.env (the parent's environment, before the allow-list).
 */
export function secretValuesFromEnv(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([name, value]) => SECRET_NAME.test(name) && value !== undefined && value !== "")
    .map(([, value]) => value as string);
}

/**
 * The base64 text that a value has inside any longer base64 stream: the encoding of a byte string
 * depends on the value's offset modulo 3 and on the bytes around it, so for each offset p (0, 1, 2)
 * the characters of base64(p bytes + value) that depend on the value's bits only are kept: from
 * character ⌈8p/6⌉ to ⌊8(p+n)/6⌋ (n = the value's bytes). Without `=` padding.
 * @returns three strings (p = 0, 1, 2), each possibly empty for very short values.
 */
export function base64Forms(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  return [0, 1, 2].map((p) => {
    const encoded = Buffer.concat([Buffer.alloc(p), bytes]).toString("base64");
    return encoded.slice(Math.ceil((8 * p) / 6), Math.floor((8 * (p + bytes.length)) / 6));
  });
}

/**
 * Every literal to search for a secret value: itself, its base64 forms at the three offsets (also in
 * the URL-safe alphabet), its lower- and upper-case hex, and its URL-encoded form when different.
 * Forms shorter than {@link MIN_SECRET_LENGTH} are left out.
 */
export function secretForms(value: string): string[] {
  const hex = Buffer.from(value, "utf8").toString("hex");
  const b64 = base64Forms(value);
  const forms = [
    value,
    ...b64,
    ...b64.map((s) => s.replace(/\+/g, "-").replace(/\//g, "_")),
    hex,
    hex.toUpperCase(),
    encodeURIComponent(value),
  ];
  return [...new Set(forms.filter((f) => f.length >= MIN_SECRET_LENGTH))];
}

/** One match: [start, end) in the input, and what it was. */
interface Hit {
  start: number;
  end: number;
  kind: RedactionKind;
}

/** Every occurrence of `literal` in `text`, non-overlapping, left to right. */
function literalHits(text: string, literal: string, hits: Hit[]): void {
  for (let at = text.indexOf(literal); at !== -1; at = text.indexOf(literal, at + literal.length))
    hits.push({ start: at, end: at + literal.length, kind: "secret-value" });
}

/** Replaces the hits (merged where they overlap; the earliest one's kind is kept). */
function applyHits(text: string, hits: Hit[]): RedactedText {
  if (hits.length === 0) return { text, count: 0 };
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const parts: string[] = [];
  let at = 0;
  let count = 0;
  let current: Hit | null = null;
  const flush = (hit: Hit) => {
    parts.push(text.slice(at, hit.start), redactionMarker(hit.kind));
    at = hit.end;
    count++;
  };
  for (const hit of hits) {
    if (current && hit.start < current.end) current.end = Math.max(current.end, hit.end);
    else {
      if (current) flush(current);
      current = { ...hit };
    }
  }
  if (current) flush(current);
  parts.push(text.slice(at));
  return { text: parts.join(""), count };
}

/**
 * Builds a redactor.
 * @param opts.env the parent environment whose secret-named variables' values are searched
 *   (see {@link secretValuesFromEnv}); default none.
 * @param opts.secrets further values (the Action's API key and token); empty ones are ignored.
 * Values shorter than {@link MIN_SECRET_LENGTH} characters are ignored (token formats still apply).
 */
export function createRedactor(
  opts: { env?: NodeJS.ProcessEnv; secrets?: readonly string[] } = {},
): Redactor {
  const values = [...(opts.env ? secretValuesFromEnv(opts.env) : []), ...(opts.secrets ?? [])].filter(
    (v) => v.length >= MIN_SECRET_LENGTH,
  );
  // Longest first, so a secret that contains another is found whole (overlaps merge anyway).
  const literals = [...new Set(values.flatMap(secretForms))].sort((a, b) => b.length - a.length);

  // No token format matches fewer than 20 characters (AKIA + 16), no literal fewer than its length.
  const shortest = Math.min(20, ...literals.map((l) => l.length));
  const text = (input: string): RedactedText => {
    if (input.length < shortest) return { text: input, count: 0 };
    const hits: Hit[] = [];
    for (const literal of literals) literalHits(input, literal, hits);
    for (const { kind, pattern } of TOKEN_FORMATS)
      for (const m of input.matchAll(pattern))
        hits.push({ start: m.index, end: m.index + m[0].length, kind });
    return applyHits(input, hits);
  };

  const value = (input: unknown): { value: unknown; count: number } => {
    let count = 0;
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") {
        const r = text(v);
        count += r.count;
        return r.text;
      }
      if (v === null || typeof v !== "object") return v;
      const j =
        typeof (v as { toJSON?: unknown }).toJSON === "function" ? (v as { toJSON(): unknown }).toJSON() : v;
      if (j !== v) return walk(j);
      if (Array.isArray(v)) return v.map(walk);
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[walk(k) as string] = walk(x);
      return out;
    };
    return { value: walk(input), count };
  };

  return { text, value, literals: literals.length };
}
