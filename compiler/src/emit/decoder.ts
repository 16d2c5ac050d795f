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
import { isIdent, key, localName, prop } from "./types";
import { commentText, docComment, jsonLiteral, lineComment } from "./escape";
import * as J from "./js/ast";

export interface DecoderContext {
  /** `file:line` of the source declaration, for the doc comment. */
  where: string;
  /** The TypeScript type of the records the decoder returns (the kept fields). */
  recordType: string;
  /** TypeScript type text of a Flow type. */
  ts(t: Type): string;
  /** A Schema constant name for a Flow type (for nested values decoded with makeDecoder). */
  schema(t: Type): string;
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

/**
 * The cursor call reading a scalar field (shared by the JSONL and CSV decoders); a kept string
 * goes through an interning table. Undefined for arrays and records.
 */
function scalarRead(s: Slot, base: string, imports: Set<string>, consts: string[], skipString: string): string | undefined {
  switch (s.inner.kind) {
    case "int":
      return "c.int()";
    case "float":
    case "duration":
      return "c.float()";
    case "bool":
      return "c.bool()";
    case "time":
      return "c.time()";
    case "string": {
      if (!s.kept) return skipString;
      const table = `${constName(base)}_${constName(s.name)}`;
      imports.add("StringTable");
      consts.push(`const ${table} = new StringTable();`);
      return `c.str(${table})`;
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
function masks(required: number): { vars: string[]; bit: (i: number) => [string, number]; full: string[] } {
  const n = Math.max(1, Math.ceil(required / 30));
  const vars = Array.from({ length: n }, (_, i) => (i === 0 ? "seen" : `seen${i + 1}`));
  const full = vars.map((_, i) => {
    const bits = Math.min(30, required - i * 30);
    return `${vars[i]} === ${2 ** bits - 1}`;
  });
  return { vars, bit: (i) => [vars[Math.floor(i / 30)]!, 2 ** (i % 30)], full };
}

function declareLocal(s: Slot, cx: DecoderContext): string {
  if (cx.js) return s.optional ? `${s.local} = null` : s.local;
  return s.optional ? `${s.local}: ${cx.ts(s.type)} = null` : `${s.local}!: ${cx.ts(s.type)}`;
}

function resultLiteral(ss: Slot[]): string {
  return `{ ${ss.filter((s) => s.kept).map((s) => (isIdent(s.name) && s.name === s.local ? s.name : `${key(s.name)}: ${s.local}`)).join(", ")} }`;
}

/**
 * The statements consuming `text` (a key with its punctuation, e.g. `,"price":`) at the cursor,
 * leaving the block `inOrder` when it is not there. Short texts are compared byte by byte against
 * constants (what V8 does fastest); long ones through `c.lit(layout)`.
 */
function layoutStep(text: string, layout: string): string[] {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 24) return [`    if (!c.lit(${layout})) break inOrder;`];
  const same = [...bytes].map((x, j) => `b[p${j === 0 ? "" : ` + ${j}`}] === ${x}`).join(" && ");
  return [`    {`, `      const p = c.p; ${lineComment(text)}`, `      if (!(p + ${bytes.length} <= c.e && ${same})) break inOrder;`, `      c.p = p + ${bytes.length};`, `    }`];
}

function jsonlDecoder(base: string, type: RecordT, keep: readonly string[] | undefined, cx: DecoderContext, imports: Set<string>, typeImports: Set<string>): string {
  const taken = new Set(["c", "seen", "undefined", "b", "p", "start"]);
  const ss = slots(type, keep, taken);
  const KEYS = `${constName(base)}_KEYS`;
  imports.add("JsonKeys");
  typeImports.add("JsonCursor");
  const consts: string[] = [`const ${KEYS} = new JsonKeys(${jsonLiteral(ss.map((s) => s.name))});`];
  const required = ss.filter((s) => !s.optional);
  const m = masks(required.length);
  const cases: string[] = [];
  const inOrder: string[] = [];
  ss.forEach((s, i) => {
    let read = scalarRead(s, base, imports, consts, "c.skipStr()");
    if (read === undefined) {
      // Arrays and records: their JSON text is parsed and converted (also when not kept: the
      // elements' types must still be checked).
      imports.add("makeDecoder");
      const conv = `${constName(base)}_${constName(s.name)}_VALUE`;
      consts.push(`const ${conv} = makeDecoder(${cx.schema(s.inner)});`);
      read = `c.json(${conv})`;
    }
    let stmt: string;
    if (s.kept) stmt = s.optional ? `${s.local} = c.isNull() ? null : ${read};` : `${s.local} = ${read};`;
    else stmt = s.optional ? `if (!c.isNull()) ${read};` : `${read};`;
    inOrder.push(...layoutStep(`${i === 0 ? "{" : ","}${JSON.stringify(s.name)}:`, `${KEYS}.layout[${i}]${cx.js ? "" : "!"}`), `    ${stmt}`);
    if (!s.optional) {
      const [v, bit] = m.bit(required.indexOf(s));
      stmt += ` ${v} |= ${bit};`;
    }
    cases.push(`      case ${i}: ${stmt} break; ${lineComment(`${s.name}: ${typeText(s.type)}${s.kept ? "" : " (validated, not kept)"}`)}`);
  });
  const kept = ss.filter((s) => s.kept);
  const dropped = ss.filter((s) => !s.kept);
  const doc =
    `/**\n * ${commentText(`${cx.where} — JSONL decoder of ${type.name ?? "the source's records"}: reads ${kept.map((s) => s.name).join(", ") || "no field"} from the bytes`)}` +
    (dropped.length ? `;\n * ${commentText(dropped.map((s) => s.name).join(", "))} ${dropped.length === 1 ? "is" : "are"} validated and dropped` : "") +
    `. \`undefined\` sends the line\n * down the general path (JSON.parse + makeDecoder), which also reports bad records.\n */`;
  const locals = [...kept.map((s) => declareLocal(s, cx)), ...m.vars.map((v) => `${v} = 0`)];
  const sig = cx.js ? `function ${base}Jsonl(c)` : `function ${base}Jsonl(c: JsonCursor): ${cx.recordType} | undefined`;
  return (
    `${consts.join("\n")}\n${doc}\n${sig} {\n` +
    `  let ${locals.join(", ")};\n` +
    `  // Most lines hold the declared fields in declared order without spaces: read them straight.\n` +
    `  const start = c.p;\n` +
    `  inOrder: {\n    const b = c.b;\n${inOrder.join("\n")}\n    if (c.close()) return ${resultLiteral(ss)};\n  }\n` +
    `  c.reset(c.b, start, c.e);\n` +
    `  if (!c.begin()) return undefined;\n` +
    `  while (c.more()) {\n` +
    `    switch (c.key(${KEYS})) {\n${cases.join("\n")}\n      case -1: c.skip(); break; // a field the type does not declare\n      default: return undefined;\n    }\n  }\n` +
    `  return ${m.full.join(" && ")} && c.end() ? ${resultLiteral(ss)} : undefined;\n}`
  );
}

function csvDecoder(base: string, type: RecordT, keep: readonly string[] | undefined, cx: DecoderContext, imports: Set<string>, typeImports: Set<string>): string {
  const taken = new Set(["c", "col", "undefined"]);
  const ss = slots(type, keep, taken);
  imports.add("CsvColumns");
  typeImports.add("CsvCursor");
  const COLS = `${constName(base)}_COLUMNS`;
  const consts: string[] = [`const ${COLS} = new CsvColumns(${jsonLiteral(ss.map((s) => s.name))}, ${jsonLiteral(ss.map((s) => s.optional))});`];
  const cases: string[] = [];
  ss.forEach((s, i) => {
    // JSON in a cell (arrays, records): only via the general path.
    const read = scalarRead(s, base, imports, consts, "c.skip()") ?? "c.fail()";
    let stmt: string;
    if (s.inner.kind === "string") {
      // An empty unquoted cell: "" in a string column, null in an optional one.
      stmt = s.kept ? (s.optional ? `${s.local} = c.empty() ? null : ${read};` : `${s.local} = ${read};`) : `${read};`;
    } else if (s.kept) stmt = s.optional ? `${s.local} = c.empty() ? null : ${read};` : `${s.local} = ${read};`;
    else stmt = s.optional ? `if (!c.empty()) ${read};` : `${read};`;
    cases.push(`      case ${i}: ${stmt} break; ${lineComment(`${s.name}: ${typeText(s.type)}${s.kept ? "" : " (validated, not kept)"}`)}`);
  });
  const kept = ss.filter((s) => s.kept);
  const doc =
    `/**\n * ${commentText(`${cx.where} — CSV decoder of ${type.name ?? "the source's records"} for lines without quotes: converts ${kept.map((s) => s.name).join(", ") || "no field"}`)}\n` +
    ` * from the bytes (columns found by the header). \`undefined\` sends the line down the general path.\n */`;
  const locals = kept.map((s) => (cx.js ? `${s.local} = null` : `${s.local}: ${cx.ts(s.type)}${s.optional ? "" : " | undefined"} = ${s.optional ? "null" : "undefined"}`));
  const sig = cx.js ? `function ${base}Csv(c)` : `function ${base}Csv(c: CsvCursor): ${cx.recordType} | undefined`;
  const nonNull = (s: Slot) => (cx.js || s.optional ? s.local : `${s.local}!`);
  const ret = `{ ${kept.map((s) => `${key(s.name)}: ${nonNull(s)}`).join(", ")} }`;
  // Fields without a column: optional ones stay null, a required one makes the header unusable.
  return (
    `${consts.join("\n")}\n${doc}\n${sig} {\n` +
    (locals.length ? `  let ${locals.join(", ")};\n` : "") +
    `  const fields = c.fieldsOf(${COLS});\n` +
    `  if (fields === undefined) return undefined; // a required column is missing\n` +
    `  for (let col = 0; col < fields.length; col++) {\n` +
    `    switch (fields[col]) {\n${cases.join("\n")}\n      default: c.skip(); // a column the type does not declare\n    }\n` +
    `    if (!c.next(col + 1 === fields.length)) return undefined;\n  }\n` +
    `  return c.ok ? ${ret} : undefined;\n}`
  );
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
  const check = (x: string, t: Type): string => {
    switch (t.kind) {
      case "int":
        return `typeof ${x} === "number" && Number.isSafeInteger(${x})`;
      case "float":
      case "duration":
        return `typeof ${x} === "number" && Number.isFinite(${x})`;
      case "time":
        // epoch ms as an integer; anything else (ISO text, Date, fractions) the general way
        return `typeof ${x} === "number" && Number.isInteger(${x}) && ${x} >= -8.64e15 && ${x} <= 8.64e15`;
      case "bool":
        return `typeof ${x} === "boolean"`;
      default:
        return `typeof ${x} === "string"`;
    }
  };
  const lines = ss.map((f) => {
    const read = `const ${f.local} = o${prop(f.name)};`;
    if (f.type.kind !== "optional") return `  ${read}\n  if (!(${check(f.local, f.type)})) return undefined;`;
    return `  ${read}\n  if (${f.local} !== null && ${f.local} !== undefined && !(${check(f.local, f.type.inner)})) return undefined;`;
  });
  const result = `{ ${ss
    .filter((f) => f.kept)
    .map((f) => (f.type.kind === "optional" ? `${key(f.name)}: ${f.local} ?? null` : isIdent(f.name) && f.local === f.name ? f.name : `${key(f.name)}: ${f.local}`))
    .join(", ")} }`;
  // When the program reads only some fields (never the whole record: `keep` is set) and none of
  // them is optional, the validated object itself serves as the record: no copy per value.
  const inPlace = keep !== undefined && ss.every((f) => !f.kept || f.type.kind !== "optional");
  const returned = inPlace ? (cx.js ? "o" : `o as unknown as ${cx.recordType}`) : result;
  const sig = cx.js ? `function ${base}Value(v)` : `function ${base}Value(v: unknown): ${cx.recordType} | undefined`;
  return (
    `${docComment(`${cx.where} — decoder of ${type.name ?? "the source's records"} given as JavaScript values (iterables); \`undefined\`: the general way.`)}\n` +
    `${sig} {\n  if (typeof v !== "object" || v === null) return undefined;\n  const o = v${cx.js ? "" : " as Record<string, unknown>"};\n${lines.join("\n")}\n  return ${returned};\n}`
  );
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
