// Fast CSV reading for generated decoders (compiler/src/emit/decoder.ts), the CSV twin of
// fast-jsonl.ts.
//
// A line without any `"` is one record whose cells are the text between commas: the generated
// decoder walks them with a `CsvCursor`, converting the cells of the fields the program uses
// straight from the bytes and validating the others in place. Lines with quotes (which may span
// several physical lines) go through the general `CsvParser`, and so does every line the
// generated decoder gives up on (a bad cell, a wrong cell count, anything unusual): the general
// path then yields the same record or the precise bad-record message. Results never change.
//
// Browser-safe: no Node imports.

import { DecodeError, type Cell } from "../decode.js";
import { MAX_TIME, parseTimeText } from "../time.js";
import type { BadRecord, ReadBatch } from "./batch.js";
import { CsvParser, type CsvSink } from "./csv.js";
import { EMPTY, IsoDays, POW10, StringTable, asciiText, concat, hasLatin1, utf8 } from "./fast-jsonl.js";

/** A generated row decoder: the record, or `undefined` to send the line down the general path. */
export type CsvLineDecoder = (c: CsvCursor) => unknown;

const COMMA = 44;
const MINUS = 45;
const QUOTE = 34;

/** Strict decimal number syntax of CSV cells (as decode.ts). */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The field names of a record type; maps a header to the field read from each column. */
export class CsvColumns {
  private header: readonly string[] | undefined;
  private fields: Int32Array | undefined;
  constructor(
    readonly names: readonly string[],
    /** Whether each field is optional (a missing column is then null). */
    readonly optional: readonly boolean[],
  ) {}

  /** For each column of `header`, the index of the field it holds (−1: none); undefined when a
   *  required field has no column (every row is then bad: the general path says why). */
  of(header: readonly string[]): Int32Array | undefined {
    if (header === this.header) return this.fields;
    this.header = header;
    const fields = new Int32Array(header.length).fill(-1);
    let usable = true;
    this.names.forEach((name, i) => {
      const col = header.indexOf(name);
      if (col >= 0) fields[col] = i;
      else if (!this.optional[i]) usable = false;
    });
    this.fields = usable ? fields : undefined;
    return this.fields;
  }
}

/** The cells of one quote-free line, read in order. Reads set `ok = false` when unsure. */
export class CsvCursor {
  b: Uint8Array = EMPTY;
  p = 0;
  e = 0;
  ok = true;
  header: readonly string[] = [];
  private node = false;
  private readonly iso = new IsoDays();

  reset(b: Uint8Array, s: number, e: number): void {
    if (b !== this.b) {
      this.b = b;
      this.node = hasLatin1(b);
    }
    this.p = s;
    this.e = e;
    this.ok = true;
  }

  /** The field of each column for the current header (see CsvColumns.of). */
  fieldsOf(cols: CsvColumns): Int32Array | undefined {
    return cols.of(this.header);
  }

  fail(): void {
    this.ok = false;
  }

  /** After a cell: the next one starts (false when the line does not have that shape). */
  next(last: boolean): boolean {
    if (!this.ok) return false;
    if (last) return this.p === this.e;
    if (this.p >= this.e || this.b[this.p] !== COMMA) return false;
    this.p++;
    return true;
  }

  /** The end of the cell starting at p. */
  private cellEnd(): number {
    const b = this.b;
    const e = this.e;
    let q = this.p;
    while (q < e && b[q] !== COMMA) q++;
    return q;
  }

  /** An empty (unquoted) cell: null in an optional column. Does not move. */
  empty(): boolean {
    return this.p >= this.e || this.b[this.p] === COMMA;
  }

  skip(): void {
    this.p = this.cellEnd();
  }

  /** The cell as text (non-ASCII decoded as UTF-8). */
  private text(s: number, q: number): string {
    const b = this.b;
    for (let i = s; i < q; i++) if (b[i]! >= 128) return utf8.decode(b.subarray(s, q));
    return asciiText(b, s, q, this.node);
  }

  /** A number cell the general way: strict syntax, then Number. */
  private anyNumber(): number {
    const s = this.p;
    const q = this.cellEnd();
    this.p = q;
    const t = this.text(s, q);
    return NUMBER.test(t) ? Number(t) : NaN;
  }

  int(): number {
    const b = this.b;
    const s = this.p;
    const e = this.e;
    let p = s;
    const neg = b[p] === MINUS;
    if (neg) p++;
    const d0 = p;
    let v = 0;
    while (p < e) {
      const c = b[p]! - 48;
      if (!(c >= 0 && c <= 9)) break;
      v = v * 10 + c;
      p++;
    }
    if (p === d0 || p - d0 > 15 || (p < e && b[p] !== COMMA)) {
      this.p = s;
      const x = this.anyNumber();
      if (!Number.isSafeInteger(x)) this.ok = false;
      return x;
    }
    this.p = p;
    return neg ? -v : v;
  }

  float(): number {
    const b = this.b;
    const s = this.p;
    const e = this.e;
    let p = s;
    const neg = b[p] === MINUS;
    if (neg) p++;
    const d0 = p;
    let m = 0;
    let c = 0;
    while (p < e && (c = b[p]! - 48) >= 0 && c <= 9) {
      m = m * 10 + c;
      p++;
    }
    let digits = p - d0;
    let scale = 0;
    if (p < e && b[p] === 46) {
      p++;
      const f = p;
      while (p < e && (c = b[p]! - 48) >= 0 && c <= 9) {
        m = m * 10 + c;
        p++;
      }
      scale = p - f;
      digits += scale;
    }
    if (digits === 0 || digits > 15 || (p < e && b[p] !== COMMA)) {
      this.p = s;
      const x = this.anyNumber();
      if (!Number.isFinite(x)) this.ok = false;
      return x;
    }
    this.p = p;
    const v = scale === 0 ? m : m / POW10[scale]!;
    return neg ? -v : v;
  }

  bool(): boolean {
    const s = this.p;
    const q = this.cellEnd();
    this.p = q;
    const n = q - s;
    if (n === 4 || n === 5) {
      const l = this.text(s, q).toLowerCase();
      if (l === "true") return true;
      if (l === "false") return false;
    }
    this.ok = false;
    return false;
  }

  time(): number {
    const b = this.b;
    const s = this.p;
    const q = this.cellEnd();
    this.p = q;
    if (q - s === 24) {
      const t = this.iso.at(b, s);
      if (t === t) return t;
    }
    // digits (epoch ms) or any other ISO form: as parseTimeText decides
    let v = 0;
    let i = b[s] === MINUS ? s + 1 : s;
    const d0 = i;
    while (i < q && b[i]! >= 48 && b[i]! <= 57) v = v * 10 + (b[i++]! - 48);
    if (i === q && i > d0 && i - d0 <= 15) {
      const t = b[s] === MINUS ? -v : v;
      if (t >= -MAX_TIME && t <= MAX_TIME) return t;
    }
    const t = q > s ? parseTimeText(this.text(s, q)) : undefined;
    if (t === undefined) {
      this.ok = false;
      return 0;
    }
    return t;
  }

  /** A string cell ("" when empty); `table` interns repeated values. */
  str(table?: StringTable): string {
    const b = this.b;
    const s = this.p;
    const e = this.e;
    let p = s;
    let h = 0;
    let ascii = true;
    while (p < e) {
      const c = b[p]!;
      if (c === COMMA) break;
      if (c >= 128) ascii = false;
      h = (Math.imul(h, 31) + c) | 0;
      p++;
    }
    this.p = p;
    if (p === s) return "";
    if (!ascii) return utf8.decode(b.subarray(s, p));
    return table !== undefined && table.on ? table.get(b, s, p, h, this.node) : asciiText(b, s, p, this.node);
  }
}

/** Records per batch (as readJsonlFast). */
const BATCH = 1024;

/**
 * Reads CSV from a byte stream with a generated row decoder: the first record is the header;
 * `makeRowDecoder(header)` is the general decoder (see makeCsvDecoder) for rows the generated
 * one gives up on and for records with quotes. Yields the same records and bad records as
 * readCsv.
 */
export async function* readCsvFast(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fast: CsvLineDecoder,
  makeRowDecoder: (header: string[]) => (cells: Cell[]) => unknown,
): AsyncGenerator<ReadBatch> {
  const c = new CsvCursor();
  let slow: ((cells: Cell[]) => unknown) | undefined;
  let line = 0;
  let bytes = 0;
  let records: unknown[] = [];
  let bad: BadRecord[] | undefined;

  const decode = (cells: Cell[], at: number, raw: string): void => {
    if (slow === undefined) {
      const header = cells.map((x) => x ?? "");
      slow = makeRowDecoder(header);
      c.header = header;
      return;
    }
    try {
      records.push(slow(cells));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      (bad ??= []).push({ line: at, raw, error: e.message, index: records.length });
    }
  };

  // Lines with quotes go to the general parser, one line at a time; `offset` turns its line
  // numbers (it only sees those lines) into the file's. While it is inside a quoted cell that
  // spans lines (`pending`), every line goes to it.
  const parser = new CsvParser();
  let fed = 0;
  let offset = 0;
  let produced = false;
  let pending = false;
  const sink: CsvSink = {
    record(cells, at, raw) {
      produced = true;
      decode(cells, at + offset, raw);
    },
    bad(at, raw, error) {
      produced = true;
      (bad ??= []).push({ line: at + offset, raw, error, index: records.length });
    },
  };
  const feed = (b: Uint8Array, s: number, end: number): void => {
    if (!pending) offset = line - (fed + 1);
    fed++;
    produced = false;
    parser.parse(utf8.decode(b.subarray(s, end)), false, sink);
    pending = !produced;
  };

  let nextQuote = -1; // position of the next `"` in the current chunk (−2: none)
  /** The line b[s, nl) (nl: its LF, or the end of the data). */
  const one = (b: Uint8Array, s: number, nl: number, hasLf: boolean): void => {
    line++;
    if (line === 1 && b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf) s += 3; // BOM
    let e = nl;
    if (e > s && b[e - 1] === 13) e--; // CRLF
    if (nextQuote !== -2 && nextQuote < s) {
      nextQuote = b.indexOf(QUOTE, s);
      if (nextQuote < 0) nextQuote = -2;
    }
    if (pending || (nextQuote >= 0 && nextQuote < nl)) {
      feed(b, s, hasLf ? nl + 1 : nl);
      return;
    }
    if (e === s) return; // a blank line
    if (slow !== undefined) {
      c.reset(b, s, e);
      const r = fast(c);
      if (r !== undefined) {
        records.push(r);
        return;
      }
    }
    // As CsvParser reads a line without quotes.
    const raw = utf8.decode(b.subarray(s, e));
    const cells: Cell[] = raw.split(",");
    for (let i = 0; i < cells.length; i++) if (cells[i] === "") cells[i] = null;
    decode(cells, line, raw);
  };

  let carry: Uint8Array | undefined;
  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    let p = 0;
    const end = chunk.byteLength;
    nextQuote = -1;
    if (carry !== undefined) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = concat(carry, chunk, end);
        continue;
      }
      const joined = concat(carry, chunk, nl + 1);
      carry = undefined;
      const saved = nextQuote;
      nextQuote = -1;
      one(joined, 0, joined.byteLength - 1, true);
      nextQuote = saved;
      p = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, p);
      if (nl < 0) break;
      one(chunk, p, nl, true);
      p = nl + 1;
      if (records.length >= BATCH) {
        yield bad ? { records, bad, bytes } : { records, bytes };
        records = [];
        bad = undefined;
      }
    }
    if (p < end) carry = concat(EMPTY, chunk.subarray(p, end), end - p);
    if (records.length > 0 || bad !== undefined) {
      yield bad ? { records, bad, bytes } : { records, bytes };
      records = [];
      bad = undefined;
    }
  }
  if (carry !== undefined) {
    nextQuote = -1;
    one(carry, 0, carry.byteLength, false);
  }
  parser.finish(sink);
  if (records.length > 0 || bad !== undefined) yield bad ? { records, bad, bytes } : { records, bytes };
}
