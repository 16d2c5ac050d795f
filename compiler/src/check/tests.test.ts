// `test` blocks (LANGUAGE.md §14) are typed before anything runs: each mistake in an input or an
// expected row is a diagnostic with its own code and a span on the offending text.
import { describe, expect, it } from "vitest";
import { parse } from "../syntax/parse";
import { check } from "./check";
import { compile } from "../pipeline";

const HEADER = `type Bid = { auction: int, price: int, note: string?, dateTime: time }
type User = { id: int, name: string, at: time }
source bids: Bid = file("bids.jsonl") event time dateTime
source raw: Bid = stdin()
source users: User = file("u.jsonl", format: "changelog") key id event time at
table names: { id: int, name: string } = file("n.csv") key id
emit per = bids | window tumbling(10s) | agg n = count()
emit latest = users | select id, name
`;

function run(body: string) {
  const src = HEADER + body;
  const p = parse(src);
  expect(p.diagnostics.map((d) => d.message)).toEqual([]);
  const r = check(p.program, { poisoned: p.poisoned });
  return { src, tests: r.program.tests, diags: r.diagnostics.map((d) => ({ code: d.code, message: d.message, at: src.slice(d.span.start, d.span.end) })) };
}

describe("test blocks are checked", () => {
  it("types records against the source and the output, times as ISO text", () => {
    const r = run(`test "t" {
  input bids = [{ auction: 1, price: 2, dateTime: @2026-01-01T00:00:01Z }]
  input names = [{ id: 1, name: "a" }]
  expect per = [{ window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 1 }]
  expect late = 0
}`);
    expect(r.diags).toEqual([]);
    const t = r.tests[0]!;
    expect(t.inputs[0]).toMatchObject({ name: "bids", kind: "source", data: "rows" });
    expect(JSON.stringify((t.inputs[0] as { rows: { value: unknown }[] }).rows[0]!.value)).toBe('{"auction":1,"price":2,"note":null,"dateTime":"2026-01-01T00:00:01.000Z"}');
    expect(t.expects.map((e) => e.kind)).toEqual(["rows", "count"]);
  });

  it("a wrong, missing or unknown field is an error with its span", () => {
    const r = run(`test "t" {
  input bids = [{ auction: "x", price: 2, dateTime: @2026-01-01T00:00:01Z }, { auction: 1 }]
  expect per = [{ window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, m: 1 }]
}`);
    expect(r.diags).toEqual([
      { code: "E0202", message: "this value: expected int, found string", at: '"x"' },
      { code: "E0505", message: "this record lacks the fields `price`, `dateTime` of Bid", at: "{ auction: 1 }" },
      { code: "E0505", message: "this record lacks the field `n` of { window_start: time, window_end: time, n: int }", at: expect.stringContaining("window_start") },
      { code: "E0201", message: "unknown field `m` on { window_start: time, window_end: time, n: int }", at: "m" },
    ]);
  });

  it("cannot feed a source without event time, nor an unknown name, nor expect an unknown output", () => {
    const r = run(`test "t" {
  input raw = []
  input bidz = []
  expect pre = []
  expect late = -1
  input bids = 3
}`);
    expect(r.diags.map((d) => `${d.code} ${d.at}`)).toEqual(["E0502 raw", "E0501 bidz", "E0503 pre", "E0509 -1", "E0504 3"]);
  });

  it("changes of a changelog source and of an updating output", () => {
    const r = run(`test "t" {
  input users = [{ op: "upsert", row: { id: 1, name: "a", at: @2026-01-01T00:00:00Z } }, { op: "delete", key: { id: 1 } }, { op: "insert", row: {} }]
  expect per changes = [{ op: "insert", row: { window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 1 } }]
  expect latest final = []
  expect per final = []
}`);
    expect(r.diags.map((d) => `${d.code} ${d.at}`)).toEqual(['E0507 "insert"', expect.stringMatching(/^E0508 expect per final/)]);
    expect(JSON.stringify((r.tests[0]!.inputs[0] as { rows: { value: unknown }[] }).rows.map((x) => x.value))).toBe('[{"op":"upsert","row":{"id":1,"name":"a","at":"2026-01-01T00:00:00.000Z"}},{"op":"delete","key":{"id":1}}]');
  });

  it("a test value must be a literal; duplicate inputs and tests are errors", () => {
    const r = run(`test "t" {
  input bids = [{ auction: 1 + 1, price: 2, dateTime: @2026-01-01T00:00:01Z }]
  input bids = []
}
test "t" {}`);
    expect(r.diags.map((d) => `${d.code} ${d.at}`)).toEqual(["E0506 1 + 1", "E0510 bids", 'E0103 "t"']);
  });

  it("run and build ignore test blocks: the generated code is the same", () => {
    const without = compile(HEADER);
    const withTests = compile(HEADER + `\ntest "t" { input bids = [] expect per = [] }\n`);
    expect(withTests.ok).toBe(true);
    expect(withTests.typescript).toBe(without.typescript);
  });
});
