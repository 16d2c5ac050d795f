// Generated JSONL decoders (compiler/src/emit/decoder.ts + runtime/src/io/fast-jsonl.ts) must
// give exactly what the general path gives: the same records (values and field order), the same
// bad records (line, raw text, message), for any input — they may only be faster.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Type } from "../../compiler/src/check/types";
import { emitSourceDecoders } from "../../compiler/src/emit/decoder";
import { schemaData, schemaLiteral } from "../../compiler/src/emit/types";
import { data } from "../../compiler/src/emit/js/ast";
import type { Schema } from "../../runtime/src/contract";
import { makeDecoder } from "../../runtime/src/decode";
import type { ReadBatch } from "../../runtime/src/io/batch";
import { JsonKeys, StringTable, readJsonlFast, type JsonlLineDecoder } from "../../runtime/src/io/fast-jsonl";
import { CsvColumns, readCsvFast, type CsvLineDecoder } from "../../runtime/src/io/fast-csv";
import { readJsonl } from "../../runtime/src/io/jsonl";
import { readCsv } from "../../runtime/src/io/csv";
import { makeCsvDecoder } from "../../runtime/src/decode";

const int: Type = { kind: "int" };
const float: Type = { kind: "float" };
const str: Type = { kind: "string" };
const time: Type = { kind: "time" };
const bool: Type = { kind: "bool" };
const dur: Type = { kind: "duration" };
const opt = (inner: Type): Type => ({ kind: "optional", inner });

const TYPE: Type = {
  kind: "record",
  name: "Ev",
  fields: [
    { name: "id", type: int },
    { name: "price", type: float },
    { name: "name", type: str },
    { name: "at", type: time },
    { name: "ok", type: bool },
    { name: "wait", type: dur },
    { name: "note", type: opt(str) },
    { name: "n", type: opt(int) },
    { name: "tags", type: { kind: "array", element: str } },
    { name: "extra", type: str },
  ],
};

function toSchema(t: Type): Schema {
  return new Function(`return ${schemaLiteral(t)};`)() as Schema;
}

/** Compiles the generated decoder (JavaScript flavour) into a function. */
function generated(type: Type, keep: string[] | undefined): JsonlLineDecoder {
  const d = emitSourceDecoders("evSource", type, keep, { jsonl: true, csv: false }, {
    where: "test.flow:1",
    recordType: "Ev",
    ts: () => "unknown",
    schema: (t) => data(schemaData(t)),
    js: true,
  })!;
  return new Function("JsonKeys", "StringTable", "makeDecoder", `${d.code}\nreturn evSourceJsonl;`)(JsonKeys, StringTable, makeDecoder) as JsonlLineDecoder;
}

async function collect(batches: AsyncIterable<ReadBatch>) {
  const records: unknown[] = [];
  const bad: unknown[] = [];
  for await (const b of batches) {
    for (const x of b.bad ?? []) bad.push({ line: x.line, raw: x.raw, error: x.error, index: records.length + x.index });
    records.push(...b.records);
  }
  return { records, bad };
}

/** Splits bytes into chunks at the given cut points. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.slice(at, p));
    at = p;
  }
  return out;
}

async function same(text: string, keep: string[] | undefined, cuts: number[] = [], type: Type = TYPE) {
  const schema = toSchema(type);
  const bytes = new TextEncoder().encode(text);
  const slow = await collect(readJsonl(chunked(bytes, cuts), makeDecoder(schema, keep)));
  const fast = await collect(readJsonlFast(chunked(bytes, cuts), generated(type, keep), makeDecoder(schema, keep)));
  expect(fast.bad).toEqual(slow.bad);
  expect(fast.records).toEqual(slow.records);
  // Field order too (what the output formats print).
  expect(fast.records.map((r) => Object.keys(r as object))).toEqual(slow.records.map((r) => Object.keys(r as object)));
  return fast;
}

const good = {
  id: 7,
  price: 12.5,
  name: "Anna",
  at: "2026-01-01T00:00:10.000Z",
  ok: true,
  wait: 250,
  note: null,
  n: 3,
  tags: ["a", "b"],
  extra: "xyz",
};
const line = (o: Record<string, unknown>) => JSON.stringify(o);

describe("generated JSONL decoders", () => {
  it("decode plain records like the general path, keeping only the kept fields", async () => {
    const text = [line(good), line({ ...good, id: -12, price: 0.1, at: 1767225600000, note: "hé ✓", n: null }), line({ ...good, tags: [] })].join("\n") + "\n";
    const r = await same(text, ["id", "at", "note"]);
    expect(r.records).toEqual([
      { id: 7, at: Date.UTC(2026, 0, 1, 0, 0, 10), note: null },
      { id: -12, at: 1767225600000, note: "hé ✓" },
      { id: 7, at: Date.UTC(2026, 0, 1, 0, 0, 10), note: null },
    ]);
    await same(text, undefined);
  });

  it("agree on tricky but valid lines", async () => {
    const lines = [
      ` { "id" : 2.0 , "price": 1e3, "name": "a\\"b\\\\c\\u00e9", "at": "2026-02-28 23:59:59Z", "ok": false, "wait": -0, "note": "x", "n": 1E2, "tags": ["\\n"], "extra": "" } `,
      line({ extra: "e", tags: ["z"], n: 5, note: null, wait: 1.5, ok: true, at: "2026-01-01T00:00", name: "k", price: -0.0, id: 0 }), // other key order
      line({ ...good, unknown: { deep: [1, 2, { x: null }], s: "\\" }, also: [true, false, null, -1.5e-3] }),
      line({ ...good, id: 9007199254740991 }),
      line({ ...good, at: "2026-01-01T00:00:00.123456789+05:30" }),
      line({ ...good, at: 1.9 }),
      line({ ...good, price: 123456789.123456789 }),
      line({ ...good, price: 0.1234567890123456789 }),
      `{"id":1,"id":2,"price":1,"name":"a","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"}`, // duplicate key: last wins; n, note missing → null
      line({ ...good, name: "\u2028\u2029 tab\t" }),
      "\uFEFF" + line(good), // not at the start of the stream: a BOM is data, so this is bad JSON
    ];
    await same("\uFEFF" + lines.join("\r\n") + "\r\n", ["id", "price", "name", "at", "n", "tags"]);
    await same(lines.join("\n"), undefined);
  });

  it("report bad lines exactly as the general path", async () => {
    const lines = [
      line({ ...good, id: "12" }),
      line({ ...good, id: 1.5 }),
      line({ ...good, id: 9007199254740992 }),
      line({ ...good, price: null }),
      line({ ...good, at: "2026-02-30T00:00:00Z" }),
      line({ ...good, at: "yesterday" }),
      line({ ...good, ok: "true" }),
      line({ ...good, tags: ["a", 1] }),
      line({ ...good, n: "x" }),
      line({ ...good, extra: 5 }), // a bad field the program does not read still makes the record bad
      JSON.stringify({ ...good, name: undefined }),
      `{"id":1,`,
      `{"id":01,"price":1,"name":"a","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"}`,
      `{"id":1,"price":1,"name":"a\tb","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"}`,
      `{"id":1,"price":1,"name":"a","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"} x`,
      `[1, 2]`,
      `   `,
      ``,
      `nul`,
      `{"id":1,"price":.5,"name":"a","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"}`,
      `{"id":1,"price":1.,"name":"a","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"}`,
      `{"id":1,"price":1,"name":"\\x","at":0,"ok":true,"wait":0,"tags":[],"extra":"x"}`,
      `{"id":1,"price":1,"name":"a","at":0,"ok":tru,"wait":0,"tags":[],"extra":"x"}`,
    ];
    const r = await same(lines.join("\n") + "\n", ["id", "at"]);
    expect(r.bad.length).toBeGreaterThan(15);
  });

  it("read fields named like the decoder's own locals, in declared order and not", async () => {
    const type: Type = {
      kind: "record",
      fields: [
        { name: "b", type: int },
        { name: "p", type: str },
        { name: "start", type: time },
        { name: "c", type: opt(float) },
        { name: "seen", type: bool },
      ],
    };
    const lines = [
      `{"b":1,"p":"x","start":"2026-01-01T00:00:00.000Z","c":1.5,"seen":true}`,
      `{"b":2,"p":"y","start":0,"c":null,"seen":false}`,
      `{"p":"z","b":3,"seen":true,"start":5}`,
      `{"b":4, "p":"w","start":6,"c":2,"seen":true}`,
      `{"b":"5","p":"v","start":7,"c":3,"seen":true}`,
    ];
    const r = await same(lines.join("\n") + "\n", undefined, [], type);
    expect(r.records).toEqual([
      { b: 1, p: "x", start: Date.UTC(2026, 0, 1), c: 1.5, seen: true },
      { b: 2, p: "y", start: 0, c: null, seen: false },
      { b: 3, p: "z", start: 5, c: null, seen: true },
      { b: 4, p: "w", start: 6, c: 2, seen: true },
    ]);
    expect(r.bad.length).toBe(1);
    await same(lines.join("\n"), ["start", "b"], [0.3], type);
  });

  it("agree on random lines cut into random chunks", async () => {
    const scalar = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.string(),
      fc.constantFrom("2026-01-01T00:00:00.000Z", "2026-13-01T00:00:00Z", "2024-02-29T12:00:00+01:00", "x", ""),
      fc.boolean(),
      fc.constant(null),
    );
    const value = fc.oneof({ weight: 5, arbitrary: scalar }, { weight: 1, arbitrary: fc.array(scalar, { maxLength: 3 }) });
    const record = fc.record(
      {
        id: fc.oneof(fc.integer(), value),
        price: fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), value),
        name: fc.oneof(fc.string({ unit: "grapheme" }), value),
        at: fc.oneof(fc.integer({ min: 0, max: 2e12 }), fc.constantFrom("2026-01-01T00:00:00.000Z", "2026-01-01T10:00Z"), value),
        ok: fc.oneof(fc.boolean(), value),
        wait: fc.oneof(fc.nat(), value),
        note: fc.oneof(fc.string(), fc.constant(null), value),
        n: fc.oneof(fc.integer(), fc.constant(null), value),
        tags: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), value),
        extra: fc.oneof(fc.string(), value),
        other: value,
      },
      { requiredKeys: ["id", "price", "name", "at", "ok", "wait", "tags", "extra"] },
    );
    const text = fc.array(fc.oneof({ weight: 8, arbitrary: record.map((r) => JSON.stringify(r)) }, { weight: 1, arbitrary: fc.string() }), { maxLength: 12 }).map((ls) => ls.join("\n"));
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), fc.boolean(), async (t, cuts, keepSome) => {
        await same(t, keepSome ? ["name", "at", "n", "tags"] : undefined, cuts);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150), seed: Number(process.env.FUZZ_SEED ?? 42) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// CSV

const CSV_TYPE: Type = {
  kind: "record",
  name: "Row",
  fields: [
    { name: "id", type: int },
    { name: "price", type: float },
    { name: "name", type: str },
    { name: "at", type: time },
    { name: "ok", type: bool },
    { name: "note", type: opt(str) },
    { name: "n", type: opt(int) },
    { name: "wait", type: opt(dur) },
  ],
};

function generatedCsv(type: Type, keep: string[] | undefined): CsvLineDecoder {
  const d = emitSourceDecoders("rowSource", type, keep, { jsonl: false, csv: true }, {
    where: "test.flow:1",
    recordType: "Row",
    ts: () => "unknown",
    schema: (t) => data(schemaData(t)),
    js: true,
  })!;
  return new Function("CsvColumns", "StringTable", `${d.code}\nreturn rowSourceCsv;`)(CsvColumns, StringTable) as CsvLineDecoder;
}

async function sameCsv(text: string, keep: string[] | undefined, cuts: number[] = []) {
  const schema = toSchema(CSV_TYPE);
  const bytes = new TextEncoder().encode(text);
  const slow = await collect(readCsv(chunked(bytes, cuts), (h) => makeCsvDecoder(schema, h, keep)));
  const fast = await collect(readCsvFast(chunked(bytes, cuts), generatedCsv(CSV_TYPE, keep), (h) => makeCsvDecoder(schema, h, keep)));
  expect(fast.bad).toEqual(slow.bad);
  expect(fast.records).toEqual(slow.records);
  expect(fast.records.map((r) => Object.keys(r as object))).toEqual(slow.records.map((r) => Object.keys(r as object)));
  return fast;
}

describe("generated CSV decoders", () => {
  const header = "id,price,name,at,ok,note,n,wait";
  it("decode plain and quoted rows like the general path", async () => {
    const text = [
      header,
      "1,2.5,Anna,2026-01-01T00:00:10.000Z,true,,3,250",
      "2,-0.5,Bob,1767225600000,FALSE,hi,,",
      '3,1e3,"Smith, J",2026-01-01 10:00,True,"a ""quoted"" note",7,1.5',
      '4,5,"multi',
      'line",2026-01-01T00:00:00Z,false,x,8,9',
      "",
      "5,007,é ✓,2026-02-28T23:59:59.999Z,true,,,",
      "6,+5,x,-5,true,,,",
      "7,5.,x,0,true,,-0,",
    ].join("\r\n") + "\r\n";
    const r = await sameCsv(text, ["id", "name", "at", "n"]);
    expect(r.records.length).toBe(7);
    await sameCsv("\uFEFF" + text, undefined, [0.3, 0.31, 0.6]);
  });

  it("report bad rows exactly as the general path", async () => {
    const text = [
      header,
      "x,1,a,0,true,,,",
      "1,1,a,0,true,,",
      "1,1,a,0,true,,,,",
      "1,,a,0,true,,,",
      "1,1,a,2026-02-30T00:00:00Z,true,,,",
      "1,1,a,0,yes,,,",
      "1,1,a,0,true,,1.5,",
      " 1,1,a,0,true,,,",
      '1,1,"a"b,0,true,,,',
      "9007199254740993,1,a,0,true,,,",
      '1,1,"never closed,0,true,,,',
    ].join("\n");
    const r = await sameCsv(text, ["id", "at"]);
    expect(r.bad.length).toBeGreaterThanOrEqual(10);
  });

  it("handle headers with other, duplicate or missing columns", async () => {
    await sameCsv("extra,id,price,name,at,ok,id\nz,1,2,a,0,true,9\n", undefined); // optional columns missing, duplicate id
    await sameCsv("id,price,name\n1,2,a\n", undefined); // a required column missing: every row bad
    await sameCsv("\n\n" + header + "\n1,2,a,0,true,,,\n", ["name"]);
  });

  it("agree on random rows cut into random chunks", async () => {
    const cell = fc.oneof(
      fc.integer().map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.constantFrom("", "true", "False", "2026-01-01T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "1767225600000", " 1", "1e400", '"q,"', '"a""b"', '"x\ny"', "é", "a\"b"),
      fc.string({ maxLength: 5 }).filter((x) => !x.includes("\n")),
    );
    const row = fc.array(cell, { minLength: 7, maxLength: 9 }).map((cells) => cells.join(","));
    const text = fc.array(row, { maxLength: 10 }).map((rows) => [header, ...rows].join("\n"));
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }), fc.boolean(), async (t, cuts, keepSome) => {
        await sameCsv(t, keepSome ? ["id", "name", "at", "note"] : undefined, cuts);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 150), seed: Number(process.env.FUZZ_SEED ?? 42) },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// JavaScript values (iterable sources)

describe("generated value decoders", () => {
  const VT: Type = {
    kind: "record",
    name: "V",
    fields: [
      { name: "id", type: int },
      { name: "x", type: float },
      { name: "s", type: str },
      { name: "at", type: time },
      { name: "ok", type: bool },
      { name: "o", type: opt(int) },
    ],
  };
  const value = (keep: string[] | undefined) => {
    const d = emitSourceDecoders("vSource", VT, keep, { jsonl: false, csv: false }, { where: "t:1", recordType: "V", ts: () => "unknown", schema: (t) => data(schemaData(t)), js: true })!;
    return new Function(`${d.code}\nreturn vSourceValue;`)() as (v: unknown) => unknown;
  };
  const outcome = (f: () => unknown) => {
    try {
      const r = f();
      return { ok: r, keys: Object.keys(r as object) };
    } catch (e) {
      return { error: (e as Error).message };
    }
  };

  it("agree with the general decoder on any value", () => {
    const any = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date(), fc.constant("2026-01-01T00:00:00Z"), fc.array(fc.integer(), { maxLength: 2 }));
    const rec = fc.record({ id: any, x: any, s: any, at: any, ok: any, o: any, extra: any }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.oneof({ weight: 6, arbitrary: rec }, { weight: 1, arbitrary: any }), fc.boolean(), (v, some) => {
        const keep = some ? ["s", "at", "o"] : undefined;
        const general = makeDecoder(toSchema(VT), keep);
        const fast = value(keep);
        expect(outcome(() => fast(v) ?? general(v))).toEqual(outcome(() => general(v)));
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 300), seed: Number(process.env.FUZZ_SEED ?? 42) },
    );
    const ok = { id: 1, x: 1.5, s: "a", at: 5, ok: true, o: null };
    expect(value(undefined)(ok)).toEqual(ok);
  });
});
