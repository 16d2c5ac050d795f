// The network connectors' arguments (LANGUAGE.md §11; the table is stdlib/src/catalog.ts
// CONNECTORS): what compiles, with which defaults, and every error the checker gives.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compile } from "../pipeline";
import { parse } from "../syntax/parse";
import { check } from "./check";

function checked(src: string) {
  const p = parse(src);
  expect(p.diagnostics).toEqual([]);
  return check(p.program, { poisoned: p.poisoned });
}
const codes = (src: string) => checked(src).diagnostics.map((d) => `${d.code} ${d.message}`);

const T = "type R = { id: int, name: string }\n";

describe("network connectors in the checker", () => {
  it("builds each source with its defaults", () => {
    const r = checked(
      T +
        `source a: R = kafka("t", brokers: "h:1", group: "g")
source b: R = nats("s.>", url: "nats://h:1", stream: "S", durable: "d", start: "latest", format: "csv")
source c: R = redis("k", url: "redis://h:1", json: "payload")
source d: R = mqtt("x/+/y", url: "mqtt://h:1", qos: 1)
source e: R = websocket("ws://h:1/feed")
source f: R = http(port: 8080)
emit union(a, b, c, d, e, f)
`,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.program.sources.map((s) => s.connector)).toEqual([
      { kind: "kafka", topic: "t", brokers: "h:1", group: "g", start: "earliest", format: "jsonl" },
      { kind: "nats", subject: "s.>", url: "nats://h:1", stream: "S", durable: "d", start: "latest", format: "csv" },
      { kind: "redis", key: "k", url: "redis://h:1", start: "earliest", json: "payload" },
      { kind: "mqtt", topic: "x/+/y", url: "mqtt://h:1", qos: 1, format: "jsonl" },
      { kind: "websocket", url: "ws://h:1/feed", format: "jsonl" },
      { kind: "http", port: 8080, path: "/ingest", host: "127.0.0.1", format: "jsonl" },
    ]);
  });

  it("builds each sink", () => {
    const r = checked(
      T +
        `source rs: R = stdin()
emit a = rs -> kafka("t", brokers: "h:1", key: "id")
emit b = rs -> nats("s", url: "nats://h:1", stream: "S")
emit c = rs -> redis("k", url: "redis://h:1")
emit d = rs -> postgres("public.rows", url: "postgres://u@h/db")
emit e = rs -> http("http://h/in", method: "PUT", format: "csv")
`,
    );
    expect(r.diagnostics).toEqual([]);
    expect(r.program.outputs.map((o) => o.sink)).toEqual([
      { kind: "kafka", sink: true, topic: "t", brokers: "h:1", key: "id", format: "jsonl" },
      { kind: "nats", sink: true, subject: "s", url: "nats://h:1", stream: "S", format: "jsonl" },
      { kind: "redis", sink: true, key: "k", url: "redis://h:1", format: "jsonl" },
      { kind: "postgres", sink: true, table: "public.rows", url: "postgres://u@h/db" },
      { kind: "http", sink: true, url: "http://h/in", method: "PUT", format: "csv" },
    ]);
  });

  it("reports wrong, missing and unknown arguments", () => {
    expect(codes(T + `source a: R = kafka("t", brokers: "h:1")\nemit a`)).toEqual(["E0406 kafka() needs the argument `group`"]);
    expect(codes(T + `source a: R = nats("s", url: "u", stream: "S", start: "newest")\nemit a`)).toEqual([`E0407 nats(): unknown start "newest"`]);
    expect(codes(T + `source a: R = mqtt("t", url: "u", qos: 2)\nemit a`)).toEqual([`E0407 mqtt(): unknown qos "2"`]);
    expect(codes(T + `source a: R = redis("k", url: "u", format: "csv")\nemit a`)).toEqual(["E0404 redis() has no argument `format`"]);
    expect(codes(T + `source a: R = http(port: "80")\nemit a`)).toEqual(["E0219 the argument `port` of http() must be a constant"]);
    expect(codes(T + `source a: string = nats("s", url: "u", stream: "S", format: "csv")\nemit a`)).toEqual([`E0408 the "csv" format cannot read string`]);
  });

  it("refuses a sink-only connector as a source and a network connector as a table", () => {
    expect(codes(T + `source a: R = postgres("t", url: "u")\nemit a`)[0]).toBe("E0109 unknown connector `postgres`");
    const table = checked(T + `table t: R = redis("k", url: "u") key id\nsource s: R = stdin()\nemit s | lookup t on id`).diagnostics[0]!;
    expect(table.code).toBe("E0109");
    expect(table.hint).toMatch(/^the table connectors \(a table is bounded input, loaded before the streams start\) are file\(…\), stdin\(…\), range\(…\), nexmark\(…\)$/);
  });

  it("checks metadata field types, a Kafka sink's key field and Postgres rows", () => {
    expect(codes(`type M = { n: int, _partition: string, _key: string }\nsource a: M = kafka("t", brokers: "h", group: "g")\nemit a`)).toEqual([
      "E0420 the metadata field `_key` of kafka() has type string?",
      "E0420 the metadata field `_partition` of kafka() has type int",
    ]);
    // A metadata field of another connector is an ordinary payload field.
    expect(codes(`type M = { n: int, _partition: string, _seq: int? }\nsource a: M = nats("s", url: "u", stream: "S")\nemit a`)).toEqual([]);
    expect(codes(T + `source rs: R = stdin()\nemit rs -> kafka("t", brokers: "h", key: "idd")`)).toEqual(["E0402 key field `idd` is not on R"]);
    expect(codes(`source xs: int = range(0, 3)\nemit xs -> postgres("t", url: "u")`)).toEqual(["E0421 postgres() writes rows of a record type, found int"]);
  });

  it("prints the connector into the generated program", () => {
    const r = compile(T + `source a: R = nats("s", url: "nats://h:1", stream: "S")\nemit a -> postgres("rows", url: "postgres://h/db")\n`);
    expect(r.diagnostics).toEqual([]);
    expect(r.typescript).toContain(`connector: { kind: "nats", subject: "s", url: "nats://h:1", stream: "S", start: "earliest", format: "jsonl" }`);
    expect(r.typescript).toContain(`connector: { kind: "postgres", sink: true, table: "rows", url: "postgres://h/db" }`);
  });

  it("gives JSON Kafka and NATS sources the generated JSONL decoder — not with one of the connector's metadata fields, nor in another format", () => {
    const decodeOf = (src: string) => {
      const r = compile(src);
      expect(r.diagnostics).toEqual([]);
      return /decode: \{[^}]*\}/.exec(r.typescript ?? "")?.[0];
    };
    const both = "decode: { jsonl: aSourceJsonl, value: aSourceValue }";
    const general = "decode: { value: aSourceValue }";
    expect(decodeOf(`type M = { n: int }\nsource a: M = kafka("t", brokers: "h", group: "g")\nemit a`)).toBe(both);
    expect(decodeOf(`type M = { n: int }\nsource a: M = nats("s", url: "u", stream: "S")\nemit a`)).toBe(both);
    // Metadata fields are filled from the message by the general decoder (net/common.ts).
    expect(decodeOf(`type M = { n: int, _offset: int }\nsource a: M = kafka("t", brokers: "h", group: "g")\nemit a`)).toBe(general);
    expect(decodeOf(`type M = { n: int, _offset: int }\nsource a: M = nats("s", url: "u", stream: "S")\nemit a`)).toBe(both); // not NATS metadata
    expect(decodeOf(`type M = { n: int }\nsource a: M = kafka("t", brokers: "h", group: "g", format: "csv")\nemit a`)).toBe(general);
  });
});

it("the live examples compile cleanly (examples/live/)", () => {
  const root = new URL("../../../examples/live/", import.meta.url);
  const files = readdirSync(root, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".flow"));
  expect(files.length).toBeGreaterThanOrEqual(2);
  for (const f of files) {
    const r = compile(readFileSync(new URL(f, root), "utf8"), { file: f });
    expect(r.diagnostics.map((d) => `${f}: ${d.code} ${d.message}`)).toEqual([]);
  }
});
