/**
 * The pure parts of a rewrite session: `subsetCommand` (session-tools.ts: the test command for a
 * run_tests filter, per runner, and the refusal of filters a shell could misread), context compaction
 * (compact.ts: `estimateTokens`, `compactTranscript`) and the cost estimate (cost.ts: `priceFor`,
 * `estimateCostUsd`).
 */
import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { compactTranscript, estimateTokens } from "../src/core/optimize/llm/compact.ts";
import { estimateCostUsd, LIST_PRICES, priceFor } from "../src/core/optimize/llm/cost.ts";
import { subsetCommand } from "../src/core/optimize/llm/session-tools.ts";

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;

describe("subsetCommand", () => {
  it("appends the quoted node id to a pytest command", () => {
    expect(subsetCommand("python3 -m pytest -q", "tests/test_app.py::test_total")).toEqual({
      command: "python3 -m pytest -q 'tests/test_app.py::test_total'",
    });
    expect(subsetCommand("pytest", "tests/test_app.py::TestApp::test_x[1-2]")).toEqual({
      command: "pytest 'tests/test_app.py::TestApp::test_x[1-2]'",
    });
  });

  it("runs the named module with unittest, a file path turned into its module name", () => {
    const test = "python3 -m unittest discover -s tests -q";
    expect(subsetCommand(test, "tests/test_app.py")).toEqual({
      command: "python3 -m unittest -q 'tests.test_app'",
    });
    expect(subsetCommand(test, "tests.test_app.AppTest.test_total")).toEqual({
      command: "python3 -m unittest -q 'tests.test_app.AppTest.test_total'",
    });
    expect(subsetCommand("python -m unittest", "pkg/sub/test_x.py")).toEqual({
      command: "python -m unittest -q 'pkg.sub.test_x'",
    });
    // What comes before the interpreter is kept.
    expect(subsetCommand("cd src && PYTHONPATH=. python3 -m unittest discover -q", "test_x.py")).toEqual({
      command: "cd src && PYTHONPATH=. python3 -m unittest -q 'test_x'",
    });
  });

  it("passes the filter as the name pattern of vitest and jest, and after -- to npm test", () => {
    expect(subsetCommand("npx vitest run", "adds numbers")).toEqual({
      command: "npx vitest run -t 'adds numbers'",
    });
    expect(subsetCommand("npx jest --ci", "parser")).toEqual({ command: "npx jest --ci -t 'parser'" });
    expect(subsetCommand("npm test", "parser")).toEqual({ command: "npm test -- 'parser'" });
    expect(subsetCommand("npm run test", "parser")).toEqual({ command: "npm run test -- 'parser'" });
  });

  it("refuses a runner it does not know, telling the model to run without a filter", () => {
    const result = subsetCommand("make check", "tests/test_app.py");
    expect(result).toEqual({
      error:
        "error: run_tests cannot pick a subset for `make check` (known: pytest, python -m unittest, vitest, jest, npm test); call run_tests without a filter",
    });
  });

  it("refuses filters with characters a test id never has, for every runner", () => {
    const hostile = [
      "; rm -rf /",
      "-p evil_plugin", // an option, not a test id
      "--junitxml=/tmp/x.xml",
      "@args.txt", // pytest reads options from an @file
      "tests/test_app.py; rm -rf /",
      "$(id)",
      "x$HOME",
      "`id`",
      "a'b",
      "'; id; '",
      'a"b',
      "tests/test_app.py\nid",
      "a|b",
      "a&&b",
      "a>b",
      "",
      " leading-space",
      "x".repeat(301),
    ];
    for (const runner of ["python3 -m pytest -q", "python3 -m unittest", "npx vitest run", "npm test"]) {
      for (const filter of hostile) {
        const result = subsetCommand(runner, filter);
        expect(result, `${runner} / ${JSON.stringify(filter)}`).not.toHaveProperty("command");
        expect((result as { error: string }).error).toMatch(
          /^error: the filter ".*" has characters a test id/s,
        );
      }
    }
    // The longest filter accepted is 300 characters.
    expect(subsetCommand("pytest", "x".repeat(300))).toEqual({ command: `pytest '${"x".repeat(300)}'` });
  });
});

/** A transcript: system, user, then `outputs.length` rounds of an assistant tool call and its output. */
function transcript(outputs: string[]): Message[] {
  const messages: Message[] = [
    { role: "system", content: `system ${"s".repeat(2000)}` },
    { role: "user", content: `user ${"u".repeat(2000)}` },
  ];
  outputs.forEach((output, i) => {
    messages.push({
      role: "assistant",
      content: `thinking ${i} ${"a".repeat(500)}`,
      tool_calls: [
        { id: `call_${i}`, type: "function", function: { name: "read_file", arguments: '{"path":"x"}' } },
      ],
    });
    messages.push({ role: "tool", tool_call_id: `call_${i}`, content: output });
  });
  return messages;
}

const bigOutput = (i: number) => `output ${i} first line\n${"line of code\n".repeat(100)}`;

describe("estimateTokens", () => {
  it("counts the characters of contents and tool-call arguments, 4 to a token, rounded up", () => {
    expect(estimateTokens([])).toBe(0);
    expect(
      estimateTokens([
        { role: "system", content: "abcd" },
        { role: "user", content: "abcde" },
      ]),
    ).toBe(3);
    expect(
      estimateTokens([
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c", type: "function", function: { name: "diff", arguments: "12345678" } }],
        },
        { role: "tool", tool_call_id: "c", content: "abcd" },
      ]),
    ).toBe(3);
  });
});

describe("compactTranscript", () => {
  it("does nothing while the transcript is within the budget", () => {
    const messages = transcript([0, 1, 2, 3, 4, 5].map(bigOutput));
    const before = structuredClone(messages);
    expect(compactTranscript(messages, estimateTokens(messages))).toBe(0);
    expect(messages).toEqual(before);
  });

  it("replaces the old big tool outputs by a stub, keeps the last 4 whole, leaves system, user and assistant alone", () => {
    const outputs = [0, 1, 2, 3, 4, 5].map(bigOutput);
    const messages = transcript(outputs);
    const before = structuredClone(messages);
    expect(compactTranscript(messages, 10)).toBe(2);

    const tools = messages.filter((m) => m.role === "tool").map((m) => m.content);
    for (const i of [0, 1])
      expect(tools[i]).toBe(
        `[compacted by perfloop to save context: ${outputs[i]?.length} characters; first line: output ${i} first line. Call the tool again if you need it.]`,
      );
    expect(tools.slice(2)).toEqual(outputs.slice(2));
    expect(messages.filter((m) => m.role !== "tool")).toEqual(before.filter((m) => m.role !== "tool"));
    expect(estimateTokens(messages)).toBeLessThan(estimateTokens(before));
    // Already compacted outputs are not compacted again.
    expect(compactTranscript(messages, 10)).toBe(0);
  });

  it("stops as soon as the transcript is within the budget, oldest first", () => {
    const outputs = [0, 1, 2, 3, 4, 5].map(bigOutput);
    const messages = transcript(outputs);
    const whole = estimateTokens(messages);
    // Compacting the oldest output alone saves well over 50 tokens.
    expect(compactTranscript(messages, whole - 50)).toBe(1);
    const tools = messages.filter((m) => m.role === "tool").map((m) => m.content);
    expect(tools[0]).toMatch(/^\[compacted by perfloop/);
    expect(tools.slice(1)).toEqual(outputs.slice(1));
  });

  it("leaves short outputs whole and shortens a long first line in the stub", () => {
    const longFirst = `${"f".repeat(300)}\n${"x".repeat(500)}`;
    const outputs = ["short", longFirst, ...[2, 3, 4, 5].map(bigOutput)];
    const messages = transcript(outputs);
    expect(compactTranscript(messages, 10)).toBe(1);
    const tools = messages.filter((m) => m.role === "tool").map((m) => m.content);
    expect(tools[0]).toBe("short");
    expect(tools[1]).toBe(
      `[compacted by perfloop to save context: ${longFirst.length} characters; first line: ${"f".repeat(160)}. Call the tool again if you need it.]`,
    );
  });
});

describe("the cost estimate", () => {
  it("uses the configured price first, else the list price of the exact model name, else none", () => {
    const configured = { input: 0.5, output: 1.5 };
    expect(priceFor("gpt-4o", configured)).toEqual(configured);
    expect(priceFor("my-local-llama", configured)).toEqual(configured);
    expect(priceFor("gpt-4o")).toEqual({ input: 2.5, output: 10 });
    expect(priceFor("gpt-4.1-mini")).toEqual(LIST_PRICES["gpt-4.1-mini"]);
    expect(priceFor("my-local-llama")).toBeNull();
    expect(priceFor("gpt-4o-2024-08-06")).toBeNull();
    expect(priceFor("GPT-4O")).toBeNull();
  });

  it("multiplies tokens by the price per million, rounded to 1/10000 USD; null without a price", () => {
    expect(
      estimateCostUsd({ promptTokens: 1_000_000, completionTokens: 1_000_000 }, priceFor("gpt-4o")),
    ).toBe(12.5);
    // (1234 × 2 + 567 × 8) / 1e6 = 0.007004
    expect(estimateCostUsd({ promptTokens: 1234, completionTokens: 567 }, { input: 2, output: 8 })).toBe(
      0.007,
    );
    // 0.000066 rounds up to 0.0001, 0.000044 down to 0
    expect(estimateCostUsd({ promptTokens: 33, completionTokens: 0 }, { input: 2, output: 8 })).toBe(0.0001);
    expect(estimateCostUsd({ promptTokens: 22, completionTokens: 0 }, { input: 2, output: 8 })).toBe(0);
    expect(estimateCostUsd({ promptTokens: 0, completionTokens: 0 }, { input: 2, output: 8 })).toBe(0);
    expect(estimateCostUsd({ promptTokens: 1000, completionTokens: 1000 }, null)).toBeNull();
    expect(
      estimateCostUsd({ promptTokens: 1000, completionTokens: 1000 }, priceFor("unknown-model")),
    ).toBeNull();
  });
});
