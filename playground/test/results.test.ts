import { describe, expect, it } from "vitest";
import { inputDiagnostics, nothingToRun, parseDeadLetters, visibleRange } from "../src/results";
import { compileForTest, example, runSource } from "./helpers";

describe("results: bad input and run-time errors", () => {
  it("reports each bad input record with its file and line, and underlines that line", async () => {
    const ex = example("c16_bad_input");
    const { r } = await runSource(ex.program, ex.files);
    const bad = r.problems.filter((p) => p.kind === "bad-input");
    expect(bad.map((p) => p.line)).toEqual([2, 3, 4, 6, 8]);
    expect(bad.every((p) => p.file === "readings.jsonl" && p.source === "readings")).toBe(true);
    expect(r.problems.some((p) => p.kind === "runtime")).toBe(false);
    const text = ex.files["readings.jsonl"]!;
    const ds = inputDiagnostics(r.problems, "readings.jsonl", text);
    expect(ds.map((d) => text.slice(d.from, d.to))).toEqual([
      '{"sensor":"s1","value":"high","ts":"2026-01-01T00:00:02.000Z"}',
      "this is not json",
      '{"sensor":"s2","ts":"2026-01-01T00:00:03.000Z"}',
      '{"sensor":"s3","value":7.25,"ts":"yesterday"}',
      '{"sensor":"s4","value":3,"ts":"2026-01-01T00:00:06.000Z"',
    ]);
    expect(ds[0]!.message).toMatch(/^bad input record \(line 2\): /);
    // Another file's problems, and lines past the end, underline nothing.
    expect(inputDiagnostics(r.problems, "other.jsonl", text)).toEqual([]);
    expect(inputDiagnostics(r.problems, "readings.jsonl", "one line")).toEqual([]);
  });

  it("labels a record a built-in failed on (division by zero) a run-time error, not bad input", async () => {
    const src = `type R = { a: int, b: int }\nsource rs: R = file("rs.jsonl")\nemit rs | select q = div(a, b)\n`;
    const { r } = await runSource(src, { "rs.jsonl": '{"a":4,"b":2}\n{"a":1,"b":0}\n{"a":9,"b":3}\n' });
    expect(r.outputs[0]!.total).toBe(2);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ kind: "runtime", file: "rs.jsonl", source: "rs" });
    expect(r.problems[0]!.line).toBeUndefined();
    expect(r.problems[0]!.message).toMatch(/division by zero/);
    expect(inputDiagnostics(r.problems, "rs.jsonl", "x\ny\nz\n")).toEqual([]);
  });

  it("parses dead letters, skipping damaged lines and keeping at most max", () => {
    const line = (n: number | null) => JSON.stringify({ source: "s", file: "f.csv", line: n, error: "e", raw: "x" });
    expect(parseDeadLetters(undefined)).toEqual([]);
    expect(parseDeadLetters(`${line(3)}\n{cut\n${line(null)}\n`)).toEqual([
      { kind: "bad-input", source: "s", file: "f.csv", line: 3, message: "e" },
      { kind: "runtime", source: "s", file: "f.csv", message: "e" },
    ]);
    expect(parseDeadLetters(Array.from({ length: 50 }, () => line(1)).join("\n"), 10)).toHaveLength(10);
  });
});

describe("results: long outputs", () => {
  it("draws only the rows in view, however many there are", () => {
    expect(visibleRange(0, 480, 24, 0)).toEqual({ start: 0, end: 0 });
    expect(visibleRange(0, 480, 24, 5)).toEqual({ start: 0, end: 5 });
    const r = visibleRange(24 * 50_000, 480, 24, 100_000);
    expect(r.start).toBe(50_000 - 8);
    expect(r.end - r.start).toBeLessThanOrEqual(480 / 24 + 1 + 16);
    // Scrolled past the end (the output shrank): still a valid, short range at the end.
    const past = visibleRange(1e9, 480, 24, 100);
    expect(past.end).toBe(100);
    expect(past.start).toBeLessThanOrEqual(past.end);
  });
});

describe("results: empty programs", () => {
  it("an empty or comment-only program has nothing to run; one with an output does", () => {
    expect(nothingToRun(compileForTest(""))).toBe(true);
    expect(nothingToRun(compileForTest("// nothing yet\n\n"))).toBe(true);
    expect(nothingToRun(compileForTest("type T = { a: int }\n"))).toBe(true);
    expect(nothingToRun(compileForTest("source n: int = range(0, 3)\nemit n\n"))).toBe(false);
    // A program with errors is not "empty": its errors are shown.
    expect(nothingToRun(compileForTest("emit nope\n"))).toBe(false);
  });
});
