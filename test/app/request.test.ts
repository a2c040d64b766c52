/** Run names and dispatch inputs: the App's only link between a dispatch and its results. */
import { describe, expect, it } from "vitest";
import { dispatchInputs, parseRunName, runIdFromUrl, runName } from "../../src/app/request.ts";
import { workflowTemplate } from "../../src/app/workflow-template.ts";

const id = {
  pr: 12,
  headSha: "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
  requestId: "9f3b4a2e-1c0d-11f1-8e2b-6b1c2d3e4f50",
};

describe("run names", () => {
  it("round-trips, and the template's run-name produces the same text", () => {
    expect(parseRunName(runName(id))).toEqual(id);
    const template = /run-name: "(.*)"/.exec(workflowTemplate())?.[1] ?? "";
    const inputs: Record<string, string> = { pr: "12", sha: id.headSha, "request-id": id.requestId };
    const rendered = template.replace(
      /\$\{\{ inputs\.([a-z-]+) \}\}/g,
      (_m, name: string) => inputs[name] ?? "",
    );
    expect(parseRunName(rendered)).toEqual(id);
  });

  it("rejects other titles", () => {
    expect(parseRunName("CI")).toBeNull();
    expect(parseRunName(`perfloop #12 @ ${id.headSha} [bad id!]`)).toBeNull();
    expect(parseRunName(undefined)).toBeNull();
  });

  it("reads run ids from URLs", () => {
    expect(runIdFromUrl("https://github.com/o/r/actions/runs/123")).toBe(123);
    expect(runIdFromUrl("https://github.com/o/r/actions/runs/123/job/4")).toBe(123);
    expect(runIdFromUrl(null)).toBeNull();
  });
});

describe("dispatchInputs", () => {
  it("gives six string inputs within GitHub's limits", () => {
    const inputs = dispatchInputs(id, { rounds: 3, target: 20, strategy: "tune" });
    expect(inputs).toEqual({
      pr: "12",
      sha: id.headSha,
      "request-id": id.requestId,
      rounds: "3",
      target: "20",
      strategy: "tune",
    });
    expect(Object.keys(inputs).length).toBeLessThanOrEqual(25);
  });

  it("refuses malformed ids", () => {
    expect(() => dispatchInputs({ ...id, requestId: "a b" }, {})).toThrow(/request id/);
    expect(() => dispatchInputs({ ...id, headSha: "main" }, {})).toThrow(/head SHA/);
  });
});
