/**
 * The redactor of the evidence (src/core/evidence/redact.ts): a secret of the environment printed
 * plainly, in base64 at any offset of a longer stream, in base64url or in hex, is replaced; so are
 * GitHub, OpenAI and AWS token formats whatever their value; ordinary text (digests, base64 of
 * other data, words like "token") is left as it is, and a multi-MB text is redacted in linear time.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  base64Forms,
  createRedactor,
  MIN_SECRET_LENGTH,
  redactionMarker,
  secretForms,
  secretValuesFromEnv,
} from "../src/core/evidence/redact.ts";

const SECRET = "hunter2-correct-horse-battery-staple";
const ENV = { PATH: "/usr/bin", MY_SERVICE_TOKEN: SECRET, HOME: "/home/ci" };
const VALUE = redactionMarker("secret-value");

/** Deterministic pseudo-random bytes (sha256 chain): "unrelated data". */
function bytes(n: number, seed: string): Buffer {
  const out: Buffer[] = [];
  let block = createHash("sha256").update(seed).digest();
  for (let have = 0; have < n; have += block.length) {
    out.push(block);
    block = createHash("sha256").update(block).digest();
  }
  return Buffer.concat(out).subarray(0, n);
}

describe("secret values", () => {
  const r = createRedactor({ env: ENV });

  it("takes the values of secret-named variables only, and ignores short ones", () => {
    expect(secretValuesFromEnv({ ...ENV, DB_PASSWORD: "x", GH_PASSWD: "", API_KEY: "k" })).toEqual([
      SECRET,
      "x",
      "k",
    ]);
    const short = createRedactor({ env: { API_KEY: "abc1234" }, secrets: ["1234567"] });
    expect(short.literals).toBe(0);
    expect(short.text("abc1234 1234567").text).toBe("abc1234 1234567");
    expect("abc1234".length).toBeLessThan(MIN_SECRET_LENGTH);
  });

  it("redacts the value printed plainly, and counts it", () => {
    expect(r.text(`token=${SECRET}\nagain ${SECRET}.`)).toEqual({
      text: `token=${VALUE}\nagain ${VALUE}.`,
      count: 2,
    });
  });

  it("redacts the base64 of the value at each of the three offsets inside a longer base64 blob", () => {
    for (const pad of [0, 1, 2, 3, 4, 5]) {
      const stream = Buffer.concat([
        bytes(30 + pad, `before${pad}`),
        Buffer.from(SECRET),
        bytes(40, "after"),
      ]);
      for (const encoding of ["base64", "base64url"] as const) {
        const blob = stream.toString(encoding);
        const out = r.text(`HOME=/x stolen: ${blob} end`);
        expect(out.count, `pad ${pad} ${encoding}`).toBe(1);
        expect(out.text).toContain(VALUE);
        // What is left of the blob around the marker cannot decode to the secret, nor to most of it.
        expect(Buffer.from(out.text, "base64").toString("latin1")).not.toContain(SECRET.slice(2, -2));
        expect(out.text.length).toBeLessThan(blob.length);
      }
    }
  });

  it("the base64 forms are the characters that depend on the value only", () => {
    const value = "0123456789";
    for (const [p, form] of base64Forms(value).entries()) {
      for (const fill of [0x00, 0xff, 0x5a]) {
        const around = Buffer.concat([Buffer.alloc(p, fill), Buffer.from(value), Buffer.alloc(3, fill)]);
        expect(around.toString("base64")).toContain(form);
      }
    }
    expect(base64Forms(value).map((f) => f.length)).toEqual([13, 12, 13]);
  });

  it("redacts the hex of the value, lower and upper case, and the URL-encoded value", () => {
    const hex = Buffer.from(SECRET).toString("hex");
    const out = r.text(`a ${hex} b ${hex.toUpperCase()} c`);
    expect(out).toEqual({ text: `a ${VALUE} b ${VALUE} c`, count: 2 });
    const spaced = createRedactor({ secrets: ["pass word/with+signs"] });
    expect(spaced.text("u=pass%20word%2Fwith%2Bsigns").text).toBe(`u=${VALUE}`);
    expect(secretForms("pass word/with+signs")).toContain("pass%20word%2Fwith%2Bsigns");
  });

  it("takes explicit values besides the environment's, and a secret inside another is found whole", () => {
    const both = createRedactor({ env: ENV, secrets: ["correct-horse", "", "sk"] });
    expect(both.text(`x ${SECRET} y correct-horse z`)).toEqual({ text: `x ${VALUE} y ${VALUE} z`, count: 2 });
  });
});

describe("token formats, whatever their value", () => {
  const r = createRedactor();
  const cases: Array<[string, string]> = [
    ["github-token", `ghp_${"A1b2C3d4E5".repeat(3)}f6G7h8`],
    ["github-token", `gho_${"x".repeat(36)}`],
    ["github-token", `ghu_${"Z9".repeat(18)}`],
    ["github-token", `ghs_${"0".repeat(36)}`],
    ["github-token", `ghr_${"aB3".repeat(12)}`],
    ["github-token", `github_pat_${"A".repeat(22)}_${"b7".repeat(29)}c`],
    ["openai-key", `sk-${"a1B2c3D4e5".repeat(4)}T3BlbkFJ${"x".repeat(8)}`],
    ["openai-key", `sk-proj-${"Ab_9-".repeat(30)}`],
    ["aws-access-key-id", "AKIAIOSFODNN7EXAMPLE"],
    ["aws-access-key-id", "ASIAY34FZKBOKMUTVV7A"],
  ];

  for (const [kind, token] of cases)
    it(`redacts a ${kind}: ${token.slice(0, 12)}…`, () => {
      expect(r.text(`export X="${token}"\n${token}`)).toEqual({
        text: `export X="[REDACTED:${kind}]"\n[REDACTED:${kind}]`,
        count: 2,
      });
    });

  it("leaves ordinary text alone: digests, base64 of other data, words like token, near misses", () => {
    const r2 = createRedactor({ env: ENV });
    const digest = createHash("sha256").update("x").digest("hex");
    const text = [
      `sha256 ${digest} ${digest.toUpperCase()}`,
      `git ${createHash("sha1").update("y").digest("hex")}`,
      `data ${bytes(3000, "other").toString("base64")}`,
      `url ${bytes(600, "url").toString("base64url")}`,
      "the token, the secret key and the password are not printed; KEY=value; TOKEN",
      "task-scheduler-configuration-file disk-cache-size-limit-bytes sk-short ghp_short",
      `ghp_${"a".repeat(35)} AKIAIOSFODNN7EXAMPL AKIAIOSFODNN7EXAMPLEX xAKIAIOSFODNN7EXAMPLE`,
      `sklearn sk_${"a".repeat(30)} mygho_${"b".repeat(40)} github_pat_short`,
      "/usr/bin /home/ci",
    ].join("\n");
    expect(r2.text(text)).toEqual({ text, count: 0 });
  });
});

describe("JSON values", () => {
  it("redacts every string, object keys included, and keeps the rest", () => {
    const r = createRedactor({ secrets: [SECRET] });
    const when = new Date(0);
    const { value, count } = r.value({
      n: 1,
      ok: true,
      none: null,
      when,
      list: [`a ${SECRET}`, 2, { [SECRET]: "AKIAIOSFODNN7EXAMPLE" }],
    });
    expect(value).toEqual({
      n: 1,
      ok: true,
      none: null,
      when: when.toJSON(),
      list: [`a ${VALUE}`, 2, { [VALUE]: "[REDACTED:aws-access-key-id]" }],
    });
    expect(count).toBe(3);
  });
});

describe("cost", () => {
  it("redacts 8 MB of near misses and secrets in linear time", () => {
    const r = createRedactor({
      env: ENV,
      secrets: ["another-secret-value-42", "ghs_perfloopTestToken0123456789abcdef"],
    });
    const unit = `ghp_${"a".repeat(30)}_ sk-${"b".repeat(15)} AKIA${"C".repeat(15)} ${SECRET} `;
    const line = `${unit}${"x".repeat(200 - unit.length)}\n`;
    const big = line.repeat(Math.ceil(8_000_000 / line.length));
    const pathological = `${"sk-".repeat(500_000)}${"ghp_".repeat(300_000)}${"-".repeat(1_000_000)}`;
    const started = performance.now();
    const out = r.text(big);
    const out2 = r.text(pathological);
    const ms = performance.now() - started;
    expect(out.count).toBe(big.length / line.length);
    // One run of the key alphabet: a single match, scanned once (no restart inside the run).
    expect(out2).toEqual({ text: "[REDACTED:openai-key]", count: 1 });
    expect(ms).toBeLessThan(5000);
  });
});
