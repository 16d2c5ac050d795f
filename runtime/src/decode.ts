// Decoders: input values (parsed JSON, JavaScript values, CSV cells, text lines) → run-time
// values of a declared type, or a `DecodeError` saying what is wrong and where.
//
// Rules (LANGUAGE.md §6 "Input records"):
//   - a record keeps only the fields its type declares, in declared order; other fields are ignored;
//   - `null` or a missing value for a non-optional field makes the record bad;
//   - `int` is a safe integer (`2.0` in JSON is the int 2; 1.5 is not an int); an int is a valid float;
//   - `time` is epoch ms or ISO-8601 (see time.ts); `duration` is a number of ms;
//   - CSV cells: an empty unquoted cell is null in an optional column and "" in a string column;
//     a quoted empty cell is ""; an empty cell elsewhere is bad; `bool` is true/false in any case;
//     numbers are parsed strictly (no `1_0`, `0x10`, spaces); a time of only digits is epoch ms.
//
// Decoders are built once per source from the schema as a tree of small closures. Errors on
// the (rare) bad path are thrown as a light `Mismatch` (no stack trace) that container
// decoders annotate with their path on the way out; the entry point turns it into a
// `DecodeError` with a message such as `field "a.b[2]": expected int, got "abc"`.

import type { RecordSchema, Schema } from "./schema.js";
import { MAX_TIME, parseTime, parseTimeText } from "./time.js";

/** A value does not match its declared type. `message` is what the run reports. */
export class DecodeError extends Error {
  override name = "DecodeError";
}

/** The type as written in Flow: `int`, `string?`, `[time]`, `{a: int, b: string}`. */
export function typeName(schema: Schema): string {
  switch (schema.kind) {
    case "optional":
      return typeName(schema.inner) + "?";
    case "array":
      return "[" + typeName(schema.element) + "]";
    case "record":
      return "{" + schema.fields.map((f) => `${f.name}: ${typeName(f.type)}`).join(", ") + "}";
    default:
      return schema.kind;
  }
}

/** Short name used in "expected ..." messages: records are just "record". */
function expectedName(schema: Schema): string {
  switch (schema.kind) {
    case "record":
      return "record";
    case "optional":
      return expectedName(schema.inner) + "?";
    case "array":
      return "[" + expectedName(schema.element) + "]";
    default:
      return schema.kind;
  }
}

/** How a bad value is shown in a message: JSON text, shortened. */
export function showValue(v: unknown): string {
  let s: string;
  if (v === undefined) return "nothing";
  if (typeof v === "number") s = String(v); // JSON.stringify would print NaN/Infinity as null
  else if (typeof v === "bigint") s = v + "n";
  else if (typeof v === "function") return "a function";
  else if (typeof v === "symbol") return "a symbol";
  else if (v instanceof Date) s = isNaN(v.getTime()) ? "an invalid Date" : v.toISOString();
  else {
    try {
      s = JSON.stringify(v) ?? String(v);
    } catch {
      s = String(v);
    }
  }
  return s.length > 60 ? s.slice(0, 57) + "..." : s;
}

/** Internal failure carrying the path from the value being decoded down to the culprit. */
class Mismatch {
  readonly path: (string | number)[] = [];
  constructor(
    readonly detail: string, // "expected int, got "abc"" or "missing"
  ) {}

  toError(): DecodeError {
    if (this.path.length === 0) return new DecodeError(this.detail);
    let p = "";
    for (const seg of this.path) p += typeof seg === "number" ? `[${seg}]` : p === "" ? seg : "." + seg;
    return new DecodeError(`field "${p}": ${this.detail}`);
  }
}

function mismatch(schema: Schema, got: unknown): Mismatch {
  return new Mismatch(got === undefined ? "missing" : `expected ${expectedName(schema)}, got ${showValue(got)}`);
}

/** Converts one value; throws `Mismatch`. */
type Conv = (v: unknown) => unknown;

// Names a plain object inherits (`constructor`, `toString`, `__proto__`, ...) must be looked up
// as own properties, or a JSON object without them would seem to have them.
const inherited = (name: string): boolean => name in Object.prototype;
const hasOwn = Object.prototype.hasOwnProperty;

/** Sets out[name] = v, also when name is `__proto__` (which plain assignment would not create). */
function setField(out: Record<string, unknown>, name: string, v: unknown): void {
  if (name === "__proto__") Object.defineProperty(out, name, { value: v, enumerable: true, writable: true, configurable: true });
  else out[name] = v;
}

/** `shown` is the type named in messages: `int?` rather than `int` for an optional's inner value. */
function valueConv(schema: Schema, shown: Schema = schema): Conv {
  switch (schema.kind) {
    case "int":
      return (v) => {
        if (typeof v === "number" && Number.isSafeInteger(v)) return v;
        throw mismatch(shown, v);
      };
    case "float":
    case "duration":
      return (v) => {
        if (typeof v === "number" && Number.isFinite(v)) return v;
        throw mismatch(shown, v);
      };
    case "bool":
      return (v) => {
        if (typeof v === "boolean") return v;
        throw mismatch(shown, v);
      };
    case "string":
      return (v) => {
        if (typeof v === "string") return v;
        throw mismatch(shown, v);
      };
    case "time":
      return (v) => {
        // Fast path: integer epoch ms.
        if (typeof v === "number" && Number.isInteger(v) && v >= -MAX_TIME && v <= MAX_TIME) return v;
        const t = parseTime(v);
        if (t !== undefined) return t;
        throw mismatch(shown, v);
      };
    case "optional": {
      const inner = valueConv(schema.inner, schema);
      return (v) => (v === null || v === undefined ? null : inner(v));
    }
    case "array": {
      const el = valueConv(schema.element);
      return (v) => {
        if (!Array.isArray(v)) throw mismatch(shown, v);
        const n = v.length;
        const out = new Array(n);
        let i = 0;
        try {
          for (; i < n; i++) out[i] = el(v[i]);
        } catch (e) {
          if (e instanceof Mismatch) e.path.unshift(i);
          throw e;
        }
        return out;
      };
    }
    case "record":
      return recordConv(schema, undefined, shown);
  }
}

/**
 * A record decoder. With `keep`, only those fields are put in the result, but every declared
 * field is still validated (a record with a bad unused field is still a bad record).
 */
function recordConv(schema: RecordSchema, keep: readonly string[] | undefined, shown: Schema = schema): Conv {
  const fields = schema.fields;
  const n = fields.length;
  const names = fields.map((f) => f.name);
  const convs = fields.map((f) => valueConv(f.type));
  const kept = names.map((name) => keep === undefined || keep.includes(name));
  const special = names.some((name) => inherited(name) || name === "__proto__");
  const allKept = kept.every(Boolean);

  if (!special && allKept) {
    // The common case: plain names, every field materialised.
    return (v) => {
      if (typeof v !== "object" || v === null || Array.isArray(v)) throw mismatch(shown, v);
      const src = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      let i = 0;
      try {
        for (; i < n; i++) {
          const name = names[i]!;
          out[name] = convs[i]!(src[name]);
        }
      } catch (e) {
        if (e instanceof Mismatch) e.path.unshift(names[i]!);
        throw e;
      }
      return out;
    };
  }

  return (v) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw mismatch(shown, v);
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    let i = 0;
    try {
      for (; i < n; i++) {
        const name = names[i]!;
        const raw = special && !hasOwn.call(src, name) ? undefined : src[name];
        const x = convs[i]!(raw);
        if (kept[i]) setField(out, name, x);
      }
    } catch (e) {
      if (e instanceof Mismatch) e.path.unshift(names[i]!);
      throw e;
    }
    return out;
  };
}

/**
 * A decoder for JSON-like values (a parsed JSONL line, an item of an iterable source) of type
 * `schema`: returns the run-time value or throws `DecodeError`. `keep` (record schemas only)
 * lists the top-level fields to materialise; the others are validated and dropped.
 */
export function makeDecoder(schema: Schema, keep?: readonly string[]): (value: unknown) => any {
  const conv = schema.kind === "record" ? recordConv(schema, keep) : valueConv(schema);
  return (value) => {
    try {
      return conv(value);
    } catch (e) {
      throw e instanceof Mismatch ? e.toError() : e;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// Text cells (CSV, `lines`)

/**
 * A CSV cell: the cell's text, or `null` for an empty cell that was not quoted. (That is all
 * the quoting information the conversion needs: `""` quoted is the empty string, empty unquoted
 * is null in an optional column.)
 */
export type Cell = string | null;

/** Strict decimal number syntax: `12`, `-1.5`, `.5`, `1e6`, `2.` — not `1_0`, `0x10`, ` 5`, `Infinity`. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

type CellConv = (cell: Cell) => unknown;

const cellMismatch = (schema: Schema, cell: Cell) => new Mismatch(`expected ${expectedName(schema)}, got ${showValue(cell ?? "")}`);

function cellConv(schema: Schema, shown: Schema = schema): CellConv {
  switch (schema.kind) {
    case "string":
      return (c) => (c === null ? "" : c);
    case "int":
      return (c) => {
        if (c !== null && NUMBER.test(c)) {
          const v = Number(c);
          if (Number.isSafeInteger(v)) return v;
        }
        throw cellMismatch(shown, c);
      };
    case "float":
    case "duration":
      return (c) => {
        if (c !== null && NUMBER.test(c)) {
          const v = Number(c);
          if (Number.isFinite(v)) return v;
        }
        throw cellMismatch(shown, c);
      };
    case "bool":
      return (c) => {
        if (c !== null && (c.length === 4 || c.length === 5)) {
          const l = c.toLowerCase();
          if (l === "true") return true;
          if (l === "false") return false;
        }
        throw cellMismatch(shown, c);
      };
    case "time":
      return (c) => {
        const t = c === null ? undefined : parseTimeText(c);
        if (t !== undefined) return t;
        throw cellMismatch(shown, c);
      };
    case "optional": {
      const inner = cellConv(schema.inner, schema);
      return (c) => (c === null ? null : inner(c));
    }
    case "array":
    case "record": {
      // A structured value in a cell is written as JSON.
      const conv = valueConv(schema, shown);
      return (c) => {
        let v: unknown;
        try {
          v = JSON.parse(c ?? "");
        } catch {
          throw cellMismatch(shown, c);
        }
        return conv(v);
      };
    }
  }
}

/**
 * A decoder for CSV rows of a record `schema`, given the file's header row. Columns are matched
 * to fields by name (extra columns are ignored; the first of duplicate names wins). A row must
 * have as many cells as the header. A non-optional field with no column makes every row bad
 * (with a message naming the column); an optional one is null. A non-record schema reads the
 * first column.
 */
export function makeCsvDecoder(schema: Schema, header: readonly string[], keep?: readonly string[]): (cells: readonly Cell[]) => any {
  const width = header.length;
  const checkWidth = (cells: readonly Cell[]) => {
    if (cells.length !== width) throw new DecodeError(`expected ${width} cells as in the header, got ${cells.length}`);
  };
  if (schema.kind !== "record") {
    const conv = cellConv(schema);
    return (cells) => {
      checkWidth(cells);
      try {
        return conv(cells[0] ?? null);
      } catch (e) {
        throw e instanceof Mismatch ? e.toError() : e;
      }
    };
  }

  const fields = schema.fields;
  const n = fields.length;
  const names = fields.map((f) => f.name);
  const columns = names.map((name) => header.indexOf(name));
  const kept = names.map((name) => keep === undefined || keep.includes(name));
  const convs = fields.map((f) => cellConv(f.type));
  const missing = fields.filter((f, i) => columns[i]! < 0 && f.type.kind !== "optional").map((f) => f.name);
  if (missing.length > 0) {
    const error = new DecodeError(
      `field "${missing[0]}": the CSV header has no column "${missing[0]}"` +
        (missing.length > 1 ? ` (nor ${missing.slice(1).map((m) => `"${m}"`).join(", ")})` : "") +
        ` (columns: ${header.join(", ")})`,
    );
    return () => {
      throw error;
    };
  }

  return (cells) => {
    checkWidth(cells);
    const out: Record<string, unknown> = {};
    let i = 0;
    try {
      for (; i < n; i++) {
        const col = columns[i]!;
        const x = col < 0 ? null : convs[i]!(cells[col]!);
        if (kept[i]) setField(out, names[i]!, x);
      }
    } catch (e) {
      if (e instanceof Mismatch) {
        e.path.unshift(names[i]!);
        throw e.toError();
      }
      throw e;
    }
    return out;
  };
}

/**
 * A decoder for the `lines` format: each line (without its line break) is a value. For a
 * `string` source that is the line itself; other scalar types parse the text as a CSV cell
 * would (`int` lines, `time` lines, ...).
 */
export function makeLineDecoder(schema: Schema): ((line: string) => any) | undefined {
  if (schema.kind === "string") return undefined; // identity: the reader uses the line as is
  const conv = cellConv(schema);
  return (line) => {
    try {
      return conv(line);
    } catch (e) {
      throw e instanceof Mismatch ? e.toError() : e;
    }
  };
}

/**
 * The event time of a decoded record (`event time EXPR`): a null time, or a built-in failing on
 * the record, makes the record bad input (a DecodeError, reported with where it came from).
 */
export function checkEventTime(record: unknown, timeOf: (record: any) => number | null): void {
  let t: number | null;
  try {
    t = timeOf(record);
  } catch (e) {
    if (e instanceof Error && e.name === "FlowRuntimeError") throw new DecodeError(`event time: ${e.message}`);
    throw e;
  }
  if (t === null || t === undefined || !Number.isFinite(t)) throw new DecodeError("the event time is null");
}
