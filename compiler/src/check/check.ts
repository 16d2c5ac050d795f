// The checker: resolves names, infers and checks types, and enforces the stream rules of
// LANGUAGE.md §3–6. It keeps going after an error (a failed expression has the `error` type,
// which silences follow-on errors) so one run reports every independent mistake.
import type * as A from "../syntax/ast";
import { ERROR_TYPE_TEXT } from "./types";
import { diag, type Code, type DiagExtras, type Diagnostic, type ParamsOf } from "../diagnostics/catalogue";
import { closest, didYouMean } from "../diagnostics/suggest";
import { AGGREGATES, BUILTIN_SIGNATURES, NULL_TOLERANT, aggregateArity, aggregateType, isAggregateCall } from "./builtins";
import { canonicalPath, narrow, withNarrowed, type Scope } from "./scope";
import { checkTests } from "./tests";
import { ELEMENT_REF, LEFT_REF, RIGHT_REF, paramRef, retraction } from "./typed";
import { CONNECTORS } from "../../../stdlib/src/catalog";
import { networkConnector } from "./connectors";
import type {
  AggCall, AggFn, BinOp, ExternSignature, GroupKey, RollingCall, RollingFrame, StreamInfo, TConnector, TExpr, TFormat, TFn, TOutput, TPipeline, TSource, TStage, TTable, TypedProgram, WindowInfo,
} from "./typed";
import {
  T, assignable, fieldOf, isNumeric, isOptional, isOrdered, join, sameType, stripOptional, typeToString, type Field, type RecordT, type Type,
} from "./types";

export interface CheckOptions {
  /** Signatures of imported TypeScript functions, by name (resolved by the CLI). */
  externs?: Map<string, ExternSignature>;
  /** Names whose declarations failed to parse: references to them are not reported again. */
  poisoned?: Set<string>;
}

export interface CheckResult {
  program: TypedProgram;
  diagnostics: Diagnostic[];
}

const SCALARS = new Set(["int", "float", "bool", "string", "time", "duration"]);

type StreamDecl =
  | { kind: "source"; decl: A.SourceDecl }
  | { kind: "table"; decl: A.TableDecl }
  | { kind: "let"; decl: A.LetDecl }
  | { kind: "emit"; decl: A.EmitDecl };

interface ExprCtx {
  scope: Scope;
  /** In an `agg` item: group keys by name, and the aggregates collected so far. */
  agg?: { keys: GroupKey[]; calls: AggCall[]; keyScope: Scope };
  /** In `extend`: the rolling aggregates and `lag`s found so far (any makes the stage rolling). */
  rolling?: { calls: RollingCall[] };
  /** Inside an aggregate's argument (nested aggregates are errors). */
  inAggregate?: string;
  /** Name of the fn whose body is being checked (recursion check). */
  fn?: string;
}

export function check(program: A.Program, options: CheckOptions = {}): CheckResult {
  return new Checker(program, options).run();
}

class Checker {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly typeDecls = new Map<string, A.TypeDecl>();
  private readonly resolvedTypes = new Map<string, Type>();
  private readonly resolving = new Set<string>();
  private readonly streams = new Map<string, StreamDecl>();
  private readonly fnDecls = new Map<string, A.FnDecl>();
  private readonly fns = new Map<string, TFn>();
  private readonly externs: Map<string, ExternSignature>;
  private readonly imported = new Set<string>();
  private readonly poisoned: Set<string>;
  private readonly lets = new Map<string, TPipeline>();
  private readonly letInProgress = new Set<string>();
  private readonly sources: TSource[] = [];
  private readonly tables: TTable[] = [];
  private readonly used = new Set<string>();

  private readonly externsResolved: boolean;

  constructor(private readonly ast: A.Program, options: CheckOptions) {
    this.externsResolved = options.externs !== undefined;
    this.externs = options.externs ?? new Map();
    this.poisoned = options.poisoned ?? new Set();
  }

  private report<C extends Code>(code: C, params: ParamsOf<C>, span: A.Span, extras?: DiagExtras) {
    // A message about a type that holds an earlier error follows from that error: the user
    // sees the cause once, never an internal `<error>` type.
    if (Object.values(params as object).some((v) => typeof v === "string" && v.includes(ERROR_TYPE_TEXT))) return;
    this.diagnostics.push(diag(code, params, span, extras));
  }

  run(): CheckResult {
    this.collect();
    for (const d of this.ast.decls) if (d.kind === "TypeDecl") this.namedType(d.name.name, d.name.span);
    for (const d of this.ast.decls) if (d.kind === "FnDecl") this.checkFn(d);
    for (const d of this.ast.decls) {
      if (d.kind === "SourceDecl") this.checkSource(d);
      else if (d.kind === "TableDecl") this.checkTable(d);
    }
    for (const d of this.ast.decls) if (d.kind === "LetDecl") this.letPipeline(d);
    const outputs: TOutput[] = [];
    let unnamed = 0;
    for (const d of this.ast.decls) {
      if (d.kind !== "EmitDecl") continue;
      const pipeline = this.pipeline(d.pipeline);
      const name = d.name?.name ?? `out${++unnamed}`;
      if (d.final && !pipeline.out.upsertKeys && pipeline.out.element.kind !== "error") {
        this.report("E0309", {}, d.pipeline.span, { hint: "`emit final` prints the final table of a `group by … | agg …` without a window; drop `final` to print every row" });
      }
      const sink = d.sink ? this.connector(d.sink, pipeline.out.element, "sink") : undefined;
      outputs.push({ name, final: d.final, pipeline, sink, span: d.span });
    }
    for (const [name, s] of this.streams) {
      if (s.kind === "let" && !this.used.has(name)) this.report("W0003", { name }, s.decl.name.span, { hint: "emit it, or remove it" });
    }
    const imports = this.ast.decls.filter((d): d is A.ImportDecl => d.kind === "ImportDecl").map((d) => ({ names: d.names.map((n) => n.name), from: d.from.value }));
    const tests = checkTests(this.ast.decls, { sources: this.sources, tables: this.tables, outputs, poisoned: this.poisoned, report: (code, params, span, extras) => this.report(code, params, span, extras) });
    return {
      program: { sources: this.sources, tables: this.tables, lets: this.lets, outputs, fns: this.fns, imports, tests },
      diagnostics: this.diagnostics.sort((a, b) => a.span.start - b.span.start),
    };
  }

  // ---- declarations ---------------------------------------------------------------------------

  private collect() {
    const fnNames = new Map<string, A.Ident>();
    for (const d of this.ast.decls) {
      switch (d.kind) {
        case "TypeDecl":
          if (this.typeDecls.has(d.name.name) || SCALARS.has(d.name.name)) this.report("E0103", { name: d.name.name, what: "type" }, d.name.span);
          else this.typeDecls.set(d.name.name, d);
          break;
        case "SourceDecl":
        case "TableDecl":
        case "LetDecl":
          this.declareStream(d.name, d.kind === "SourceDecl" ? { kind: "source", decl: d } : d.kind === "TableDecl" ? { kind: "table", decl: d } : { kind: "let", decl: d });
          break;
        case "EmitDecl":
          if (d.name) this.declareStream(d.name, { kind: "emit", decl: d });
          break;
        case "FnDecl":
          if (fnNames.has(d.name.name)) this.report("E0103", { name: d.name.name, what: "function" }, d.name.span);
          else {
            fnNames.set(d.name.name, d.name);
            this.fnDecls.set(d.name.name, d);
          }
          break;
        case "ImportDecl":
          // The CLI reads imported signatures (and reports missing ones); without it they are unknown.
          if (!this.externsResolved) this.report("E0412", {}, d.span, { hint: "run the program with `flowc run`" });
          for (const n of d.names) {
            if (fnNames.has(n.name)) this.report("E0103", { name: n.name, what: "function" }, n.span);
            else {
              fnNames.set(n.name, n);
              this.imported.add(n.name);

            }
          }
          break;
      }
    }
  }

  private declareStream(name: A.Ident, s: StreamDecl) {
    if (this.streams.has(name.name)) {
      const first = this.streams.get(name.name)!;
      const firstSpan = first.decl.kind === "EmitDecl" ? first.decl.name!.span : first.decl.name.span;
      this.report("E0103", { name: name.name, what: "the name" }, name.span, { notes: [{ message: "first declared here", span: firstSpan }], hint: "give one of them another name" });
    } else this.streams.set(name.name, s);
  }

  private namedType(name: string, span: A.Span): Type {
    if (SCALARS.has(name)) return { kind: name as "int" };
    const done = this.resolvedTypes.get(name);
    if (done) return done;
    const decl = this.typeDecls.get(name);
    if (!decl) {
      if (this.poisoned.has(name)) return T.error;
      const guess = didYouMean(name, [...this.typeDecls.keys(), ...SCALARS]);
      this.report("E0102", { name }, span, { label: guess, hint: guess ? undefined : "declare it with `type " + name + " = { … }`" });
      return T.error;
    }
    if (this.resolving.has(name)) {
      this.report("E0113", { name }, span);
      return T.error;
    }
    this.resolving.add(name);
    let t = this.typeExpr(decl.type);
    if (t.kind === "record") t = { ...t, name };
    this.resolving.delete(name);
    this.resolvedTypes.set(name, t);
    return t;
  }

  private typeExpr(t: A.TypeExpr): Type {
    switch (t.kind) {
      case "NamedType":
        return this.namedType(t.name.name, t.name.span);
      case "OptionalType":
        return T.optional(this.typeExpr(t.inner));
      case "ArrayType":
        return T.array(this.typeExpr(t.element));
      case "RecordType": {
        const fields: Field[] = [];
        for (const f of t.fields) {
          if (fields.some((g) => g.name === f.name.name)) this.report("E0107", { name: f.name.name }, f.name.span);
          else fields.push({ name: f.name.name, type: this.typeExpr(f.type) });
        }
        return T.record(fields);
      }
    }
  }

  private constDuration(e: A.Expr | undefined, what: string): number | undefined {
    if (!e) return undefined;
    if (e.kind === "Duration") return e.ms;
    if (e.kind === "Int" && e.value === 0) return 0;
    this.report("E0219", { what }, e.span, { label: "expected a duration literal such as `5s`" });
    return undefined;
  }

  private checkSource(d: A.SourceDecl) {
    const type = this.typeExpr(d.type);
    if (type.kind === "optional" || type.kind === "array") this.report("E0403", { type: typeToString(type) }, d.type.span);
    const connector = this.connector(d.connector, type, "source");
    let eventTime: TSource["eventTime"];
    if (d.eventTime) {
      const delay = d.watermark ? this.constDuration(d.watermark, "the watermark delay") : 0;
      if (delay !== undefined && delay < 0) this.report("E0411", {}, d.watermark!.span);
      const delayMs = Math.max(0, delay ?? 0);
      const field = d.eventTime.kind === "Name" && type.kind === "record" ? d.eventTime.name : undefined;
      if (field) {
        // `event time FIELD`: the record's own field (read as it is, the fast way).
        const f = fieldOf(type, field.name);
        if (type.kind === "record" && !f) {
          this.report("E0201", { field: field.name, type: typeToString(type) }, field.span, { label: didYouMean(field.name, type.kind === "record" ? type.fields.map((x) => x.name) : []) });
        } else if (f && f.type.kind !== "time") {
          this.report("E0218", { field: field.name, type: typeToString(f.type) }, field.span, { hint: "declare the field as `time` (epoch milliseconds or ISO-8601 text are both accepted), or compute it: `event time from_epoch_s(" + field.name + ")`" });
        }
        eventTime = { field: field.name, delayMs };
      } else if (type.kind !== "error") {
        // `event time EXPR`: computed from the record (`it` for a scalar type); null is bad input.
        const scope = this.elementScope({ element: type }, undefined, new Set());
        const expr = this.expr(d.eventTime, { scope });
        if (expr.type.kind !== "error" && stripOptional(expr.type).kind !== "time" && expr.type.kind !== "null") {
          this.report("E0225", { type: typeToString(expr.type) }, d.eventTime.span, { hint: "compute a time: `from_epoch_s(x)`, `from_epoch_ms(x)` or `parse_time(text, \"%d/%b/%Y:%H:%M:%S %z\")`" });
        } else if (expr.type.kind !== "error") eventTime = { expr, delayMs };
      }
    }
    const key = this.sourceKey(d, type, connector);
    const idleMs = this.sourceIdle(d, connector);
    if (connector) this.sources.push({ name: d.name.name, type, connector, eventTime, ...(key && { key }), ...(idleMs !== undefined && { idleMs }), span: d.span });
  }

  /** `idle D` (§10): a positive duration; a source that never waits (range, nexmark) never goes idle. */
  private sourceIdle(d: A.SourceDecl, connector: TConnector | undefined): number | undefined {
    if (!d.idle) return undefined;
    const ms = this.constDuration(d.idle, "the `idle` duration");
    if (ms === undefined) return undefined;
    if (ms <= 0) {
      this.report("E0419", {}, d.idle.span, { hint: "write `idle 30s`" });
      return undefined;
    }
    if (connector && (connector.kind === "range" || connector.kind === "nexmark")) {
      this.report("W0012", { connector: connector.kind }, d.idle.span, { hint: "its records never stop coming while it runs: remove `idle`" });
    }
    return ms;
  }

  /** `key F, ...` of a source: required by, and only allowed with, a change format (§13). */
  private sourceKey(d: A.SourceDecl, type: Type, connector: TConnector | undefined): string[] | undefined {
    const format = connector && "format" in connector ? connector.format : undefined;
    const changes = format === "debezium" || format === "changelog";
    if (!d.key) {
      if (changes) this.report("E0416", { format: format! }, d.connector.span, { hint: `name the fields that identify a row: \`source ${d.name.name}: … = …(…, format: "${format}") key id\`` });
      return undefined;
    }
    if (!changes) {
      this.report("E0417", {}, d.key[0]!.span, { hint: "a source of changes reads `format: \"debezium\"` or `format: \"changelog\"`; a table to look rows up in is a `table … key F`" });
      return undefined;
    }
    if (type.kind !== "record") {
      if (type.kind !== "error") this.report("E0403", { type: typeToString(type) }, d.type.span, { hint: "the rows of a source of changes are records" });
      return undefined;
    }
    const names: string[] = [];
    for (const k of d.key) {
      if (!fieldOf(type, k.name)) this.report("E0402", { field: k.name, type: typeToString(type) }, k.span, { label: didYouMean(k.name, type.fields.map((f) => f.name)) });
      else if (names.includes(k.name)) this.report("E0108", { name: k.name }, k.span);
      else names.push(k.name);
    }
    return names.length === d.key.length ? names : undefined;
  }

  private checkTable(d: A.TableDecl) {
    const type = this.typeExpr(d.type);
    if (type.kind !== "record") {
      if (type.kind !== "error") this.report("E0403", { type: typeToString(type) }, d.type.span, { hint: "a table's type must be a record with a key field" });
      return;
    }
    const key = fieldOf(type, d.key.name);
    if (!key) this.report("E0402", { field: d.key.name, type: typeToString(type) }, d.key.span, { label: didYouMean(d.key.name, type.fields.map((f) => f.name)) });
    const connector = this.connector(d.connector, type, "table");
    if (connector && key) this.tables.push({ name: d.name.name, type, connector, key: d.key.name, span: d.span });
  }

  /**
   * Checks a connector call against its parameter list (CONNECTORS): arguments are positional
   * (in the list's order) or named; an unknown or repeated name, a missing required argument or
   * a value of the wrong kind is an error. Then builds the connector from the bound values.
   */
  private connector(c: A.Call, type: Type, role: "source" | "table" | "sink"): TConnector | undefined {
    const name = c.callee.name;
    const entry = Object.hasOwn(CONNECTORS, name) ? CONNECTORS[name] : undefined;
    const params = role === "sink" ? entry?.sink : role === "table" && entry?.network ? undefined : entry?.source;
    if (!params) {
      const options = Object.keys(CONNECTORS).filter((k) => (role === "sink" ? CONNECTORS[k]!.sink : role === "table" ? !CONNECTORS[k]!.network && CONNECTORS[k]!.source : CONNECTORS[k]!.source));
      const what = role === "sink" ? "outputs" : role === "table" ? "table connectors (a table is bounded input, loaded before the streams start)" : "sources";
      this.report("E0109", { name }, c.callee.span, { label: didYouMean(name, options), hint: `the ${what} are ${options.map((o) => o + "(…)").join(", ")}` });
      return undefined;
    }
    const signature = { params };
    const bound = new Map<string, A.Arg>();
    let ok = true;
    let next = 0;
    for (const a of c.args) {
      if (!a.name) {
        const p = signature.params[next++];
        if (!p || p.namedOnly) {
          const most = signature.params.filter((x) => !x.namedOnly).length;
          this.report("E0208", { name, expected: `at most ${most} positional argument${most === 1 ? "" : "s"}`, actual: c.args.filter((x) => !x.name).length }, a.span, { hint: `the named arguments are ${signature.params.filter((x) => x.namedOnly).map((x) => `\`${x.name}:\``).join(", ") || "none"}` });
          ok = false;
          continue;
        }
        bound.set(p.name, a);
        continue;
      }
      const key = a.name.name;
      const p = signature.params.find((x) => x.name === key);
      if (!p) {
        this.report("E0404", { connector: name, name: key }, a.name.span, { label: didYouMean(key, signature.params.map((x) => x.name)), hint: `${name}() takes ${signature.params.map((x) => `\`${x.name}\``).join(", ")}` });
        ok = false;
      } else if (bound.has(key)) {
        this.report("E0405", { connector: name, name: key }, a.name.span);
        ok = false;
      } else bound.set(key, a);
    }
    for (const p of signature.params) {
      if (p.required && !bound.has(p.name)) {
        this.report("E0406", { connector: name, name: p.name }, c.span, { hint: `write ${name}(${signature.params.filter((x) => x.required).map((x) => (x.namedOnly ? `${x.name}: …` : "…")).join(", ")})` });
        ok = false;
      }
    }
    const values = new Map<string, string | number>();
    for (const p of signature.params) {
      const a = bound.get(p.name);
      if (!a) continue;
      const v = a.value;
      if (p.kind === "string" && v.kind === "String") values.set(p.name, v.value);
      else if (p.kind === "int" && v.kind === "Int") values.set(p.name, v.value);
      else if (p.kind === "int" && p.name === "start" && v.kind === "Time") values.set(p.name, v.ms);
      else {
        this.report("E0219", { what: `the argument \`${p.name}\` of ${name}()` }, v.span, { label: p.kind === "string" ? "expected a string literal" : "expected an integer literal" });
        ok = false;
        continue;
      }
      const allowed = p.oneOf;
      if (allowed && !allowed.includes(String(values.get(p.name)))) {
        this.report("E0407", { connector: name, name: p.name, value: String(values.get(p.name)) }, v.span, { label: didYouMean(String(values.get(p.name)), allowed), hint: `${p.name} is one of ${allowed.map((x) => `"${x}"`).join(", ")}` });
        ok = false;
      }
    }
    if (!ok) return undefined;
    const str = (k: string) => values.get(k) as string | undefined;
    const num = (k: string) => values.get(k) as number | undefined;
    const format = (path?: string): TFormat => {
      const f = str("format");
      if (f === undefined) return path?.endsWith(".csv") ? "csv" : path && /\.(txt|log)$/.test(path) ? "lines" : "jsonl";
      return f === "json" || f === "ndjson" ? "jsonl" : (f as TFormat);
    };
    const checkFormat = (f: string) => {
      if (f === "lines" && role !== "sink" && type.kind !== "string" && type.kind !== "error") {
        this.report("E0408", { format: f, type: typeToString(type) }, c.span, { hint: "a `lines` source has type string" });
      }
      if (f === "csv" && type.kind !== "record" && type.kind !== "error") {
        this.report("E0408", { format: f, type: typeToString(type) }, c.span, { hint: "CSV cells are the fields of a record type" });
      }
      if ((f === "changelog" || f === "debezium") && role === "table") {
        this.report("E0418", { format: f }, c.span, { hint: "declare it as a source of changes: `source NAME: T = …(…) key F`, and `emit final` its table" });
      } else if ((f === "changelog" || f === "debezium") && role === "source" && type.kind !== "record" && type.kind !== "error") {
        this.report("E0408", { format: f, type: typeToString(type) }, c.span, { hint: "the rows of a source of changes are records" });
      }
    };
    switch (name) {
      case "file": {
        const path = str("path")!;
        const f = format(path);
        checkFormat(f);
        return { kind: "file", path, format: f };
      }
      case "stdin": {
        const f = format();
        checkFormat(f);
        return { kind: "stdin", format: f };
      }
      case "stdout":
        return { kind: "stdout", format: format() };
      case "range": {
        if (type.kind !== "int" && type.kind !== "error") this.report("E0409", { type: typeToString(type) }, c.span);
        return { kind: "range", from: num("from")!, to: num("to")! };
      }
      case "nexmark": {
        const rate = num("rate") ?? 10_000;
        if (rate <= 0) this.report("E0410", { name: "rate" }, bound.get("rate")!.value.span);
        return { kind: "nexmark", eventKind: str("kind") as "bid", events: num("events")!, rate, seed: num("seed") ?? 0, start: num("start") ?? Date.UTC(2015, 6, 15) };
      }
    }
    if (entry?.network) {
      const f = format();
      checkFormat(f);
      return networkConnector(name, role === "sink" ? "sink" : "source", values, f, type, entry, {
        metadata: (field, expected) => this.report("E0420", { field, connector: name, type: expected }, c.span),
        keyField: (field) => this.report("E0402", { field, type: typeToString(type) }, bound.get("key")!.value.span, { label: type.kind === "record" ? didYouMean(field, type.fields.map((x) => x.name)) : undefined }),
        notRecord: () => this.report("E0421", { connector: name, type: typeToString(type) }, c.span),
      });
    }
    return undefined;
  }

  private checkFn(d: A.FnDecl) {
    const params = d.params.map((p) => ({ name: p.name.name, type: this.typeExpr(p.type) }));
    const seen = new Set<string>();
    for (const p of d.params) {
      if (seen.has(p.name.name)) this.report("E0103", { name: p.name.name, what: "parameter" }, p.name.span);
      seen.add(p.name.name);
    }
    const roots = new Map<string, TExpr>(params.map((p, i) => [p.name, { kind: "var", name: paramRef(i), type: p.type, span: d.name.span } as TExpr]));
    const scope: Scope = { bases: [], roots, narrowed: new Set() };
    // Register the signature first (result unknown yet) so a recursive call is caught, not looped.
    this.fns.set(d.name.name, { name: d.name.name, params, body: { kind: "lit", value: null, type: T.error, span: d.span }, type: T.error });
    const body = this.expr(d.body, { scope, fn: d.name.name });
    let type = body.type;
    if (d.returnType) {
      const declared = this.typeExpr(d.returnType);
      if (!assignable(body.type, declared)) this.report("E0222", { expected: typeToString(declared), actual: typeToString(body.type) }, d.body.span);
      type = declared;
    }
    this.fns.set(d.name.name, { name: d.name.name, params, body, type });
  }

  // ---- pipelines --------------------------------------------------------------------------------

  private letPipeline(d: A.LetDecl): TPipeline | undefined {
    const done = this.lets.get(d.name.name);
    if (done) return done;
    if (this.letInProgress.has(d.name.name)) return undefined;
    this.letInProgress.add(d.name.name);
    const p = this.pipeline(d.pipeline);
    this.letInProgress.delete(d.name.name);
    this.lets.set(d.name.name, p);
    return p;
  }

  private errorStream(): StreamInfo {
    return { element: T.error };
  }

  /** Resolves a stream name used as a pipeline head or join side. */
  private streamRef(name: A.Ident): { head: TPipeline["head"]; info: StreamInfo } | undefined {
    const s = this.streams.get(name.name);
    if (!s) {
      if (!this.poisoned.has(name.name)) {
        const candidates = [...this.streams.entries()].filter(([, v]) => v.kind !== "emit").map(([k]) => k);
        this.report("E0101", { name: name.name }, name.span, { label: didYouMean(name.name, candidates), hint: candidates.length ? undefined : "declare it with `source " + name.name + ": Type = file(\"…\")`" });
      }
      return undefined;
    }
    this.used.add(name.name);
    switch (s.kind) {
      case "source": {
        const src = this.sources.find((x) => x.name === name.name);
        const type = src?.type ?? this.typeExpr(s.decl.type);
        const info: StreamInfo = { element: type, arrivalTimeSource: s.decl.eventTime ? undefined : name.name };
        if (src?.key) info.upsertKeys = src.key;
        return { head: { kind: "source", name: name.name }, info };
      }
      case "table": {
        // A table read as a stream: its rows in file order, in arrival time (it has no event time).
        const table = this.tables.find((t) => t.name === name.name);
        if (!table) return undefined;
        if (!this.sources.some((x) => x.name === name.name)) this.sources.push({ name: table.name, type: table.type, connector: table.connector, span: table.span });
        return { head: { kind: "source", name: name.name }, info: { element: table.type } };
      }
      case "let": {
        if (this.letInProgress.has(name.name)) {
          this.report("E0111", { name: name.name }, name.span);
          return undefined;
        }
        const p = this.letPipeline(s.decl);
        return p ? { head: { kind: "let", name: name.name }, info: p.out } : undefined;
      }
      case "emit":
        this.report("E0319", { name: name.name }, name.span, { hint: "declare the stream with `let` and emit it" });
        return undefined;
    }
  }

  private pipeline(p: A.Pipeline): TPipeline {
    let head: TPipeline["head"] = { kind: "source", name: "" };
    let info: StreamInfo = this.errorStream();
    let headName: string | undefined;
    switch (p.head.kind) {
      case "NameHead": {
        const r = this.streamRef(p.head.name);
        if (r) ({ head, info } = r);
        headName = p.head.name.name;
        break;
      }
      case "ParenHead": {
        const inner = this.pipeline(p.head.pipeline);
        head = { kind: "pipeline", pipeline: inner };
        info = inner.out;
        break;
      }
      case "UnionHead": {
        const inputs = p.head.inputs.map((i) => this.pipeline(i));
        head = { kind: "union", inputs };
        const first = inputs.find((i) => i.out.element.kind !== "error");
        for (const i of inputs) {
          if (first && i.out.element.kind !== "error" && !sameType(first.out.element, i.out.element)) {
            this.report("E0306", { first: typeToString(first.out.element), other: typeToString(i.out.element) }, i.span);
          }
        }
        // A union of updating streams is one (with their common key); mixing kinds is not (§13).
        const updating = inputs.filter((i) => i.out.upsertKeys);
        const keys = updating[0]?.out.upsertKeys;
        if (updating.length > 0 && updating.length < inputs.length) {
          const append = inputs.find((i) => !i.out.upsertKeys)!;
          this.report("E0343", { what: "`union`" }, append.span, { notes: [{ message: "this input is an updating stream", span: updating[0]!.span }], hint: "emit them separately, or make the updating one an append stream of its upserts with a `select` that drops its key" });
        } else if (keys && updating.some((i) => i.out.upsertKeys!.join("\0") !== keys.join("\0"))) {
          const other = updating.find((i) => i.out.upsertKeys!.join("\0") !== keys.join("\0"))!;
          this.report("E0344", { first: keys.join(", "), other: other.out.upsertKeys!.join(", ") }, other.span, { hint: "the inputs of a union of updating streams need the same key fields" });
        }
        info = updating.length === inputs.length && keys ? { element: first?.out.element ?? T.error, upsertKeys: keys } : { element: first?.out.element ?? T.error };
        break;
      }
    }
    if (p.alias) headName = p.alias.name;
    const start = info;
    const stages: TStage[] = [];
    let narrowed = new Set<string>();
    for (const s of p.stages) {
      const r = this.stage(s, info, headName, narrowed);
      if (r) {
        stages.push(r.stage);
        info = r.stage.output;
        narrowed = r.narrowed;
      } else {
        info = { ...info, element: T.error };
      }
    }
    if (info.keys && info.element.kind !== "error") {
      const gb = [...p.stages].reverse().find((s) => s.kind === "GroupBy");
      if (gb) this.report("E0307", { what: "`group by`" }, gb.span, { hint: "follow it with `agg`, `top`, `distinct` or an `extend` with `over` or `lag`" });
    }
    return { head, stages, start, out: info, span: p.span };
  }

  /** The scope for expressions over the current element. */
  private elementScope(info: StreamInfo, headName: string | undefined, narrowed: Set<string>): Scope {
    const el: TExpr = { kind: "var", name: ELEMENT_REF, type: info.element, span: { start: 0, end: 0 } };
    const bases: Scope["bases"] = [{ expr: el, label: typeToString(info.element), side: false }];
    if (info.sides && info.element.kind === "record") {
      for (const side of info.sides) {
        const f = fieldOf(info.element, side);
        if (f) bases.push({ expr: { kind: "get", object: el, field: side, type: f.type, span: el.span }, label: side, side: true });
      }
    }
    const roots = new Map<string, TExpr>([["it", el]]);
    if (headName && !info.sides) roots.set(headName, el);
    return { bases, roots, narrowed };
  }

  private stage(s: A.Stage, info: StreamInfo, headName: string | undefined, narrowed: Set<string>): { stage: TStage; narrowed: Set<string> } | undefined {
    if (info.element.kind === "error") {
      // The input is already broken: still check the stage's expressions loosely? No — every
      // name would be unknown. Skip quietly.
      return undefined;
    }
    const scope = this.elementScope(info, headName, narrowed);
    const ctx: ExprCtx = { scope };
    const r = this.stageInner(s, info, headName, narrowed, scope, ctx);
    // Stateless stages may stand between `group by` and its consumer; when one reshapes the
    // element, the consumer computes the keys again from the element it receives.
    if (r && info.keys && r.stage.output.keys && ["Select", "Extend", "Map", "Unnest", "Join", "Lookup"].includes(s.kind)) {
      r.stage.output = { ...r.stage.output, keysStale: true };
    }
    return r;
  }

  /** The group keys a consumer (agg, top, distinct) uses, recomputed if the element changed. */
  private consumeKeys(info: StreamInfo, scope: Scope, consumer: string): GroupKey[] | undefined {
    if (!info.keys) return [];
    if (!info.keysStale) return info.keys;
    const keys: GroupKey[] = [];
    for (const k of info.keys) {
      if (!k.written) return undefined;
      const mark = this.diagnostics.length;
      const expr = this.expr(k.written, { scope });
      if (this.diagnostics.length > mark) {
        this.diagnostics.length = mark;
        this.report("E0320", { key: k.name, stage: consumer }, k.written.span, {
          hint: "keep the fields it needs in that stage, or move `group by` after it",
        });
        return undefined;
      }
      keys.push({ ...k, expr, type: expr.type });
    }
    return keys;
  }

  private stageInner(s: A.Stage, info: StreamInfo, headName: string | undefined, narrowed: Set<string>, scope: Scope, ctx: ExprCtx): { stage: TStage; narrowed: Set<string> } | undefined {
    const base = { span: s.span, input: info };
    switch (s.kind) {
      case "Where": {
        const cond = this.expr(s.cond, ctx);
        if (cond.type.kind !== "error" && stripOptional(cond.type).kind !== "bool") {
          this.report("E0203", { stage: "where", actual: typeToString(cond.type) }, s.cond.span, { hint: cond.type.kind === "int" || cond.type.kind === "float" ? "compare it with something, e.g. `… > 0`" : undefined });
        }
        const n = new Set(narrowed);
        for (const p of nonNullPaths(cond)) n.add(p);
        return { stage: { ...base, kind: "where", cond, output: info }, narrowed: n };
      }
      case "Select":
        return this.select(s, info, ctx, base);
      case "Extend": {
        if (info.element.kind !== "record") {
          this.report("E0321", { what: "`extend`", type: typeToString(info.element) }, s.span, { hint: "use `map` to transform a non-record element" });
          return undefined;
        }
        const fields: { name: string; value: TExpr }[] = info.element.fields.map((f) => ({ name: f.name, value: narrow({ kind: "get", object: scope.bases[0]!.expr, field: f.name, type: f.type, span: s.span }, scope) }));
        const seen = new Set<string>();
        const rolling = { calls: [] as RollingCall[] };
        for (const item of s.items) {
          const value = this.expr(item.expr, { ...ctx, rolling });
          if (seen.has(item.name.name)) this.report("E0108", { name: item.name.name }, item.name.span);
          seen.add(item.name.name);
          const i = fields.findIndex((f) => f.name === item.name.name);
          if (i >= 0 && info.upsertKeys?.includes(item.name.name)) this.report("E0340", { field: item.name.name }, item.name.span, { hint: "give the new value another name" });
          if (i >= 0) fields[i] = { name: item.name.name, value };
          else fields.push({ name: item.name.name, value });
        }
        const element = T.record(fields.map((f) => ({ name: f.name, type: f.value.type })));
        const expr: TExpr = { kind: "record", fields, type: element, span: s.span };
        if (rolling.calls.length > 0) return this.rollingStage(rolling.calls, expr, info, scope, base);
        const output: StreamInfo = { ...info, element, sides: info.sides };
        return { stage: { ...base, kind: "project", expr, what: "extend", output }, narrowed: new Set() };
      }
      case "Map": {
        const expr = this.expr(s.expr, ctx);
        const fields = expr.kind === "record" ? expr.fields : undefined;
        const output: StreamInfo = this.keysThrough({ ...info, element: expr.type, sides: undefined }, fields, s.span);
        return { stage: { ...base, kind: "project", expr, what: "map", output }, narrowed: new Set() };
      }
      case "Unnest":
        if (info.upsertKeys) {
          this.report("E0313", { what: "`unnest`" }, s.span, { hint: "unnest the rows before the `agg`" });
          return undefined;
        }
        return this.unnest(s, info, ctx, base);
      case "Window": {
        if (info.upsertKeys) {
          // An update changes a row of a table; a window would need the row's history (§13).
          this.report("E0313", { what: "`window`" }, s.span, { hint: "window the records before the unwindowed `agg`, or aggregate the table again without a window" });
          return undefined;
        }
        const w = this.windowSpec(s);
        if (!w) return undefined;
        if (info.arrivalTimeSource) {
          // Windows over arrival time depend on when records are read, not on the data.
          const source = info.arrivalTimeSource;
          const timeField = info.element.kind === "record" ? info.element.fields.find((f) => stripOptional(f.type).kind === "time") : undefined;
          this.report("W0005", { source }, s.span, {
            hint: timeField
              ? `to window by the records' own time, declare it on the source: \`source ${source}: … event time ${timeField.name}\``
              : `to window by the records' own time, give the type a time field and declare \`event time FIELD\` on the source`,
          });
        }
        return { stage: { ...base, kind: "window", window: w, output: { ...info, window: w } }, narrowed };
      }
      case "GroupBy": {
        const keys: GroupKey[] = [];
        for (const k of s.keys) {
          const expr = this.expr(k.expr, ctx);
          const name = k.name?.name ?? pathName(k.expr);
          if (!name) {
            this.report("E0210", {}, k.expr.span, { hint: "write `group by name = …`" });
            continue;
          }
          if (keys.some((x) => x.name === name)) this.report("E0108", { name }, k.span);
          keys.push({ name, expr, type: expr.type, written: k.expr });
        }
        return { stage: { ...base, kind: "groupBy", keys, output: { ...info, keys, keysStale: false } }, narrowed };
      }
      case "Agg":
        return this.agg(s, info, ctx, base);
      case "Top": {
        if (s.withTies && !info.window) {
          // Ties are kept per window; an updating top-N breaks them by arrival (§13).
          this.report("E0334", {}, s.span, { hint: "add a `| window tumbling(…)` stage before it, or drop `with ties`" });
          return undefined;
        }
        if (!info.window) return this.updatingTop(s, info, scope, ctx, base, narrowed);
        if (info.window.kind === "session" && !info.window.carried) {
          this.report("E0312", { what: "`top`" }, s.span, { hint: "aggregate the sessions first, then rank the rows" });
          return undefined;
        }
        const ranking = this.topRanking(s, info, scope, ctx);
        if (!ranking) return undefined;
        const output: StreamInfo = { element: info.element, sides: info.sides, window: { ...info.window, carried: true } };
        return { stage: { ...base, kind: "top", window: info.window, ...ranking, desc: s.desc, withTies: s.withTies, output }, narrowed };
      }
      case "Distinct": {
        if (info.upsertKeys) {
          this.report("E0313", { what: "`distinct`" }, s.span);
          return undefined;
        }
        const values = s.values.map((v) => this.expr(v, ctx));
        for (let i = 0; i < values.length; i++) {
          const t = stripOptional(values[i]!.type);
          if (t.kind === "record" || t.kind === "array") this.report("E0207", { type: typeToString(t) }, s.values[i]!.span);
        }
        let withinMs: number | undefined;
        if (s.within) {
          withinMs = this.constDuration(s.within, "the `within` bound");
          if (withinMs !== undefined && withinMs <= 0) this.report("E0325", {}, s.within.span);
        }
        if (info.window && s.within) this.report("E0326", {}, s.within.span);
        if (info.window?.kind === "session" && !info.window.carried) {
          this.report("E0312", { what: "`distinct`" }, s.span);
          return undefined;
        }
        if (!info.window && !s.within) this.report("W0002", {}, s.span, { hint: "add `within 1h` (or a window) so old values can be forgotten" });
        const distinctKeys = this.consumeKeys(info, scope, "distinct");
        if (!distinctKeys) return undefined;
        const output: StreamInfo = { element: info.element, sides: info.sides, window: info.window };
        return { stage: { ...base, kind: "distinct", window: info.window, keys: distinctKeys, values, withinMs: s.within ? withinMs : undefined, output }, narrowed };
      }
      case "Join":
        return this.joinStage(s, info, headName, base);
      case "Lookup":
        return this.lookup(s, info, ctx, base, narrowed);
    }
  }

  /**
   * `top` without a window (§13): the N best rows per key of an append or updating input, as an
   * updating stream keyed by (keys, rank) with `rank` appended.
   */
  private updatingTop(s: Extract<A.Stage, { kind: "Top" }>, info: StreamInfo, scope: Scope, ctx: ExprCtx, base: { span: A.Span; input: StreamInfo }, narrowed: Set<string>) {
    if (info.element.kind !== "record") {
      this.report("E0341", { type: typeToString(info.element) }, s.span, { hint: "make it a record first: `map { value: it }`" });
      return undefined;
    }
    if (fieldOf(info.element, "rank")) {
      this.report("E0342", {}, s.span, { hint: "rename the field with `select` before `top`" });
      return undefined;
    }
    const ranking = this.topRanking(s, info, scope, ctx);
    if (!ranking) return undefined;
    if (info.upsertKeys) this.report("W0010", { what: "`top` without a window" }, s.span, { hint: "a retraction can promote any row, so every row is kept; window the input to bound it" });
    const element = T.record([...info.element.fields, { name: "rank", type: T.int }]);
    const output: StreamInfo = { element, upsertKeys: [...ranking.keys.map((k) => k.name), "rank"] };
    return { stage: { ...base, kind: "top" as const, ...ranking, desc: s.desc, withTies: false, output }, narrowed };
  }

  /** What every `top` checks, with or without a window: its count, its order and its keys. */
  private topRanking(s: Extract<A.Stage, { kind: "Top" }>, info: StreamInfo, scope: Scope, ctx: ExprCtx): { n: number; by: TExpr; keys: GroupKey[] } | undefined {
    let n = 0;
    if (s.n.kind === "Int" && s.n.value > 0) n = s.n.value;
    else this.report("E0219", { what: "the count of `top`" }, s.n.span, { label: "expected a positive integer literal" });
    const by = this.expr(s.by, ctx);
    if (by.type.kind !== "error" && !isOrdered(stripOptional(by.type))) this.report("E0202", { what: "`top … by`", expected: "int, float, string, time or duration", actual: typeToString(by.type) }, s.by.span);
    const keys = this.consumeKeys(info, scope, "top");
    return keys ? { n, by, keys } : undefined;
  }

  /**
   * An `extend` with rolling aggregates or `lag` (LANGUAGE.md §13): it consumes the group keys
   * and needs an append stream whose rows have their own times (no pending `window`).
   */
  private rollingStage(calls: RollingCall[], expr: TExpr, info: StreamInfo, scope: Scope, base: { span: A.Span; input: StreamInfo }) {
    const at = calls[0]!.span;
    if (info.upsertKeys) {
      this.report("E0313", { what: "a rolling aggregate or `lag`" }, at, { hint: "an unwindowed `agg` updates its rows: compute the rolling values before it, or window the `agg` and roll over its rows" });
      return undefined;
    }
    if (info.window && !info.window.carried) {
      this.report("E0351", {}, at, { notes: [{ message: "the window is assigned here", span: info.window.span }], hint: "remove the `window` stage: `over 5m` is a sliding range of its own" });
      return undefined;
    }
    const keys = this.consumeKeys(info, scope, "extend");
    if (!keys) return undefined;
    // Rows keep their time (and a carried window still describes them); the keys are consumed.
    const output: StreamInfo = { element: expr.type, sides: info.sides, window: info.window, arrivalTimeSource: info.arrivalTimeSource };
    return { stage: { ...base, kind: "rolling" as const, keys, calls, expr, output }, narrowed: new Set<string>() };
  }

  private windowSpec(s: Extract<A.Stage, { kind: "Window" }>): WindowInfo | undefined {
    const fn = s.fn.name as WindowInfo["kind"];
    const want = fn === "tumbling" || fn === "session" ? 1 : fn === "hop" ? 2 : -1;
    if (want < 0) {
      this.report("E0323", { name: fn }, s.fn.span, { label: didYouMean(fn, ["tumbling", "hop", "session"]), hint: "the windows are tumbling(SIZE), hop(SIZE, SLIDE) and session(GAP)" });
      return undefined;
    }
    if (s.args.length !== want) {
      this.report("E0208", { name: fn, expected: `${want} duration${want === 1 ? "" : "s"}`, actual: s.args.length }, s.span);
      return undefined;
    }
    const ds = s.args.map((a) => this.constDuration(a, `the ${fn} window's ${a === s.args[0] ? (fn === "session" ? "gap" : "size") : "slide"}`));
    if (ds.some((d) => d === undefined)) return undefined;
    for (let i = 0; i < ds.length; i++) {
      if (ds[i]! <= 0) {
        this.report("E0324", { window: fn, part: i === 0 ? (fn === "session" ? "gap" : "size") : "slide" }, s.args[i]!.span);
        return undefined;
      }
    }
    const size = ds[0]!, slide = ds[1] ?? size;
    if (fn === "hop" && slide > size) this.report("W0006", {}, s.args[1]!.span);
    return { kind: fn, size, slide, carried: false, span: s.span };
  }

  private select(s: Extract<A.Stage, { kind: "Select" }>, info: StreamInfo, ctx: ExprCtx, base: { span: A.Span; input: StreamInfo }) {
    const fields: { name: string; value: TExpr; span: A.Span }[] = [];
    const el = ctx.scope.bases[0]!.expr;
    const add = (name: string, value: TExpr, span: A.Span) => {
      if (fields.some((f) => f.name === name)) this.report("E0108", { name }, span, { hint: "give one of them another name with `name = …`" });
      else fields.push({ name, value, span });
    };
    for (const item of s.items) {
      if (item.kind === "SelectStar") {
        if (!item.alias) {
          if (info.sides) {
            this.report("E0211", { suggestion: info.sides.map((x) => `${x}.*`).join(", ") }, item.span, { hint: `write \`select ${info.sides.map((x) => `${x}.*`).join(", ")}\`` });
            continue;
          }
          if (info.element.kind !== "record") {
            this.report("E0321", { what: "`*`", type: typeToString(info.element) }, item.span);
            continue;
          }
          for (const f of info.element.fields) add(f.name, narrow({ kind: "get", object: el, field: f.name, type: f.type, span: item.span }, ctx.scope), item.span);
          continue;
        }
        const target = this.resolveName(item.alias, ctx);
        if (target.type.kind === "error") continue;
        const t = stripOptional(target.type);
        if (t.kind !== "record") {
          this.report("E0213", { type: typeToString(target.type) }, item.alias.span);
          continue;
        }
        for (const f of t.fields) {
          const ft = target.type.kind === "optional" ? T.optional(f.type) : f.type;
          add(f.name, narrow({ kind: "get", object: target, field: f.name, type: ft, span: item.span }, ctx.scope), item.span);
        }
        continue;
      }
      const value = this.expr(item.expr, ctx);
      const name = item.name?.name ?? pathName(item.expr);
      if (!name) {
        this.report("E0210", {}, item.expr.span, { hint: "write `name = …`" });
        continue;
      }
      add(name, value, item.name?.span ?? item.span);
    }
    const element = T.record(fields.map((f) => ({ name: f.name, type: f.value.type })));
    const expr: TExpr = { kind: "record", fields: fields.map(({ name, value }) => ({ name, value })), type: element, span: s.span };
    const output: StreamInfo = this.keysThrough({ ...info, element, sides: undefined }, fields, s.span);
    return { stage: { ...base, kind: "project" as const, expr, what: "select" as const, output }, narrowed: new Set<string>() };
  }

  /**
   * An updating stream keeps its key through a projection only when every key field is passed
   * on as the bare field (§13); otherwise it becomes an append stream of its upserts (warned).
   */
  private keysThrough(out: StreamInfo, fields: { name: string; value: TExpr }[] | undefined, span: A.Span): StreamInfo {
    if (!out.upsertKeys) return out;
    for (const key of out.upsertKeys) {
      const f = fields?.find((x) => x.name === key);
      const bare = f?.value.kind === "get" && f.value.field === key && f.value.object.kind === "var" && f.value.object.name === ELEMENT_REF;
      if (!bare) {
        this.report("W0011", { key }, span, { hint: `pass the key on unchanged (\`${key}\`), or put this stage after \`emit final\`'s table is what you want` });
        const { upsertKeys: _dropped, ...rest } = out;
        return rest;
      }
    }
    return out;
  }

  private unnest(s: Extract<A.Stage, { kind: "Unnest" }>, info: StreamInfo, ctx: ExprCtx, base: { span: A.Span; input: StreamInfo }) {
    if (s.field.kind !== "Name" || info.element.kind !== "record") {
      this.report("E0322", {}, s.field.span, { hint: "write `unnest tags as tag`" });
      return undefined;
    }
    const fieldName = s.field.name.name;
    const f = fieldOf(info.element, fieldName);
    if (!f) {
      this.report("E0201", { field: fieldName, type: typeToString(info.element) }, s.field.span, { label: didYouMean(fieldName, info.element.fields.map((x) => x.name)) });
      return undefined;
    }
    const t = stripOptional(narrow(this.expr(s.field, ctx), ctx.scope).type);
    if (t.kind !== "array") {
      this.report("E0216", { type: typeToString(f.type) }, s.field.span);
      return undefined;
    }
    const as = s.as?.name ?? fieldName;
    const fields = info.element.fields.flatMap((g) => (g.name === fieldName ? [{ name: as, type: t.element }] : g.name === as ? [] : [g]));
    const element = T.record(fields);
    return { stage: { ...base, kind: "unnest" as const, field: fieldName, as, elementType: t.element, output: { ...info, element, sides: undefined } }, narrowed: new Set<string>() };
  }

  private lookup(s: Extract<A.Stage, { kind: "Lookup" }>, info: StreamInfo, ctx: ExprCtx, base: { span: A.Span; input: StreamInfo }, narrowed: Set<string>) {
    const decl = this.streams.get(s.table.name);
    if (decl) this.used.add(s.table.name);
    const key = this.expr(s.on, ctx);
    if (!decl || decl.kind !== "table") {
      if (decl) this.report("E0315", { name: s.table.name }, s.table.span, { hint: "use `join` to combine two streams" });
      else if (!this.poisoned.has(s.table.name)) {
        const tables = [...this.streams.entries()].filter(([, v]) => v.kind === "table").map(([k]) => k);
        this.report("E0105", { name: s.table.name }, s.table.span, { label: didYouMean(s.table.name, tables) });
      }
      return undefined;
    }
    this.used.add(s.table.name);
    const table = this.tables.find((t) => t.name === s.table.name);
    if (!table) return undefined;
    const keyType = fieldOf(table.type, table.key)!.type;
    if (key.type.kind !== "error" && !assignable(stripOptional(key.type), stripOptional(keyType)) && !(isNumeric(stripOptional(key.type)) && isNumeric(keyType))) {
      this.report("E0202", { what: `the lookup key of \`${table.name}\``, expected: typeToString(keyType), actual: typeToString(key.type) }, s.on.span);
    }
    const alias = s.alias?.name ?? s.table.name;
    if (info.element.kind !== "record") {
      this.report("E0321", { what: "`lookup`", type: typeToString(info.element) }, s.span, { hint: "use `map { value: it }` first" });
      return undefined;
    }
    if (fieldOf(info.element, alias)) {
      this.report("E0318", { name: alias }, s.alias?.span ?? s.table.span, { hint: "give the table another alias with `as`" });
      return undefined;
    }
    const rowType = table.type;
    const element = T.record([...info.element.fields, { name: alias, type: T.optional(rowType) }], info.sides ? undefined : info.element.name);
    const output: StreamInfo = { ...info, element, sides: info.sides ? [...info.sides, alias] : undefined };
    return { stage: { ...base, kind: "lookup" as const, table: table.name, alias, key, rowType, output }, narrowed };
  }

  private agg(s: Extract<A.Stage, { kind: "Agg" }>, info: StreamInfo, ctx: ExprCtx, base: { span: A.Span; input: StreamInfo }) {
    if (info.upsertKeys) {
      // A sketch cannot forget a value: over an updating stream only exact aggregates work (§13).
      const sketch = findCall(s, "approx_count_distinct");
      if (sketch) {
        const first = sketch.args[0]?.value;
        const arg = first?.kind === "Name" ? first.name.name : "…";
        this.report("E0335", { name: "approx_count_distinct" }, sketch.span, { hint: `use \`count_distinct(${arg})\`, which keeps the values it counts` });
        return undefined;
      }
    }
    const keys = this.consumeKeys(info, ctx.scope, "agg");
    if (!keys) return undefined;
    const calls: AggCall[] = [];
    const keyScope: Scope = { bases: [], roots: new Map(), narrowed: new Set() };
    const items: { name: string; expr: TExpr }[] = [];
    const names = new Set<string>(keys.map((k) => k.name));
    if (info.window) {
      names.add("window_start");
      names.add("window_end");
    }
    for (const item of s.items) {
      const expr = this.expr(item.expr, { scope: ctx.scope, agg: { keys, calls, keyScope } });
      const name = item.name?.name ?? (item.expr.kind === "Name" ? item.expr.name.name : undefined);
      if (!name) {
        this.report("E0317", {}, item.expr.span, { hint: `write \`agg name = ${sourceHint(item.expr)}\`` });
        continue;
      }
      if (names.has(name)) this.report("E0108", { name }, item.name?.span ?? item.span, { hint: "agg rows already hold the window bounds and group keys under these names" });
      names.add(name);
      items.push({ name, expr });
    }
    const fields: Field[] = [];
    if (info.window) fields.push({ name: "window_start", type: T.time }, { name: "window_end", type: T.time });
    for (const k of keys) fields.push({ name: k.name, type: k.type });
    for (const i of items) fields.push({ name: i.name, type: i.expr.type });
    const element = T.record(fields);
    const output: StreamInfo = info.window ? { element, window: { ...info.window, carried: true } } : { element, upsertKeys: keys.map((k) => k.name) };
    // Re-aggregation (§13): count, sum and avg take a row back in constant space; the others
    // keep every row's contribution.
    const kept = calls.find((c) => retraction(c) !== "exact");
    if (info.upsertKeys && kept) this.report("W0010", { what: `re-aggregating with \`${kept.fn === "count_expr" ? "count" : kept.fn}\`` }, kept.span, { hint: "count, sum and avg of a non-optional value keep constant state per group" });
    return { stage: { ...base, kind: "agg" as const, window: info.window, keys, aggs: calls, items, output }, narrowed: new Set<string>() };
  }

  private joinStage(s: Extract<A.Stage, { kind: "Join" }>, info: StreamInfo, headName: string | undefined, base: { span: A.Span; input: StreamInfo }) {
    let other: TPipeline | undefined;
    let rightAlias = s.alias?.name;
    if (s.side.kind === "NameSide" && this.streams.get(s.side.name.name)?.kind === "table") {
      this.report("E0314", { name: s.side.name.name }, s.side.name.span, { hint: `write \`| lookup ${s.side.name.name} on <key expression>\`` });
      return undefined;
    }
    if (s.side.kind === "NameSide") {
      const r = this.streamRef(s.side.name);
      if (r) other = { head: r.head, stages: [], start: r.info, out: r.info, span: s.side.span };
      rightAlias ??= s.side.name.name;
    } else {
      other = this.pipeline(s.side.pipeline);
      if (!rightAlias) this.report("E0327", {}, s.side.span, { hint: "write `join (…) as name on …`" });
    }
    if (info.upsertKeys || other?.out.upsertKeys) {
      this.report("E0313", { what: "`join`" }, s.span);
      return undefined;
    }
    if (!other || !rightAlias || other.out.element.kind === "error") return undefined;
    const leftAlias = info.sides ? undefined : headName;
    if (!info.sides && !leftAlias) {
      this.report("E0328", {}, s.span, { hint: "name the pipeline: `(…) as name | join …`" });
      return undefined;
    }
    const leftSides = info.sides ?? [leftAlias!];
    if (leftSides.includes(rightAlias)) {
      this.report("E0318", { name: rightAlias }, s.alias?.span ?? s.side.span, { hint: `write \`join … as other_name\`` });
      return undefined;
    }
    // Scope of `on`: the left element is `l`, the right one `rt`.
    const l: TExpr = { kind: "var", name: LEFT_REF, type: info.element, span: s.span };
    const rt: TExpr = { kind: "var", name: RIGHT_REF, type: other.out.element, span: s.span };
    const onScope: Scope = { bases: [], roots: new Map(), narrowed: new Set() };
    if (info.sides && info.element.kind === "record") {
      for (const side of info.sides) {
        const t = fieldOf(info.element, side)!.type;
        const e: TExpr = { kind: "get", object: l, field: side, type: t, span: s.span };
        onScope.bases.push({ expr: e, label: side, side: true });
        onScope.roots.set(side, e);
      }
    } else {
      onScope.bases.push({ expr: l, label: leftAlias!, side: true });
      onScope.roots.set(leftAlias!, l);
    }
    onScope.bases.push({ expr: rt, label: rightAlias, side: true });
    onScope.roots.set(rightAlias, rt);
    const on = this.expr(s.on, { scope: onScope });
    if (on.type.kind !== "error" && stripOptional(on.type).kind !== "bool") this.report("E0203", { stage: "join … on", actual: typeToString(on.type) }, s.on.span);

    let mode: Extract<TStage, { kind: "join" }>["mode"];
    const lw = info.window, rw = other.out.window;
    // Unmatched rows are emitted once no match can come any more: that needs a bound (§13).
    if (s.joinKind !== "inner" && !s.within && !(lw && rw)) {
      this.report("E0332", { join: s.joinKind }, s.span, { hint: `bound it: \`${s.joinKind} join … on … within 0s .. 10m\`, or window both sides alike` });
      return undefined;
    }
    if (s.within) {
      const upper = this.constDuration(s.within.upper, "the `within` bound");
      const lower = s.within.lower ? this.constDuration(s.within.lower, "the `within` lower bound") : upper === undefined ? undefined : -upper;
      if (upper === undefined || lower === undefined) return undefined;
      if (!s.within.lower && upper < 0) this.report("E0329", {}, s.within.span);
      if (lower > upper) this.report("E0330", {}, s.within.span, { hint: "write `within -30s .. 0s` (lower first)" });
      mode = { kind: "interval", lower, upper };
    } else if (lw || rw) {
      if (!lw || !rw || lw.kind !== rw.kind || lw.size !== rw.size || lw.slide !== rw.slide) {
        this.report("E0305", { left: windowText(lw), right: windowText(rw) }, s.span, { hint: "window both sides with the same `window …` stage, or use `within` for an interval join" });
        return undefined;
      }
      if (lw.kind === "session") {
        this.report("E0312", { what: "a window join" }, s.span);
        return undefined;
      }
      mode = { kind: "window", window: lw };
    } else {
      this.report("W0001", {}, s.span, { hint: "add `within 10s` (an interval join) or window both sides" });
      mode = { kind: "unbounded" };
    }
    const joinKind = s.joinKind;
    const window = mode.kind === "window" ? { ...mode.window, carried: true } : undefined;
    if (joinKind === "semi" || joinKind === "anti") {
      // The left side's records themselves, fields bare as before the join (§13).
      const output: StreamInfo = { element: info.element, sides: info.sides, window };
      return { stage: { ...base, kind: "join" as const, joinKind, other, leftAlias, rightAlias, on, mode, output }, narrowed: new Set<string>() };
    }
    // The side an outer join may pad with null becomes optional: `s.carrier` is `string?`.
    const leftMissing = joinKind === "right" || joinKind === "full";
    const rightMissing = joinKind === "left" || joinKind === "full";
    const fields: Field[] = [];
    if (info.sides && info.element.kind === "record") {
      for (const side of info.sides) {
        const f = fieldOf(info.element, side)!;
        fields.push(leftMissing ? { ...f, type: T.optional(f.type) } : f);
      }
    } else fields.push({ name: leftAlias!, type: leftMissing ? T.optional(info.element) : info.element });
    fields.push({ name: rightAlias, type: rightMissing ? T.optional(other.out.element) : other.out.element });
    if (mode.kind === "window") fields.push({ name: "window_start", type: T.time }, { name: "window_end", type: T.time });
    const element = T.record(fields);
    const output: StreamInfo = { element, sides: [...leftSides, rightAlias], window };
    return { stage: { ...base, kind: "join" as const, joinKind, other, leftAlias, rightAlias, on, mode, output }, narrowed: new Set<string>() };
  }

  // ---- expressions ------------------------------------------------------------------------------

  private resolveName(id: A.Ident, ctx: ExprCtx): TExpr {
    const name = id.name;
    const { scope } = ctx;
    // Inside an agg item (not inside an aggregate): group keys and window bounds.
    if (ctx.agg && !ctx.inAggregate) {
      const k = ctx.agg.keys.findIndex((x) => x.name === name);
      if (k >= 0) return { kind: "keyRef", index: k, type: ctx.agg.keys[k]!.type, span: id.span };
      const bare = this.findBare(name, scope);
      if (bare.length > 0 || scope.roots.has(name)) {
        this.report("E0311", { name }, id.span, { hint: `aggregate it (e.g. \`first(${name})\`), or add it to \`group by\`` });
        return { kind: "lit", value: null, type: T.error, span: id.span };
      }
    }
    const bare = this.findBare(name, scope);
    if (bare.length === 1) return narrow(bare[0]!, scope);
    if (bare.length > 1) {
      const sides = scope.bases.filter((b) => b.side && fieldOf(stripOptional(b.expr.type), name)).map((b) => `\`${b.label}\``);
      this.report("E0212", { field: name, sides: sides.join(" and ") }, id.span, { hint: `write ${sides.map((s) => `${s.slice(0, -1)}.${name}\``).join(" or ")}` });
      return { kind: "lit", value: null, type: T.error, span: id.span };
    }
    const root = scope.roots.get(name);
    if (root) return narrow({ ...root, span: id.span }, scope);
    if (this.poisoned.has(name)) return { kind: "lit", value: null, type: T.error, span: id.span };
    // Unknown: say what it is not, and what it might be.
    const candidates = [...scope.bases.flatMap((b) => { const t = stripOptional(b.expr.type); return t.kind === "record" ? t.fields.map((f) => f.name) : []; }), ...scope.roots.keys()];
    if (ctx.agg) candidates.push(...ctx.agg.keys.map((k) => k.name));
    const guess = didYouMean(name, candidates);
    const s = this.streams.get(name);
    if (s && s.kind !== "emit") {
      this.report("E0220", { name }, id.span, { hint: s.kind === "table" ? `use \`lookup ${name} on …\`` : `use \`join ${name} on …\`` });
    } else if (scope.bases.length === 0) {
      this.report("E0106", { name }, id.span, { label: guess });
    } else {
      const elType = scope.bases[0]!.expr.type;
      const on = scope.bases.length > 1 && scope.bases.every((b) => b.side) ? scope.bases.map((b) => b.label).join(" or ") : typeToString(elType);
      this.report("E0201", { field: name, type: on }, id.span, { label: guess, hint: guess ? undefined : elType.kind === "record" && elType.fields.length <= 8 ? `the fields are ${elType.fields.map((f) => f.name).join(", ")}` : undefined });
    }
    return { kind: "lit", value: null, type: T.error, span: id.span };
  }

  private findBare(name: string, scope: Scope): TExpr[] {
    const own = scope.bases.filter((b) => !b.side);
    for (const b of own) {
      const t = stripOptional(b.expr.type);
      const f = fieldOf(t, name);
      if (f) return [{ kind: "get", object: b.expr, field: name, type: b.expr.type.kind === "optional" ? T.optional(f.type) : f.type, span: b.expr.span }];
    }
    const found: TExpr[] = [];
    for (const b of scope.bases.filter((x) => x.side)) {
      const t = stripOptional(b.expr.type);
      const f = fieldOf(t, name);
      if (f) found.push({ kind: "get", object: b.expr, field: name, type: b.expr.type.kind === "optional" ? T.optional(f.type) : f.type, span: b.expr.span });
    }
    return found;
  }

  private expr(e: A.Expr, ctx: ExprCtx): TExpr {
    const t = this.exprInner(e, ctx);
    return { ...t, span: e.span };
  }

  private err(span: A.Span): TExpr {
    return { kind: "lit", value: null, type: T.error, span };
  }

  private exprInner(e: A.Expr, ctx: ExprCtx): TExpr {
    const span = e.span;
    switch (e.kind) {
      case "Int":
        return { kind: "lit", value: e.value, type: T.int, span };
      case "Float":
        return { kind: "lit", value: e.value, type: T.float, span };
      case "String":
        return { kind: "lit", value: e.value, type: T.string, span };
      case "Bool":
        return { kind: "lit", value: e.value, type: T.bool, span };
      case "Null":
        return { kind: "lit", value: null, type: T.null, span };
      case "Duration":
        return { kind: "lit", value: e.ms, type: T.duration, span };
      case "Time":
        return { kind: "lit", value: e.ms, type: T.time, span };
      case "Name":
        return this.resolveName(e.name, ctx);
      case "Field": {
        const obj = this.expr(e.object, ctx);
        if (obj.type.kind === "error") return this.err(span);
        const t = stripOptional(obj.type);
        if (t.kind !== "record") {
          this.report("E0213", { type: typeToString(obj.type) }, e.object.span);
          return this.err(span);
        }
        const f = fieldOf(t, e.name.name);
        if (!f) {
          this.report("E0201", { field: e.name.name, type: typeToString(t) }, e.name.span, { label: didYouMean(e.name.name, t.fields.map((x) => x.name)) });
          return this.err(span);
        }
        const type = obj.type.kind === "optional" ? T.optional(f.type) : f.type;
        return narrow({ kind: "get", object: obj, field: f.name, type, span }, ctx.scope);
      }
      case "Index": {
        const obj = this.expr(e.object, ctx);
        const index = this.expr(e.index, ctx);
        if (obj.type.kind === "error" || index.type.kind === "error") return this.err(span);
        if (obj.type.kind === "optional") {
          this.report("E0205", { type: typeToString(obj.type), what: "this array" }, e.object.span, { hint: "unwrap it with `?? []` or filter with `where … != null`" });
          return this.err(span);
        }
        if (obj.type.kind !== "array") {
          this.report("E0214", { type: typeToString(obj.type) }, e.object.span);
          return this.err(span);
        }
        if (index.type.kind !== "int") {
          this.report("E0202", { what: "an index", expected: "int", actual: typeToString(index.type) }, e.index.span);
          return this.err(span);
        }
        return { kind: "index", object: obj, index, type: T.optional(obj.type.element), span };
      }
      case "Call":
        return this.call(e, ctx);
      case "Unary": {
        const operand = this.expr(e.operand, ctx);
        const t = operand.type;
        if (t.kind === "error") return this.err(span);
        if (e.op === "not") {
          if (t.kind !== "bool") {
            this.report("E0202", { what: "`not`", expected: "bool", actual: typeToString(t) }, e.operand.span);
            return this.err(span);
          }
          return { kind: "unary", op: "not", operand, type: T.bool, span };
        }
        if (isOptional(t)) {
          this.report("E0205", { type: typeToString(t), what: "this value" }, e.operand.span, { hint: "write `(x ?? 0)` or filter with `where x != null`" });
          return this.err(span);
        }
        if (!isNumeric(t) && t.kind !== "duration") {
          // Unary: said like `not` (E0204 is for two operands: "… to  and string").
          this.report("E0202", { what: "`-`", expected: "int, float or duration", actual: typeToString(t) }, e.operand.span);
          return this.err(span);
        }
        return { kind: "unary", op: "neg", operand, type: t, span };
      }
      case "Binary":
        return this.binary(e, ctx);
      case "In": {
        const value = this.expr(e.value, ctx);
        const list = this.expr(e.list, ctx);
        if (value.type.kind === "error" || list.type.kind === "error") return this.err(span);
        if (list.type.kind !== "array") {
          this.report("E0202", { what: "the right side of `in`", expected: "an array", actual: typeToString(list.type) }, e.list.span, { hint: 'write `x in ["a", "b"]`' });
          return this.err(span);
        }
        if (list.type.element.kind !== "null" && !comparable(value.type, list.type.element)) {
          this.report("E0206", { left: typeToString(value.type), right: typeToString(list.type.element) }, span);
          return this.err(span);
        }
        return { kind: "in", value, list, negated: e.negated, type: T.bool, span };
      }
      case "If": {
        const cond = this.expr(e.cond, ctx);
        if (cond.type.kind !== "error" && stripOptional(cond.type).kind !== "bool") this.report("E0203", { stage: "if", actual: typeToString(cond.type) }, e.cond.span);
        const thenScope = withNarrowed(ctx.scope, nonNullPaths(cond));
        const elseScope = withNarrowed(ctx.scope, nullPaths(cond));
        const th = this.expr(e.then, { ...ctx, scope: thenScope });
        const el = this.expr(e.else, { ...ctx, scope: elseScope });
        if (th.type.kind === "error" || el.type.kind === "error") return { kind: "if", cond, then: th, else: el, type: T.error, span };
        const type = join(th.type, el.type);
        if (!type) {
          this.report("E0215", { then: typeToString(th.type), else: typeToString(el.type) }, span);
          return this.err(span);
        }
        return { kind: "if", cond, then: th, else: el, type, span };
      }
      case "ArrayLit": {
        const elements = e.elements.map((x) => this.expr(x, ctx));
        // The first element gives the type (starting from `null` would make `[1, 2]` an `[int?]`).
        let type: Type = elements[0]?.type ?? T.null;
        for (let i = 1; i < elements.length; i++) {
          const j = join(type, elements[i]!.type);
          if (!j) {
            this.report("E0217", { first: typeToString(type), other: typeToString(elements[i]!.type) }, e.elements[i]!.span);
            return this.err(span);
          }
          type = j;
        }
        return { kind: "array", elements, type: T.array(type), span };
      }
      case "RecordLit": {
        const fields: { name: string; value: TExpr }[] = [];
        for (const f of e.fields) {
          if (fields.some((g) => g.name === f.name.name)) this.report("E0107", { name: f.name.name }, f.name.span);
          else fields.push({ name: f.name.name, value: this.expr(f.value, ctx) });
        }
        return { kind: "record", fields, type: T.record(fields.map((f) => ({ name: f.name, type: f.value.type }))), span };
      }
    }
  }

  private binary(e: Extract<A.Expr, { kind: "Binary" }>, ctx: ExprCtx): TExpr {
    const span = e.span;
    if (e.op === "and" || e.op === "or") {
      const left = this.expr(e.left, ctx);
      // `x != null and E`: x is non-null in E; `x == null or E`: likewise.
      const rightScope = withNarrowed(ctx.scope, e.op === "and" ? nonNullPaths(left) : nullPaths(left));
      const right = this.expr(e.right, { ...ctx, scope: rightScope });
      for (const [side, x] of [[e.left, left], [e.right, right]] as const) {
        if (x.type.kind !== "error" && stripOptional(x.type).kind !== "bool") {
          this.report("E0202", { what: `the operand of \`${e.op}\``, expected: "bool", actual: typeToString(x.type) }, side.span);
          return this.err(span);
        }
      }
      if (left.type.kind === "error" || right.type.kind === "error") return this.err(span);
      return { kind: "binary", op: e.op, left, right, type: T.bool, span };
    }
    const left = this.expr(e.left, ctx);
    const right = this.expr(e.right, ctx);
    const lt = left.type, rt = right.type;
    if (lt.kind === "error" || rt.kind === "error") return this.err(span);
    const mk = (op: BinOp, type: Type): TExpr => ({ kind: "binary", op, left, right, type, span });
    const opText = e.op;
    if (e.op === "??") {
      if (lt.kind === "null") return right;
      const type = join(stripOptional(lt), rt);
      if (!type) {
        this.report("E0204", { op: "??", left: typeToString(lt), right: typeToString(rt) }, e.opSpan, { hint: "the default must have the same type as the value" });
        return this.err(span);
      }
      return { kind: "coalesce", left, right, type: rt.kind === "optional" || rt.kind === "null" ? T.optional(type) : stripOptional(type), span };
    }
    if (e.op === "==" || e.op === "!=") {
      const a = stripOptional(lt), b = stripOptional(rt);
      for (const t of a.kind === "null" || b.kind === "null" ? [] : [a, b]) {
        if (t.kind === "record" || t.kind === "array") {
          this.report("E0207", { type: typeToString(t) }, e.opSpan, { hint: "compare their fields one by one" });
          return this.err(span);
        }
      }
      if (a.kind !== "null" && b.kind !== "null" && !comparable(a, b)) {
        this.report("E0206", { left: typeToString(lt), right: typeToString(rt) }, e.opSpan, { label: `${typeToString(lt)} ${opText} ${typeToString(rt)}` });
        return this.err(span);
      }
      return mk(e.op === "==" ? "eq" : "ne", T.bool);
    }
    const optionalOperand = (lt.kind === "optional" || lt.kind === "null") ? e.left : (rt.kind === "optional" || rt.kind === "null") ? e.right : undefined;
    if (optionalOperand) {
      const t = optionalOperand === e.left ? lt : rt;
      const what = pathName(optionalOperand) ? `\`${sourceHint(optionalOperand)}\`` : "this operand";
      this.report("E0205", { type: typeToString(t), what }, optionalOperand.span, {
        hint: `give a default with \`${sourceHint(optionalOperand)} ?? ${defaultFor(stripOptional(t))}\`, or filter with \`where ${sourceHint(optionalOperand)} != null\``,
      });
      return this.err(span);
    }
    if (["<", "<=", ">", ">="].includes(e.op)) {
      if (!isOrdered(lt) || !isOrdered(rt) || !comparable(lt, rt)) {
        this.report("E0206", { left: typeToString(lt), right: typeToString(rt) }, e.opSpan);
        return this.err(span);
      }
      return mk(({ "<": "lt", "<=": "le", ">": "gt", ">=": "ge" } as const)[e.op as "<"], T.bool);
    }
    const fail = (hint?: string) => {
      this.report("E0204", { op: opText, left: typeToString(lt), right: typeToString(rt) }, e.opSpan, { hint });
      return this.err(span);
    };
    const num = isNumeric(lt) && isNumeric(rt);
    const numType = lt.kind === "float" || rt.kind === "float" ? T.float : T.int;
    switch (e.op) {
      case "+":
        if (num) return mk("add", numType);
        if (lt.kind === "string" && rt.kind === "string") return mk("concat", T.string);
        if (lt.kind === "time" && rt.kind === "duration") return mk("add", T.time);
        if (lt.kind === "duration" && rt.kind === "time") return mk("add", T.time);
        if (lt.kind === "duration" && rt.kind === "duration") return mk("add", T.duration);
        if (lt.kind === "string" || rt.kind === "string") return fail("convert the other operand with `string(…)` to join strings");
        return fail();
      case "-":
        if (num) return mk("sub", numType);
        if (lt.kind === "time" && rt.kind === "time") return mk("sub", T.duration);
        if (lt.kind === "time" && rt.kind === "duration") return mk("sub", T.time);
        if (lt.kind === "duration" && rt.kind === "duration") return mk("sub", T.duration);
        return fail();
      case "*":
        if (num) return mk("mul", numType);
        if (lt.kind === "duration" && rt.kind === "int") return mk("mul", T.duration);
        if (lt.kind === "int" && rt.kind === "duration") return mk("mul", T.duration);
        if (lt.kind === "string" || rt.kind === "string") return fail(rt.kind === "string" && lt.kind !== "string" ? "remove the quotes to use a number" : undefined);
        return fail();
      case "/":
        if (num) return mk("div", T.float);
        if (lt.kind === "duration" && rt.kind === "duration") return mk("div", T.float);
        if (lt.kind === "int" && rt.kind === "int") return mk("div", T.float);
        return fail(lt.kind === "duration" && isNumeric(rt) ? "divide durations by durations" : undefined);
      case "%":
        if (num) return mk("mod", numType);
        if (lt.kind === "duration" && rt.kind === "duration") return mk("mod", T.duration);
        return fail();
    }
    return fail();
  }

  private call(e: Extract<A.Expr, { kind: "Call" }>, ctx: ExprCtx): TExpr {
    const name = e.callee.name;
    const span = e.span;
    for (const a of e.args) {
      if (a.name) {
        this.report("E0223", { name }, a.name.span);
        return this.err(span);
      }
    }
    if (e.over) return this.rollingAggregate(e, e.over, ctx);
    if (isAggregateCall(name, e.args.length)) return this.aggregateCall(e, ctx);
    // `lag` is a rolling built-in unless the program declares a function of that name.
    if (name === "lag" && !this.fnDecls.has(name) && !this.imported.has(name)) return this.lag(e, ctx);
    const userFn = this.fns.get(name);
    if (this.fnDecls.has(name)) {
      if (ctx.fn === name) {
        this.report("E0110", { name }, e.callee.span);
        return this.err(span);
      }
      const args = e.args.map((a) => this.expr(a.value, ctx));
      const fn = userFn ?? this.checkFnLazily(name);
      if (!fn) return this.err(span);
      if (fn.type.kind === "error" && fn.body.type.kind === "error") {
        // Either the body has an error (reported there) or this is mutual recursion.
        if (ctx.fn) this.report("E0110", { name }, e.callee.span);
        return this.err(span);
      }
      if (args.length !== fn.params.length) {
        this.report("E0208", { name, expected: `${fn.params.length} argument${fn.params.length === 1 ? "" : "s"}`, actual: args.length }, span);
        return this.err(span);
      }
      for (let i = 0; i < args.length; i++) {
        if (!assignable(args[i]!.type, fn.params[i]!.type)) {
          this.report("E0209", { name, index: i + 1, expected: typeToString(fn.params[i]!.type), actual: typeToString(args[i]!.type) }, e.args[i]!.span);
          return this.err(span);
        }
      }
      return { kind: "callFn", fn: name, args, type: fn.type, span };
    }
    if (this.imported.has(name)) {
      const args = e.args.map((a) => this.expr(a.value, ctx));
      const sig = this.externs.get(name);
      if (!sig) return this.err(span);
      if (args.length !== sig.params.length) {
        this.report("E0208", { name, expected: `${sig.params.length} argument${sig.params.length === 1 ? "" : "s"}`, actual: args.length }, span);
        return this.err(span);
      }
      for (let i = 0; i < args.length; i++) {
        if (!assignable(args[i]!.type, sig.params[i]!)) {
          this.report("E0209", { name, index: i + 1, expected: typeToString(sig.params[i]!), actual: typeToString(args[i]!.type) }, e.args[i]!.span);
          return this.err(span);
        }
      }
      return { kind: "callExtern", fn: name, args, type: sig.result, span };
    }
    const check = BUILTIN_SIGNATURES[name];
    if (!check) {
      if (this.poisoned.has(name)) return this.err(span);
      const guess = closest(name, [...Object.keys(BUILTIN_SIGNATURES), ...AGGREGATES, "lag", ...this.fnDecls.keys(), ...this.imported]);
      this.report("E0104", { name }, e.callee.span, { label: guess ? `did you mean \`${guess}\`?` : undefined });
      return this.err(span);
    }
    const args = e.args.map((a) => this.expr(a.value, ctx));
    if (args.some((a) => a.type.kind === "error")) return this.err(span);
    if (!NULL_TOLERANT.has(name)) {
      for (let i = 0; i < args.length; i++) {
        const t = args[i]!.type;
        if (t.kind === "optional" || t.kind === "null") {
          this.report("E0205", { type: typeToString(t), what: `argument ${i + 1} of \`${name}\`` }, e.args[i]!.span, { hint: `give a default with \`${sourceHint(e.args[i]!.value)} ?? ${defaultFor(stripOptional(t))}\`, or filter with \`where … != null\`` });
          return this.err(span);
        }
      }
    }
    const r = check(args.map((a) => a.type));
    if ("error" in r) {
      if (r.error === "arity") this.report("E0208", { name, expected: r.expected, actual: args.length }, span);
      else this.report("E0209", { name, index: r.index + 1, expected: r.expected, actual: typeToString(args[r.index]!.type) }, e.args[r.index]!.span);
      return this.err(span);
    }
    // Constant regexes are checked now rather than failing on the first record.
    if ((name === "matches" || name === "regex_extract") && args[1]!.kind === "lit" && typeof args[1]!.value === "string") {
      try {
        new RegExp(args[1]!.value);
      } catch (err) {
        this.report("E0224", { pattern: args[1]!.value, reason: (err as Error).message.replace(/^Invalid regular expression: \/[\s\S]*\/[a-z]*: /, "") }, e.args[1]!.span);
        return this.err(span);
      }
    }
    return { kind: "call", fn: name, args, type: r.type, span };
  }

  private checkFnLazily(name: string): TFn | undefined {
    const d = this.fnDecls.get(name);
    if (!d) return undefined;
    if (!this.fns.has(name)) this.checkFn(d);
    return this.fns.get(name);
  }

  private aggregateCall(e: Extract<A.Expr, { kind: "Call" }>, ctx: ExprCtx): TExpr {
    const name = e.callee.name;
    const span = e.span;
    if (ctx.inAggregate) {
      this.report("E0302", { name: ctx.inAggregate }, e.span);
      return this.err(span);
    }
    if (!ctx.agg) {
      const hint = ctx.rolling
        ? `a rolling aggregate in \`extend\` needs a range: \`${sourceHint(e)} over 5m\` or \`${sourceHint(e)} over 10 rows\``
        : `compute it in an \`agg\` stage: \`| agg total = ${sourceHint(e)}\``;
      this.report("E0301", { name }, e.callee.span, { hint: hint + (name === "min" || name === "max" ? `; \`${name}(a, b)\` with two arguments is the scalar ${name}` : "") });
      return this.err(span);
    }
    const r = this.aggregateArgs(e, ctx);
    if (!r) return this.err(span);
    const calls = ctx.agg.calls;
    calls.push({ ...r, span });
    return { kind: "aggRef", index: calls.length - 1, type: r.type, span };
  }

  /** The checked arguments of aggregate call `e` (arity, percentile's p, the inputs' types) and its type. */
  private aggregateArgs(e: Extract<A.Expr, { kind: "Call" }>, ctx: ExprCtx): Omit<AggCall, "span"> | undefined {
    const name = e.callee.name;
    const span = e.span;
    const argCtx: ExprCtx = { scope: ctx.scope, inAggregate: name };
    const [lo, hi] = aggregateArity(name);
    if (e.args.length < lo || e.args.length > hi) {
      this.report("E0208", { name, expected: lo === hi ? `${lo} argument${lo === 1 ? "" : "s"}` : `${lo} or ${hi} arguments`, actual: e.args.length }, span);
      return undefined;
    }
    let fn = name as AggFn;
    let param: number | undefined;
    let args: TExpr[];
    if (name === "count" && e.args.length === 1) fn = "count_expr";
    if (name === "percentile") {
      args = [this.expr(e.args[0]!.value, argCtx)];
      const p = e.args[1]!.value;
      const pv = p.kind === "Float" || p.kind === "Int" ? p.value : undefined;
      if (pv === undefined || pv < 0 || pv > 1) {
        this.report("E0331", {}, p.span, { label: "for the median write 0.5" });
        return undefined;
      }
      param = pv;
    } else args = e.args.map((a) => this.expr(a.value, argCtx));
    if (args.some((a) => a.type.kind === "error")) return undefined;
    const r = aggregateType(fn, args.map((a) => a.type));
    if ("error" in r) {
      this.report("E0316", { name, type: r.error }, e.args[r.index]!.span, { hint: name === "sum" || name === "avg" ? "sum and avg take int or float" : "this aggregate needs an int, float, string, time or duration" });
      return undefined;
    }
    if (r.type.kind === "error") return undefined;
    return { fn, args, param, type: r.type };
  }

  /** `AGG(e) over 5m` / `over N rows` in an `extend` (LANGUAGE.md §13). */
  private rollingAggregate(e: Extract<A.Expr, { kind: "Call" }>, over: A.Over, ctx: ExprCtx): TExpr {
    const name = e.callee.name;
    const span = e.span;
    if (ctx.inAggregate) {
      this.report("E0302", { name: ctx.inAggregate }, span);
      return this.err(span);
    }
    if (!ctx.rolling) {
      this.report("E0350", { what: "a rolling aggregate (`over`)" }, over.span, { hint: `compute it in an \`extend\` stage: \`| extend x = ${sourceHint(e)} ${overHint(over)}\`` });
      return this.err(span);
    }
    if (!isAggregateCall(name, e.args.length)) {
      const hint =
        name === "lag" ? "`lag(e, n)` reads the n-th previous record of the key: drop `over`"
        : AGGREGATES.has(name) ? `with ${e.args.length} arguments \`${name}\` is the scalar function; the aggregate takes one: \`${name}(v) ${overHint(over)}\``
        : `the aggregates are ${[...AGGREGATES].filter((a) => ROLLING_AGGREGATES.has(a)).join(", ")}`;
      this.report("E0354", { name }, over.span, { hint });
      return this.err(span);
    }
    if (!ROLLING_AGGREGATES.has(name)) {
      this.report("E0352", { name }, e.callee.span, { hint: name === "approx_count_distinct" ? `a sketch cannot forget the values that leave the range: use \`count_distinct(${e.args[0] ? sourceHint(e.args[0].value) : "…"})\`` : `over a range use one of ${[...ROLLING_AGGREGATES].join(", ")}` });
      return this.err(span);
    }
    const frame = this.rollingFrame(over);
    const r = this.aggregateArgs(e, ctx);
    if (!r || !frame) return this.err(span);
    return rollingRef(ctx.rolling.calls, { ...r, frame, span });
  }

  private rollingFrame(over: A.Over): RollingFrame | undefined {
    const size = over.size;
    if (over.rows && size.kind === "Int" && size.value > 0) return { kind: "rows", n: size.value };
    if (!over.rows && size.kind === "Duration" && size.ms > 0) return { kind: "range", ms: size.ms };
    const hint = !over.rows && size.kind === "Int" ? `write \`over ${size.value} rows\` for the last ${size.value} records, or a duration such as \`over 5m\`` : undefined;
    this.report("E0353", {}, size.span, { label: over.rows ? "expected a positive integer literal" : "expected a positive duration literal such as `5m`", hint });
    return undefined;
  }

  /** `lag(e, n?)`: e of the key's n-th previous record (optional: null when there is none). */
  private lag(e: Extract<A.Expr, { kind: "Call" }>, ctx: ExprCtx): TExpr {
    const span = e.span;
    if (ctx.inAggregate) {
      this.report("E0302", { name: ctx.inAggregate }, span);
      return this.err(span);
    }
    if (!ctx.rolling) {
      this.report("E0350", { what: "`lag`" }, e.callee.span, { hint: "use it in an `extend` stage: `| group by sensor | extend prev = lag(v)`" });
      return this.err(span);
    }
    if (e.args.length < 1 || e.args.length > 2) {
      this.report("E0208", { name: "lag", expected: "1 or 2 arguments", actual: e.args.length }, span);
      return this.err(span);
    }
    let n = 1;
    const nArg = e.args[1]?.value;
    if (nArg) {
      if (nArg.kind === "Int" && nArg.value > 0) n = nArg.value;
      else {
        this.report("E0219", { what: "the offset of `lag`" }, nArg.span, { label: "expected a positive integer literal" });
        return this.err(span);
      }
    }
    const value = this.expr(e.args[0]!.value, { scope: ctx.scope, inAggregate: "lag" });
    if (value.type.kind === "error") return this.err(span);
    return rollingRef(ctx.rolling.calls, { fn: "lag", args: [value], param: n, type: T.optional(value.type), span });
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

/**
 * The aggregates a rolling `extend` computes exactly as records enter and leave the range
 * (runtime/src/ops/rolling.ts); approx_count_distinct's sketch cannot forget a value.
 */
const ROLLING_AGGREGATES: ReadonlySet<string> = new Set(["count", "sum", "avg", "min", "max", "first", "last", "count_distinct", "percentile", "collect", "max_by", "min_by"]);

/**
 * The reference to rolling call `call`, added to `calls` unless the same computation is there
 * already (`prev = lag(v), jump = v - (lag(v) ?? v)` computes lag(v) once).
 */
function rollingRef(calls: RollingCall[], call: RollingCall): TExpr {
  const text = (c: RollingCall) => JSON.stringify([c.fn, c.param, c.frame, c.args], (k, v: unknown) => (k === "span" ? undefined : v));
  const key = text(call);
  let index = calls.findIndex((c) => text(c) === key);
  if (index < 0) index = calls.push(call) - 1;
  return { kind: "aggRef", index, type: call.type, span: call.span };
}

/** `over 5m` / `over 10 rows` as written (from the literal), for hints. */
function overHint(over: A.Over): string {
  const size = over.size;
  if (size.kind === "Int") return `over ${size.value}${over.rows ? " rows" : ""}`;
  if (size.kind !== "Duration" || size.ms <= 0) return over.rows ? "over 10 rows" : "over 5m";
  const units: [number, string][] = [[86_400_000, "d"], [3_600_000, "h"], [60_000, "m"], [1000, "s"], [1, "ms"]];
  const [ms, unit] = units.find(([u]) => size.ms % u === 0)!;
  return `over ${size.ms / ms}${unit}`;
}

/** The output name of a select item written as a field path: its last field. */
function pathName(e: A.Expr): string | undefined {
  if (e.kind === "Name") return e.name.name;
  if (e.kind === "Field") return pathName(e.object) !== undefined ? e.name.name : undefined;
  return undefined;
}

function sourceHint(e: A.Expr): string {
  switch (e.kind) {
    case "Name":
      return e.name.name;
    case "Field":
      return `${sourceHint(e.object)}.${e.name.name}`;
    case "Call":
      return `${e.callee.name}(${e.args.map((a) => sourceHint(a.value)).join(", ")})`;
    case "Int":
    case "Float":
      return String(e.value);
    case "String":
      return JSON.stringify(e.value);
    default:
      return "…";
  }
}

function defaultFor(t: Type): string {
  switch (t.kind) {
    case "int":
      return "0";
    case "float":
      return "0.0";
    case "string":
      return '""';
    case "bool":
      return "false";
    case "duration":
      return "0s";
    case "array":
      return "[]";
    default:
      return "…";
  }
}

function comparable(a: Type, b: Type): boolean {
  a = stripOptional(a);
  b = stripOptional(b);
  if (isNumeric(a) && isNumeric(b)) return true;
  return a.kind === b.kind && (a.kind !== "record" && a.kind !== "array");
}

function windowText(w: WindowInfo | undefined): string {
  if (!w) return "no window";
  const d = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  return w.kind === "hop" ? `hop(${d(w.size)}, ${d(w.slide)})` : `${w.kind}(${d(w.size)})`;
}

/**
 * Paths known non-null when `cond` evaluates to `when`: `x != null` (true), `x == null` (false),
 * through `and` (true) / `or` (false) and `not`.
 */
function narrowedPaths(cond: TExpr, when: boolean): string[] {
  const [joiner, test] = when ? (["and", "ne"] as const) : (["or", "eq"] as const);
  if (cond.kind === "binary" && cond.op === joiner) return [...narrowedPaths(cond.left, when), ...narrowedPaths(cond.right, when)];
  if (cond.kind === "binary" && cond.op === test) {
    const isNull = (x: TExpr) => x.kind === "lit" && x.value === null;
    const p = isNull(cond.right) ? canonicalPath(cond.left) : isNull(cond.left) ? canonicalPath(cond.right) : undefined;
    return p ? [p] : [];
  }
  if (cond.kind === "unary" && cond.op === "not") return narrowedPaths(cond.operand, !when);
  return [];
}

/** Paths that are non-null when `cond` is true. */
export const nonNullPaths = (cond: TExpr): string[] => narrowedPaths(cond, true);
/** Paths that are non-null when `cond` is false. */
export const nullPaths = (cond: TExpr): string[] => narrowedPaths(cond, false);

export type { RecordT };

/** The first call of `name` anywhere inside an AST node (an agg stage's items), if any. */
function findCall(node: unknown, name: string): A.Call | undefined {
  if (node === null || typeof node !== "object") return undefined;
  const n = node as { kind?: string; callee?: { name: string } };
  if (n.kind === "Call" && n.callee?.name === name) return node as A.Call;
  for (const v of Object.values(node)) {
    const found = Array.isArray(v) ? v.map((x) => findCall(x, name)).find((x) => x) : findCall(v, name);
    if (found) return found;
  }
  return undefined;
}
