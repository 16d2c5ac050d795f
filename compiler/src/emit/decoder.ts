// Generated input decoders: one function per file/stdin source, specialised to its record type
// and to the fields the program reads (LANGUAGE.md §6 "Input records"; runtime/src/io/fast-*.ts).
//
// A JSONL decoder walks one line's bytes through a `JsonCursor`: a `switch` over the declared
// keys converts the kept fields straight from the bytes, validates the others in place and skips
// undeclared ones. A CSV decoder does the same over the cells of a line without quotes, with the
// column of each field found from the header at run time. Both return `undefined` whenever they
// are unsure (bad value, missing field, escapes, quoted cells ...): the runtime then decodes that
// line the general way, which also writes the precise bad-record message. So a generated decoder
// changes speed, never results.
import type { RecordT, Type } from "../check/types";
import { localName } from "./types";
import * as J from "./js/ast";
import { isIdentifier, printDecl } from "./js/print";

export interface DecoderContext {
  /** `file:line` of the source declaration, for the doc comment. */
  where: string;
  /** The TypeScript type of the records the decoder returns (the kept fields). */
  recordType: string;
  /** TypeScript type text of a Flow type. */
  ts(t: Type): string;
  /** The Schema of a Flow type, as an expression (for nested values decoded with makeDecoder). */
  schema(t: Type): J.Expr;
  /** Emit JavaScript (no annotations). */
  js: boolean;
}

export interface GeneratedDecoders {
  /** Module-level code: constants and functions. */
  code: string;
  /** Names the code imports from the runtime. */
  imports: string[];
  /** Names the code imports as types only. */
  typeImports: string[];
  /** The object literal for `SourceSpec.decode`. */
  spec: J.Expr;
  /** The decoder of JavaScript values, when there is one: its function name. */
  value?: string;
}

/** Field names a plain object literal cannot carry as own data properties the simple way. */
const awkward = (name: string) => name === "__proto__";

/**
 * Decoders for a source of record type `type`, materialising `keep` (all fields when undefined).
 * `base` is a camelCase name for the generated functions. Returns undefined when the type is
 * not a record or has a field the generated code does not handle (the general path is used).
 */
export function emitSourceDecoders(base: string, type: Type, keep: readonly string[] | undefined, formats: { jsonl: boolean; csv: boolean }, cx: DecoderContext): GeneratedDecoders | undefined {
  if (type.kind !== "record" || type.fields.length === 0 || type.fields.some((f) => awkward(f.name))) return undefined;
  const parts: string[] = [];
  const imports = new Set<string>();
  const typeImports = new Set<string>();
  const spec: J.Prop[] = [];
  if (formats.jsonl) {
    parts.push(jsonlDecoder(base, type, keep, cx, imports, typeImports));
    spec.push(J.prop("jsonl", J.id(`${base}Jsonl`)));
  }
  if (formats.csv) {
    parts.push(csvDecoder(base, type, keep, cx, imports, typeImports));
    spec.push(J.prop("csv", J.id(`${base}Csv`)));
  }
  const value = valueDecoder(base, type, keep, cx);
  if (value) {
    parts.push(value);
    spec.push(J.prop("value", J.id(`${base}Value`)));
  }
  const d: GeneratedDecoders = { code: parts.join("\n\n"), imports: [...imports].sort(), typeImports: [...typeImports].sort(), spec: J.object(spec) };
  if (value) d.value = `${base}Value`;
  return d;
}

interface Slot {
  name: string;
  type: Type;
  kept: boolean;
  local: string;
  optional: boolean;
  inner: Type;
}

/** Prints the module-level declarations of one decoder (its constants, then its function). */
function printDecls(decls: J.Decl[], cx: DecoderContext): string {
  return decls.map((d) => printDecl(d, { types: !cx.js })).filter((x) => x !== undefined).join("\n");
}

const C = J.id("c");
/** `c.name(args)`: a call on the cursor. */
const cursor = (name: string, args: J.Expr[] = []): J.Expr => J.callMethod(C, name, args);

/**
 * The cursor call reading a scalar field (shared by the JSONL and CSV decoders); a kept string
 * goes through an interning table. Undefined for arrays and records.
 */
function scalarRead(s: Slot, base: string, imports: Set<string>, consts: J.Decl[], skipString: string): J.Expr | undefined {
  switch (s.inner.kind) {
    case "int":
      return cursor("int");
    case "float":
    case "duration":
      return cursor("float");
    case "bool":
      return cursor("bool");
    case "time":
      return cursor("time");
    case "string": {
      if (!s.kept) return cursor(skipString);
      const table = `${constName(base)}_${constName(s.name)}`;
      imports.add("StringTable");
      consts.push({ kind: "const", name: table, init: J.newExpr(J.id("StringTable")) });
      return cursor("str", [J.id(table)]);
    }
    default:
      return undefined;
  }
}

function slots(type: RecordT, keep: readonly string[] | undefined, taken: Set<string>): Slot[] {
  return type.fields.map((f) => {
    const kept = keep === undefined || keep.includes(f.name);
    const optional = f.type.kind === "optional";
    const inner = f.type.kind === "optional" ? f.type.inner : f.type;
    return { name: f.name, type: f.type, kept, local: kept ? localName(f.name, taken) : "", optional, inner };
  });
}

/** `seen` masks: 30 required fields per variable. */
function masks(required: number): { vars: string[]; bit: (i: number) => [string, number]; full: J.Expr[] } {
  const n = Math.max(1, Math.ceil(required / 30));
  const vars = Array.from({ length: n }, (_, i) => (i === 0 ? "seen" : `seen${i + 1}`));
  const full = vars.map((v, i) => J.binary("===", J.id(v), J.num(2 ** Math.min(30, required - i * 30) - 1)));
  return { vars, bit: (i) => [vars[Math.floor(i / 30)]!, 2 ** (i % 30)], full };
}

/** The record built from the kept fields' locals. */
function resultLiteral(ss: Slot[]): J.Expr {
  return J.object(ss.filter((s) => s.kept).map((s): J.Prop => (isIdentifier(s.name) && s.name === s.local ? { kind: "shorthand", name: s.name } : J.prop(s.name, J.id(s.local)))));
}

/** `local = read;`, `local = test() ? null : read;` (optional), `read;` / `if (!test()) read;` (not kept). */
function readStmt(s: Slot, read: J.Expr, nullTest: string): J.Stmt {
  const isNull = cursor(nullTest);
  if (s.kept) return J.exprStmt(J.assign(J.id(s.local), s.optional ? J.cond(isNull, J.NULL, read) : read));
  return s.optional ? J.ifStmt(J.not(isNull), J.exprStmt(read)) : J.exprStmt(read);
}

/** `case i: stmt … break; // name: type` — one field of a decoder's switch. */
function fieldCase(i: number, s: Slot, stmts: J.Stmt[]): J.Case {
  const note = `${s.name}: ${typeText(s.type)}${s.kept ? "" : " (validated, not kept)"}`;
  return { test: J.num(i), body: [...stmts, J.trailing(J.breakStmt(), note)], inline: true };
}

/**
 * The statements consuming `text` (a key with its punctuation, e.g. `,"price":`) at the cursor,
 * leaving the block `inOrder` when it is not there. Short texts are compared byte by byte against
 * constants (what V8 does fastest); long ones through `c.lit(layout)`.
 */
function layoutStep(text: string, layout: J.Expr): J.Stmt[] {
  const bytes = new TextEncoder().encode(text);
  const leave = J.breakStmt("inOrder");
  if (bytes.length > 24) return [J.ifStmt(J.not(cursor("lit", [layout])), leave)];
  const p = J.id("p"), b = J.id("b");
  const at = (j: number) => J.index(b, j === 0 ? p : J.binary("+", p, J.num(j)));
  const same = [...bytes].map((x, j) => J.binary("===", at(j), J.num(x)));
  const end = J.binary("+", p, J.num(bytes.length));
  return [J.block([
    J.trailing(J.constDecl("p", J.member(C, "p")), text),
    J.ifStmt(J.not(J.paren(J.chain("&&", [J.binary("<=", end, J.member(C, "e")), ...same]))), leave),
    J.exprStmt(J.assign(J.member(C, "p"), end)),
  ])];
}

function jsonlDecoder(base: string, type: RecordT, keep: readonly string[] | undefined, cx: DecoderContext, imports: Set<string>, typeImports: Set<string>): string {
  const taken = new Set(["c", "seen", "undefined", "b", "p", "start"]);
  const ss = slots(type, keep, taken);
  const KEYS = `${constName(base)}_KEYS`;
  imports.add("JsonKeys");
  typeImports.add("JsonCursor");
  const consts: J.Decl[] = [{ kind: "const", name: KEYS, init: J.newExpr(J.id("JsonKeys"), [J.json(ss.map((s) => s.name))]) }];
  const required = ss.filter((s) => !s.optional);
  const m = masks(required.length);
  const cases: J.Case[] = [];
  const inOrder: J.Stmt[] = [J.constDecl("b", J.member(C, "b"))];
  ss.forEach((s, i) => {
    let read = scalarRead(s, base, imports, consts, "skipStr");
    if (read === undefined) {
      // Arrays and records: their JSON text is parsed and converted (also when not kept: the
      // elements' types must still be checked).
      imports.add("makeDecoder");
      const conv = `${constName(base)}_${constName(s.name)}_VALUE`;
      consts.push({ kind: "const", name: conv, init: J.call(J.id("makeDecoder"), [cx.schema(s.inner)]) });
      read = cursor("json", [J.id(conv)]);
    }
    const stmt = readStmt(s, read, "isNull");
    inOrder.push(...layoutStep(`${i === 0 ? "{" : ","}${JSON.stringify(s.name)}:`, J.nonNull(J.index(J.member(J.id(KEYS), "layout"), J.num(i)))), stmt);
    const mark: J.Stmt[] = [];
    if (!s.optional) {
      const [v, bit] = m.bit(required.indexOf(s));
      mark.push(J.exprStmt(J.assign(J.id(v), J.num(bit), "|=")));
    }
    cases.push(fieldCase(i, s, [stmt, ...mark]));
  });
  const kept = ss.filter((s) => s.kept);
  const dropped = ss.filter((s) => !s.kept);
  const reads = `${cx.where} — JSONL decoder of ${type.name ?? "the source's records"}: reads ${kept.map((s) => s.name).join(", ") || "no field"} from the bytes`;
  const general = ["`undefined` sends the line", "down the general path (JSON.parse + makeDecoder), which also reports bad records."];
  const doc = dropped.length
    ? [`${reads};`, `${dropped.map((s) => s.name).join(", ")} ${dropped.length === 1 ? "is" : "are"} validated and dropped. ${general[0]}`, general[1]!]
    : [`${reads}. ${general[0]}`, general[1]!];
  const locals: J.Declarator[] = [...kept.map((s) => ({ name: s.local, type: cx.ts(s.type), ...(s.optional ? { init: J.NULL } : { definite: true }) })), ...m.vars.map((v) => ({ name: v, init: J.num(0) }))];
  const start = J.id("start");
  const body: J.Stmt[] = [
    { kind: "decls", decl: "let", items: locals },
    J.comment("Most lines hold the declared fields in declared order without spaces: read them straight."),
    J.constDecl("start", J.member(C, "p")),
    J.labelled("inOrder", J.block([...inOrder, J.ifStmt(cursor("close"), J.ret(resultLiteral(ss)))])),
    J.exprStmt(cursor("reset", [J.member(C, "b"), start, J.member(C, "e")])),
    J.ifStmt(J.not(cursor("begin")), J.ret(J.UNDEFINED)),
    J.whileStmt(cursor("more"), J.block([J.switchStmt(cursor("key", [J.id(KEYS)]), [
      ...cases,
      { test: J.num(-1), body: [J.exprStmt(cursor("skip")), J.trailing(J.breakStmt(), "a field the type does not declare")], inline: true },
      { body: [J.ret(J.UNDEFINED)], inline: true },
    ])])),
    J.ret(J.cond(J.chain("&&", [...m.full, cursor("end")]), resultLiteral(ss), J.UNDEFINED)),
  ];
  const fn: J.Decl = { kind: "function", name: `${base}Jsonl`, params: [J.param("c", "JsonCursor")], ret: `${cx.recordType} | undefined`, body, doc };
  return printDecls([...consts, fn], cx);
}

function csvDecoder(base: string, type: RecordT, keep: readonly string[] | undefined, cx: DecoderContext, imports: Set<string>, typeImports: Set<string>): string {
  const taken = new Set(["c", "col", "undefined"]);
  const ss = slots(type, keep, taken);
  imports.add("CsvColumns");
  typeImports.add("CsvCursor");
  const COLS = `${constName(base)}_COLUMNS`;
  const consts: J.Decl[] = [{ kind: "const", name: COLS, init: J.newExpr(J.id("CsvColumns"), [J.json(ss.map((s) => s.name)), J.json(ss.map((s) => s.optional))]) }];
  const cases: J.Case[] = [];
  ss.forEach((s, i) => {
    // JSON in a cell (arrays, records): only via the general path.
    const read = scalarRead(s, base, imports, consts, "skip") ?? cursor("fail");
    // An empty unquoted cell: "" in a string column, null in an optional one (not kept: skipped).
    const stmt = s.inner.kind === "string" && !s.kept ? J.exprStmt(read) : readStmt(s, read, "empty");
    cases.push(fieldCase(i, s, [stmt]));
  });
  const kept = ss.filter((s) => s.kept);
  const doc = [
    `${cx.where} — CSV decoder of ${type.name ?? "the source's records"} for lines without quotes: converts ${kept.map((s) => s.name).join(", ") || "no field"}`,
    "from the bytes (columns found by the header). `undefined` sends the line down the general path.",
  ];
  const locals: J.Declarator[] = kept.map((s) => ({ name: s.local, type: `${cx.ts(s.type)}${s.optional ? "" : " | undefined"}`, init: s.optional ? J.NULL : J.UNDEFINED }));
  const value = (s: Slot) => (s.optional ? J.id(s.local) : J.nonNull(J.id(s.local)));
  const ret = J.object(kept.map((s) => J.prop(s.name, value(s))));
  const fields = J.id("fields"), col = J.id("col");
  // Fields without a column: optional ones stay null, a required one makes the header unusable.
  const body: J.Stmt[] = [
    ...(locals.length ? [{ kind: "decls" as const, decl: "let" as const, items: locals }] : []),
    J.constDecl("fields", cursor("fieldsOf", [J.id(COLS)])),
    J.trailing(J.ifStmt(J.binary("===", fields, J.UNDEFINED), J.ret(J.UNDEFINED)), "a required column is missing"),
    J.forStmt(J.letDecl("col", J.num(0)), J.binary("<", col, J.member(fields, "length")), J.update("++", col), J.block([
      J.switchStmt(J.index(fields, col), [...cases, { body: [J.trailing(J.exprStmt(cursor("skip")), "a column the type does not declare")], inline: true }]),
      J.ifStmt(J.not(cursor("next", [J.binary("===", J.binary("+", col, J.num(1)), J.member(fields, "length"))])), J.ret(J.UNDEFINED)),
    ])),
    J.ret(J.cond(J.member(C, "ok"), ret, J.UNDEFINED)),
  ];
  const fn: J.Decl = { kind: "function", name: `${base}Csv`, params: [J.param("c", "CsvCursor")], ret: `${cx.recordType} | undefined`, body, doc };
  return printDecls([...consts, fn], cx);
}

/** Names a plain object inherits: the general decoder reads them as own properties only. */
const INHERITED = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * A decoder for JavaScript values of the record type (iterable sources, `sourceOverrides`):
 * checks each field's type inline and builds the record as one literal. Scalars only; types
 * with nested arrays or records use the general decoder alone.
 */
function valueDecoder(base: string, type: RecordT, keep: readonly string[] | undefined, cx: DecoderContext): string | undefined {
  const scalar = (t: Type): boolean => ["int", "float", "duration", "bool", "string", "time"].includes(t.kind);
  if (type.fields.some((f) => INHERITED.has(f.name) || !scalar(f.type.kind === "optional" ? f.type.inner : f.type))) return undefined;
  const taken = new Set(["v", "o", "undefined", "Number"]);
  const ss = type.fields.map((f) => ({ ...f, local: localName(f.name, taken), kept: keep === undefined || keep.includes(f.name) }));
  const num = (name: string, x: J.Expr) => J.callMethod(J.id("Number"), name, [x]);
  const typeOf = (x: J.Expr, t: string) => J.binary("===", J.unary("typeof", x), J.str(t));
  const check = (x: J.Expr, t: Type): J.Expr => {
    switch (t.kind) {
      case "int":
        return J.binary("&&", typeOf(x, "number"), num("isSafeInteger", x));
      case "float":
      case "duration":
        return J.binary("&&", typeOf(x, "number"), num("isFinite", x));
      case "time":
        // epoch ms as an integer; anything else (ISO text, Date, fractions) the general way
        return J.chain("&&", [typeOf(x, "number"), num("isInteger", x), J.binary(">=", x, J.num(-8.64e15)), J.binary("<=", x, J.num(8.64e15))]);
      case "bool":
        return typeOf(x, "boolean");
      default:
        return typeOf(x, "string");
    }
  };
  const o = J.id("o"), v = J.id("v"), undef = J.ret(J.UNDEFINED);
  const lines = ss.flatMap((f) => {
    const x = J.id(f.local);
    const read = J.constDecl(f.local, J.member(o, f.name));
    if (f.type.kind !== "optional") return [read, J.ifStmt(J.not(J.paren(check(x, f.type))), undef)];
    return [read, J.ifStmt(J.chain("&&", [J.binary("!==", x, J.NULL), J.binary("!==", x, J.UNDEFINED), J.not(J.paren(check(x, f.type.inner)))]), undef)];
  });
  const result = J.object(ss.filter((f) => f.kept).map((f): J.Prop => {
    if (f.type.kind === "optional") return J.prop(f.name, J.binary("??", J.id(f.local), J.NULL));
    return isIdentifier(f.name) && f.local === f.name ? { kind: "shorthand", name: f.name } : J.prop(f.name, J.id(f.local));
  }));
  // When the program reads only some fields (never the whole record: `keep` is set) and none of
  // them is optional, the validated object itself serves as the record: no copy per value.
  const inPlace = keep !== undefined && ss.every((f) => !f.kept || f.type.kind !== "optional");
  const body: J.Stmt[] = [
    J.ifStmt(J.binary("||", J.binary("!==", J.unary("typeof", v), J.str("object")), J.binary("===", v, J.NULL)), undef),
    J.constDecl("o", J.as(v, "Record<string, unknown>")),
    ...lines,
    J.ret(inPlace ? J.as(J.as(o, "unknown"), cx.recordType) : result),
  ];
  const doc = `${cx.where} — decoder of ${type.name ?? "the source's records"} given as JavaScript values (iterables); \`undefined\`: the general way.`;
  return printDecls([{ kind: "function", name: `${base}Value`, params: [J.param("v", "unknown")], ret: `${cx.recordType} | undefined`, body, doc }], cx);
}

function constName(s: string): string {
  return s
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
}

function typeText(t: Type): string {
  switch (t.kind) {
    case "optional":
      return typeText(t.inner) + "?";
    case "array":
      return `[${typeText(t.element)}]`;
    case "record":
      return t.name ?? "record";
    default:
      return t.kind;
  }
}
