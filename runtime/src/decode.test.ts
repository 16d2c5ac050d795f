import { describe, expect, it } from "vitest";
import type { RecordSchema, Schema } from "./contract.js";
import { DecodeError, makeCsvDecoder, makeDecoder, makeLineDecoder, typeName } from "./decode.js";

const int: Schema = { kind: "int" };
const float: Schema = { kind: "float" };
const str: Schema = { kind: "string" };
const bool: Schema = { kind: "bool" };
const time: Schema = { kind: "time" };
const duration: Schema = { kind: "duration" };
const opt = (inner: Schema): Schema => ({ kind: "optional", inner });
const arr = (element: Schema): Schema => ({ kind: "array", element });
const rec = (fields: Record<string, Schema>): RecordSchema => ({
  kind: "record",
  fields: Object.entries(fields).map(([name, type]) => ({ name, type })),
});

const T0 = Date.UTC(2026, 0, 1);
const Bid = rec({ auction: int, price: int, channel: str, dateTime: time });

/** The DecodeError message of decoding `v`, or "ok". */
function err(decode: (v: any) => unknown, v: unknown): string {
  try {
    decode(v);
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(DecodeError);
    return (e as Error).message;
  }
}

describe("makeDecoder", () => {
  it("keeps only declared fields, in declared order", () => {
    const d = makeDecoder(Bid);
    const v = d({ extra: 1, dateTime: "2026-01-01T00:00:00.000Z", channel: "Apple", price: 5, auction: 1 });
    expect(v).toEqual({ auction: 1, price: 5, channel: "Apple", dateTime: T0 });
    expect(Object.keys(v)).toEqual(["auction", "price", "channel", "dateTime"]);
  });

  it("reports wrong types with the field and the value", () => {
    const d = makeDecoder(Bid);
    const ok = { auction: 1, price: 5, channel: "x", dateTime: T0 };
    expect(err(d, ok)).toBe("ok");
    expect(err(d, { ...ok, price: "abc" })).toBe('field "price": expected int, got "abc"');
    expect(err(d, { ...ok, price: 1.5 })).toBe('field "price": expected int, got 1.5');
    expect(err(d, { ...ok, price: 2 ** 53 })).toBe('field "price": expected int, got 9007199254740992');
    expect(err(d, { ...ok, price: null })).toBe('field "price": expected int, got null');
    expect(err(d, { ...ok, price: undefined })).toBe('field "price": missing');
    expect(err(d, { auction: 1, channel: "x", dateTime: T0 })).toBe('field "price": missing');
    expect(err(d, { ...ok, dateTime: "yesterday" })).toBe('field "dateTime": expected time, got "yesterday"');
    expect(err(d, { ...ok, dateTime: "2026-02-30T00:00:00Z" })).toBe('field "dateTime": expected time, got "2026-02-30T00:00:00Z"');
    expect(err(d, { ...ok, channel: 5 })).toBe('field "channel": expected string, got 5');
    expect(err(d, 5)).toBe("expected record, got 5");
    expect(err(d, [1, 2])).toBe("expected record, got [1,2]");
    expect(err(d, null)).toBe("expected record, got null");
  });

  it("reports the first bad field in declared order", () => {
    const d = makeDecoder(Bid);
    expect(err(d, { dateTime: "x", auction: "y" })).toBe('field "auction": expected int, got "y"');
  });

  it("treats 2.0 as an int and widens ints to float", () => {
    const d = makeDecoder(rec({ i: int, f: float }));
    expect(d(JSON.parse('{"i": 2.0, "f": 3}'))).toEqual({ i: 2, f: 3 });
    expect(err(d, JSON.parse('{"i": 1e400, "f": 1}'))).toBe('field "i": expected int, got Infinity');
    expect(err(d, JSON.parse('{"i": 1, "f": 1e400}'))).toBe('field "f": expected float, got Infinity');
    expect(err(d, { i: 1, f: NaN })).toBe('field "f": expected float, got NaN');
    expect(err(d, { i: 1, f: "1.5" })).toBe('field "f": expected float, got "1.5"');
  });

  it("accepts times as epoch ms or ISO text, durations as ms", () => {
    const d = makeDecoder(rec({ t: time, d: duration }));
    expect(d({ t: T0, d: 1500 })).toEqual({ t: T0, d: 1500 });
    expect(d({ t: "2026-01-01T01:00:00+01:00", d: 0.5 })).toEqual({ t: T0, d: 0.5 });
    expect(err(d, { t: T0, d: "10s" })).toBe('field "d": expected duration, got "10s"');
    expect(err(d, { t: true, d: 1 })).toBe('field "t": expected time, got true');
  });

  it("optional fields accept null and missing", () => {
    const d = makeDecoder(rec({ a: opt(int), b: opt(str) }));
    expect(d({})).toEqual({ a: null, b: null });
    expect(d({ a: null, b: "x" })).toEqual({ a: null, b: "x" });
    expect(err(d, { a: "1" })).toBe('field "a": expected int?, got "1"');
  });

  it("names nested paths", () => {
    const d = makeDecoder(rec({ a: rec({ b: arr(int) }), tags: arr(rec({ name: str })) }));
    expect(d({ a: { b: [1, 2, 3], z: 0 }, tags: [{ name: "x", w: 1 }] })).toEqual({ a: { b: [1, 2, 3] }, tags: [{ name: "x" }] });
    expect(err(d, { a: { b: [1, 2, "x"] }, tags: [] })).toBe('field "a.b[2]": expected int, got "x"');
    expect(err(d, { a: { b: 5 }, tags: [] })).toBe('field "a.b": expected [int], got 5');
    expect(err(d, { a: {}, tags: [] })).toBe('field "a.b": missing');
    expect(err(d, { a: { b: [] }, tags: [{ name: "x" }, {}] })).toBe('field "tags[1].name": missing');
    expect(err(d, { a: { b: [] }, tags: [{ name: "x" }, null] })).toBe('field "tags[1]": expected record, got null');
  });

  it("shortens long values in messages", () => {
    const d = makeDecoder(rec({ a: int }));
    const m = err(d, { a: "x".repeat(500) });
    expect(m.length).toBeLessThan(100);
    expect(m).toMatch(/^field "a": expected int, got "xxx+\.\.\.$/);
  });

  it("materialises only `keep` fields but validates all", () => {
    const d = makeDecoder(Bid, ["price", "auction"]);
    const v = d({ auction: 1, price: 5, channel: "x", dateTime: T0 });
    expect(v).toEqual({ auction: 1, price: 5 });
    expect(Object.keys(v)).toEqual(["auction", "price"]); // still declared order
    expect(err(d, { auction: 1, price: 5, channel: 7, dateTime: T0 })).toBe('field "channel": expected string, got 7');
    expect(err(d, { auction: 1, price: 5, channel: "x" })).toBe('field "dateTime": missing');
  });

  it("does not see inherited properties as fields", () => {
    // (not `rec({...})`: a `__proto__` key in an object literal sets the prototype)
    const schema: RecordSchema = {
      kind: "record",
      fields: [
        { name: "constructor", type: opt(str) },
        { name: "toString", type: int },
        { name: "__proto__", type: opt(int) },
      ],
    };
    const d = makeDecoder(schema);
    expect(err(d, JSON.parse('{"toString": 1}'))).toBe("ok");
    const v = d(JSON.parse('{"toString": 1, "__proto__": 5}'));
    expect(v.constructor).toBe(null); // an own property: null, not Object
    expect(Object.keys(v)).toEqual(["constructor", "toString", "__proto__"]);
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).toBe(5);
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(err(d, JSON.parse("{}"))).toBe('field "toString": missing');
  });

  it("decodes non-record types", () => {
    expect(makeDecoder(int)(5)).toBe(5);
    expect(err(makeDecoder(int), "5")).toBe('expected int, got "5"');
    expect(makeDecoder(arr(time))(["2026-01-01T00:00:00Z", T0])).toEqual([T0, T0]);
    expect(err(makeDecoder(arr(time)), [T0, "x"])).toBe('field "[1]": expected time, got "x"');
    expect(makeDecoder(opt(bool))(null)).toBe(null);
    expect(makeDecoder(str)("hi")).toBe("hi");
  });

  it("typeName writes Flow types", () => {
    expect(typeName(rec({ a: opt(int), b: arr(time) }))).toBe("{a: int?, b: [time]}");
  });
});

describe("makeCsvDecoder", () => {
  const Trade = rec({ sym: str, px: float, qty: int, buy: bool, venue: opt(str), ts: time });
  const header = ["sym", "px", "qty", "buy", "venue", "ts"];

  it("converts cells to the declared types", () => {
    const d = makeCsvDecoder(Trade, header);
    expect(d(["INIT", "142.6", "26", "true", "X", "2026-01-01T00:00:00.000Z"])).toEqual({
      sym: "INIT",
      px: 142.6,
      qty: 26,
      buy: true,
      venue: "X",
      ts: T0,
    });
    // 126 is a float; an empty unquoted cell is null in an optional column; bool in any case; digits = epoch ms.
    expect(d(["ZETA", "126", "12", "FALSE", null, String(T0)])).toEqual({ sym: "ZETA", px: 126, qty: 12, buy: false, venue: null, ts: T0 });
    // A quoted empty cell is "" even in an optional column; empty unquoted is "" in a string column.
    expect(d([null, "1", "1", "True", "", String(T0)])).toEqual({ sym: "", px: 1, qty: 1, buy: true, venue: "", ts: T0 });
  });

  it("matches columns by name, ignoring extra columns", () => {
    const d = makeCsvDecoder(Trade, ["ts", "extra", "venue", "buy", "qty", "px", "sym"]);
    const v = d([String(T0), "zzz", null, "true", "1", "2.5", "A"]);
    expect(v).toEqual({ sym: "A", px: 2.5, qty: 1, buy: true, venue: null, ts: T0 });
    expect(Object.keys(v)).toEqual(["sym", "px", "qty", "buy", "venue", "ts"]);
  });

  it("rejects badly formed cells", () => {
    const d = makeCsvDecoder(Trade, header);
    const row = (i: number, cell: string | null) => {
      const r: (string | null)[] = ["A", "1", "1", "true", "X", String(T0)];
      r[i] = cell;
      return r;
    };
    expect(err(d, row(2, "1_0"))).toBe('field "qty": expected int, got "1_0"');
    expect(err(d, row(2, "0x10"))).toBe('field "qty": expected int, got "0x10"');
    expect(err(d, row(2, " 5"))).toBe('field "qty": expected int, got " 5"');
    expect(err(d, row(2, "1.5"))).toBe('field "qty": expected int, got "1.5"');
    expect(err(d, row(2, "9007199254740993"))).toBe('field "qty": expected int, got "9007199254740993"');
    expect(err(d, row(2, "2.0"))).toBe("ok"); // as in JSON
    expect(err(d, row(2, "-7"))).toBe("ok");
    expect(err(d, row(2, null))).toBe('field "qty": expected int, got ""');
    expect(err(d, row(2, ""))).toBe('field "qty": expected int, got ""');
    expect(err(d, row(1, "Infinity"))).toBe('field "px": expected float, got "Infinity"');
    expect(err(d, row(1, "NaN"))).toBe('field "px": expected float, got "NaN"');
    expect(err(d, row(1, "1e400"))).toBe('field "px": expected float, got "1e400"');
    expect(err(d, row(1, "1,5"))).toBe('field "px": expected float, got "1,5"');
    expect(err(d, row(1, ".5"))).toBe("ok");
    expect(err(d, row(1, "-1.5e-3"))).toBe("ok");
    expect(err(d, row(3, "yes"))).toBe('field "buy": expected bool, got "yes"');
    expect(err(d, row(3, "1"))).toBe('field "buy": expected bool, got "1"');
    expect(err(d, row(3, null))).toBe('field "buy": expected bool, got ""');
    expect(err(d, row(5, "yesterday"))).toBe('field "ts": expected time, got "yesterday"');
    expect(err(d, row(5, "2026-02-30T00:00:00Z"))).toBe('field "ts": expected time, got "2026-02-30T00:00:00Z"');
  });

  it("requires as many cells as the header", () => {
    const d = makeCsvDecoder(Trade, header);
    expect(err(d, ["A", "1", "1", "true", "X"])).toBe("expected 6 cells as in the header, got 5");
    expect(err(d, ["A", "1", "1", "true", "X", "0", "extra"])).toBe("expected 6 cells as in the header, got 7");
  });

  it("makes every row bad when a required column is missing", () => {
    const d = makeCsvDecoder(Trade, ["sym", "px", "buy", "venue"]);
    const m = err(d, ["A", "1", "true", "X"]);
    expect(m).toMatch(/^field "qty": the CSV header has no column "qty" \(nor "ts"\)/);
    // A missing optional column is null.
    const d2 = makeCsvDecoder(Trade, ["sym", "px", "qty", "buy", "ts"]);
    expect(d2(["A", "1", "2", "true", "0"])).toEqual({ sym: "A", px: 1, qty: 2, buy: true, venue: null, ts: 0 });
  });

  it("keeps only `keep` fields but validates all", () => {
    const d = makeCsvDecoder(Trade, header, ["qty", "sym"]);
    expect(d(["A", "1", "2", "true", "X", "0"])).toEqual({ sym: "A", qty: 2 });
    expect(err(d, ["A", "x", "2", "true", "X", "0"])).toBe('field "px": expected float, got "x"');
  });

  it("reads JSON in cells of array and record columns", () => {
    const d = makeCsvDecoder(rec({ tags: arr(str), p: opt(rec({ x: int })) }), ["tags", "p"]);
    expect(d(['["a","b"]', '{"x":1}'])).toEqual({ tags: ["a", "b"], p: { x: 1 } });
    expect(d(["[]", null])).toEqual({ tags: [], p: null });
    expect(err(d, ["[1]", null])).toBe('field "tags[0]": expected string, got 1');
    expect(err(d, ["nope", null])).toBe('field "tags": expected [string], got "nope"');
  });

  it("reads the first column for a non-record type", () => {
    const d = makeCsvDecoder(int, ["n"]);
    expect(d(["42"])).toBe(42);
    expect(err(d, ["x"])).toBe('expected int, got "x"');
  });
});

describe("makeLineDecoder", () => {
  it("is the identity for strings and parses other scalars", () => {
    expect(makeLineDecoder(str)).toBeUndefined();
    const d = makeLineDecoder(int)!;
    expect(d("12")).toBe(12);
    expect(err(d, "12a")).toBe('expected int, got "12a"');
    expect(makeLineDecoder(time)!("2026-01-01T00:00:00Z")).toBe(T0);
  });
});
