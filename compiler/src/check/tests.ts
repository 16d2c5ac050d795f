// The checker of `test` blocks (LANGUAGE.md §14): every `input` and `expect` literal is typed
// against the source's record type or the output's row type before anything runs, so a wrong or
// missing field in an expected row is a compile error with a span, like any other.
import type * as A from "../syntax/ast";
import type { Code, DiagExtras, ParamsOf } from "../diagnostics/catalogue";
import { didYouMean } from "../diagnostics/suggest";
import type { TOutput, TSource, TTable, TTest, TTestExpect, TTestInput, TTestRow, TestJson, TestMode } from "./typed";
import { T, fieldOf, typeToString, type RecordT, type Type } from "./types";

type Report = <C extends Code>(code: C, params: ParamsOf<C>, span: A.Span, extras?: DiagExtras) => void;

export interface TestScope {
  sources: readonly TSource[];
  tables: readonly TTable[];
  outputs: readonly TOutput[];
  /** Names of declarations that failed to parse: nothing is reported about them. */
  poisoned: ReadonlySet<string>;
  report: Report;
}

/** Checks every `test` declaration; the tests with their literals as JSON. */
export function checkTests(decls: readonly A.Decl[], scope: TestScope): TTest[] {
  const tests: TTest[] = [];
  const names = new Map<string, A.Span>();
  for (const d of decls) {
    if (d.kind !== "TestDecl") continue;
    const first = names.get(d.name.value);
    if (first) scope.report("E0103", { name: d.name.value, what: "the test" }, d.name.span, { notes: [{ message: "first declared here", span: first }] });
    else names.set(d.name.value, d.name.span);
    tests.push(new TestChecker(scope).test(d));
  }
  return tests;
}

/** A record's fields in a null-prototype object: field names come from the program. */
const record = (): { [field: string]: TestJson } => Object.create(null) as { [field: string]: TestJson };

class TestChecker {
  constructor(private readonly scope: TestScope) {}

  private get report(): Report {
    return this.scope.report;
  }

  test(d: A.TestDecl): TTest {
    const inputs: TTestInput[] = [];
    const expects: TTestExpect[] = [];
    const fed = new Set<string>();
    const expected = new Set<string>();
    for (const item of d.items) {
      const name = item.target.name;
      if (item.kind === "TestInput") {
        if (fed.has(name)) this.report("E0510", { name, what: "the input of" }, item.target.span);
        fed.add(name);
        const input = this.input(item);
        if (input) inputs.push(input);
      } else {
        const key = `${name}\0${item.mode ?? ""}`;
        if (expected.has(key)) this.report("E0510", { name, what: "an expectation of" }, item.target.span);
        expected.add(key);
        const e = this.expect(item);
        if (e) expects.push(e);
      }
    }
    return { name: d.name.value, inputs, expects, span: d.span };
  }

  // ---- inputs ---------------------------------------------------------------------------------

  private input(item: Extract<A.TestItem, { kind: "TestInput" }>): TTestInput | undefined {
    const name = item.target.name;
    const source = this.scope.sources.find((s) => s.name === name);
    const table = source ? undefined : this.scope.tables.find((t) => t.name === name);
    if (!source && !table) {
      if (!this.scope.poisoned.has(name)) {
        const candidates = [...this.scope.sources.map((s) => s.name), ...this.scope.tables.map((t) => t.name)];
        this.report("E0501", { name }, item.target.span, { label: didYouMean(name, candidates), hint: candidates.length ? `the sources and tables are ${candidates.join(", ")}` : undefined });
      }
      return undefined;
    }
    if (source && !source.eventTime) {
      this.report("E0502", { name }, item.target.span, { hint: "a test runs in virtual time, where arrival time has no meaning: declare `event time FIELD` on the source" });
      return undefined;
    }
    const base = { name, kind: source ? ("source" as const) : ("table" as const), span: item.span };
    const changes = source?.connector && "format" in source.connector && (source.connector.format === "debezium" || source.connector.format === "changelog") ? source.connector.format : undefined;
    const v = item.value;
    if (v.kind === "Call" && v.callee.name === "file") {
      const arg = v.args[0];
      if (v.args.length !== 1 || arg!.name || arg!.value.kind !== "String") {
        this.report("E0504", {}, v.span, { hint: 'write `file("data.jsonl")`, a path relative to the program' });
        return undefined;
      }
      return { ...base, ...(changes && { changes }), data: "file", path: arg!.value.value };
    }
    if (v.kind !== "ArrayLit") {
      this.report("E0504", {}, v.span, { hint: `write \`input ${name} = [{ … }, …]\`` });
      return undefined;
    }
    const type = source ? source.type : table!.type;
    const rows: TTestRow[] = [];
    for (const e of v.elements) {
      const value = changes && type.kind === "record" && source?.key ? this.change(e, type, source.key, false) : this.literal(e, type);
      if (value !== undefined) rows.push({ value, span: e.span });
    }
    return { ...base, ...(changes && { changes }), data: "rows", rows };
  }

  // ---- expectations -------------------------------------------------------------------------

  private expect(item: Extract<A.TestItem, { kind: "TestExpect" }>): TTestExpect | undefined {
    const name = item.target.name;
    const output = this.scope.outputs.find((o) => o.name === name);
    // `expect late = N` / `expect bad = N`; an output named `late` is still reachable with a list.
    if ((name === "late" || name === "bad") && (!output || item.value.kind !== "ArrayLit")) {
      const v = item.value;
      if (item.mode !== undefined || v.kind !== "Int" || v.value < 0) {
        this.report("E0509", { what: name }, v.span, { hint: `write \`expect ${name} = 0\`` });
        return undefined;
      }
      return { kind: "count", what: name, count: v.value, span: item.span };
    }
    if (!output) {
      if (!this.scope.poisoned.has(name)) {
        const names = this.scope.outputs.map((o) => o.name);
        this.report("E0503", { name }, item.target.span, { label: didYouMean(name, [...names, "late", "bad"]), hint: names.length ? `the outputs are ${names.join(", ")} (unnamed outputs are out1, out2, …)` : undefined });
      }
      return undefined;
    }
    const mode: TestMode = item.mode ?? "ordered";
    const info = output.pipeline.out;
    const key = info.upsertKeys;
    if (mode === "final" && !key) {
      if (info.element.kind !== "error") this.report("E0508", { mode, name }, item.span, { hint: "compare its rows in order, or with `unordered`" });
      return undefined;
    }
    if (item.value.kind !== "ArrayLit") {
      this.report("E0506", {}, item.value.span, { hint: `write \`expect ${name} = [{ … }, …]\`` });
      return undefined;
    }
    const element = info.element;
    const rows: TTestRow[] = [];
    for (const e of item.value.elements) {
      const value = mode === "changes" ? (element.kind === "record" ? this.change(e, element, key, true) : this.literal(e, element)) : this.literal(e, element);
      if (value !== undefined) rows.push({ value, span: e.span });
    }
    return { kind: "rows", mode, output: name, ...(key && { key }), rows, span: item.span };
  }

  /**
   * A change: `{op: "upsert", row: {…}}`, `{op: "delete", key: {…}}`, and for the changelog of an
   * append stream (`output`: expected changes) `{op: "insert", row: {…}}`.
   */
  private change(e: A.Expr, type: RecordT, key: string[] | undefined, output: boolean): TestJson | undefined {
    const hint = key ? 'write `{op: "upsert", row: { … }}` or `{op: "delete", key: { … }}`' : 'the changes of an append stream are `{op: "insert", row: { … }}`';
    if (e.kind !== "RecordLit") {
      this.report("E0507", {}, e.span, { hint });
      return undefined;
    }
    const op = e.fields.find((f) => f.name.name === "op");
    const ops = key ? ["upsert", "delete"] : output ? ["insert"] : [];
    if (!op || op.value.kind !== "String" || !ops.includes(op.value.value) || e.fields.length !== 2) {
      this.report("E0507", {}, op && op.value.kind === "String" ? op.value.span : e.span, { hint });
      return undefined;
    }
    const out = record();
    out.op = op.value.value;
    const part = op.value.value === "delete" ? "key" : "row";
    const body = e.fields.find((f) => f.name.name === part);
    if (!body) {
      this.report("E0507", {}, e.span, { hint });
      return undefined;
    }
    const partType = part === "key" ? T.record(type.fields.filter((f) => key!.includes(f.name))) : type;
    const v = this.literal(body.value, partType);
    if (v === undefined) return undefined;
    out[part] = v;
    return out;
  }

  // ---- literals -----------------------------------------------------------------------------

  /** The literal `e` as a value of `t` (JSON), or undefined after reporting why it is not one. */
  private literal(e: A.Expr, t: Type): TestJson | undefined {
    if (t.kind === "error") return undefined;
    const mismatch = (): undefined => {
      if (!LITERAL_KINDS.has(e.kind)) this.report("E0506", {}, e.span, { hint: "inputs and expected rows are written with literals: numbers, strings, `@2026-01-01T00:00:00Z`, `10s`, records, lists" });
      else this.report("E0202", { expected: typeToString(t), actual: literalKind(e), what: "this value" }, e.span);
      return undefined;
    };
    if (t.kind === "optional") return e.kind === "Null" ? null : this.literal(e, t.inner);
    switch (t.kind) {
      case "int":
        return e.kind === "Int" ? e.value : mismatch();
      case "float":
        return e.kind === "Int" || e.kind === "Float" ? e.value : mismatch();
      case "string":
        return e.kind === "String" ? e.value : mismatch();
      case "bool":
        return e.kind === "Bool" ? e.value : mismatch();
      case "time":
        return e.kind === "Time" ? new Date(e.ms).toISOString() : mismatch();
      case "duration":
        return e.kind === "Duration" ? e.ms : mismatch();
      case "array": {
        if (e.kind !== "ArrayLit") return mismatch();
        const out: TestJson[] = [];
        let ok = true;
        for (const x of e.elements) {
          const v = this.literal(x, t.element);
          if (v === undefined) ok = false;
          else out.push(v);
        }
        return ok ? out : undefined;
      }
      case "record":
        return e.kind === "RecordLit" ? this.recordLiteral(e, t) : mismatch();
      default:
        return mismatch();
    }
  }

  private recordLiteral(e: Extract<A.Expr, { kind: "RecordLit" }>, t: RecordT): TestJson | undefined {
    const given = new Map<string, A.Expr>();
    let ok = true;
    for (const f of e.fields) {
      const name = f.name.name;
      if (given.has(name)) {
        this.report("E0107", { name }, f.name.span);
        ok = false;
        continue;
      }
      given.set(name, f.value);
      if (!fieldOf(t, name)) {
        this.report("E0201", { field: name, type: typeToString(t) }, f.name.span, { label: didYouMean(name, t.fields.map((x) => x.name).filter((x) => !e.fields.some((g) => g.name.name === x))) });
        ok = false;
      }
    }
    const out = record();
    const missing: string[] = [];
    for (const f of t.fields) {
      const v = given.get(f.name);
      if (v === undefined) {
        // A missing optional field is null, as in the input formats (§6).
        if (f.type.kind === "optional") out[f.name] = null;
        else missing.push(f.name);
        continue;
      }
      const x = this.literal(v, f.type);
      if (x === undefined) ok = false;
      else out[f.name] = x;
    }
    if (missing.length > 0) {
      this.report("E0505", { fields: missing.map((m) => `\`${m}\``).join(", "), count: missing.length, type: typeToString(t) }, e.span, { hint: `add ${missing.map((m) => `\`${m}: …\``).join(", ")}` });
      return undefined;
    }
    return ok ? out : undefined;
  }
}

const LITERAL_KINDS = new Set<A.ExprKind>(["Int", "Float", "String", "Bool", "Null", "Duration", "Time", "ArrayLit", "RecordLit"]);

function literalKind(e: A.Expr): string {
  switch (e.kind) {
    case "Int":
      return "int";
    case "Float":
      return "float";
    case "String":
      return "string";
    case "Bool":
      return "bool";
    case "Null":
      return "null";
    case "Duration":
      return "duration";
    case "Time":
      return "time";
    case "ArrayLit":
      return "a list";
    case "RecordLit":
      return "a record";
    default:
      return "an expression";
  }
}
