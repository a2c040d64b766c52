/**
 * One rewrite session (src/core/optimize/llm/agent.ts `runAgent`) driven by the real OpenAI client
 * against a nock-scripted endpoint: edits accumulating in the session's workspace, the patch policy
 * at each edit, paths and links that leave the workspace, `submit` and its legacy form, an endpoint
 * answer that is not a chat completion, a patch pasted into the reply, and the session log.
 * Budgets and the Workbench boundary: test/agent-budgets.test.ts.
 */
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import nock from "nock";
import { describe, expect, it } from "vitest";
import { runAgent, type SessionLogEntry } from "../src/core/optimize/llm/agent.ts";
import { MODEL_URL, scriptModel } from "./helpers/example.ts";
import {
  APP,
  addFile,
  BOTH_DONE,
  EDIT_BOTH,
  EDIT_SQUARES,
  EDIT_TESTS,
  EDIT_TOTAL,
  EDIT_WORDS_BIG,
  exists,
  makeWorkspace,
  options,
  sessionHooks,
  TESTS,
  TOTAL_DONE,
  toolOutputs,
} from "./helpers/session.ts";

sessionHooks();

describe("a rewrite session's workspace", () => {
  it("accumulates edits: diff shows both, submit hands over the final text and a git diff; start/ is untouched", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "apply_patch", args: { patch: EDIT_TOTAL } },
      { tool: "apply_patch", args: { patch: EDIT_SQUARES } },
      { tool: "diff", args: {} },
      { tool: "submit", args: { rationale: "builtins instead of Python loops" } },
    ]);
    const outcome = await runAgent(options(ws));

    expect(outcome.status).toBe("submitted");
    expect(outcome.reason).toBe("submitted");
    expect(outcome.rationale).toBe("builtins instead of Python loops");
    expect(received).toHaveLength(4);
    const [first, second, diff, submitted] = toolOutputs(outcome);
    expect(first).toMatch(/^applied: update src\/app\.py\. The workspace now changes 1 file/);
    expect(second).toMatch(/^applied: update src\/app\.py/);
    // The diff tool shows the whole change so far: both edits.
    expect(diff).toContain("-    result = 0");
    expect(diff).toContain("+    return sum(values)");
    expect(diff).toContain("-    out = []");
    expect(diff).toContain("+    return [i * i for i in range(n)]");
    expect(submitted).toBe("submitted");

    expect(outcome.changes).toEqual([{ path: "src/app.py", kind: "update", before: APP, after: BOTH_DONE }]);
    expect(outcome.patchText).toMatch(/^diff --git a\/src\/app\.py b\/src\/app\.py\n/);
    expect(outcome.patchText).toContain("+    return sum(values)");
    expect(outcome.patchText).toContain("+    return [i * i for i in range(n)]");
    expect(outcome.patchText).toBe(diff);
    expect([...ws.touched]).toEqual(["src/app.py"]);
    expect([...ws.touched]).toEqual(["src/app.py"]);

    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(BOTH_DONE);
    expect(await readFile(path.join(ws.start, "src/app.py"), "utf8")).toBe(APP);
    expect(await readFile(path.join(ws.start, "tests/test_app.py"), "utf8")).toBe(TESTS);
  });

  it("checks the patch policy at each edit: a test file is refused, and so is an edit that pushes the whole change past the line cap", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "apply_patch", args: { patch: EDIT_TESTS } },
      { tool: "apply_patch", args: { patch: EDIT_BOTH } },
      { tool: "apply_patch", args: { patch: EDIT_WORDS_BIG } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const outcome = await runAgent(options(ws));

    const [tests, both, big] = toolOutputs(outcome);
    expect(tests).toMatch(/^error: the patch was refused by the patch policy and nothing was written/);
    expect(tests).toContain("tests/test_app.py is a test file");
    expect(await readFile(path.join(ws.tree, "tests/test_app.py"), "utf8")).toBe(TESTS);

    expect(both).toMatch(/^applied: /);
    // 10 + 12 changed lines: each edit alone is under 20, the whole change is not.
    expect(big).toMatch(/^error: the patch was refused by the patch policy/);
    expect(big).toContain("changes 22 lines (added + removed); at most 20 are allowed");

    // The earlier edit stays, and is what is submitted.
    expect(outcome.status).toBe("submitted");
    expect([...ws.touched]).toEqual(["src/app.py"]);
    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(BOTH_DONE);
    expect(outcome.changes).toEqual([{ path: "src/app.py", kind: "update", before: APP, after: BOTH_DONE }]);
  });

  it("accepts the big edit on its own (the refusal above is the whole change's size, not the edit's)", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "apply_patch", args: { patch: EDIT_WORDS_BIG } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const outcome = await runAgent(options(ws));
    expect(toolOutputs(outcome)[0]).toMatch(/^applied: /);
    expect(outcome.status).toBe("submitted");
  });

  it("refuses to read or write outside the workspace: .., absolute paths, a symlink out of tree/", async () => {
    const { root, ws } = await makeWorkspace();
    const secret = path.join(root, "secret.txt");
    await writeFile(secret, "TOKEN=do-not-leak\n");
    await symlink(secret, path.join(ws.tree, "src/leak.py"));
    const absTarget = path.join(root, "abs-x.py");
    scriptModel([
      { tool: "read_file", args: { path: "../start/src/app.py" } },
      { tool: "read_file", args: { path: path.join(ws.start, "src/app.py") } },
      { tool: "read_file", args: { path: "src/leak.py" } },
      { tool: "search", args: { pattern: "TOKEN" } },
      { tool: "apply_patch", args: { patch: addFile("../x.py") } },
      { tool: "apply_patch", args: { patch: addFile(absTarget) } },
      { tool: "apply_patch", args: { patch: addFile("/tmp/x.py") } },
      {
        tool: "apply_patch",
        args: {
          patch: `*** Begin Patch\n*** Update File: src/leak.py\n@@\n-TOKEN=do-not-leak\n+TOKEN=overwritten\n*** End Patch`,
        },
      },
    ]);
    const tmpX = await exists("/tmp/x.py");
    const outcome = await runAgent(options(ws, { maxTurns: 8 }));

    const [dotdot, absolute, link, search, addUp, addAbs, addTmp, updateLink] = toolOutputs(outcome);
    expect(dotdot).toMatch(/^error: path "\.\.\/start\/src\/app\.py" must be relative/);
    expect(absolute).toMatch(/^error: path ".*" must be relative/);
    expect(link).toMatch(/^error: path "src\/leak\.py" leads outside the repository/);
    expect(search).toBe("no matches");
    expect(addUp).toMatch(/^error: the patch was refused by the patch policy/);
    expect(addUp).toContain("'..' segment");
    expect(addAbs).toMatch(/^error: the patch was refused by the patch policy/);
    expect(addAbs).toContain("is absolute");
    expect(addTmp).toMatch(/^error: the patch was refused by the patch policy/);
    expect(updateLink).toMatch(/^error: the patch does not apply: .*symbolic link to outside/);
    for (const text of toolOutputs(outcome)) expect(text).not.toContain("do-not-leak");

    expect(outcome.status).toBe("no-patch");
    expect(ws.touched.size).toBe(0);
    expect(await exists(path.join(root, "x.py"))).toBe(false);
    expect(await exists(absTarget)).toBe(false);
    expect(await exists("/tmp/x.py")).toBe(tmpX);
    expect(await readFile(secret, "utf8")).toBe("TOKEN=do-not-leak\n");
  });

  // A link that exists in tree/ only (tree/ is writable during run_tests, so repository code can
  // leave one there): perfloop's own write, outside the sandbox, must never follow it — outside the
  // workspace, or into a protected place. applyEdit refuses any path through a link in the tree.
  it("refuses an added file under a directory link that exists in tree/ only", async () => {
    const { root, ws } = await makeWorkspace();
    const outside = path.join(root, "outside");
    await mkdir(outside);
    await symlink(outside, path.join(ws.tree, "src/out"));
    scriptModel([{ tool: "apply_patch", args: { patch: addFile("src/out/evil.py") } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: .*goes through the symbolic link/);
    expect(await exists(path.join(outside, "evil.py"))).toBe(false);
  });

  it("refuses an added file at a dangling link that exists in tree/ only", async () => {
    const { root, ws } = await makeWorkspace();
    const target = path.join(root, "dangling-target.py");
    await symlink(target, path.join(ws.tree, "src/new.py"));
    scriptModel([{ tool: "apply_patch", args: { patch: addFile("src/new.py") } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: .*goes through the symbolic link/);
    expect(await exists(target)).toBe(false);
  });

  it("refuses an added file under a link in tree/ only that points into the tests", async () => {
    const { ws } = await makeWorkspace();
    await symlink("../tests", path.join(ws.tree, "src/t"));
    scriptModel([{ tool: "apply_patch", args: { patch: addFile("src/t/extra.py") } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: .*goes through the symbolic link/);
    expect(await exists(path.join(ws.tree, "tests/extra.py"))).toBe(false);
  });

  it("puts back what an edit wrote when a later file of it cannot be written, and says so", async () => {
    const { ws } = await makeWorkspace();
    const before = await readFile(path.join(ws.tree, "src/app.py"), "utf8");
    // A new file under a path that is a file: passes the policy, fails at the write, after the
    // update of src/app.py was written.
    const patch = `${EDIT_TOTAL.replace("*** End Patch", "")}*** Add File: src/app.py/helper.py\n+x = 1\n*** End Patch`;
    scriptModel([{ tool: "apply_patch", args: { patch } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(
      /^error: the patch could not be written, and nothing of it was kept/,
    );
    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(before);
    expect(ws.touched.size).toBe(0);
  });
});

describe("submitting and the session's end", () => {
  it("answers a submit with no change with an error and goes on, until the turn budget ends the session", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "submit", args: { rationale: "nothing to do" } },
      { tool: "read_file", args: { path: "src/app.py", start_line: 1, end_line: 1 } },
    ]);
    const outcome = await runAgent(options(ws, { maxTurns: 2 }));

    expect(received).toHaveLength(2);
    const [submit, read] = toolOutputs(outcome);
    expect(submit).toMatch(/^error: your workspace changes nothing yet/);
    expect(read).toBe("    1  def total(values):");
    expect(outcome.status).toBe("no-patch");
    expect(outcome.reason).toBe("no submission within 2 turns");
    expect(outcome.patchText).toBeNull();
    expect(outcome.changes).toEqual([]);
    expect(outcome.usage).toEqual({ calls: 2, promptTokens: 2000, completionTokens: 400 });
  });

  it("ends with no-patch, without throwing, when the endpoint answers 200 with something that is not a chat completion", async () => {
    const { ws } = await makeWorkspace();
    nock(MODEL_URL).post("/v1/chat/completions").reply(200, { hello: "world" });
    const outcome = await runAgent(options(ws));
    expect(outcome.status).toBe("no-patch");
    expect(outcome.reason).toContain("not a chat completion");
    expect(outcome.reason).toContain('{"hello":"world"}');
    expect(outcome.usage.calls).toBe(1);
    expect(outcome.patchText).toBeNull();
  });

  it("applies and submits in one call with the legacy submit_patch {patch, rationale}", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { tool: "submit_patch", args: { patch: EDIT_TOTAL, rationale: "sum() is C" } },
    ]);
    const outcome = await runAgent(options(ws));
    expect(received).toHaveLength(1);
    expect(outcome.status).toBe("submitted");
    expect(outcome.rationale).toBe("sum() is C");
    expect(outcome.changes).toEqual([{ path: "src/app.py", kind: "update", before: APP, after: TOTAL_DONE }]);
    expect(outcome.patchText).toContain("+    return sum(values)");
  });

  it("does not submit when the legacy submit_patch's patch is refused", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([{ tool: "submit_patch", args: { patch: EDIT_TESTS, rationale: "r" } }]);
    const outcome = await runAgent(options(ws, { maxTurns: 1 }));
    expect(toolOutputs(outcome)[0]).toMatch(/^error: the patch was refused by the patch policy/);
    expect(outcome.status).toBe("no-patch");
  });

  it("applies a patch pasted into the reply text (no tool call) as an edit", async () => {
    const { ws } = await makeWorkspace();
    const received = scriptModel([
      { text: `Here is my change:\n\n${EDIT_TOTAL}\n\nThat should help.` },
      { tool: "submit", args: { rationale: "pasted" } },
    ]);
    const outcome = await runAgent(options(ws));

    expect([...ws.touched]).toEqual(["src/app.py"]);
    expect(await readFile(path.join(ws.tree, "src/app.py"), "utf8")).toBe(TOTAL_DONE);
    // The model is told the edit was applied, and how to use the tools.
    const told = received[1]?.messages.at(-1);
    expect(told?.role).toBe("user");
    expect(told?.content).toMatch(/^applied: update src\/app\.py/);
    expect(told?.content).toContain("Use the tools: apply_patch to edit");
    expect(outcome.status).toBe("submitted");
    expect(outcome.changes.map((c) => c.after)).toEqual([TOTAL_DONE]);
  });

  it("reports a malformed tool call to the model and keeps going", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "apply_patch", args: null, rawArgs: "{not json" },
      { tool: "read_file", args: null, rawArgs: "[1]" },
      { tool: "apply_patch", args: { patch: EDIT_TOTAL } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const outcome = await runAgent(options(ws));
    const [bad, array] = toolOutputs(outcome);
    expect(bad).toMatch(/^error: apply_patch needs a JSON object/);
    expect(array).toMatch(/^error: the arguments of read_file are not a JSON object/);
    expect(outcome.status).toBe("submitted");
  });

  it("sends every model call, tool call and the end to the log, in order", async () => {
    const { ws } = await makeWorkspace();
    scriptModel([
      { tool: "read_file", args: { path: "src/app.py", start_line: 1, end_line: 1 } },
      { tool: "apply_patch", args: { patch: EDIT_TOTAL } },
      { tool: "submit", args: { rationale: "r" } },
    ]);
    const entries: SessionLogEntry[] = [];
    const outcome = await runAgent(
      options(ws, {
        log: async (entry) => {
          await sleep(1); // an async log is awaited: the order holds
          entries.push(entry);
        },
      }),
    );
    expect(outcome.status).toBe("submitted");
    expect(entries.map((e) => e.type)).toEqual(["model", "tool", "model", "tool", "model", "tool", "end"]);
    expect(entries.map((e) => ("turn" in e ? e.turn : 0))).toEqual([1, 1, 2, 2, 3, 3, 0]);
    expect(entries[0]).toMatchObject({
      type: "model",
      promptTokens: 1000,
      completionTokens: 200,
      text: null,
    });
    expect(entries[1]).toMatchObject({
      type: "tool",
      name: "read_file",
      args: JSON.stringify({ path: "src/app.py", start_line: 1, end_line: 1 }),
      result: "    1  def total(values):",
    });
    expect(entries[3]).toMatchObject({ type: "tool", name: "apply_patch" });
    expect((entries[3] as { result: string }).result).toMatch(/^applied: /);
    expect(entries[5]).toMatchObject({ type: "tool", name: "submit", result: "submitted" });
    expect(entries[6]).toEqual({ type: "end", status: "submitted", reason: "submitted" });
  });
});
