// A rolling `extend` through lowering, the plan and the emitter: the node, its state schema,
// each argument stored once, the spec class, and generated loops that still push to it.
import { describe, expect, it } from "vitest";
import { compile } from "../pipeline";
import { parse } from "../syntax/parse";
import { check } from "../check/check";
import { lower } from "../ir/lower";
import { printGraph } from "../ir/print";
import { optimize } from "../optimize/index";
import { plan } from "../plan/plan";

const SOURCE = `type R = { sensor: string, v: int, note: string?, ts: time }
source readings: R = file("r.jsonl") event time ts watermark 10s

emit readings
  | group by sensor
  | extend a = avg(v) over 5m, hi = max(v) over 5m, n = count() over 3 rows, prev = lag(v, 2)
  | select sensor, a, hi, n, prev
`;

function planOf(source: string) {
  const parsed = parse(source);
  const checked = check(parsed.program, { poisoned: parsed.poisoned });
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return plan(optimize(lower(checked.program, "p.flow")), { source });
}

describe("rolling extend", () => {
  it("is one node between the source and the select, in the state schema with its calls", () => {
    const p = planOf(SOURCE);
    expect(printGraph(p.graph)).toContain("#1 rolling by sensor: {sensor: sensor, v: v, note: note, ts: ts, a: $agg0, hi: $agg1, n: $agg2, prev: $agg3} where $agg0 = avg(v) over 300000ms, $agg1 = max(v) over 300000ms, $agg2 = count() over 3 rows, $agg3 = lag(v, 2) <- #0");
    expect(p.state.map((s) => [s.kind, s.line])).toEqual([["rolling", 6]]);
    expect(p.state[0]!.shape).toBe("input { sensor: string, v: int, note: string?, ts: time }; keys sensor:string; calls avg(v) over 300000ms:float max(v) over 300000ms:int count() over 3 rows:int lag(v, 2):int?");
    const node = [...p.nodes.values()].find((n) => n.node.kind === "rolling")!;
    expect(node.needsWatermark).toBe(true);
    // `v` is stored once for avg, max and lag.
    expect(node.rolling!.values.length).toBe(1);
    expect(node.rolling!.calls.map(({ fn, arg, range, rows, back }) => ({ fn, arg, range, rows, back }))).toEqual([
      { fn: "avg", arg: 0, range: 300_000, rows: undefined, back: undefined },
      { fn: "max", arg: 0, range: 300_000, rows: undefined, back: undefined },
      { fn: "count", arg: undefined, range: undefined, rows: 3, back: undefined },
      { fn: "lag", arg: 0, range: undefined, rows: undefined, back: 2 },
    ]);
  });

  it("prints a spec class and the operator; the generated loops push to it", () => {
    const r = compile(SOURCE, { file: "p.flow" });
    expect(r.diagnostics).toEqual([]);
    const code = r.typescript!;
    expect(code).toContain("import { Rolling, registeredStateClasses, type Key, type RollingSpec } from \"@flowc/runtime/ops\";");
    expect(code).toMatch(/class Rolling1 implements RollingSpec<R, Row1> \{\n  key\(r: R\): Key \{\n    return r\.sensor;\n  \}\n  values\(r: R\): unknown\[\] \{\n    return \[r\.v\];\n  \}\n  result\(r: R, a: readonly unknown\[\]\): Row1 \{\n    return \{ sensor: r\.sensor, v: r\.v, note: r\.note, ts: r\.ts, a: \(a\[0\] as number\), hi: \(a\[1\] as number\), n: \(a\[2\] as number\), prev: \(a\[3\] as number \| null\) \};/);
    expect(code).toContain('new Rolling([{ fn: "avg", range: 300000, arg: 0 }, { fn: "max", range: 300000, arg: 0 }, { fn: "count", rows: 3 }, { fn: "lag", back: 2, arg: 0 }], new Rolling1(), (row, t) => this.rollingReadings_out1(row, t), (row) => this.ctx.late(row, SCHEMA_1, "p.flow:6 extend"));');
    expect(code).toContain("this.rollingReadings_op1.advance(wm);");
    expect(code).toMatch(/pushBatch\([^)]*\)[^{]*\{[\s\S]*this\.rollingReadings_op1\.push\(r, t\);/);
  });

  it("a failing built-in in the new fields is caught in result (the loops stay); one in an argument is not", () => {
    const guarded = compile(SOURCE.replace("prev = lag(v, 2)", "prev = div(v, lag(v, 2) ?? 1)"), { file: "p.flow" }).typescript!;
    expect(guarded).toContain("new Rolling1((e) => this.ctx.failed(e, \"p.flow:6 extend\"))");
    expect(guarded).toContain("pushBatch(");
    const throwing = compile(SOURCE.replace("hi = max(v)", "hi = max(div(100, v))"), { file: "p.flow" }).typescript!;
    expect(throwing).toContain("return [r.v, flow_div(100, r.v)];");
    expect(throwing).not.toContain("pushBatch(");
  });

  it("JavaScript mode and instrumented builds", () => {
    const js = compile(SOURCE, { file: "p.flow", javascript: true }).typescript!;
    expect(js).not.toMatch(/\binterface\b|\bimplements\b|\bprivate\b| as number|: void/);
    // A guarded spec keeps its failure report in JavaScript too (the parameter property is assigned).
    const guardedJs = compile(SOURCE.replace("prev = lag(v, 2)", "prev = div(v, lag(v, 2) ?? 1)"), { file: "p.flow", javascript: true }).typescript!;
    expect(guardedJs).toContain("constructor(failed) { this.failed = failed; }");
    const divide = (a: number, b: number) => {
      if (b === 0) throw new Error("division by zero");
      return Math.trunc(a / b);
    };
    const Spec = new Function("flow_div", `${/class Rolling1 \{[\s\S]*?\n\}/.exec(guardedJs)![0]}\nreturn Rolling1;`)(divide) as new (f: (e: unknown) => void) => { result(r: object, a: unknown[]): unknown };
    const reported: unknown[] = [];
    const spec = new Spec((e) => reported.push(e));
    expect(spec.result({ sensor: "s", v: 1, note: null, ts: 0 }, [1, 1, 1, 0])).toBeUndefined();
    expect(reported).toEqual([new Error("division by zero")]);
    expect(spec.result({ sensor: "s", v: 4, note: null, ts: 0 }, [1, 1, 1, 2])).toMatchObject({ prev: 2 });
    const traced = compile(SOURCE, { file: "p.flow", instrument: true }).typescript!;
    expect(traced).toContain("this.operators = { 1: this.rollingReadings_op1 };");
  });
});
