// Fast JSON Lines reading for generated decoders (compiler/src/emit/decoder.ts).
//
// flowc generates, per JSONL source, a function that reads one line's bytes through a
// `JsonCursor`: it walks the object's keys, converts the fields the program uses straight from
// the bytes (no `JSON.parse`, no string per line, one string per kept string field at most —
// interned when values repeat), validates every other declared field in place, and skips
// undeclared ones. Anything it is not sure about — a bad value, a missing field, an escape in a
// kept string, a number it cannot convert exactly, malformed JSON — makes it give up on that
// line, and the line goes through the general path (`JSON.parse` + `makeDecoder`), which yields
// either the same record or the precise bad-record message of LANGUAGE.md §6. So the fast path
// never decides that a record is bad; it only ever accepts records the general path would accept
// with the same value.
//
// Browser-safe: no Node imports. On Node, chunks are Buffers and ASCII strings are made with
// `latin1Slice`; elsewhere with a TextDecoder.

import { DecodeError } from "../decode.js";
import { MAX_TIME, daysFromCivil, parseIsoTime } from "../time.js";
import type { BadRecord, ReadBatch } from "./batch.js";
import { jsonErrorMessage } from "./jsonl.js";
import { isBlank } from "./text.js";

/** A generated line decoder: the record, or `undefined` to send the line down the general path. */
export type JsonlLineDecoder = (c: JsonCursor) => unknown;

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const LBRACE = 123;
const RBRACE = 125;
const LBRACKET = 91;
const RBRACKET = 93;
const MINUS = 45;

export const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Bytes that end or complicate a string: 1 = `"`, 2 = `\\`, 3 = a control character, 4 = non-ASCII. */
const STR_CLASS = new Uint8Array(256);
for (let c = 0; c < 32; c++) STR_CLASS[c] = 3;
STR_CLASS[QUOTE] = 1;
STR_CLASS[BACKSLASH] = 2;
for (let c = 128; c < 256; c++) STR_CLASS[c] = 4;

type Latin1Slicer = { latin1Slice(start: number, end: number): string };
export const hasLatin1 = (b: Uint8Array): boolean => typeof (b as unknown as Partial<Latin1Slicer>).latin1Slice === "function";

/** The text of ASCII bytes b[s, e). */
export function asciiText(b: Uint8Array, s: number, e: number, node: boolean): string {
  if (node) return (b as unknown as Latin1Slicer).latin1Slice(s, e);
  if (e - s <= 16) {
    let t = "";
    for (let i = s; i < e; i++) t += String.fromCharCode(b[i]!);
    return t;
  }
  return utf8.decode(b.subarray(s, e));
}

/** The key names of a record type, as bytes, for `JsonCursor.key`. */
export class JsonKeys {
  readonly bytes: Uint8Array[];
  /**
   * The bytes before each value when a line holds exactly the declared fields in declared order
   * without whitespace — how most producers write JSON: `{"a":`, then `,"b":`, ….
   */
  readonly layout: Uint8Array[];
  constructor(readonly names: readonly string[]) {
    const enc = new TextEncoder();
    this.bytes = names.map((n) => enc.encode(n));
    this.layout = names.map((n, i) => enc.encode(`${i === 0 ? "{" : ","}${JSON.stringify(n)}:`));
  }
}

/**
 * Interned values of one string field: most fields a program groups or filters by repeat a few
 * values, and re-using their strings saves an allocation per record and a hash per Map lookup.
 * Direct-mapped by a hash of the bytes; grows (up to 64K slots) while values miss often, and
 * switches itself off when they rarely repeat even then.
 */
export class StringTable {
  private strs: string[] = new Array<string>(1024).fill("");
  private hashes = new Int32Array(1024);
  private mask = 1023;
  private lookups = 0;
  private hits = 0;
  on = true;

  /** The string of ASCII bytes b[s, e) with hash h. */
  get(b: Uint8Array, s: number, e: number, h: number, node: boolean): string {
    const slot = (h ^ (h >>> 15)) & this.mask;
    const cached = this.strs[slot]!;
    const len = e - s;
    if (this.hashes[slot] === h && cached.length === len) {
      let i = 0;
      while (i < len && cached.charCodeAt(i) === b[s + i]) i++;
      if (i === len) {
        this.hits++;
        return cached;
      }
    }
    const str = asciiText(b, s, e, node);
    this.strs[slot] = str;
    this.hashes[slot] = h;
    if (++this.lookups === 16384) this.adapt();
    return str;
  }

  private adapt(): void {
    const hitRate = this.hits / this.lookups;
    this.lookups = 0;
    this.hits = 0;
    if (hitRate > 0.9) return;
    if (this.mask < 65535) {
      const size = (this.mask + 1) * 4;
      this.strs = new Array<string>(size).fill("");
      this.hashes = new Int32Array(size);
      this.mask = size - 1;
    } else if (hitRate < 0.5) this.on = false;
  }
}

/** 10^k for k ≤ 22: exactly representable, so m / 10^k is correctly rounded for m < 2^53. */
export const POW10 = Array.from({ length: 23 }, (_, k) => Number("1e" + k));

/**
 * A position in one line of JSON bytes, with the reads a generated decoder needs. Every read
 * checks what it reads; on anything unexpected it sets `ok = false` (and returns a dummy), and
 * the decoder gives up on the line.
 */
export class JsonCursor {
  b: Uint8Array = new Uint8Array(0);
  p = 0;
  e = 0;
  ok = true;
  private first = true;
  private node = false;
  /** The key index expected next (fields usually come in declared order). */
  private hint = 0;
  private readonly iso = new IsoDays();

  /** Points the cursor at the line b[s, e). */
  reset(b: Uint8Array, s: number, e: number): void {
    if (b !== this.b) {
      this.b = b;
      this.node = hasLatin1(b);
    }
    this.p = s;
    this.e = e;
    this.ok = true;
    this.first = true;
    this.hint = 0;
  }

  private ws(): void {
    const b = this.b;
    let p = this.p;
    for (;;) {
      const c = b[p];
      if (c === 32 || c === 9 || c === 13) p++;
      else break;
    }
    this.p = p;
  }

  /** `{` after optional whitespace. */
  begin(): boolean {
    this.ws();
    if (this.b[this.p] !== LBRACE) {
      this.ok = false;
      return false;
    }
    this.p++;
    return true;
  }

  /** Before each key: true when a key follows, false at the closing `}` (or on an error). */
  more(): boolean {
    if (!this.ok) return false;
    this.ws();
    const c = this.b[this.p];
    if (c === RBRACE) {
      this.p++;
      return false;
    }
    if (this.first) {
      this.first = false;
      return true;
    }
    if (c !== COMMA) {
      this.ok = false;
      return false;
    }
    this.p++;
    this.ws();
    return true;
  }

  /**
   * Reads `"key":` and returns the key's index in `keys`, −1 for a key the type does not
   * declare, −2 on an error (a key with an escape is an error here: the general path decodes it).
   */
  key(keys: JsonKeys): number {
    const b = this.b;
    let p = this.p;
    if (b[p] !== QUOTE) {
      this.ok = false;
      return -2;
    }
    const s = ++p;
    const e = this.e;
    // Fields usually come in declared order: compare the expected key in place first.
    const all = keys.bytes;
    const n = all.length;
    const hint = this.hint;
    const expect = all[hint]!;
    const elen = expect.length;
    if (s + elen < e && b[s + elen] === QUOTE) {
      let j = 0;
      while (j < elen && expect[j] === b[s + j]) j++;
      if (j === elen) {
        this.p = s + elen + 1;
        this.ws();
        if (b[this.p] !== COLON) {
          this.ok = false;
          return -2;
        }
        this.p++;
        this.ws();
        this.hint = hint + 1 === n ? 0 : hint + 1;
        return hint;
      }
    }
    for (;;) {
      if (p >= e) {
        this.ok = false;
        return -2;
      }
      const c = b[p]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH || c < 32) {
        this.ok = false;
        return -2;
      }
      p++;
    }
    const len = p - s;
    this.p = p + 1;
    this.ws();
    if (b[this.p] !== COLON) {
      this.ok = false;
      return -2;
    }
    this.p++;
    this.ws();
    for (let k = 0, i = hint; k < n; k++, i = i + 1 === n ? 0 : i + 1) {
      const kb = all[i]!;
      if (kb.length !== len) continue;
      let j = 0;
      while (j < len && kb[j] === b[s + j]) j++;
      if (j === len) {
        this.hint = i + 1 === n ? 0 : i + 1;
        return i;
      }
    }
    return -1;
  }

  /** Consumes the bytes `l` if they are next (see JsonKeys.layout). */
  lit(l: Uint8Array): boolean {
    const b = this.b;
    const p = this.p;
    const n = l.length;
    if (p + n > this.e) return false;
    for (let j = 0; j < n; j++) if (b[p + j] !== l[j]) return false;
    this.p = p + n;
    return true;
  }

  /** The closing `}` of a line read along JsonKeys.layout, every read before it valid. */
  close(): boolean {
    if (!this.ok || this.b[this.p] !== RBRACE) return false;
    this.p++;
    return this.end();
  }

  /** At the end of the object: only whitespace may follow on the line. */
  end(): boolean {
    if (!this.ok) return false;
    this.ws();
    return this.p === this.e;
  }

  /** Consumes `null` if it is next. */
  isNull(): boolean {
    const b = this.b;
    const p = this.p;
    if (b[p] === 110 && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108 && p + 4 <= this.e) {
      this.p = p + 4;
      return true;
    }
    return false;
  }

  /** The end of a JSON number starting at p (−1 when the grammar is not followed). */
  private numberEnd(p: number): number {
    const b = this.b;
    const e = this.e;
    if (b[p] === MINUS) p++;
    let c = b[p]!;
    if (p >= e || c < 48 || c > 57) return -1;
    p++;
    if (c !== 48) while (p < e && (c = b[p]!) >= 48 && c <= 57) p++;
    if (p < e && b[p] === 46) {
      p++;
      const s = p;
      while (p < e && (c = b[p]!) >= 48 && c <= 57) p++;
      if (p === s) return -1;
    }
    if (p < e && (b[p] === 101 || b[p] === 69)) {
      p++;
      if (b[p] === 43 || b[p] === MINUS) p++;
      const s = p;
      while (p < e && (c = b[p]!) >= 48 && c <= 57) p++;
      if (p === s) return -1;
    }
    return p;
  }

  /** Any JSON number, converted as JSON.parse does (NaN when it is not a number). */
  private anyNumber(): number {
    const s = this.p;
    const q = this.numberEnd(s);
    if (q < 0) return NaN;
    this.p = q;
    return Number(asciiText(this.b, s, q, this.node));
  }

  /** An `int`: a safe integer (`2.0` and `1e3` are ints, as in JSON.parse + the int check). */
  int(): number {
    const b = this.b;
    const s = this.p;
    let p = s;
    const e = this.e;
    let neg = false;
    if (b[p] === MINUS) {
      neg = true;
      p++;
    }
    let c = b[p]! - 48;
    if (p >= e || !(c >= 0 && c <= 9)) {
      this.ok = false;
      return 0;
    }
    let v = c;
    p++;
    if (c !== 0) {
      while (p < e) {
        c = b[p]! - 48;
        if (!(c >= 0 && c <= 9)) break;
        v = v * 10 + c;
        p++;
      }
    }
    const next = p < e ? b[p] : 0;
    if (next === 46 || next === 101 || next === 69 || (next! >= 48 && next! <= 57) || p - s - (neg ? 1 : 0) > 15) {
      // a fraction, an exponent, a leading 0 followed by digits, or many digits: convert exactly
      this.p = s;
      const x = this.anyNumber();
      if (!Number.isSafeInteger(x)) this.ok = false;
      return x;
    }
    this.p = p;
    return neg ? -v : v;
  }

  /** A `float` (or `duration`): a finite JSON number. */
  float(): number {
    const b = this.b;
    const s = this.p;
    let p = s;
    const e = this.e;
    let neg = false;
    if (b[p] === MINUS) {
      neg = true;
      p++;
    }
    let c = b[p]! - 48;
    if (p >= e || !(c >= 0 && c <= 9)) {
      this.ok = false;
      return 0;
    }
    let m = c;
    let digits = c === 0 ? 0 : 1;
    p++;
    if (c !== 0) {
      while (p < e) {
        c = b[p]! - 48;
        if (!(c >= 0 && c <= 9)) break;
        m = m * 10 + c;
        digits++;
        p++;
      }
    }
    let scale = 0;
    if (p < e && b[p] === 46) {
      p++;
      const f = p;
      while (p < e) {
        c = b[p]! - 48;
        if (!(c >= 0 && c <= 9)) break;
        m = m * 10 + c;
        p++;
      }
      scale = p - f;
      digits += scale;
      if (scale === 0) {
        this.ok = false;
        return 0;
      }
    }
    const next = p < e ? b[p] : 0;
    if (next === 101 || next === 69 || (next! >= 48 && next! <= 57) || digits > 15 || scale > 22) {
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
    const b = this.b;
    const p = this.p;
    if (b[p] === 116 && b[p + 1] === 114 && b[p + 2] === 117 && b[p + 3] === 101 && p + 4 <= this.e) {
      this.p = p + 4;
      return true;
    }
    if (b[p] === 102 && b[p + 1] === 97 && b[p + 2] === 108 && b[p + 3] === 115 && b[p + 4] === 101 && p + 5 <= this.e) {
      this.p = p + 5;
      return false;
    }
    this.ok = false;
    return false;
  }

  /** Validates an escape at p (the backslash); returns the position after it, or −1. */
  private escape(p: number): number {
    const b = this.b;
    const c = b[p + 1];
    if (c === 117) {
      for (let k = 2; k < 6; k++) {
        const h = b[p + k]!;
        if (!((h >= 48 && h <= 57) || (h >= 65 && h <= 70) || (h >= 97 && h <= 102))) return -1;
      }
      return p + 6 <= this.e ? p + 6 : -1;
    }
    return c === 34 || c === 92 || c === 47 || c === 98 || c === 102 || c === 110 || c === 114 || c === 116 ? p + 2 : -1;
  }

  /** Skips a JSON string (validating it). */
  skipStr(): void {
    const b = this.b;
    let p = this.p;
    if (b[p] !== QUOTE) {
      this.ok = false;
      return;
    }
    p++;
    const e = this.e;
    for (;;) {
      if (p >= e) {
        this.ok = false;
        return;
      }
      const k = STR_CLASS[b[p]!]!;
      if (k === 0 || k === 4) {
        p++;
        continue;
      }
      if (k === 1) break;
      if (k === 3) {
        this.ok = false;
        return;
      }
      p = this.escape(p);
      if (p < 0) {
        this.ok = false;
        return;
      }
    }
    this.p = p + 1;
  }

  /** A JSON string's value; `table` interns repeated values. */
  str(table?: StringTable): string {
    const b = this.b;
    let p = this.p;
    if (b[p] !== QUOTE) {
      this.ok = false;
      return "";
    }
    const s = ++p;
    const e = this.e;
    let h = 0;
    let plain = true; // ASCII without escapes
    for (;;) {
      if (p >= e) {
        this.ok = false;
        return "";
      }
      const c = b[p]!;
      const k = STR_CLASS[c]!;
      if (k === 0) {
        h = (Math.imul(h, 31) + c) | 0;
        p++;
        continue;
      }
      if (k === 1) break;
      if (k === 3) {
        this.ok = false;
        return "";
      }
      plain = false;
      if (k === 4) {
        p++;
        continue;
      }
      p = this.escape(p);
      if (p < 0) {
        this.ok = false;
        return "";
      }
    }
    this.p = p + 1;
    if (plain) return table !== undefined && table.on ? table.get(b, s, p, h, this.node) : asciiText(b, s, p, this.node);
    // Escapes or non-ASCII: decode exactly as the general path would (UTF-8 text, then JSON).
    return JSON.parse(utf8.decode(b.subarray(s - 1, p + 1))) as string;
  }

  /** A `time`: epoch ms (a number, fractions floored) or an ISO-8601 string (see time.ts). */
  time(): number {
    const b = this.b;
    const p = this.p;
    if (b[p] !== QUOTE) {
      const x = this.anyNumber();
      if (!(x >= -MAX_TIME && x <= MAX_TIME)) {
        this.ok = false;
        return 0;
      }
      return Number.isInteger(x) ? x : Math.floor(x);
    }
    // The common shape `YYYY-MM-DDTHH:MM:SS.sssZ"` read in place; anything else via the string.
    const s = p + 1;
    if (s + 25 <= this.e && b[s + 24] === QUOTE) {
      const t = this.iso.at(b, s);
      if (t === t) {
        this.p = s + 25;
        return t;
      }
    }
    const text = this.str();
    if (!this.ok) return 0;
    const t = parseIsoTime(text);
    if (t === undefined) this.ok = false;
    return t ?? 0;
  }

  /** Skips any JSON value (validating it); `depth` bounds nesting (deeper → general path). */
  skip(depth = 0): void {
    const b = this.b;
    const c = b[this.p];
    if (c === QUOTE) return this.skipStr();
    if (c === LBRACE || c === LBRACKET) {
      if (depth > 32) {
        this.ok = false;
        return;
      }
      const close = c === LBRACE ? RBRACE : RBRACKET;
      this.p++;
      this.ws();
      if (b[this.p] === close) {
        this.p++;
        return;
      }
      for (;;) {
        if (c === LBRACE) {
          this.skipStr();
          if (!this.ok) return;
          this.ws();
          if (b[this.p] !== COLON) {
            this.ok = false;
            return;
          }
          this.p++;
          this.ws();
        }
        this.skip(depth + 1);
        if (!this.ok) return;
        this.ws();
        const d = b[this.p];
        this.p++;
        if (d === close) return;
        if (d !== COMMA) {
          this.ok = false;
          return;
        }
        this.ws();
      }
    }
    if (c === 116 || c === 102) {
      this.bool();
      return;
    }
    if (this.isNull()) return;
    const q = this.numberEnd(this.p);
    if (q < 0) this.ok = false;
    else this.p = q;
  }

  /** An array or record field: its JSON text, parsed and converted by `conv` (which may throw). */
  json<T>(conv: (v: unknown) => T): T {
    const s = this.p;
    this.skip();
    if (!this.ok) return undefined as T;
    try {
      return conv(JSON.parse(utf8.decode(this.b.subarray(s, this.p))));
    } catch {
      this.ok = false;
      return undefined as T;
    }
  }
}

/**
 * Reads the 24 bytes `YYYY-MM-DDTHH:MM:SS.sssZ` at b[s] as epoch ms (NaN for any other shape or
 * an impossible date: the caller then uses parseIsoTime, which decides). Remembers the last day:
 * most records of a file share it.
 */
export class IsoDays {
  private lastDate = -1;
  private lastDays = 0;

  at(b: Uint8Array, s: number): number {
    if (b[s + 4] !== MINUS || b[s + 7] !== MINUS || b[s + 10] !== 84 || b[s + 13] !== COLON || b[s + 16] !== COLON || b[s + 19] !== 46 || b[s + 23] !== 90) return NaN;
    const year = d4(b, s);
    const month = d2(b, s + 5);
    const day = d2(b, s + 8);
    const hour = d2(b, s + 11);
    const minute = d2(b, s + 14);
    const second = d2(b, s + 17);
    const ms = d2(b, s + 20);
    const last = b[s + 22]! - 48;
    if (!(year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 && ms >= 0 && last >= 0 && last <= 9)) return NaN;
    const date = year * 10000 + month * 100 + day;
    let days: number;
    if (date === this.lastDate) days = this.lastDays;
    else {
      if (day > daysInMonth(year, month)) return NaN;
      days = daysFromCivil(year, month, day);
      this.lastDate = date;
      this.lastDays = days;
    }
    return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms * 10 + last;
  }
}

function d2(b: Uint8Array, i: number): number {
  const x = b[i]! - 48;
  const y = b[i + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

function d4(b: Uint8Array, i: number): number {
  const x = d2(b, i);
  const y = d2(b, i + 2);
  return x >= 0 && y >= 0 ? x * 100 + y : -1;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(y: number, m: number): number {
  return m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0) ? 29 : DAYS_IN_MONTH[m - 1]!;
}


/**
 * Reads JSONL from a byte stream with a generated line decoder, yielding a batch of records per
 * chunk. Lines the decoder gives up on go through `JSON.parse` and `slow` (makeDecoder), which
 * gives the record or the bad-record message — the same batches `readJsonl` yields.
 */
export async function* readJsonlFast(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  fast: JsonlLineDecoder,
  slow: (value: unknown) => unknown,
): AsyncGenerator<ReadBatch> {
  const c = new JsonCursor();
  let line = 0;
  let bytes = 0;
  let carry: Uint8Array | undefined;
  let records: unknown[] = [];
  let bad: BadRecord[] | undefined;

  const one = (b: Uint8Array, s: number, e: number): void => {
    if (e > s && b[e - 1] === 13) e--; // CRLF
    line++;
    if (line === 1 && b[s] === 0xef && b[s + 1] === 0xbb && b[s + 2] === 0xbf) s += 3; // BOM
    if (e <= s) return;
    c.reset(b, s, e);
    const r = fast(c);
    if (r !== undefined) {
      records.push(r);
      return;
    }
    // The general path, as readJsonl does it.
    const raw = utf8.decode(b.subarray(s, e));
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      if (!isBlank(raw)) (bad ??= []).push({ line, raw, error: jsonErrorMessage(err), index: records.length });
      return;
    }
    try {
      records.push(slow(value));
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      (bad ??= []).push({ line, raw, error: err.message, index: records.length });
    }
  };

  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    let p = 0;
    const end = chunk.byteLength;
    if (carry !== undefined) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        carry = concat(carry, chunk, end);
        continue;
      }
      const joined = concat(carry, chunk, nl);
      carry = undefined;
      one(joined, 0, joined.byteLength);
      p = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(10, p);
      if (nl < 0) break;
      one(chunk, p, nl);
      p = nl + 1;
      if (records.length === BATCH) {
        // Small batches: records then die young, before a scavenge would promote them.
        yield bad ? { records, bad, bytes } : { records, bytes };
        records = [];
        bad = undefined;
      }
    }
    if (p < end) carry = concat(EMPTY, chunk.subarray(p, end), end - p); // a copy: the producer may reuse its buffer
    if (records.length > 0 || bad !== undefined) {
      yield bad ? { records, bad, bytes } : { records, bytes };
      records = [];
      bad = undefined;
    }
  }
  if (carry !== undefined) one(carry, 0, carry.byteLength);
  if (records.length > 0 || bad !== undefined) yield bad ? { records, bad, bytes } : { records, bytes };
}

export const EMPTY = new Uint8Array(0);

/** Records per batch (see readJsonlFast). */
const BATCH = 1024;

/** a followed by b[0, n). Keeps a Buffer a Buffer (for latin1Slice). */
export function concat(a: Uint8Array, b: Uint8Array, n: number): Uint8Array {
  const out = hasLatin1(a) || hasLatin1(b) ? allocLike(b, a.byteLength + n) : new Uint8Array(a.byteLength + n);
  out.set(a, 0);
  out.set(b.subarray(0, n), a.byteLength);
  return out;
}

function allocLike(model: Uint8Array, n: number): Uint8Array {
  const ctor = model.constructor as unknown as { allocUnsafe?: (n: number) => Uint8Array };
  return typeof ctor.allocUnsafe === "function" ? ctor.allocUnsafe(n) : new Uint8Array(n);
}
