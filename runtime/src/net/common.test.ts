// The shared parts of the network connectors: message decoding (formats, metadata fields, bad
// messages with their place), the Inbox (batches, backpressure, acknowledgements) and the
// watermark per partition.
import { describe, expect, it } from "vitest";
import type { RecordSchema, Schema } from "../contract.js";
import { PartitionedClock } from "../source-clock.js";
import { Backoff, Inbox, messageDecoder, type Decoded } from "./common.js";

const rec = (fields: Record<string, Schema>): RecordSchema => ({ kind: "record", fields: Object.entries(fields).map(([name, type]) => ({ name, type })) });
const O = rec({ id: { kind: "int" }, amount: { kind: "float" }, _key: { kind: "optional", inner: { kind: "string" } }, _partition: { kind: "int" }, _timestamp: { kind: "time" } });
const place = { where: "kafka topic t partition 1 offset 7", position: { topic: "t", partition: 1, offset: 7 }, meta: { _key: null, _partition: 1, _offset: 7, _timestamp: 1767225600000 } };
const META = ["_key", "_partition", "_offset", "_timestamp"];
const decoded = (): Decoded => ({ records: [], bad: undefined });

describe("messageDecoder", () => {
  it("json: one value; metadata fields from the message win over the payload's", () => {
    const d = messageDecoder(O, undefined, "jsonl", META, undefined);
    const out = decoded();
    d(`{"id":1,"amount":2.5,"_partition":99,"other":true}`, place, out);
    expect(out).toEqual({ records: [{ id: 1, amount: 2.5, _key: null, _partition: 1, _timestamp: 1767225600000 }], bad: undefined });
  });

  it("json: JSONL lines when the whole is not one value, each bad line with its place", () => {
    const d = messageDecoder(O, undefined, "jsonl", META, undefined);
    const out = decoded();
    d(`{"id":1,"amount":1}\n\n{"id":"x","amount":1}\nnope\n{"id":3,"amount":3}`, place, out);
    expect(out.records.map((r) => (r as { id: number }).id)).toEqual([1, 3]);
    expect(out.bad).toEqual([
      { line: 3, raw: `{"id":"x","amount":1}`, error: `field "id": expected int, got "x"`, index: 1, where: `${place.where} line 3`, position: { ...place.position, line: 3 } },
      { line: 4, raw: "nope", error: expect.stringMatching(/^invalid JSON/), index: 1, where: `${place.where} line 4`, position: { ...place.position, line: 4 } },
    ]);
  });

  it("json: a message that is not JSON is one bad record at the message's place", () => {
    const d = messageDecoder(O, undefined, "jsonl", META, undefined);
    const out = decoded();
    d(`not json`, place, out);
    expect(out.bad).toEqual([{ line: 1, raw: "not json", error: expect.stringMatching(/^invalid JSON/), index: 0, where: place.where, position: place.position }]);
  });

  it("csv: cells in the type's field order without the metadata fields", () => {
    const d = messageDecoder(O, undefined, "csv", META, undefined);
    const out = decoded();
    d(`4,"1.5"`, place, out);
    d(`5`, place, out);
    expect(out.records).toEqual([{ id: 4, amount: 1.5, _key: null, _partition: 1, _timestamp: 1767225600000 }]);
    expect(out.bad![0]!.error).toBe("expected 2 cells (id, amount), got 1");
  });

  it("lines: the payload is the value", () => {
    const d = messageDecoder({ kind: "string" }, undefined, "lines", META, undefined);
    const out = decoded();
    d("a line\nand another", place, out);
    expect(out.records).toEqual(["a line\nand another"]);
  });

  it("a computed event time that is null makes the record bad", () => {
    const d = messageDecoder(O, undefined, "jsonl", META, (r: { amount: number }) => (r.amount > 0 ? 1 : null));
    const out = decoded();
    d(`{"id":1,"amount":0}`, place, out);
    expect(out.bad![0]!.error).toBe("the event time is null");
  });
});

describe("Inbox", () => {
  it("hands out what waits as one batch, keeps bad records in place, acknowledges a batch when the next is asked for", async () => {
    const acks: string[] = [];
    const inbox = new Inbox(100);
    inbox.put({ records: [1, 2], bad: undefined }, () => acks.push("a"));
    inbox.put({ records: [3], bad: [{ line: 1, raw: "x", error: "bad", index: 0 }] }, () => acks.push("b"));
    const first = await inbox.next();
    expect(first.value).toEqual({ records: [1, 2, 3], bad: [{ line: 1, raw: "x", error: "bad", index: 2 }], bytes: 0 });
    expect(acks).toEqual([]);
    const pending = inbox.next();
    expect(acks).toEqual(["a", "b"]);
    inbox.put({ records: [4], bad: undefined });
    expect((await pending).value).toEqual({ records: [4], bytes: 0 });
  });

  it("pauses the client when full and resumes it at half", async () => {
    const flow: string[] = [];
    const inbox = new Inbox(4, { pause: () => flow.push("pause"), resume: () => flow.push("resume") });
    inbox.put({ records: [1, 2], bad: undefined });
    inbox.put({ records: [3, 4], bad: undefined });
    expect([inbox.full, flow]).toEqual([true, ["pause"]]);
    await inbox.next();
    expect([inbox.full, flow]).toEqual([false, ["pause", "resume"]]);
  });

  it("keeps partitions apart: a batch is one partition's records", async () => {
    const inbox = new Inbox(100);
    inbox.put({ records: [1], bad: undefined }, undefined, 0);
    inbox.put({ records: [2], bad: undefined }, undefined, 0);
    inbox.put({ records: [3], bad: undefined }, undefined, 1);
    expect((await inbox.next()).value).toEqual({ records: [1, 2], bytes: 0, partition: 0 });
    expect((await inbox.next()).value).toEqual({ records: [3], bytes: 0, partition: 1 });
  });

  it("close: a pending next ends; the last batch is acknowledged only when the run ended normally", async () => {
    const acks: number[] = [];
    const a = new Inbox(10);
    a.put({ records: [1], bad: undefined }, () => acks.push(1));
    await a.next();
    const pending = a.next();
    a.put({ records: [2], bad: undefined }, () => acks.push(2));
    await pending;
    a.close(true);
    expect(acks).toEqual([1, 2]);
    expect(await a.next()).toEqual({ done: true, value: undefined });

    const b = new Inbox(10);
    b.put({ records: [1], bad: undefined }, () => acks.push(3));
    await b.next();
    await b.return();
    b.close(true); // after a failure the driver returns first: nothing is acknowledged
    expect(acks).toEqual([1, 2]);
  });
});

describe("PartitionedClock", () => {
  it("the watermark is the smallest over the assigned partitions; an empty one holds it at −∞", () => {
    const c = new PartitionedClock(1000);
    c.assign([0, 1]);
    c.select(0);
    expect(c.observe(10_000)).toBe(false);
    expect(c.watermark).toBe(-Infinity);
    c.select(1);
    expect(c.observe(5000)).toBe(true);
    expect(c.watermark).toBe(4000);
    expect(c.observe(20_000)).toBe(true);
    expect(c.watermark).toBe(9000);
    c.assign([1]); // partition 0 was taken away: it no longer holds the source
    c.select(1);
    expect(c.observe(21_000)).toBe(true);
    expect(c.watermark).toBe(20_000);
  });

  it("with idle (§10), a partition quiet for the idle time stops holding the source back", () => {
    const c = new PartitionedClock(1000);
    c.assign([0, 1, 2], 0); // at wall time 0
    c.select(0, 100);
    c.observe(10_000);
    expect(c.watermark).toBe(-Infinity); // 1 and 2 have had nothing
    expect(c.markIdle(4_000, 5_000)).toBe(false); // not quiet long enough yet
    expect(c.markIdle(5_000, 5_000)).toBe(true); // 1 and 2 are idle: partition 0 alone counts
    expect(c.watermark).toBe(9000);
    c.select(1, 6_000); // partition 1 speaks again, behind: it counts again (watermarks never go down)
    expect(c.observe(2000)).toBe(false);
    expect(c.watermark).toBe(9000);
    c.select(0, 6_100);
    expect(c.observe(30_000)).toBe(false); // held at 9 s by partition 1 (largest 2 s) — not lowered
    expect(c.watermark).toBe(9000);
  });
});

it("Backoff: 100 ms doubling to 10 s, again from 100 ms after a success", () => {
  const b = new Backoff();
  expect(Array.from({ length: 9 }, () => b.next())).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
  b.reset();
  expect(b.next()).toBe(100);
});
