// The one serializer of checkpoints (LANGUAGE.md §12): operator and graph state as JSON text.
//
// State is an object graph: Maps, Sets, arrays (with holes), typed arrays, plain rows, class
// instances (windows, buckets, sessions, generated `AggNState`s, the stdlib's HyperLogLog…),
// numbers that JSON cannot spell (NaN, ±Infinity, −0) and `undefined`; objects may be shared or
// form cycles (a session list, the window an operator saw last). `encode` writes that graph as a
// JSON-able value, `decode` rebuilds it:
//
//   number (finite), string, boolean, null   as is
//   array                                    a JSON array of encoded items
//   { $: "u" }                               undefined (also an array hole)
//   { $: "n", v: "NaN" | "Infinity" | "-Infinity" | "-0" }
//   { $: "b", v: "123" }                     a bigint
//   { $: "o", v: { … }, p?: 0 }              a plain object (p: 0 — no prototype)
//   { $: "M", v: [k, v, k, v, …] }           a Map;  { $: "S", v: [...] } a Set
//   { $: "MC", c?: "NAME", p?: 0, f: [names], k: COLUMN, v: [COLUMN | "k", …] }
//                                            a Map whose values are records of one shape (a
//                                            keyed aggregate's states): see `columnsOf`
//   { $: "N", v: COLUMN }                    a long array of numbers (an operator's key order)
//
// A COLUMN is a JSON array of encoded values, or, when every value is a number, packed as
// base64 text: { $: "I", v } zigzag varints (every value a safe integer, no −0) or { $: "F", v }
// float64s, little-endian (any number, bit for bit) — or, in a checkpoint file with a binary
// part, { $: "I" | "F", b: N }: the same bytes as its N-th blob (run.ts). 1M keys of `count, sum, avg` take about 20
// bytes each this way, and JSON's parser reads one string instead of 5M numbers.
//   { $: "T", t: "Float64Array", v: [...] }  a typed array (v a packed COLUMN from 64 values on;
//                                            or c: [packed, …], a column packed in chunks)
//   { $: "c", c: "NAME", v: { … } }          an instance of a registered class, its own fields
//   { $: "r", i: N }                         the N-th object met before (shared or cyclic)
//
// Objects are numbered in the order the encoder meets them (depth first); the decoder numbers
// them in the same order, registering each before its contents so a cycle finds it. Classes are
// restored without running their constructor: `Object.create(prototype)` and their own fields.
// A class must be registered under a stable name — by the runtime's operators (stateClass) or
// by a program (`Program.stateClasses`: its generated state classes and the stdlib classes they
// hold). Functions are never state: meeting one, or an unregistered class, is an internal error
// naming it, so a forgotten registration fails loudly instead of losing state.
//
// Also: `snapshotFields` / `restoreFields`, the snapshot()/restore() of every operator, and the
// checksum of a checkpoint's text. Browser-safe: no Node imports.

/** Classes of the runtime's operators, by stable name (registered as their modules load). */
const runtimeClasses = new Map<string, Function>();

/** Registers a class whose instances are operator state (name: stable across builds). */
export function stateClass(name: string, cls: Function): void {
  runtimeClasses.set(name, cls);
}

/**
 * The runtime's state classes, by name. A program lists them in its `stateClasses` (the generated
 * code calls this): a built module bundles its own copy of the runtime, whose classes are not the
 * ones of the process running it (`flowc run` loads programs into the CLI's process).
 */
export function registeredStateClasses(): Record<string, Function> {
  return Object.fromEntries(runtimeClasses);
}

/** The classes a checkpoint may hold: a program's (`Program.stateClasses`) and the runtime's. */
export class ClassTable {
  private readonly byName = new Map<string, object>();
  private readonly byProto = new Map<object, string>();

  constructor(program: Readonly<Record<string, Function>> = {}) {
    // The program's classes first: by name they win over this runtime copy's own.
    for (const name of Object.keys(program)) this.add(name, program[name]!);
    for (const [name, cls] of runtimeClasses) this.add(name, cls);
  }

  private add(name: string, cls: Function): void {
    if (!this.byName.has(name)) this.byName.set(name, cls.prototype as object);
    if (!this.byProto.has(cls.prototype as object)) this.byProto.set(cls.prototype as object, name);
  }

  nameOf(proto: object): string | undefined {
    return this.byProto.get(proto);
  }

  protoOf(name: string): object | undefined {
    return this.byName.get(name);
  }
}

const TYPED = ["Float64Array", "Float32Array", "Int32Array", "Uint32Array", "Int16Array", "Uint16Array", "Int8Array", "Uint8Array", "Uint8ClampedArray"] as const;
type TypedName = (typeof TYPED)[number];
const typedCtor = (name: TypedName) => (globalThis as unknown as Record<TypedName, new (n: number) => { [i: number]: number; length: number }>)[name];

function encodeNumber(x: number): unknown {
  if (Number.isFinite(x)) return Object.is(x, -0) ? { $: "n", v: "-0" } : x;
  return { $: "n", v: String(x) };
}

/** Sets `o[k] = v` for a name from data: `__proto__` becomes an own field, never the prototype. */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

/**
 * Columns of a checkpoint packed while the run goes on (run.ts): `encode` given a Packing copies
 * each long column (a memory copy) and leaves a step that packs it; a store may leave steps of
 * its own (SlotColumns). The packed bytes stay bytes until `seal` puts them in the document — as
 * blobs of a checkpoint file's binary part, or as base64 text.
 */
export class Packing {
  /** Work left, each step a few ms. */
  readonly steps: (() => void)[] = [];
  private readonly columns: Packed[] = [];

  /** Values `from` … `to` − 1 of `xs`, packed now. */
  pack(xs: ArrayLike<number>, from = 0, to = xs.length): Packed {
    const p = packBytes(xs, from, to);
    this.columns.push(p);
    return p;
  }

  /**
   * Every packed column into the document: `binary` — as blob numbers (`b`), the blobs returned
   * in order; else as base64 text (`v`).
   */
  seal(binary: boolean): Uint8Array[] {
    const blobs: Uint8Array[] = [];
    for (const p of this.columns) {
      const bytes = p.bytes!;
      delete p.bytes;
      if (binary) {
        p.b = blobs.length;
        blobs.push(bytes);
      } else p.v = toBase64(bytes, bytes.length);
    }
    return blobs;
  }
}

/** A packed column (see the table above): its bytes as base64 (`v`), a blob number (`b`), or, until sealed, the bytes. */
export interface Packed {
  $: "I" | "F";
  v?: string;
  b?: number;
  bytes?: Uint8Array;
}

/**
 * The state graph `value` as a JSON-able value (see the table above). With `packing`, long
 * columns (typed arrays, arrays of numbers) are copied and packed by its steps, and a member
 * with `checkpoint(packing)` (a store that packs itself) gives that; the value is complete once
 * the steps have run and the packing is sealed.
 */
export function encode(value: unknown, classes: ClassTable, packing?: Packing): unknown {
  const ids = new Map<object, number>();
  const enc = (v: unknown, where: string): unknown => {
    switch (typeof v) {
      case "number":
        return encodeNumber(v);
      case "string":
      case "boolean":
        return v;
      case "undefined":
        return { $: "u" };
      case "bigint":
        return { $: "b", v: v.toString() };
      case "function":
      case "symbol":
        throw new Error(`internal: checkpoint state holds a ${typeof v} at ${where}`);
    }
    if (v === null) return null;
    const obj = v as object;
    const seen = ids.get(obj);
    if (seen !== undefined) return { $: "r", i: seen };
    ids.set(obj, ids.size);
    if (Array.isArray(obj)) {
      if (obj.length >= PACK_MIN && allNumbers(obj)) {
        if (packing === undefined) return { $: "N", v: packNumbers(obj)! };
        const out: { $: "N"; v: unknown } = { $: "N", v: null };
        const copy = obj.slice() as number[];
        packing.steps.push(() => (out.v = packing.pack(copy)));
        return out;
      }
      const out = new Array<unknown>(obj.length);
      for (let i = 0; i < obj.length; i++) out[i] = i in obj ? enc(obj[i], where) : { $: "u" };
      return out;
    }
    const own = (obj as { checkpoint?: unknown }).checkpoint;
    if (typeof own === "function") {
      // A store that encodes itself (SlotColumns), packing its columns in steps; without a
      // packing of the caller's, now.
      const p = packing ?? new Packing();
      const encoded = (own as (p: Packing) => unknown).call(obj, p);
      if (packing === undefined) {
        for (const step of p.steps) step();
        p.seal(false);
      }
      // The objects the decoder will number inside it (it numbers each as it meets it): so
      // numbered here too, for the references that follow.
      for (let n = decodedObjects(encoded) - 1; n > 0; n--) ids.set({}, ids.size);
      return encoded;
    }
    if (obj instanceof Map) {
      const columns = columnsOf(obj, ids, classes, where, enc);
      if (columns !== undefined) return columns;
      const out: unknown[] = [];
      for (const [k, x] of obj) out.push(enc(k, where), enc(x, where));
      return { $: "M", v: out };
    }
    if (obj instanceof Set) {
      const out: unknown[] = [];
      for (const x of obj) out.push(enc(x, where));
      return { $: "S", v: out };
    }
    if (ArrayBuffer.isView(obj)) {
      const t = obj.constructor.name as TypedName;
      if (!TYPED.includes(t)) throw new Error(`internal: checkpoint state holds a ${t} at ${where}`);
      const a = obj as unknown as TypedArray;
      if (a.length < PACK_MIN) return { $: "T", t, v: Array.from(a, encodeNumber) };
      // A store's column: packed, now or (deferred) from a copy taken now.
      if (packing === undefined) return { $: "T", t, v: packNumbers(a)! };
      const out: { $: "T"; t: TypedName; v: unknown } = { $: "T", t, v: null };
      const copy = a.slice();
      packing.steps.push(() => (out.v = packing.pack(copy)));
      return out;
    }
    const proto = Object.getPrototypeOf(obj) as object | null;
    const fields: Record<string, unknown> = {};
    for (const k of Object.keys(obj)) setOwn(fields, k, enc((obj as Record<string, unknown>)[k], `${where}.${k}`));
    if (proto === Object.prototype) return { $: "o", v: fields };
    if (proto === null) return { $: "o", v: fields, p: 0 };
    const name = classes.nameOf(proto);
    if (name === undefined) {
      const ctor = (proto as { constructor?: { name?: string } }).constructor?.name ?? "?";
      throw new Error(`internal: checkpoint state holds an instance of class ${ctor}, which is not registered (stateClass / Program.stateClasses), at ${where}`);
    }
    return { $: "c", c: name, v: fields };
  };
  return enc(value, "state");
}

/** How many objects `decode` numbers when it reads encoded value `v` (forms without references or maps of records). */
function decodedObjects(v: unknown): number {
  if (v === null || typeof v !== "object") return 0;
  if (Array.isArray(v)) return 1 + v.reduce<number>((n, x) => n + decodedObjects(x), 0);
  const t = v as { $?: unknown; v?: unknown };
  switch (t.$) {
    case "o":
    case "c": {
      const fields = (t.v ?? {}) as Record<string, unknown>;
      return 1 + Object.keys(fields).reduce((n, k) => n + decodedObjects(fields[k]), 0);
    }
    case "T":
    case "N":
      return 1;
    case "u":
    case "n":
    case "b":
      return 0;
    default:
      throw new Error(`internal: a store encoded itself as ${String(t.$)}, which it may not`);
  }
}

/** Arrays shorter than this stay JSON arrays (readable in a small checkpoint). */
const PACK_MIN = 64;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_INDEX = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < 64; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Node's Buffer, when there is one: its base64 is native (the browser path below is ~10× slower). */
const NodeBuffer = (globalThis as { Buffer?: { from(a: ArrayBufferLike | string, o?: number | string, n?: number): Uint8Array & { toString(enc: string): string } } }).Buffer;
const ascii = new TextDecoder();

/** Bytes as base64 (browser-safe: Buffer when present, else ASCII codes decoded as one string). */
function toBase64(b: Uint8Array, n: number): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(b.buffer, b.byteOffset, n).toString("base64");
  const codes = new Uint8Array(Math.ceil(n / 3) * 4);
  let o = 0;
  for (let i = 0; i < n; i += 3) {
    const x = (b[i]! << 16) | ((i + 1 < n ? b[i + 1]! : 0) << 8) | (i + 2 < n ? b[i + 2]! : 0);
    codes[o++] = B64.charCodeAt(x >>> 18);
    codes[o++] = B64.charCodeAt((x >>> 12) & 63);
    codes[o++] = i + 1 < n ? B64.charCodeAt((x >>> 6) & 63) : 61;
    codes[o++] = i + 2 < n ? B64.charCodeAt(x & 63) : 61;
  }
  return ascii.decode(codes);
}

/** base64 text back to bytes; undefined when it is not base64. */
function fromBase64(s: string): Uint8Array | undefined {
  if (s.length % 4 !== 0) return undefined;
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const size = (s.length / 4) * 3 - pad;
  // Buffer skips characters that are not base64: its length tells.
  if (NodeBuffer !== undefined) {
    const out = NodeBuffer.from(s, "base64");
    return out.length === size ? out : undefined;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const a = B64_INDEX[s.charCodeAt(i) & 127]!;
    const b = B64_INDEX[s.charCodeAt(i + 1) & 127]!;
    const c = s.charCodeAt(i + 2) === 61 ? 0 : B64_INDEX[s.charCodeAt(i + 2) & 127]!;
    const d = s.charCodeAt(i + 3) === 61 ? 0 : B64_INDEX[s.charCodeAt(i + 3) & 127]!;
    if ((a | b | c | d) < 0 || s.charCodeAt(i) > 127 || s.charCodeAt(i + 1) > 127) return undefined;
    const x = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = x >>> 16;
    if (o < size) out[o++] = (x >>> 8) & 255;
    if (o < size) out[o++] = x & 255;
  }
  return out;
}

const TWO_52 = 2 ** 52;

type TypedArray = { [i: number]: number; readonly length: number; slice(): TypedArray } & ArrayLike<number>;

function allNumbers(xs: readonly unknown[]): boolean {
  for (let i = 0; i < xs.length; i++) if (typeof xs[i] !== "number") return false;
  return true;
}

/** A column of numbers packed as base64 (see the table above); undefined when a value is not a number. */
function packNumbers(xs: ArrayLike<unknown>): { $: "I" | "F"; v: string } | undefined {
  for (let i = 0; i < xs.length; i++) if (typeof xs[i] !== "number") return undefined;
  const p = packBytes(xs as ArrayLike<number>, 0, xs.length);
  return { $: p.$, v: toBase64(p.bytes!, p.bytes!.length) };
}

/** Numbers `from` … `to` − 1 of `xs` packed: zigzag varints when all are safe integers (no −0), else float64s. */
function packBytes(xs: ArrayLike<number>, from: number, to: number): Packed {
  let ints = true;
  for (let i = from; i < to; i++) {
    const x = xs[i]!;
    if (!(Number.isInteger(x) && Math.abs(x) <= TWO_52 && !Object.is(x, -0))) {
      ints = false;
      break;
    }
  }
  if (!ints) {
    const f = new Float64Array(to - from);
    for (let i = from; i < to; i++) f[i - from] = xs[i]!;
    return { $: "F", bytes: new Uint8Array(f.buffer) };
  }
  // Zigzag (0, −1, 1, −2 … → 0, 1, 2, 3 …) then 7 bits per byte, low bits first.
  let bytes = new Uint8Array((to - from) * 3 + 16);
  let n = 0;
  for (let i = from; i < to; i++) {
    const x = xs[i]!;
    let z = x >= 0 ? 2 * x : -2 * x - 1;
    if (n + 8 > bytes.length) {
      const grown = new Uint8Array(bytes.length * 2);
      grown.set(bytes);
      bytes = grown;
    }
    while (z >= 2147483648) {
      bytes[n++] = (z % 128) | 128;
      z = Math.floor(z / 128);
    }
    // Below 2^31: the same in int32 arithmetic.
    while (z >= 128) {
      bytes[n++] = (z & 127) | 128;
      z >>>= 7;
    }
    bytes[n++] = z;
  }
  return { $: "I", bytes: bytes.subarray(0, n) };
}

/** A packed column's kind and bytes (base64 text, or a blob of the file's binary part); undefined when it is not one. */
function packedBytes(c: unknown, blobs: readonly Uint8Array[] | undefined): { kind: "I" | "F"; bytes: Uint8Array } | undefined {
  const t = c as { $?: unknown; v?: unknown; b?: unknown } | null;
  if (t === null || typeof t !== "object" || (t.$ !== "I" && t.$ !== "F")) return undefined;
  let bytes: Uint8Array | undefined;
  if (typeof t.v === "string") bytes = fromBase64(t.v);
  else if (typeof t.b === "number" && blobs !== undefined) bytes = blobs[t.b];
  if (bytes === undefined) return undefined;
  if (t.$ === "F" && bytes.length % 8 !== 0) return undefined;
  return { kind: t.$, bytes };
}

/** How many numbers packed bytes hold. */
function packedCount(kind: "I" | "F", bytes: Uint8Array): number {
  if (kind === "F") return bytes.length / 8;
  let n = 0;
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! < 128) n++;
  return n;
}

/** Unpacks packed bytes into `out` from index `at`; false when they are malformed. */
function unpackInto(kind: "I" | "F", bytes: Uint8Array, out: { [i: number]: number }, at: number): boolean {
  if (kind === "F") {
    // Aligned for a Float64Array view, or copied (Buffer's bytes may sit at any offset of its
    // pool). Platform byte order, as written: little-endian everywhere flowc runs.
    const own = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
    const f = new Float64Array(own.buffer, own.byteOffset, own.length / 8);
    if (out instanceof Float64Array) out.set(f, at);
    else for (let i = 0; i < f.length; i++) out[at + i] = f[i]!;
    return true;
  }
  let k = at;
  let z = 0;
  let scale = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (scale === 1 && b < 128) {
      out[k++] = b & 1 ? -((b + 1) >>> 1) : b >>> 1; // one byte: most counts
      continue;
    }
    z += (b & 127) * scale;
    if (b < 128) {
      out[k++] = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      z = 0;
      scale = 1;
    } else if ((scale *= 128) > 2 ** 56) return false;
  }
  return scale === 1;
}

/**
 * A packed column back to numbers, in an array `make` gives (default: a plain array); undefined
 * when it is malformed.
 */
function unpackNumbers<A extends { [i: number]: number } = number[]>(c: unknown, blobs: readonly Uint8Array[] | undefined, make: (n: number) => A = (n) => new Array<number>(n) as unknown as A): A | undefined {
  const p = packedBytes(c, blobs);
  if (p === undefined) return undefined;
  const out = make(packedCount(p.kind, p.bytes));
  return unpackInto(p.kind, p.bytes, out, 0) ? out : undefined;
}

/** How many values a column holds (a JSON array, or packed: without unpacking it); undefined: not a column. */
export function columnLength(c: unknown, blobs?: readonly Uint8Array[]): number | undefined {
  if (Array.isArray(c)) return c.length;
  const p = packedBytes(c, blobs);
  return p === undefined ? undefined : packedCount(p.kind, p.bytes);
}

/** A value a column may hold: nothing that needs an id (objects are numbered, see the table). */
const isScalar = (x: unknown): boolean => x === null || (typeof x !== "object" && typeof x !== "function" && typeof x !== "symbol");

/** Records of one shape by columns (columnsOf): a column of scalars per field, or of records of one shape of their own. */
interface Shape {
  proto: object | null;
  f: string[];
  cols: (unknown[] | Shape)[];
}

/** A plain or class object that may be a record (not an array, Map, Set or typed array). */
const isRecordLike = (v: unknown): v is object => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof Set) && !ArrayBuffer.isView(v);

/**
 * `values` as columns when every one is an object met here for the first time, all of one class
 * (or plain) with the same own fields in the same order, each field a scalar — or, `nest` levels
 * down, a record of that kind of its own (a hop pane's entry holds its key's state); undefined
 * otherwise.
 */
function shapeOf(values: readonly unknown[], ids: Map<object, number>, classes: ClassTable, nest: number): Shape | undefined {
  const first = values[0];
  if (!isRecordLike(first)) return undefined;
  const proto = Object.getPrototypeOf(first) as object | null;
  if (proto !== Object.prototype && proto !== null && classes.nameOf(proto) === undefined) return undefined;
  const f = Object.keys(first);
  if (f.length === 0) return undefined;
  if (proto !== null) for (const _ in Object.create(proto)) return undefined; // inherited enumerable fields
  // Every value: an object of the same prototype with as many enumerable fields (for…in counts
  // without allocating; the prototypes allowed have none), each of them own (below).
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== "object" || v === null || Object.getPrototypeOf(v) !== proto || ids.has(v)) return undefined;
    let n = 0;
    for (const _ in v) n++;
    if (n !== f.length) return undefined;
  }
  // Field by field: each loop reads one property name (a monomorphic load).
  const cols: (unknown[] | Shape)[] = [];
  for (const name of f) {
    const col = new Array<unknown>(values.length);
    let scalars = true;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as Record<string, unknown>;
      const x = v[name];
      if (x === undefined && !Object.prototype.hasOwnProperty.call(v, name)) return undefined;
      if (!isScalar(x)) scalars = false;
      col[i] = x;
    }
    if (scalars) cols.push(col);
    else {
      const inner = nest > 0 ? shapeOf(col, ids, classes, nest - 1) : undefined;
      if (inner === undefined) return undefined;
      cols.push(inner);
    }
  }
  return { proto, f, cols };
}

/**
 * Each record of `values` then the records in its fields (field order), as the generic form
 * meets them; false as soon as `visit` is. (Records nest one level: columnsOf.)
 */
function eachObject(values: readonly unknown[], shape: Shape, visit: (o: object) => boolean): boolean {
  const nested = shape.f.filter((_, j) => !Array.isArray(shape.cols[j]));
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as Record<string, unknown>;
    if (!visit(v)) return false;
    for (let j = 0; j < nested.length; j++) if (!visit(v[nested[j]!] as object)) return false;
  }
  return true;
}

/**
 * A Map of many records of one shape — a keyed operator's states (1M keys of `count, sum, avg`
 * are 1M `AggNState`s), a hop pane's entries and their states — written by columns: the keys
 * once, then one array per field, a field that always holds its entry's key (`k0`) written as
 * "k", a field holding records of its own as { $: "R", f, v: [columns], c?, p? }, a field that
 * is always undefined as { $: "U" }. The generic form spells every record's class and field
 * names (about 100 bytes per key; columns: about 35) and builds one object per record twice.
 * Objects are numbered as the generic form numbers them (each record, then the records in its
 * fields), so references from elsewhere in the graph still find them; an object met twice makes
 * it the generic form.
 */
function columnsOf(m: Map<unknown, unknown>, ids: Map<object, number>, classes: ClassTable, where: string, enc: (v: unknown, where: string) => unknown): unknown {
  if (m.size < 2) return undefined;
  const keys = [...m.keys()];
  for (const k of keys) if (!isScalar(k)) return undefined;
  const values = [...m.values()];
  const shape = shapeOf(values, ids, classes, 1);
  if (shape === undefined) return undefined;
  // Numbered now; an object met twice (in two entries) gives its ids back: the generic form.
  const start = ids.size;
  if (!eachObject(values, shape, (o) => !ids.has(o) && ids.set(o, ids.size) !== undefined)) {
    eachObject(values, shape, (o) => ((ids.get(o) ?? -1) >= start ? ids.delete(o) : true));
    return undefined;
  }
  // Numbers are packed; a column holding other values too is a JSON array of encoded values.
  const column = (c: unknown[]): unknown => {
    if (c.every((x) => x === undefined)) return { $: "U" };
    return packNumbers(c) ?? c.map((x) => enc(x, where));
  };
  const columns = (sh: Shape, isKey?: (c: unknown[]) => boolean): unknown[] =>
    sh.cols.map((c) => {
      if (!Array.isArray(c)) return { $: "R", f: c.f, v: columns(c), ...protoTag(c.proto, classes) };
      return isKey?.(c) === true ? "k" : column(c);
    });
  const sameAsKey = (c: unknown[]) => c.every((x, i) => Object.is(x, keys[i]));
  return { $: "MC", f: shape.f, k: column(keys), v: columns(shape, sameAsKey), ...protoTag(shape.proto, classes) };
}

/** How records of prototype `proto` say so: nothing (plain), p: 0 (none), c: a class's name. */
function protoTag(proto: object | null, classes: ClassTable): { p?: 0; c?: string } {
  if (proto === null) return { p: 0 };
  if (proto === Object.prototype) return {};
  return { c: classes.nameOf(proto)! };
}

/** A checkpoint that cannot be read back (a bug or a corrupt file that passed the checksum). */
export class CheckpointFormatError extends Error {
  override name = "CheckpointFormatError";
}

/** Rebuilds what `encode` wrote (`blobs`: the binary part of its checkpoint file, if any). */
export function decode(data: unknown, classes: ClassTable, blobs?: readonly Uint8Array[]): unknown {
  const objs: unknown[] = [];
  const bad = (what: string): never => {
    throw new CheckpointFormatError(`malformed checkpoint state: ${what}`);
  };
  const fieldsInto = (o: Record<string, unknown>, src: unknown) => {
    if (typeof src !== "object" || src === null || Array.isArray(src)) bad("fields");
    for (const k of Object.keys(src as object)) setOwn(o, k, dec((src as Record<string, unknown>)[k]));
  };
  const dec = (v: unknown): unknown => {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) {
      const out = new Array<unknown>(v.length);
      objs.push(out);
      for (let i = 0; i < v.length; i++) out[i] = dec(v[i]);
      return out;
    }
    const t = v as { $?: unknown; v?: unknown; i?: unknown; t?: unknown; c?: unknown; p?: unknown };
    switch (t.$) {
      case "u":
        return undefined;
      case "n":
        return t.v === "-0" ? -0 : t.v === "NaN" ? NaN : t.v === "Infinity" ? Infinity : t.v === "-Infinity" ? -Infinity : bad(`number ${String(t.v)}`);
      case "b":
        return typeof t.v === "string" ? BigInt(t.v) : bad("bigint");
      case "r":
        return typeof t.i === "number" && t.i < objs.length ? objs[t.i] : bad(`reference ${String(t.i)}`);
      case "M": {
        const m = new Map<unknown, unknown>();
        objs.push(m);
        if (!Array.isArray(t.v)) bad("map");
        const a = t.v as unknown[];
        for (let i = 0; i + 1 < a.length; i += 2) {
          const k = dec(a[i]);
          m.set(k, dec(a[i + 1]));
        }
        return m;
      }
      case "N": {
        const out = unpackNumbers(t.v, blobs) ?? bad("packed numbers");
        objs.push(out);
        return out;
      }
      case "MC":
        return columnsBack(t as { c?: unknown; p?: unknown; f?: unknown; k?: unknown; v?: unknown });
      case "S": {
        const s = new Set<unknown>();
        objs.push(s);
        if (!Array.isArray(t.v)) bad("set");
        for (const x of t.v as unknown[]) s.add(dec(x));
        return s;
      }
      case "T": {
        if (!TYPED.includes(t.t as TypedName)) bad("typed array");
        const make = (n: number) => new (typedCtor(t.t as TypedName))(n);
        const chunks = (t as { c?: unknown }).c;
        if (Array.isArray(chunks)) {
          // Packed in chunks (a store packs its columns a page at a time while the run goes on).
          const parts = chunks.map((c) => packedBytes(c, blobs) ?? bad("typed array chunk"));
          const a = make(parts.reduce((n, p) => n + packedCount(p.kind, p.bytes), 0));
          let at = 0;
          for (const p of parts) {
            if (!unpackInto(p.kind, p.bytes, a, at)) bad("typed array chunk");
            at += packedCount(p.kind, p.bytes);
          }
          objs.push(a);
          return a;
        }
        if (!Array.isArray(t.v)) {
          const a = unpackNumbers(t.v, blobs, make) ?? bad("typed array");
          objs.push(a);
          return a;
        }
        const a = make((t.v as unknown[]).length);
        objs.push(a);
        (t.v as unknown[]).forEach((x, i) => (a[i] = dec(x) as number));
        return a;
      }
      case "o": {
        const o = (t.p === 0 ? Object.create(null) : {}) as Record<string, unknown>;
        objs.push(o);
        fieldsInto(o, t.v);
        return o;
      }
      case "c": {
        const proto = typeof t.c === "string" ? classes.protoOf(t.c) : undefined;
        if (proto === undefined) bad(`unknown class ${String(t.c)}`);
        const o = Object.create(proto as object) as Record<string, unknown>;
        objs.push(o);
        fieldsInto(o, t.v);
        return o;
      }
      default:
        return bad(`tag ${String(t.$)}`);
    }
  };
  /** A column's values: unpacked numbers (marked `packed`: nothing to decode), or encoded values. */
  const readColumn = (c: unknown): unknown[] & { packed?: boolean } => {
    if (Array.isArray(c)) return c;
    const nums = unpackNumbers(c, blobs) ?? bad("column");
    return Object.assign(nums, { packed: true });
  };
  const protoOfTag = (t: { c?: unknown; p?: unknown }): object | null => {
    if (t.p === 0) return null;
    if (t.c === undefined) return Object.prototype;
    return (typeof t.c === "string" ? classes.protoOf(t.c) : undefined) ?? bad(`unknown class ${String(t.c)}`);
  };
  /** Columns of `n` records (the table above), read: scalars' values, or records' columns of their own. */
  type ReadShape = { proto: object | null; names: string[]; cols: (unknown[] | "k" | ReadShape)[] };
  const readShape = (t: { c?: unknown; p?: unknown; f?: unknown; v?: unknown }, n: number, keyed: boolean): ReadShape => {
    const { f, v } = t;
    if (!Array.isArray(f) || !Array.isArray(v) || v.length !== f.length || !f.every((x) => typeof x === "string")) return bad("columns");
    const cols = v.map((c): unknown[] | "k" | ReadShape => {
      if (c === "k" && keyed) return "k";
      const tag = (c as { $?: unknown } | null)?.$;
      if (tag === "U") return new Array<unknown>(n);
      if (tag === "R") return readShape(c as { f?: unknown; v?: unknown }, n, false);
      const col = readColumn(c);
      if (col.length !== n) bad("column");
      return col.packed ? col : col.map(dec);
    });
    return { proto: protoOfTag(t), names: f as string[], cols };
  };
  /** `n` records of `shape`, numbered as the encoder numbered them (each, then its nested ones). */
  const buildRecords = (shape: ReadShape, n: number, keys: unknown[]): Record<string, unknown>[] => {
    const records = new Array<Record<string, unknown>>(n);
    const nested = shape.cols.flatMap((c, j) => (c !== "k" && !Array.isArray(c) ? [[j, c, new Array<Record<string, unknown>>(n)] as const] : []));
    const create = (sh: ReadShape, i: number, into: Record<string, unknown>[]) => {
      const o = Object.create(sh.proto) as Record<string, unknown>;
      into[i] = o;
      objs.push(o);
    };
    for (let i = 0; i < n; i++) {
      create(shape, i, records);
      for (const [, inner, into] of nested) create(inner, i, into);
    }
    const fill = (sh: ReadShape, into: Record<string, unknown>[], inner: Map<number, Record<string, unknown>[]>) => {
      // Field by field (each loop stores one property name: a monomorphic store), in the saved
      // order, so every record gets the fields in the order its class gives them.
      for (let j = 0; j < sh.names.length; j++) {
        const name = sh.names[j]!;
        const c = sh.cols[j]!;
        const values: readonly unknown[] = c === "k" ? keys : Array.isArray(c) ? c : inner.get(j)!;
        // `__proto__` from a file stays an own field (setOwn), never the prototype.
        if (name === "__proto__") for (let i = 0; i < n; i++) setOwn(into[i]!, name, values[i]);
        else for (let i = 0; i < n; i++) into[i]![name] = values[i];
      }
    };
    for (const [, inner, into] of nested) fill(inner, into, new Map());
    fill(shape, records, new Map(nested.map(([j, , into]) => [j, into])));
    return records;
  };
  /** Rebuilds a Map `columnsOf` wrote by columns. */
  const columnsBack = (t: { c?: unknown; p?: unknown; f?: unknown; k?: unknown; v?: unknown }): Map<unknown, unknown> => {
    const m = new Map<unknown, unknown>();
    objs.push(m);
    const k = readColumn(t.k);
    const n = k.length;
    const keys = k.packed ? k : k.map(dec);
    const records = buildRecords(readShape(t, n, true), n, keys);
    for (let i = 0; i < n; i++) m.set(keys[i], records[i]);
    return m;
  };
  return dec(data);
}

/**
 * An operator's state: its own fields but its spec (generated code, rebuilt with the program)
 * and its callbacks (functions); a field with a `snapshot()` of its own (a WindowIndex) gives
 * that. Configuration fields (window size, kind) are saved too: restoring them is harmless.
 */
export function snapshotFields(op: object): Record<string, unknown> {
  const out: Record<string, unknown> = Object.create(null);
  for (const k of Object.keys(op)) {
    const v = (op as Record<string, unknown>)[k];
    if (typeof v === "function" || k === "spec") continue;
    const inner = v as { snapshot?: () => unknown } | null | undefined;
    out[k] = inner !== null && typeof inner === "object" && typeof inner.snapshot === "function" ? inner.snapshot() : v;
  }
  return out;
}

/** Puts back what snapshotFields saved, into a freshly built operator (its spec and callbacks stay). */
export function restoreFields(op: object, saved: unknown): void {
  if (typeof saved !== "object" || saved === null) throw new CheckpointFormatError("malformed checkpoint state: operator");
  const target = op as Record<string, unknown>;
  for (const k of Object.keys(saved)) {
    const cur = target[k] as { restore?: (d: unknown) => void } | null | undefined;
    const v = (saved as Record<string, unknown>)[k];
    if (cur !== null && typeof cur === "object" && typeof cur.restore === "function") cur.restore(v);
    else target[k] = v;
  }
}

/**
 * The checksum of a checkpoint's text: cyrb53 (a 53-bit hash over UTF-16 units) as 14 hex
 * digits. It detects a torn or edited file, not an attacker.
 */
export function checksum(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

/**
 * The checksum of a checkpoint's bytes (its text's UTF-8 bytes, and its binary part): two 32-bit
 * multiply–xorshift lanes over the bytes four at a time, as "x" and 16 hex digits. Four bytes a
 * step instead of cyrb53's one UTF-16 unit: 21 MB (1M keys) take ~10 ms instead of ~180 ms, which
 * a restore pays before it reads anything. Words are read in the platform's byte order
 * (little-endian wherever flowc runs, as the packed float columns assume). `update` takes parts
 * in order; each but the last must have a length that is a multiple of 4.
 */
export class ByteChecksum {
  private h1: number;
  private h2: number;

  constructor(length: number) {
    this.h1 = 0xdeadbeef ^ length;
    this.h2 = 0x41c6ce57 ^ length;
  }

  update(bytes: Uint8Array): this {
    let h1 = this.h1;
    let h2 = this.h2;
    const words = bytes.length >>> 2;
    // An Int32Array view must be aligned: a part that is not is copied.
    const b = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    const w = new Int32Array(b.buffer, b.byteOffset, words);
    for (let i = 0; i < words; i++) {
      h1 = Math.imul(h1 ^ w[i]!, 2654435761);
      h2 = Math.imul(h2 ^ w[i]!, 1597334677);
      h1 ^= h1 >>> 15;
      h2 ^= h2 >>> 13;
    }
    for (let i = words * 4; i < b.length; i++) {
      h1 = Math.imul(h1 ^ b[i]!, 2654435761);
      h2 = Math.imul(h2 ^ b[i]!, 1597334677);
    }
    this.h1 = h1;
    this.h2 = h2;
    return this;
  }

  digest(): string {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return "x" + (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
  }
}

/** ByteChecksum of one run of bytes. */
export function checksumBytes(bytes: Uint8Array): string {
  return new ByteChecksum(bytes.length).update(bytes).digest();
}
