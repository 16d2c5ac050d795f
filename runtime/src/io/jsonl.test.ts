import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RecordSchema, Schema } from "../contract.js";
import { makeDecoder, makeLineDecoder } from "../decode.js";
import type { ReadBatch } from "./batch.js";
import { readJsonl } from "./jsonl.js";
import { readLines } from "./lines.js";
import { textBlocks } from "./text.js";

const enc = new TextEncoder();
function* chunked(bytes: Uint8Array, size: number): Iterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
/** Two chunks, split at byte `at`. */
const splitAt = (bytes: Uint8Array, at: number) => [bytes.subarray(0, at), bytes.subarray(at)];

async function collect(it: AsyncIterable<ReadBatch>) {
  const records: unknown[] = [];
  const bad: { line: number; raw: string; error: string; before: number }[] = [];
  for await (const b of it) {
    for (const x of b.bad ?? []) bad.push({ line: x.line, raw: x.raw, error: x.error, before: records.length + x.index });
    records.push(...b.records);
  }
  return { records, bad };
}

const rec = (fields: Record<string, Schema>): RecordSchema => ({
  kind: "record",
  fields: Object.entries(fields).map(([name, type]) => ({ name, type })),
});
const Reading = rec({ sensor: { kind: "string" }, value: { kind: "float" }, ts: { kind: "time" } });

describe("textBlocks", () => {
  it("yields whole lines, carrying partial lines and split characters", async () => {
    const text = "ab\ncdé\n😀x\nlast";
    const bytes = enc.encode(text);
    for (let size = 1; size <= bytes.length; size++) {
      const blocks: string[] = [];
      for await (const b of textBlocks(chunked(bytes, size))) blocks.push(b.text);
      expect(blocks.join("")).toBe(text);
      for (const b of blocks.slice(0, -1)) expect(b.endsWith("\n")).toBe(true);
    }
  });

  it("drops a BOM only at the start; bad UTF-8 becomes U+FFFD", async () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x61, 0x0a, 0xef, 0xbb, 0xbf, 0x62, 0xff, 0x0a, 0xe2, 0x82]);
    for (let size = 1; size <= bytes.length; size++) {
      let text = "";
      for await (const b of textBlocks(chunked(bytes, size))) text += b.text;
      expect(text).toBe("a\n\uFEFFb\uFFFD\n\uFFFD");
    }
  });

  it("copies what it carries over: the producer may reuse its buffer", async () => {
    async function* reusing() {
      const buf = Buffer.alloc(4); // (Buffer#slice is a view, unlike Uint8Array#slice)
      for (const part of ["ab", "c\nd", "e\nf", "g"]) {
        buf.fill(0);
        buf.set(enc.encode(part));
        yield buf.subarray(0, part.length);
      }
    }
    let text = "";
    for await (const b of textBlocks(reusing())) text += b.text;
    expect(text).toBe("abc\nde\nfg");
  });

  it("reports cumulative bytes", async () => {
    const sizes: number[] = [];
    for await (const b of textBlocks(chunked(enc.encode("a\nb\nc\n"), 2))) sizes.push(b.bytes);
    expect(sizes).toEqual([2, 4, 6]);
  });
});

describe("readJsonl", () => {
  const readings = readFileSync(new URL("../testdata/c16_readings.jsonl", import.meta.url));

  it("finds exactly c16's bad lines 2, 3, 4, 6 and 8", async () => {
    const { records, bad } = await collect(readJsonl([readings], makeDecoder(Reading)));
    expect(bad.map((b) => b.line)).toEqual([2, 3, 4, 6, 8]);
    expect(bad.map((b) => b.error)).toEqual([
      'field "value": expected float, got "high"',
      expect.stringMatching(/^invalid JSON: /),
      'field "value": missing',
      'field "ts": expected time, got "yesterday"',
      expect.stringMatching(/^invalid JSON: /),
    ]);
    expect(bad[1]!.raw).toBe("this is not json");
    expect(bad[1]!.error).not.toContain("this is not json"); // V8's echo of the text is dropped
    expect(bad.map((b) => b.before)).toEqual([1, 1, 1, 2, 3]);
    expect(records).toEqual([
      { sensor: "s1", value: 1.5, ts: Date.UTC(2026, 0, 1, 0, 0, 1) },
      { sensor: "s2", value: -2, ts: Date.UTC(2026, 0, 1, 0, 0, 4) },
      { sensor: "s3", value: 7.25, ts: 1767225605000 },
      { sensor: "s5", value: 9.5, ts: Date.UTC(2026, 0, 1, 0, 0, 7) },
    ]);
  });

  it("gives the same result when the input is split at any byte", async () => {
    const text = '{"sensor":"é😀","value":1,"ts":0}\r\n\n  \n{"sensor":"b","value":"x","ts":0}\nnot json\n{"sensor":"c","value":2,"ts":"1970-01-01T00:00:00Z"}';
    const bytes = enc.encode(text);
    const expected = await collect(readJsonl([bytes], makeDecoder(Reading)));
    expect(expected.records).toHaveLength(2);
    expect(expected.bad.map((b) => b.line)).toEqual([4, 5]);
    for (let at = 0; at <= bytes.length; at++) {
      expect(await collect(readJsonl(splitAt(bytes, at), makeDecoder(Reading))), `split at ${at}`).toEqual(expected);
    }
    for (let size = 1; size < 9; size++) {
      expect(await collect(readJsonl(chunked(bytes, size), makeDecoder(Reading)))).toEqual(expected);
    }
  });

  it("splits c16's file at every byte offset", async () => {
    const expected = await collect(readJsonl([readings], makeDecoder(Reading)));
    for (let at = 0; at <= readings.length; at++) {
      expect(await collect(readJsonl(splitAt(readings, at), makeDecoder(Reading)))).toEqual(expected);
    }
  });

  it("skips blank lines, strips CR, reads a last line without a newline", async () => {
    const { records, bad } = await collect(readJsonl([enc.encode('\n\r\n1\r\n \t\n2\n\n3')], makeDecoder({ kind: "int" })));
    expect(records).toEqual([1, 2, 3]);
    expect(bad).toEqual([]);
  });

  it("reads non-record types, one JSON value per line", async () => {
    const { records, bad } = await collect(readJsonl([enc.encode('1\n2.0\n"3"\n[4]\n')], makeDecoder({ kind: "int" })));
    expect(records).toEqual([1, 2]);
    expect(bad.map((b) => [b.line, b.error])).toEqual([
      [3, 'expected int, got "3"'],
      [4, "expected int, got [4]"],
    ]);
  });

  it("yields one batch per chunk, not per record", async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `{"sensor":"s","value":${i},"ts":${i}}`).join("\n");
    const sizes: number[] = [];
    for await (const b of readJsonl(chunked(enc.encode(text), 1 << 14), makeDecoder(Reading))) sizes.push(b.records.length);
    // ~38 KB in 16 KB chunks: a batch per chunk, then the last line (it has no line break).
    expect(sizes.length).toBeLessThanOrEqual(4);
    expect(sizes[0]).toBeGreaterThan(300);
    expect(sizes[1]).toBeGreaterThan(300);
    expect(sizes.reduce((a, b) => a + b)).toBe(1000);
  });
});

describe("readLines", () => {
  it("yields each line as a string, CR stripped, empty lines kept", async () => {
    const { records } = await collect(readLines([enc.encode("a\r\n\nb c\n")]));
    expect(records).toEqual(["a", "", "b c"]);
    expect((await collect(readLines([enc.encode("x\ny")]))).records).toEqual(["x", "y"]);
    expect((await collect(readLines([enc.encode("")]))).records).toEqual([]);
  });

  it("splits the same way at every byte offset", async () => {
    const bytes = enc.encode("é\r\n😀😀\n\nlast");
    for (let at = 0; at <= bytes.length; at++) {
      expect((await collect(readLines(splitAt(bytes, at)))).records).toEqual(["é", "😀😀", "", "last"]);
    }
  });

  it("decodes typed lines", async () => {
    const { records, bad } = await collect(readLines([enc.encode("1\nx\n3\n")], makeLineDecoder({ kind: "int" })));
    expect(records).toEqual([1, 3]);
    expect(bad).toEqual([{ line: 2, raw: "x", error: 'expected int, got "x"', before: 1 }]);
  });
});
