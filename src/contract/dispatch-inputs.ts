/**
 * The `workflow_dispatch` inputs by which the App starts the runner (docs/github-app.md): one
 * definition shared by the App (which builds them), the Action (whose action.yml declares them) and
 * the workflow template (which passes them through). All are strings, as GitHub requires; an empty
 * argument means "the config's value". test/contract.test.ts checks action.yml, the workflow
 * template and .github/workflows/perfloop.yml against it.
 * `mode` and `base` are optional and sent only for a performance gate (docs/gate.md): GitHub refuses
 * a dispatch with an input the workflow does not declare (422), so a workflow written before the
 * gate keeps working for `/optimize` requests.
 */
import { z } from "zod";
import { DISPATCH_MAX_INPUTS, DISPATCH_MAX_PAYLOAD_CHARS } from "../publish/limits.ts";
import { REQUEST_ID_PATTERN, type RunIdentity } from "./run-identity.ts";

/** Arguments of a request; absent ones fall back to the config on the runner. */
export interface RunArgs {
  /** Rounds at most, 1–50. */
  rounds?: number;
  /** Target improvement, %, above 0 and below 100. */
  target?: number;
  strategy?: "auto" | "llm" | "tune";
}

/** The dispatch inputs, in the order the workflow declares them, with their descriptions. */
export const DISPATCH_INPUTS = {
  pr: "Pull request number",
  sha: "PR head commit to optimize",
  "request-id": "perfloop request id",
  rounds: "Rounds (empty: config)",
  target: "Target improvement, % (empty: config)",
  strategy: "auto, llm or tune (empty: config)",
  mode: "pr or gate (empty: pr)",
  base: "Commit the gate compares the head with (mode gate)",
} as const;

/** A dispatch input's name. */
export type DispatchInputName = keyof typeof DISPATCH_INPUTS;

/** The names of {@link DISPATCH_INPUTS}. */
export const DISPATCH_INPUT_NAMES = Object.keys(DISPATCH_INPUTS) as DispatchInputName[];

/** Inputs that are required (the request's identity); the others may be empty. */
export const REQUIRED_DISPATCH_INPUTS: readonly DispatchInputName[] = ["pr", "sha", "request-id"];

/** Inputs sent only for a gate (absent from an `/optimize` dispatch, see above). */
export const GATE_DISPATCH_INPUTS: readonly DispatchInputName[] = ["mode", "base"];

/**
 * The inputs as GitHub carries them: every value a string in the shape the runner accepts. The same
 * bounds as the Action's inputs (src/core/config/overrides.ts).
 */
export const dispatchInputsSchema = z.strictObject({
  pr: z.string().regex(/^[1-9]\d{0,9}$/, "a pull request number"),
  sha: z.string().regex(/^[0-9a-f]{40}$/, "40 hex digits"),
  "request-id": z.string().regex(REQUEST_ID_PATTERN, "letters, digits and -, at most 64"),
  rounds: z.string().regex(/^$|^([1-9]|[1-4]\d|50)$/, "empty or an integer from 1 to 50"),
  target: z.string().regex(/^$|^\d+(\.\d+)?$/, "empty or a percentage"),
  strategy: z.enum(["", "auto", "llm", "tune"]),
  mode: z.enum(["", "pr", "gate"]).optional(),
  base: z
    .string()
    .regex(/^$|^[0-9a-f]{40}$/, "empty or 40 hex digits")
    .optional(),
});

/** The validated inputs. */
export type DispatchInputs = z.infer<typeof dispatchInputsSchema>;

/** An invalid request (a bug or a hostile payload): never dispatched. */
export class InvalidRequestError extends Error {
  override name = "InvalidRequestError";
}

/** A performance gate's extra: the commit the head is compared with (the PR's base, 40 hex digits). */
export interface GateArgs {
  base: string;
}

/**
 * The `workflow_dispatch` inputs of a request; with `gate`, also `mode: "gate"` and `base`.
 * @returns `{ pr, sha, "request-id", rounds, target, strategy }` (strings), plus `{ mode, base }` for a gate.
 * @throws InvalidRequestError when an id or argument is malformed, or the inputs break GitHub's
 *   limits (25 inputs, 65,535 characters; src/publish/limits.ts).
 */
export function dispatchInputs(id: RunIdentity, args: RunArgs, gate?: GateArgs): DispatchInputs {
  const raw = {
    pr: Number.isInteger(id.pr) && id.pr >= 1 ? String(id.pr) : `invalid ${id.pr}`,
    sha: id.headSha,
    "request-id": id.requestId,
    rounds: args.rounds === undefined ? "" : String(args.rounds),
    target: args.target === undefined ? "" : String(args.target),
    strategy: args.strategy ?? "",
    ...(gate ? { mode: "gate", base: gate.base } : {}),
  };
  const parsed = dispatchInputsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = String(issue?.path[0] ?? "input");
    throw new InvalidRequestError(
      `malformed ${key === "sha" ? "head SHA" : key === "base" ? "base SHA" : key === "pr" ? "pull request number" : key === "request-id" ? "request id" : key} ${JSON.stringify(raw[key as keyof typeof raw])}: expected ${issue?.message ?? "a valid value"}`,
    );
  }
  if (
    Object.keys(parsed.data).length > DISPATCH_MAX_INPUTS ||
    JSON.stringify(parsed.data).length > DISPATCH_MAX_PAYLOAD_CHARS
  )
    throw new InvalidRequestError("the workflow_dispatch inputs exceed GitHub's limits");
  return parsed.data;
}
