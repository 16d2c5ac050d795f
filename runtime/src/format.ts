// Formatters: run-time values → output text (LANGUAGE.md §7).
//
// JSON: a record prints its fields in its type's order; `time` values print as ISO-8601 UTC
// with milliseconds (also inside arrays, records and optionals); durations print as numbers of
// ms; numbers print as JavaScript prints them (JSON.stringify semantics, so NaN and ±Infinity
// become null); a null optional prints as `null`.
//
// CSV (`file(path, "csv")` outputs): a header row of the record's field names, then RFC 4180
// rows. Strings are quoted when they contain `,` `"` CR or LF — and when empty, so that reading
// the file back gives "" rather than null; null is an empty unquoted cell; arrays and records are
// written as JSON text in a cell.
//
// Like the decoders, a formatter is built once per output as a tree of closures over the schema.

import type { Schema } from "./schema.js";
import { formatTime } from "./time.js";

type Fmt = (v: any) => string;

const numberText = (v: any): string => (typeof v === "number" ? (v - v === 0 ? "" + v : "null") : JSON.stringify(v) ?? "null");

function jsonFmt(schema: Schema): Fmt {
  switch (schema.kind) {
    case "int":
    case "float":
    case "duration":
      // `v - v === 0` is false exactly for NaN and ±Infinity; "" + v equals JSON.stringify(v) otherwise.
      return numberText;
    case "bool":
      return (v) => (v === true ? "true" : v === false ? "false" : JSON.stringify(v) ?? "null");
    case "string":
      return (v) => JSON.stringify(v) ?? "null";
    case "time":
      return (v) => (typeof v === "number" && v - v === 0 ? '"' + formatTime(v) + '"' : "null");
    case "optional": {
      const inner = jsonFmt(schema.inner);
      return (v) => (v === null || v === undefined ? "null" : inner(v));
    }
    case "array": {
      const el = jsonFmt(schema.element);
      return (v) => {
        if (!Array.isArray(v)) return "null";
        const n = v.length;
        if (n === 0) return "[]";
        let s = "[" + el(v[0]);
        for (let i = 1; i < n; i++) s += "," + el(v[i]);
        return s + "]";
      };
    }
    case "record": {
      const fields = schema.fields;
      const n = fields.length;
      if (n === 0) return () => "{}";
      const names = fields.map((f) => f.name);
      // Precomputed `{"name":` / `,"name":` so the per-row work is one concatenation per field.
      const prefixes = names.map((name, i) => (i === 0 ? "{" : ",") + JSON.stringify(name) + ":");
      const fmts = fields.map((f) => jsonFmt(f.type));
      return (v) => {
        if (v === null || typeof v !== "object") return "null";
        let s = "";
        for (let i = 0; i < n; i++) {
          const x = v[names[i]!];
          s += prefixes[i]! + (x === undefined ? "null" : fmts[i]!(x));
        }
        return s + "}";
      };
    }
  }
}

/** A formatter printing a value of type `schema` as one line of JSON text (no newline). */
export function makeFormatter(schema: Schema): (value: unknown) => string {
  return jsonFmt(schema);
}

// ---------------------------------------------------------------------------------------------
// CSV

const NEEDS_QUOTES = /[",\r\n]/;

/** One RFC 4180 cell for a string: quoted when needed (and when empty, see the file comment). */
export function csvQuote(s: string): string {
  if (s === "") return '""';
  return NEEDS_QUOTES.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

function csvCellFmt(schema: Schema): Fmt {
  switch (schema.kind) {
    case "int":
    case "float":
    case "duration":
      return (v) => (typeof v === "number" && v - v === 0 ? "" + v : "");
    case "bool":
      return (v) => (v === true ? "true" : v === false ? "false" : "");
    case "string":
      return (v) => (typeof v === "string" ? csvQuote(v) : v == null ? "" : csvQuote(String(v)));
    case "time":
      return (v) => (typeof v === "number" && v - v === 0 ? formatTime(v) : "");
    case "optional": {
      const inner = csvCellFmt(schema.inner);
      return (v) => (v === null || v === undefined ? "" : inner(v));
    }
    case "array":
    case "record": {
      const json = jsonFmt(schema);
      return (v) => (v === null || v === undefined ? "" : csvQuote(json(v)));
    }
  }
}

export interface CsvFormatter {
  /** The header row (no newline): the record's field names, or `value` for a non-record type. */
  header: string;
  /** One row (no newline). */
  row(value: unknown): string;
}

/** A CSV formatter for values of `schema`. */
export function makeCsvFormatter(schema: Schema): CsvFormatter {
  if (schema.kind !== "record") {
    const cell = csvCellFmt(schema);
    return { header: "value", row: (v) => cell(v) };
  }
  const names = schema.fields.map((f) => f.name);
  const cells = schema.fields.map((f) => csvCellFmt(f.type));
  const n = names.length;
  return {
    header: names.map(csvQuote).join(","),
    row(v: any) {
      if (v === null || typeof v !== "object") return "";
      let s = cells[0] ? cells[0](v[names[0]!]) : "";
      for (let i = 1; i < n; i++) s += "," + cells[i]!(v[names[i]!]);
      return s;
    },
  };
}

/**
 * The `lines` output format: a string value is written as is (it should not contain line
 * breaks); any other value as its JSON text.
 */
export function makeLineFormatter(schema: Schema): (value: unknown) => string {
  if (schema.kind === "string") return (v) => String(v);
  if (schema.kind === "optional" && schema.inner.kind === "string") return (v) => (v == null ? "" : String(v));
  return jsonFmt(schema);
}

// ---------------------------------------------------------------------------------------------
// Changes of updating streams (LANGUAGE.md §13)

/** A change of an updating stream, against the rows present: `before` is the key's previous row. */
export type RowChange = { op: "upsert"; row: unknown; before: unknown } | { op: "delete"; before: unknown };

/**
 * The rows present in an updating output, by key: turns (key, row or undefined) into the change
 * it makes — an upsert with the row it replaces, or a delete of a present row; a delete of a key
 * that is not present changes nothing (undefined). The one home of this rule for every output.
 */
export class PresentRows {
  readonly rows = new Map<unknown, unknown>();
  change(key: unknown, row: unknown): RowChange | undefined {
    const before = this.rows.get(key);
    if (row === undefined) {
      if (before === undefined) return undefined;
      this.rows.delete(key);
      return { op: "delete", before };
    }
    this.rows.set(key, row);
    return { op: "upsert", row, before };
  }
}

/**
 * The text of changes in `changelog` (`{"op":"insert"|"upsert","row":…}`, `{"op":"delete","key":…}`)
 * or `debezium` format (`before`, `after`, `op` c/u/d). `key` names the key fields a delete prints.
 */
export function makeChangeFormatter(schema: Schema, key: readonly string[], format: "changelog" | "debezium"): { insert(row: unknown): string; change(c: RowChange): string } {
  const row = makeFormatter(schema);
  const keyOf = makeFormatter({ kind: "record", fields: schema.kind === "record" ? schema.fields.filter((f) => key.includes(f.name)) : [] });
  if (format === "changelog") {
    return {
      insert: (r) => `{"op":"insert","row":${row(r)}}`,
      change: (c) => (c.op === "delete" ? `{"op":"delete","key":${keyOf(c.before)}}` : `{"op":"upsert","row":${row(c.row)}}`),
    };
  }
  const before = (b: unknown) => (b === undefined ? "null" : row(b));
  return {
    insert: (r) => `{"before":null,"after":${row(r)},"op":"c"}`,
    change: (c) => (c.op === "delete" ? `{"before":${row(c.before)},"after":null,"op":"d"}` : `{"before":${before(c.before)},"after":${row(c.row)},"op":"${c.before === undefined ? "c" : "u"}"}`),
  };
}
