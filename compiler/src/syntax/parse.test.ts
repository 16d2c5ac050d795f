import { describe, expect, it } from "vitest";
import { IncrementalParser, parse } from "./parse";
import { durationMs, isoToMs, unescapeString } from "./literals";
import type { Expr, Stage } from "./ast";

const firstEmit = (src: string) => {
  const r = parse(src);
  expect(r.diagnostics).toEqual([]);
  const d = r.program.decls.find((x) => x.kind === "EmitDecl");
  if (!d || d.kind !== "EmitDecl") throw new Error("no emit");
  return d;
};
const whereExpr = (cond: string): Expr => {
  const s = firstEmit(`emit x | where ${cond}`).pipeline.stages[0] as Extract<Stage, { kind: "Where" }>;
  return s.cond;
};

describe("literals", () => {
  it("durations add their parts", () => {
    expect(durationMs("1h30m")).toBe(5_400_000);
    expect(durationMs("250ms")).toBe(250);
    expect(durationMs("1_000ms")).toBe(1000);
    expect(durationMs("2d")).toBe(172_800_000);
  });
  it("time literals are strict ISO-8601", () => {
    expect(isoToMs("2026-01-01T00:00:00Z")).toBe(Date.UTC(2026, 0, 1));
    expect(isoToMs("2026-01-01T01:00:00+01:00")).toBe(Date.UTC(2026, 0, 1));
    expect(isoToMs("2026-02-30T00:00:00Z")).toBeUndefined();
    expect(isoToMs("2026-13-01")).toBeUndefined();
  });
  it("string escapes", () => {
    expect(unescapeString("a\\n\\t\\\"\\\\\\u{1F600}")).toEqual({ value: 'a\n\t"\\😀' });
    expect(unescapeString("\\q")).toEqual({ badEscape: "\\q", at: 0 });
  });
});

describe("parse", () => {
  it("`over` after a call: a time range or rows, binding tighter than arithmetic", () => {
    const s = firstEmit("emit x | extend a = avg(v) over 5m - 1, n = count() over 10 rows, p = lag(v)").pipeline.stages[0] as Extract<Stage, { kind: "Extend" }>;
    const a = s.items[0]!.expr;
    expect(a).toMatchObject({ kind: "Binary", op: "-", left: { kind: "Call", callee: { name: "avg" }, over: { rows: false, size: { kind: "Duration", ms: 300_000 } } } });
    expect(s.items[1]!.expr).toMatchObject({ kind: "Call", callee: { name: "count" }, over: { rows: true, size: { kind: "Int", value: 10 } } });
    expect(s.items[2]!.expr).not.toHaveProperty("over");
    const row = parse("emit x | extend a = avg(v) over 3 row").diagnostics;
    expect(row.map((d) => [d.code, d.message, d.label])).toEqual([["E0011", "expected `rows` after `over 3`", "did you mean `rows`?"]]);
    expect(parse("emit x | extend a = avg(v) over 5 minutes").diagnostics[0]!.hint).toContain("over 5m");
    // `over` is no keyword: a field may be named so.
    expect(whereExpr("over > 1")).toMatchObject({ kind: "Binary", left: { kind: "Name", name: { name: "over" } } });
  });
  it("parses declarations with spans", () => {
    const src = `type Bid = { price: int, \`user-id\`: string? }\nsource bids: Bid = file("b.jsonl") event time ts watermark 4s\nemit bids | where price > 1_000`;
    const r = parse(src);
    expect(r.diagnostics).toEqual([]);
    expect(r.program.decls.map((d) => d.kind)).toEqual(["TypeDecl", "SourceDecl", "EmitDecl"]);
    const t = r.program.decls[0]!;
    if (t.kind !== "TypeDecl" || t.type.kind !== "RecordType") throw new Error();
    expect(t.type.fields.map((f) => f.name.name)).toEqual(["price", "user-id"]);
    expect(src.slice(t.name.span.start, t.name.span.end)).toBe("Bid");
    const s = r.program.decls[1]!;
    if (s.kind !== "SourceDecl") throw new Error();
    expect(s.eventTime).toMatchObject({ kind: "Name", name: { name: "ts" } });
    expect(s.watermark).toMatchObject({ kind: "Duration", ms: 4000 });
  });

  it("respects precedence: ?? binds tighter than comparison, and than or", () => {
    const e = whereExpr("a ?? 0 > 5 or b and not c");
    expect(e).toMatchObject({ kind: "Binary", op: "or", left: { kind: "Binary", op: ">", left: { kind: "Binary", op: "??" } }, right: { kind: "Binary", op: "and", right: { kind: "Unary", op: "not" } } });
    expect(whereExpr("a + b * c == d")).toMatchObject({ op: "==", left: { op: "+", right: { op: "*" } } });
    expect(whereExpr("x in [1, 2] and y not in [3]")).toMatchObject({ op: "and", left: { kind: "In", negated: false }, right: { kind: "In", negated: true } });
  });

  it("folds negative literals and parses within bounds", () => {
    const d = firstEmit("emit c as c | join i on c.imp == i.id within -30s .. 0s");
    const j = d.pipeline.stages[0] as Extract<Stage, { kind: "Join" }>;
    expect(j.within?.lower).toMatchObject({ kind: "Duration", ms: -30_000 });
    expect(j.within?.upper).toMatchObject({ kind: "Duration", ms: 0 });
  });

  it("named emits, final, sinks", () => {
    const d = firstEmit('emit final big = bids | group by a | agg n = count() -> file("out.jsonl")');
    expect(d.final).toBe(true);
    expect(d.name?.name).toBe("big");
    expect(d.sink?.callee.name).toBe("file");
  });

  it("keeps comments", () => {
    const r = parse("// hello\nemit x /* inline */ | where a > 1");
    expect(r.program.comments.map((c) => c.text)).toEqual(["// hello", "/* inline */"]);
  });

  it("speaks the user's language on syntax errors", () => {
    const code = (src: string) => parse(src).diagnostics.map((d) => d.code);
    expect(code("emit x | wher a > 1")).toEqual(["E0003"]);
    expect(parse("emit x | wher a > 1").diagnostics[0]!.label).toBe("did you mean `where`?");
    expect(code("emit x | where a = 1")).toEqual(["E0004"]);
    expect(code("emit x\n  where a > 1")).toEqual(["E0005"]);
    expect(code('emit x | select "abc')).toEqual(["E0002"]);
    expect(code("let if = x")).toEqual(["E0006"]);
    expect(code("emit x | where a >\n  | select b")).toEqual(["E0011"]);
    expect(code('emit x | select a = "\\q"')).toEqual(["E0007"]);
    expect(code("emit x | select a = 99999999999999999999")).toEqual(["E0008"]);
    expect(code("emit x | where t > @2026-02-30T00:00:00Z")).toEqual(["E0009"]);
  });

  it("reports each broken declaration and keeps the good ones", () => {
    const r = parse("let a = x | where b >\nlet c = y | select d\nemit z | wher e");
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0011", "E0003"]);
    expect(r.program.decls.map((d) => d.kind)).toEqual(["LetDecl"]);
    expect([...r.poisoned]).toEqual(["a"]);
  });

  it("refuses absurd nesting instead of overflowing the stack", () => {
    const r = parse("emit x | where " + "(".repeat(10_000) + "a" + ")".repeat(10_000));
    expect(r.diagnostics[0]!.code).toBe("E0010");
  });

  it("incremental parsing gives the same tree as a full parse", () => {
    const p = new IncrementalParser();
    const a = "type T = { a: int }\nsource s: T = file(\"x.jsonl\")\nemit s | where a > 1";
    p.update(a);
    const b = a.replace("a > 1", "a > 10 and a < 20");
    const inc = p.update(b);
    expect(JSON.stringify(inc.program)).toBe(JSON.stringify(parse(b).program));
  });
});
