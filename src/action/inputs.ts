/**
 * The Action's inputs (action.yml), read and validated in one place with zod. Every problem is
 * reported at once, each as ``input `name`: found "x", expected y``. Pull-request defaults come from
 * the event (a `pull_request` payload) when the inputs leave them empty.
 */
import path from "node:path";
import { z } from "zod";
import { overrideSchemas } from "../core/config/overrides.ts";
import type { ActionContext } from "./context.ts";

/** Every input of action.yml, by name. */
export const INPUT_NAMES = [
  "mode",
  "pr",
  "sha",
  "base",
  "request-id",
  "config",
  "working-directory",
  "rounds",
  "target",
  "strategy",
  "model",
  "base-url",
  "api-key",
  "github-token",
  "publish",
  "max-open-prs",
  "draft",
  "memory-path",
  "out",
] as const;

/** An input name. */
export type InputName = (typeof INPUT_NAMES)[number];

/** Inputs that do not validate. `problems` holds one line per input. */
export class InputError extends Error {
  override name = "InputError";
  readonly problems: string[];
  constructor(problems: string[], options?: { cause?: unknown }) {
    super(`perfloop's inputs are invalid:\n${problems.map((p) => `  - ${p}`).join("\n")}`, options);
    this.problems = problems;
  }
}

/** The validated inputs, defaults filled in. Secrets are the empty string when not given. */
export interface ActionInputs {
  mode: "pr" | "scan" | "gate";
  /** The pull request (mode pr; from the input or the event). */
  pr: number | null;
  /** The commit to optimize: mode pr the PR head; mode scan optional (default: the default branch's tip). */
  sha: string | null;
  /** Mode gate: the commit the head is compared with (default: the event's PR base). */
  base: string | null;
  /** `[A-Za-z0-9-]{1,64}`; names the artifact `perfloop-<request-id>`. */
  requestId: string;
  /** Config file path relative to `workingDirectory`. */
  config: string;
  /** The project's directory inside the repository (`.` = the root). */
  workingDirectory: string;
  overrides: {
    rounds?: number;
    target?: number;
    strategy?: "auto" | "llm" | "tune";
    model?: string;
    baseUrl?: string;
  };
  apiKey: string;
  githubToken: string;
  publish: "app" | "action" | "none";
  maxOpenPrs: number;
  draft: boolean;
  memoryPath: string | null;
  /** The evidence bundle directory (absolute). */
  out: string;
}

/** A field parsed from its trimmed text, or an issue saying what is expected. */
function field<T>(expected: string, parse: (text: string) => T | undefined) {
  return z.string().transform((raw, ctx): T => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.addIssue({ code: "custom", message: expected, input: raw });
      return z.NEVER;
    }
    return value;
  });
}

/** Empty text → undefined, else `schema` (one of the core's override schemas). */
function optionalOverride<T>(schema: z.ZodType<T, string | number>) {
  return z.string().transform((raw, ctx): T | undefined => {
    if (raw.trim() === "") return undefined;
    const result = schema.safeParse(raw.trim());
    if (result.success) return result.data;
    for (const issue of result.error.issues) ctx.addIssue({ code: "custom", message: issue.message });
    return z.NEVER;
  });
}

/** A relative path that stays inside its root (no absolute path, no `..`). */
const relativePath = (fallback: string) =>
  field("a relative path inside the repository (no leading /, no ..)", (t) => {
    const p = path.posix.normalize((t || fallback).replace(/\\/g, "/"));
    return path.posix.isAbsolute(p) || p === ".." || p.startsWith("../") ? undefined : p;
  });

const schema = z.object({
  mode: field("pr, scan or gate", (t) =>
    t === "" ? "pr" : t === "pr" || t === "scan" || t === "gate" ? t : undefined,
  ),
  pr: field("a pull request number", (t) =>
    t === "" ? null : /^\d{1,10}$/.test(t) && Number(t) > 0 ? Number(t) : undefined,
  ),
  sha: field("a full commit SHA (40 hex digits)", (t) =>
    t === "" ? null : /^[0-9a-fA-F]{40}$/.test(t) ? t.toLowerCase() : undefined,
  ),
  base: field("a full commit SHA (40 hex digits)", (t) =>
    t === "" ? null : /^[0-9a-fA-F]{40}$/.test(t) ? t.toLowerCase() : undefined,
  ),
  "request-id": field("letters, digits and - (at most 64)", (t) =>
    t === "" ? null : /^[A-Za-z0-9-]{1,64}$/.test(t) ? t : undefined,
  ),
  config: relativePath(".github/perfloop.yml"),
  "working-directory": relativePath("."),
  rounds: optionalOverride(overrideSchemas.rounds),
  target: optionalOverride(overrideSchemas.target),
  strategy: optionalOverride(overrideSchemas.strategy),
  model: z.string().transform((t) => t.trim() || undefined),
  "base-url": optionalOverride(overrideSchemas.baseUrl),
  "api-key": z.string().transform((t) => t.trim()),
  "github-token": z.string().transform((t) => t.trim()),
  publish: field("app, action or none", (t) =>
    t === "" ? null : t === "app" || t === "action" || t === "none" ? t : undefined,
  ),
  "max-open-prs": field("an integer from 0 to 20", (t) =>
    t === "" ? 2 : /^\d+$/.test(t) && Number(t) <= 20 ? Number(t) : undefined,
  ),
  draft: field("true or false", (t) =>
    t === "" || /^true$/i.test(t) ? true : /^false$/i.test(t) ? false : undefined,
  ),
  "memory-path": z.string().transform((t) => t.trim() || null),
  out: z.string().transform((t) => t.trim() || null),
});

/**
 * Reads and validates every input.
 * @param getInput reads one input by name ("" when not given), e.g. `@actions/core`'s getInput.
 * @param context fills defaults: the PR and head SHA of a `pull_request` event, the request id
 *   from the run id, the evidence directory under RUNNER_TEMP.
 * @throws InputError listing every problem (values of `api-key` and `github-token` are never shown).
 */
export function readInputs(getInput: (name: InputName) => string, context: ActionContext): ActionInputs {
  const raw = Object.fromEntries(INPUT_NAMES.map((name) => [name, getInput(name)])) as Record<
    InputName,
    string
  >;
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]) as InputName;
        return `input \`${name}\`: found ${JSON.stringify(raw[name])}, expected ${issue.message}`;
      }),
    );
  }
  const v = parsed.data;
  const problems: string[] = [];
  const mode = v.mode;
  const onPull = mode === "pr" || mode === "gate";
  const pr = onPull ? (v.pr ?? context.eventPull?.number ?? null) : null;
  const fromEvent = onPull && pr === context.eventPull?.number ? context.eventPull : null;
  const sha = v.sha ?? fromEvent?.headSha ?? null;
  const base = mode === "gate" ? (v.base ?? fromEvent?.baseSha ?? null) : null;
  if (onPull && pr === null)
    problems.push(
      "input `pr`: found nothing, expected the pull request number (the App passes it; a `pull_request` event provides it)",
    );
  if (onPull && sha === null)
    problems.push(
      `input \`sha\`: found nothing, expected the PR head commit to ${mode === "gate" ? "gate" : "optimize"} (the App passes it; a \`pull_request\` event provides it)`,
    );
  if (mode === "gate" && base === null)
    problems.push(
      "input `base`: found nothing, expected the commit to compare the head with (a `pull_request` event provides the PR's base)",
    );
  if (mode !== "gate" && v.base !== null)
    problems.push(`input \`base\`: found ${JSON.stringify(raw.base)}, expected nothing outside mode gate`);
  if (mode === "scan" && v.pr !== null)
    problems.push(
      `input \`pr\`: found ${JSON.stringify(raw.pr)}, expected nothing in mode scan (a scan covers the default branch)`,
    );
  // Mode gate with `publish: app`: the App dispatched the gate and publishes its `perfloop gate`
  // check run itself (docs/github-app.md), so the runner needs no write token.
  const publish = v.publish ?? (mode === "pr" ? "app" : "action");
  if (mode === "scan" && publish === "app")
    problems.push(
      'input `publish`: found "app", expected action or none in mode scan (the App publishes pull-request runs only; a scan keeps its tracking issue with `github-token`)',
    );
  if (publish === "action" && v["github-token"] === "")
    problems.push(
      `input \`github-token\`: found nothing, expected a token because \`publish: action\`${raw.publish === "" ? " (the default in mode scan)" : ""} posts ${mode === "pr" ? "the comment, the check run and the follow-up PR" : "the tracking issue and follow-up PRs"} with it: keep the default \`\${{ github.token }}\` and grant the job the permissions listed in docs/action.md, or set \`publish: none\``,
    );
  if (problems.length > 0) throw new InputError(problems);

  const requestId =
    v["request-id"] ?? `${mode === "pr" ? "run" : mode}-${context.runId ?? Date.now()}-${context.runAttempt}`;
  return {
    mode,
    pr,
    sha,
    base,
    requestId,
    config: v.config,
    workingDirectory: v["working-directory"],
    overrides: {
      ...(v.rounds !== undefined ? { rounds: v.rounds } : {}),
      ...(v.target !== undefined ? { target: v.target } : {}),
      ...(v.strategy !== undefined ? { strategy: v.strategy } : {}),
      ...(v.model !== undefined ? { model: v.model } : {}),
      ...(v["base-url"] !== undefined ? { baseUrl: v["base-url"] } : {}),
    },
    apiKey: v["api-key"],
    githubToken: v["github-token"],
    publish,
    maxOpenPrs: v["max-open-prs"],
    draft: v.draft,
    memoryPath: v["memory-path"],
    out: path.resolve(v.out ?? path.join(context.runnerTemp, "perfloop", requestId, "evidence")),
  };
}
