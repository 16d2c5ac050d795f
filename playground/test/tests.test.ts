// `Run tests` in the playground: the page's compile, the worker's module load and runtime bundle,
// and the same runTest as `flowc test` (compiler/src/testing/run.ts).
import { describe, expect, it } from "vitest";
import { runTest, type TestRuntime } from "../../compiler/src/testing/run";
import type { Program } from "../../runtime/src/contract";
import * as runtime from "../src/runtime";
import { compileForTest, loadProgram } from "./helpers";

const SOURCE = `type Bid = { auction: int, price: int, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime
emit per = bids | window tumbling(10s) | agg n = count()
test "counts per window" {
  input bids = [
    { auction: 1, price: 10, dateTime: @2026-01-01T00:00:01Z },
    { auction: 2, price: 20, dateTime: @2026-01-01T00:00:12Z },
  ]
  expect per = [
    { window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 1 },
    { window_start: @2026-01-01T00:00:10Z, window_end: @2026-01-01T00:00:20Z, n: 1 },
  ]
}
test "from the sample file, wrong" {
  input bids = file("bids.jsonl")
  expect per = [{ window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 3 }]
}
`;

describe("Run tests (the worker's path)", () => {
  it("passes a right test and explains a wrong one, with the sample files as file(…) inputs", async () => {
    const c = compileForTest(SOURCE);
    expect(c.result.ok).toBe(true);
    const program = await loadProgram(c.result.typescript!);
    const rt = runtime as unknown as TestRuntime<Program>;
    const tests = c.result.typed!.tests;
    const files = { "bids.jsonl": '{"auction":1,"price":5,"dateTime":"2026-01-01T00:00:03Z"}\n{"auction":1,"price":6,"dateTime":"2026-01-01T00:00:04Z"}\n' };
    const right = await runTest(rt, program, tests[0]!, files);
    expect(right).toEqual({ name: "counts per window", passed: true, failures: [] });
    const wrong = await runTest(rt, program, tests[1]!, files);
    expect(wrong.passed).toBe(false);
    expect(wrong.failures[0]).toContain("per: row 1 differs");
    expect(wrong.failures[0]).toContain("field `n`: expected 3, got 2");
  });
});
