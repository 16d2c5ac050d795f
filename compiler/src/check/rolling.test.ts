// Rolling aggregates and `lag` in `extend` (LANGUAGE.md §13): types, the stage the checker makes,
// and the errors (with their hints) where they cannot be computed.
import { describe, expect, it } from "vitest";
import { parse } from "../syntax/parse";
import { check } from "./check";
import { typeToString } from "./types";

const HEADER = `type R = { sensor: string, v: int, x: float?, name: string, ts: time }
source readings: R = file("r.jsonl") event time ts watermark 10s
`;

function run(body: string) {
  const p = parse(HEADER + body);
  expect(p.diagnostics).toEqual([]);
  return check(p.program, { poisoned: p.poisoned });
}
const errors = (body: string) => run(body).diagnostics.filter((d) => d.severity === "error");
const outType = (body: string) => {
  const r = run(body);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return typeToString(r.program.outputs.at(-1)!.pipeline.out.element);
};

describe("rolling extend: types and stage", () => {
  it("types the results like agg's; lag is optional; the stage consumes the group keys", () => {
    expect(outType("emit readings | group by sensor | extend a = avg(v) over 5m, n = count() over 3 rows, hi = max(name) over 1h, prev = lag(v), d = v - (lag(v, 2) ?? v)")).toBe(
      "{ sensor: string, v: int, x: float?, name: string, ts: time, a: float, n: int, hi: string, prev: int?, d: int }",
    );
    const r = run("emit readings | group by sensor | extend a = sum(v) over 5m");
    const stage = r.program.outputs[0]!.pipeline.stages.at(-1)!;
    expect(stage.kind).toBe("rolling");
    if (stage.kind !== "rolling") return;
    expect(stage.keys.map((k) => k.name)).toEqual(["sensor"]);
    expect(stage.calls).toMatchObject([{ fn: "sum", frame: { kind: "range", ms: 300_000 } }]);
    expect(stage.output.keys).toBeUndefined();
  });
  it("the same computation written twice is one call", () => {
    const r = run("emit readings | group by sensor | extend prev = lag(v), jump = v - (lag(v) ?? v), p2 = lag(v, 2), a = avg(v) over 5m, b = avg(v) over 5 rows");
    const stage = r.program.outputs[0]!.pipeline.stages.at(-1)!;
    if (stage.kind !== "rolling") throw new Error(stage.kind);
    expect(stage.calls.map((c) => c.fn)).toEqual(["lag", "lag", "avg", "avg"]);
  });
  it("over an optional input the results but counts are optional; collect is an array", () => {
    expect(outType("emit readings | extend s = sum(x) over 10 rows, n = count(x) over 10 rows, c = collect(v) over 3 rows, l = lag(x)")).toBe(
      "{ sensor: string, v: int, x: float?, name: string, ts: time, s: float?, n: int, c: [int], l: float? }",
    );
  });
  it("an extend without rolling calls stays a projection and keeps the keys for the agg", () => {
    expect(outType("emit readings | group by sensor | extend w = v * 2 | agg n = sum(w)")).toBe("{ sensor: string, n: int }");
  });
  it("after a windowed agg (a carried window) the rows roll over their own times", () => {
    expect(outType("emit readings | window tumbling(1m) | group by sensor | agg n = count() | group by sensor | extend avg5 = avg(n) over 5 rows")).toBe(
      "{ window_start: time, window_end: time, sensor: string, n: int, avg5: float }",
    );
  });
  it("a user fn named lag is the user's", () => {
    expect(outType("fn lag(a: int): int = a + 1\nemit readings | select l = lag(v)")).toBe("{ l: int }");
  });
});

describe("rolling extend: errors", () => {
  const one = (body: string) => {
    const e = errors(body);
    expect(e.length).toBe(1);
    return e[0]!;
  };
  it("on an updating stream (E0313), with a hint", () => {
    const d = one("emit readings | group by sensor | agg n = count() | extend a = avg(n) over 5m");
    expect(d.code).toBe("E0313");
    expect(d.message).toContain("rolling aggregate");
    expect(d.hint).toContain("before it");
  });
  it("after a `window` stage (E0351), pointing at the window", () => {
    const d = one("emit readings | window tumbling(1m) | extend p = lag(v)");
    expect(d.code).toBe("E0351");
    expect(d.notes[0]!.message).toContain("window");
    expect(d.hint).toContain("remove the `window` stage");
  });
  it("`over` or `lag` outside extend (E0350)", () => {
    expect(one("emit readings | where avg(v) over 5m > 3").code).toBe("E0350");
    expect(one("emit readings | group by sensor | agg a = avg(v) over 5m").code).toBe("E0350");
    const d = one("emit readings | select p = lag(v)");
    expect(d.code).toBe("E0350");
    expect(d.hint).toContain("extend prev = lag(v)");
  });
  it("an aggregate in extend without `over` (E0301) suggests a range", () => {
    const d = one("emit readings | extend a = avg(v)");
    expect(d.code).toBe("E0301");
    expect(d.hint).toContain("avg(v) over 5m");
  });
  it("a bad range (E0353)", () => {
    expect(one("emit readings | extend a = avg(v) over 0s").code).toBe("E0353");
    expect(one("emit readings | extend a = avg(v) over 2.5 rows").code).toBe("E0353");
    const d = one("emit readings | extend a = avg(v) over 5");
    expect(d.code).toBe("E0353");
    expect(d.hint).toContain("over 5 rows");
  });
  it("`over` on something that is not an aggregate (E0354); approx_count_distinct cannot forget (E0352)", () => {
    expect(one("emit readings | extend a = abs(v) over 5m").code).toBe("E0354");
    expect(one("emit readings | extend a = lag(v) over 5m").hint).toContain("drop `over`");
    expect(one("emit readings | extend a = max(v, 3) over 5m").hint).toContain("`max(v) over 5m`");
    const d = one("emit readings | extend a = approx_count_distinct(name) over 5m");
    expect(d.code).toBe("E0352");
    expect(d.hint).toContain("count_distinct(name)");
  });
  it("lag's offset is a positive integer literal; nesting is refused", () => {
    expect(one("emit readings | extend p = lag(v, 0)").code).toBe("E0219");
    expect(one("emit readings | extend p = lag(v, v)").code).toBe("E0219");
    expect(one("emit readings | extend p = lag(v, 1, 2)").code).toBe("E0208");
    expect(one("emit readings | extend p = avg(lag(v) ?? 0) over 5m").code).toBe("E0302");
    expect(one("emit readings | extend p = lag(avg(v) over 5m)").code).toBe("E0302");
  });
  it("type errors of the aggregate's argument as in agg (E0316)", () => {
    expect(one("emit readings | extend a = sum(name) over 5m").code).toBe("E0316");
  });
});
