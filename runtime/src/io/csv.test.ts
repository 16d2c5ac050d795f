import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RecordSchema, Schema } from "../contract.js";
import { makeCsvDecoder, type Cell } from "../decode.js";
import type { ReadBatch } from "./batch.js";
import { CsvParser, parseCsv, readCsv } from "./csv.js";

const enc = new TextEncoder();

/** The bytes of `text` in chunks of `size` bytes. */
function* chunked(text: string | Uint8Array, size: number): Iterable<Uint8Array> {
  const bytes = typeof text === "string" ? enc.encode(text) : text;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(it: AsyncIterable<ReadBatch>) {
  const records: unknown[] = [];
  const bad: { line: number; raw: string; error: string; before: number }[] = [];
  for await (const b of it) {
    for (const x of b.bad ?? []) bad.push({ line: x.line, raw: x.raw, error: x.error, before: records.length + x.index });
    records.push(...b.records);
  }
  return { records, bad };
}

/** All records of a text, parsed from blocks split at every line break (as textBlocks would). */
const cells = (text: string) => parseCsv(text).map((r) => r.cells);

describe("CsvParser (RFC 4180)", () => {
  it("splits plain lines; empty unquoted cells are null", () => {
    expect(cells("a,b,c\n1,,3\n,,\n")).toEqual([
      ["a", "b", "c"],
      ["1", null, "3"],
      [null, null, null],
    ]);
  });

  it("handles quoted cells, doubled quotes, separators and newlines inside quotes", () => {
    const text = 'a,"b,c","say ""hi""",""\n"multi\nline",x,"",y\n';
    expect(cells(text)).toEqual([
      ["a", "b,c", 'say "hi"', ""],
      ["multi\nline", "x", "", "y"],
    ]);
  });

  it("handles CRLF, also inside quotes and after quoted cells", () => {
    expect(cells('a,b\r\n"x\r\ny","z"\r\n1,2\r\n')).toEqual([
      ["a", "b"],
      ["x\r\ny", "z"],
      ["1", "2"],
    ]);
  });

  it("accepts a last line without a line break, and a trailing empty cell", () => {
    expect(cells("a,b\n1,")).toEqual([
      ["a", "b"],
      ["1", null],
    ]);
    expect(cells('a,b\n1,"2"')).toEqual([
      ["a", "b"],
      ["1", "2"],
    ]);
  });

  it("keeps a quote inside an unquoted cell literally", () => {
    expect(cells('a,b"c,d\n')).toEqual([["a", 'b"c', "d"]]);
  });

  it("skips blank lines and numbers records by the line they start on", () => {
    const recs = parseCsv('h1,h2\n\n"a\nb",1\r\n\r\n"c""\n\nd",2\nx,3\n');
    expect(recs.map((r) => [r.line, r.cells])).toEqual([
      [1, ["h1", "h2"]],
      [3, ["a\nb", "1"]],
      [6, ['c"\n\nd', "2"]],
      [9, ["x", "3"]],
    ]);
    expect(recs[2]!.raw).toBe('"c""\n\nd",2');
  });

  it("reports text after a closing quote and an unterminated quote", () => {
    const found: [string, number, string][] = [];
    const p = new CsvParser();
    p.parse('a,b\n"x"y,1\nok,2\n"open,3\nmore\n', true, {
      record: (c, line) => found.push(["record", line, c.join("|")]),
      bad: (line, raw, error) => found.push(["bad", line, `${error}: ${raw}`]),
    });
    expect(found).toEqual([
      ["record", 1, "a|b"],
      ["bad", 2, 'malformed CSV: text after the closing quote of cell 1: "x"y,1'],
      ["record", 3, "ok|2"],
      ["bad", 4, 'unterminated quoted cell: "open,3\nmore'],
    ]);
  });

  it("parses the same records whatever the block boundaries", () => {
    const text = 'a,b,c\r\n1,"x\ny",3\n"q""",,""\n\n"long\n\n\nquoted\ncell",z,"w"\nlast,1,2';
    const whole = parseCsv(text);
    // Split into blocks of whole lines at every combination of line breaks (as textBlocks does).
    const lines = text.split(/(?<=\n)/);
    for (let mask = 0; mask < 1 << (lines.length - 1); mask++) {
      const blocks: string[] = [];
      let cur = "";
      lines.forEach((l, i) => {
        cur += l;
        if (mask & (1 << i) || i === lines.length - 1) {
          blocks.push(cur);
          cur = "";
        }
      });
      const got: { cells: Cell[]; line: number; raw: string }[] = [];
      const p = new CsvParser();
      const sink = { record: (cells: Cell[], line: number, raw: string) => got.push({ cells, line, raw }), bad: () => expect.fail("bad") };
      blocks.forEach((b, i) => p.parse(b, i === blocks.length - 1, sink));
      expect(got).toEqual(whole);
    }
  });
});

const str: Schema = { kind: "string" };
const rec = (fields: Record<string, Schema>): RecordSchema => ({
  kind: "record",
  fields: Object.entries(fields).map(([name, type]) => ({ name, type })),
});
const Trade = rec({
  sym: str,
  px: { kind: "float" },
  qty: { kind: "int" },
  buy: { kind: "bool" },
  venue: { kind: "optional", inner: str },
  ts: { kind: "time" },
});

describe("readCsv", () => {
  const trades = readFileSync(new URL("../testdata/c14_trades.csv", import.meta.url));

  it("reads c14's trades.csv with every chunk size", async () => {
    const expected = await collect(readCsv([trades], (h) => makeCsvDecoder(Trade, h)));
    expect(expected.bad).toEqual([]);
    expect(expected.records).toHaveLength(90);
    expect(expected.records[0]).toEqual({ sym: "INIT", px: 142.6, qty: 26, buy: true, venue: "X", ts: Date.UTC(2026, 0, 1) });
    expect(expected.records[1]).toMatchObject({ venue: null, buy: false });
    expect(expected.records[5]).toMatchObject({ sym: "ZETA", px: 126 });
    const nulls = expected.records.filter((r: any) => r.venue === null).length;
    expect(nulls).toBe(28);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      expect(await collect(readCsv(chunked(trades, size), (h) => makeCsvDecoder(Trade, h)))).toEqual(expected);
    }
  });

  it("reports bad rows with their line numbers and keeps good ones", async () => {
    const text =
      "sym,px,qty,buy,venue,ts\n" +
      "A,1,1,true,,0\n" +
      "B,x,1,true,,0\n" + // line 3: bad float
      '"C\nC",1,1,TRUE,"",1000\n' + // lines 4-5
      "D,1,1,true,,0,extra\n" + // line 6: too many cells
      '"E,1,1,true,,0\n' + // line 7: never closed
      "F,1,1,true,,0\n";
    for (const size of [1, 5, 1 << 16]) {
      const { records, bad } = await collect(readCsv(chunked(text, size), (h) => makeCsvDecoder(Trade, h)));
      expect(records).toEqual([
        { sym: "A", px: 1, qty: 1, buy: true, venue: null, ts: 0 },
        { sym: "C\nC", px: 1, qty: 1, buy: true, venue: "", ts: 1000 },
      ]);
      expect(bad).toEqual([
        { line: 3, raw: "B,x,1,true,,0", error: 'field "px": expected float, got "x"', before: 1 },
        { line: 6, raw: "D,1,1,true,,0,extra", error: "expected 6 cells as in the header, got 7", before: 2 },
        { line: 7, raw: '"E,1,1,true,,0\nF,1,1,true,,0', error: "unterminated quoted cell", before: 2 },
      ]);
    }
  });

  it("makes every row bad when the header lacks a required column", async () => {
    const { records, bad } = await collect(readCsv(chunked("sym,px\nA,1\nB,2\n", 4), (h) => makeCsvDecoder(Trade, h)));
    expect(records).toEqual([]);
    expect(bad.map((b) => b.line)).toEqual([2, 3]);
    expect(bad[0]!.error).toContain('the CSV header has no column "qty"');
  });

  it("handles a UTF-8 BOM and multi-byte characters split across chunks", async () => {
    const text = "\uFEFFsym,venue\r\n\"Zürich, 東京 😀\",é\r\n";
    const schema = rec({ sym: str, venue: str });
    for (let size = 1; size < 12; size++) {
      const { records } = await collect(readCsv(chunked(text, size), (h) => makeCsvDecoder(schema, h)));
      expect(records).toEqual([{ sym: "Zürich, 東京 😀", venue: "é" }]);
    }
  });

  it("yields nothing for an empty file or a header alone", async () => {
    expect((await collect(readCsv(chunked("", 4), (h) => makeCsvDecoder(Trade, h)))).records).toEqual([]);
    expect((await collect(readCsv(chunked("sym,px\n", 4), (h) => makeCsvDecoder(Trade, h)))).records).toEqual([]);
  });
});
