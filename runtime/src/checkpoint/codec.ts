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
//   { $: "T", t: "Float64Array", v: [...] }  a typed array
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

/** The state graph `value` as a JSON-able value (see the table above). */
export function encode(value: unknown, classes: ClassTable): unknown {
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
      const out = new Array<unknown>(obj.length);
      for (let i = 0; i < obj.length; i++) out[i] = i in obj ? enc(obj[i], where) : { $: "u" };
      return out;
    }
    if (obj instanceof Map) {
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
      return { $: "T", t, v: Array.from(obj as unknown as ArrayLike<number>, encodeNumber) };
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

/** A checkpoint that cannot be read back (a bug or a corrupt file that passed the checksum). */
export class CheckpointFormatError extends Error {
  override name = "CheckpointFormatError";
}

/** Rebuilds what `encode` wrote. */
export function decode(data: unknown, classes: ClassTable): unknown {
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
      case "S": {
        const s = new Set<unknown>();
        objs.push(s);
        if (!Array.isArray(t.v)) bad("set");
        for (const x of t.v as unknown[]) s.add(dec(x));
        return s;
      }
      case "T": {
        if (!TYPED.includes(t.t as TypedName) || !Array.isArray(t.v)) bad("typed array");
        const a = new (typedCtor(t.t as TypedName))((t.v as unknown[]).length);
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
