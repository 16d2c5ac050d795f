import { describe, expect, it } from "vitest";
import type { RecordSchema, Schema } from "./contract.js";
import { makeCsvDecoder, makeDecoder } from "./decode.js";
import { csvQuote, makeCsvFormatter, makeFormatter, makeLineFormatter } from "./format.js";
import { parseCsv } from "./io/csv.js";

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

describe("makeFormatter", () => {
  it("prints fields in schema order, times as ISO", () => {
    const f = makeFormatter(rec({ auction: int, price: int, channel: str, dateTime: time }));
    // keys in the object in another order, plus one that is not in the type
    expect(f({ dateTime: T0 + 700, extra: 1, channel: "Baidu", price: 554, auction: 1011 })).toBe(
      '{"auction":1011,"price":554,"channel":"Baidu","dateTime":"2026-01-01T00:00:00.700Z"}',
    );
  });

  it("formats numbers like JSON.stringify", () => {
    const f = makeFormatter(rec({ a: float, b: float, c: float, d: float, e: duration, g: int }));
    const v = { a: 143.70759878419454, b: -0, c: 1e21, d: NaN, e: 1500, g: -Infinity };
    expect(f(v)).toBe('{"a":143.70759878419454,"b":0,"c":1e+21,"d":null,"e":1500,"g":null}');
    expect(JSON.parse(f(v))).toEqual(JSON.parse(JSON.stringify(v)));
  });

  it("escapes strings and keys", () => {
    const f = makeFormatter(rec({ 'we"ird\n': str, s: str }));
    const v = { 'we"ird\n': "a\u2028b\"\\\u0001😀", s: "\ud800" };
    expect(JSON.parse(f(v))).toEqual(v);
    expect(f(v)).toBe(JSON.stringify(v));
  });

  it("formats times inside optionals, arrays and records", () => {
    const f = makeFormatter(rec({ o: opt(time), n: opt(time), a: arr(time), r: rec({ t: time, d: duration }), e: arr(int) }));
    expect(f({ o: T0, n: null, a: [T0, T0 + 1], r: { t: T0 + 10_000, d: 10_000 }, e: [] })).toBe(
      '{"o":"2026-01-01T00:00:00.000Z","n":null,"a":["2026-01-01T00:00:00.000Z","2026-01-01T00:00:00.001Z"],' +
        '"r":{"t":"2026-01-01T00:00:10.000Z","d":10000},"e":[]}',
    );
  });

  it("prints missing fields and non-finite times as null, bools as bools", () => {
    const f = makeFormatter(rec({ a: opt(int), t: time, b: bool }));
    expect(f({ t: NaN, b: false })).toBe('{"a":null,"t":null,"b":false}');
  });

  it("formats non-record values", () => {
    expect(makeFormatter(int)(16)).toBe("16");
    expect(makeFormatter(str)("x")).toBe('"x"');
    expect(makeFormatter(time)(T0)).toBe('"2026-01-01T00:00:00.000Z"');
    expect(makeFormatter(rec({}))({})).toBe("{}");
  });

  it("round-trips through the decoder", () => {
    const schema = rec({ i: int, f: float, s: str, b: bool, t: time, d: duration, o: opt(str), a: arr(rec({ x: opt(time) })) });
    const v = { i: -3, f: 0.1, s: "é\"", b: true, t: T0 + 123, d: 5, o: null, a: [{ x: null }, { x: 0 }] };
    expect(makeDecoder(schema)(JSON.parse(makeFormatter(schema)(v)))).toEqual(v);
  });
});

describe("CSV output", () => {
  it("quotes cells per RFC 4180", () => {
    expect(csvQuote("plain")).toBe("plain");
    expect(csvQuote("")).toBe('""');
    expect(csvQuote("a,b")).toBe('"a,b"');
    expect(csvQuote('say "hi"')).toBe('"say ""hi"""');
    expect(csvQuote("two\nlines")).toBe('"two\nlines"');
    expect(csvQuote("cr\r")).toBe('"cr\r"');
  });

  it("writes a header and rows", () => {
    const f = makeCsvFormatter(rec({ sym: str, px: float, buy: bool, venue: opt(str), ts: time, tags: arr(str) }));
    expect(f.header).toBe("sym,px,buy,venue,ts,tags");
    expect(f.row({ sym: "A,B", px: 1.5, buy: false, venue: null, ts: T0, tags: ["x", "y"] })).toBe(
      '"A,B",1.5,false,,2026-01-01T00:00:00.000Z,"[""x"",""y""]"',
    );
    expect(f.row({ sym: "", px: 2, buy: true, venue: "", ts: 0, tags: [] })).toBe('"",2,true,"",1970-01-01T00:00:00.000Z,[]');
  });

  it("round-trips through the CSV reader and decoder", () => {
    const schema = rec({ s: str, o: opt(str), n: opt(int), t: time, a: arr(int) });
    const rows = [
      { s: "", o: "", n: null, t: T0, a: [] },
      { s: 'multi\nline "quoted", text', o: null, n: 5, t: 1, a: [1, 2] },
      { s: "x", o: "y,z", n: -1, t: T0, a: [3] },
    ];
    const f = makeCsvFormatter(schema);
    const text = [f.header, ...rows.map((r) => f.row(r))].join("\r\n") + "\r\n";
    const [head, ...body] = parseCsv(text);
    const d = makeCsvDecoder(schema, head!.cells.map((c) => c ?? ""));
    expect(body.map((r) => d(r.cells))).toEqual(rows);
  });

  it("uses a single `value` column for non-record types", () => {
    const f = makeCsvFormatter(int);
    expect(f.header).toBe("value");
    expect(f.row(3)).toBe("3");
  });
});

describe("lines output", () => {
  it("writes strings as they are and other values as JSON", () => {
    expect(makeLineFormatter(str)("a \"b\"")).toBe('a "b"');
    expect(makeLineFormatter(rec({ t: time }))({ t: 0 })).toBe('{"t":"1970-01-01T00:00:00.000Z"}');
  });
});
