// JSON messages of the byte-payload connectors (Kafka, NATS) go through the source's generated
// JSONL decoder first (runtime/src/net/common.ts messageBytesDecoder): it must give exactly what
// the general message decoder gives — records, bad records with their place, event-time checks —
// and stand aside where it does not apply (metadata fields, change sources).
import { describe, expect, it } from "vitest";
import type { Type } from "../compiler/src/check/types";
import { emitSourceDecoders } from "../compiler/src/emit/decoder";
import { data } from "../compiler/src/emit/js/ast";
import { schemaData } from "../compiler/src/emit/types";
import type { Schema } from "../runtime/src/contract";
import { makeDecoder } from "../runtime/src/decode";
import { JsonKeys, StringTable, type JsonCursor, type JsonlLineDecoder } from "../runtime/src/io/fast-jsonl";
import { messageBytesDecoder, messageDecoder, type Decoded, type MessagePlace } from "../runtime/src/net/common";

const TYPE: Type = {
  kind: "record",
  name: "Bid",
  fields: [
    { name: "auction", type: { kind: "int" } },
    { name: "price", type: { kind: "float" } },
    { name: "at", type: { kind: "time" } },
    { name: "note", type: { kind: "optional", inner: { kind: "string" } } },
  ],
};
const SCHEMA = schemaData(TYPE) as unknown as Schema;
const META = ["_key", "_partition", "_offset", "_timestamp"];
const place: MessagePlace = { where: "kafka topic t partition 0 offset 3", position: { topic: "t", partition: 0, offset: 3 } };
const utf8 = new TextEncoder();

function generated(keep: string[] | undefined): JsonlLineDecoder {
  const d = emitSourceDecoders("bidSource", TYPE, keep, { jsonl: true, csv: false }, { where: "t.flow:1", recordType: "Bid", ts: () => "unknown", schema: (t) => data(schemaData(t)), js: true })!;
  return new Function("JsonKeys", "StringTable", "makeDecoder", `${d.code}\nreturn bidSourceJsonl;`)(JsonKeys, StringTable, makeDecoder) as JsonlLineDecoder;
}

const MESSAGES = [
  `{"auction":1,"price":2.5,"at":"2026-01-01T00:00:00Z","note":null}`,
  `{"note":"reordered","at":"2026-01-01T00:00:01.5Z","price":3,"auction":2}`,
  `  {"auction":3,"price":1e2,"at":"2026-01-01T00:00:02Z","note":"with \\"escape\\""}  `,
  `{"auction":4,"price":1,"at":"2026-01-01T00:00:03Z","note":null}\n{"auction":5,"price":1,"at":"2026-01-01T00:00:04Z","note":null}`,
  `{"auction":"six","price":1,"at":"2026-01-01T00:00:05Z","note":null}`,
  `{"auction":7,"price":1,"at":"2026-01-01T00:00:06Z"}`,
  `not json`,
  `{"auction":8,"price":1,"at":"2026-01-01T00:00:07Z","note":null,"extra":[1,{"a":2}]}`,
  `{"auction":9,"price":1,"at":"2026-01-01T00:00:08Z","note":null}{"auction":10}`,
];

function run(d: (payload: Uint8Array | null, p: MessagePlace, out: Decoded) => void, messages: (string | null)[]): Decoded {
  const out: Decoded = { records: [], bad: undefined };
  for (const m of messages) d(m === null ? null : utf8.encode(m), place, out);
  return out;
}

describe("messageBytesDecoder", () => {
  for (const keep of [undefined, ["auction", "at"]]) {
    it(`gives what the general decoder gives (keep ${keep?.join(",") ?? "all"})`, () => {
      let fastCalls = 0;
      const fast = generated(keep);
      const counted: JsonlLineDecoder = (c: JsonCursor) => (fastCalls++, fast(c));
      const general = messageDecoder(SCHEMA, keep, "jsonl", META, undefined);
      const expected: Decoded = { records: [], bad: undefined };
      for (const m of [...MESSAGES, "null"]) general(m, place, expected);
      expect(run(messageBytesDecoder(SCHEMA, keep, "jsonl", META, undefined, undefined, counted), [...MESSAGES, null])).toEqual(expected);
      expect(fastCalls).toBe(MESSAGES.length);
      expect(expected.records.length).toBe(7);
    });
  }

  it("checks a computed event time, and a record whose time fails is reported as the general path does", () => {
    const timeOf = (r: { price: number; at: number }) => (r.price > 2 ? r.at : null);
    const general = messageDecoder(SCHEMA, undefined, "jsonl", META, timeOf);
    const expected: Decoded = { records: [], bad: undefined };
    for (const m of MESSAGES) general(m, place, expected);
    const got = run(messageBytesDecoder(SCHEMA, undefined, "jsonl", META, timeOf, undefined, generated(undefined)), MESSAGES);
    expect(got).toEqual(expected);
    expect(got.bad!.some((b) => b.error === "the event time is null")).toBe(true);
  });

  it("stands aside for a type with metadata fields and for change sources", () => {
    let fastCalls = 0;
    const fast: JsonlLineDecoder = () => (fastCalls++, undefined);
    const withMeta = { kind: "record", fields: [...(SCHEMA as { fields: unknown[] }).fields, { name: "_offset", type: { kind: "int" } }] } as Schema;
    run(messageBytesDecoder(withMeta, undefined, "jsonl", META, undefined, undefined, fast), MESSAGES);
    run(messageBytesDecoder(SCHEMA, undefined, "jsonl", META, undefined, { format: "changelog", key: ["auction"] }, fast), MESSAGES);
    run(messageBytesDecoder(SCHEMA, undefined, "csv", META, undefined, undefined, fast), ["1,2,2026-01-01T00:00:00Z,"]);
    expect(fastCalls).toBe(0);
  });
});
