// The Kafka source at the KafkaClient interface, with a fake client (fast, and exact about which
// assignment and batch comes when). Fetching runs ahead of processing: the source takes a batch
// at once (the client fetches on) unless its inbox is full, and says a batch is processed (the
// client commits it) only once the run has processed it — never for one still waiting when the
// run ends. The checkpoint rules (LANGUAGE.md §12): a checkpoint's positions are sought when the
// group first assigns each partition; each batch says its first and last offset; a rebalance
// that takes partitions away from a checkpointed run stops it with exit 75, and without
// --checkpoint it does not. A real rebalance (a second member joining the mock cluster's group)
// is in test/checkpoint-live.stress.test.ts; commits against the mock cluster in
// test/connectors-kafka-commit.stress.test.ts.

import { describe, expect, it } from "vitest";
import type { RecordSchema } from "../contract.js";
import { createMemoryEnv } from "../env.js";
import type { ReadBatch } from "../io/batch.js";
import { RunError } from "../run/errors.js";
import { ConnectionBoard, type NetSourceOpening, type StartAt } from "../run/network.js";
import { openKafkaSource, type KafkaBatch, type KafkaClient } from "./kafka.js";

const R: RecordSchema = { kind: "record", fields: [{ name: "v", type: { kind: "int" } }] };

/** A KafkaClient driven by the test: it assigns partitions and delivers batches when told. */
function fakeClient() {
  let handlers: Parameters<KafkaClient["consume"]>[0] | undefined;
  const seeks: [number, number][] = [];
  const client: KafkaClient = {
    async consume(o) {
      handlers = o;
    },
    seek(_topic, partition, offset) {
      seeks.push([partition, offset]);
    },
    async produce() {},
    // The sink's side of the interface: these tests read only.
    async topic() {
      throw new Error("the source tests produce nothing");
    },
    partitionOf() {
      throw new Error("the source tests produce nothing");
    },
    async close() {},
  };
  return {
    client,
    seeks,
    assign(partitions: number[]) {
      handlers!.onState(true);
      handlers!.onAssign(partitions);
    },
    /** Offsets of the batches whose `processed` the source called (the client commits those). */
    processed: [] as number[][],
    /** Hands a batch to the source: resolves true once the source has taken it. */
    deliver(partition: number, offsets: number[]): Promise<boolean> {
      const b: KafkaBatch = { topic: "t", partition, messages: offsets.map((offset) => ({ key: null, value: new TextEncoder().encode(`{"v":${offset}}`), offset: String(offset), timestamp: "0" })) };
      return handlers!.onBatch(b, () => this.processed.push(offsets));
    },
  };
}

function opening(checkpointed: boolean, start?: Map<number, StartAt>): NetSourceOpening {
  return {
    name: "k",
    schema: R,
    spec: { kind: "kafka", topic: "t", brokers: "h:1", group: "g", start: "earliest", format: "jsonl" },
    keep: undefined,
    timeOf: undefined,
    env: createMemoryEnv({}),
    board: new ConnectionBoard(),
    ...(start && { start }),
    ...(checkpointed && { checkpointed: true }),
  };
}

describe("kafka source: fetching runs ahead, commits follow processing", () => {
  it("takes batches before the run processes them; only processed batches are acknowledged", async () => {
    const fake = fakeClient();
    const input = await openKafkaSource(opening(false), fake.client);
    await Promise.resolve();
    fake.assign([0, 1]);
    // Taken at once, before the run has read anything: the client fetches on meanwhile.
    expect(await fake.deliver(0, [0, 1])).toBe(true);
    expect(await fake.deliver(1, [0])).toBe(true);
    expect(await fake.deliver(0, [2, 3])).toBe(true);
    expect(fake.processed).toEqual([]);
    expect((await input.batches.next()).value).toMatchObject({ records: [{ v: 0 }, { v: 1 }], partition: 0 });
    expect(fake.processed).toEqual([]); // taken by the run, not yet through the program
    expect((await input.batches.next()).value).toMatchObject({ records: [{ v: 0 }], partition: 1 });
    expect(fake.processed).toEqual([[0, 1]]);
    // The run ends normally after the batch it took last: that one is processed; [2, 3] never
    // reached the program and is not acknowledged (a later run reads it again).
    await input.close();
    expect(fake.processed).toEqual([[0, 1], [0]]);
    expect(await fake.deliver(0, [4])).toBe(false); // after the end: not taken
    expect(fake.processed).toEqual([[0, 1], [0]]);
  });

  it("a run that fails acknowledges nothing it has not finished", async () => {
    const fake = fakeClient();
    const input = await openKafkaSource(opening(false), fake.client);
    await Promise.resolve();
    fake.assign([0]);
    await fake.deliver(0, [0]);
    await fake.deliver(0, [1]);
    await input.batches.next();
    await input.batches.return!(); // the driver's failure path
    await input.close();
    expect(fake.processed).toEqual([]);
  });

  it("a full inbox holds the next batch back (backpressure) until the run has taken records", async () => {
    const fake = fakeClient();
    const input = await openKafkaSource(opening(false), fake.client);
    await Promise.resolve();
    fake.assign([0]);
    const offsets = (from: number) => Array.from({ length: 10_000 }, (_, i) => from + i);
    expect(await fake.deliver(0, offsets(0))).toBe(true);
    expect(await fake.deliver(0, offsets(10_000))).toBe(true); // 20,000 records wait: full
    let taken = false;
    const third = fake.deliver(0, offsets(20_000)).then((t) => (taken = t));
    await new Promise((r) => setTimeout(r, 20));
    expect(taken).toBe(false);
    // The run takes records until half the capacity is free: the batch is taken.
    for (let n = 0; n < 10_000; ) n += (await input.batches.next()).value!.records.length;
    await third;
    expect(taken).toBe(true);
    await input.close();
  });
});

describe("kafka source with --checkpoint", () => {
  it("seeks each partition to its checkpoint position once, when first assigned; batches carry their offsets", async () => {
    const fake = fakeClient();
    const input = await openKafkaSource(opening(true, new Map([[0, { after: 41 }], [2, { at: 7 }]])), fake.client);
    await Promise.resolve();
    fake.assign([0, 1]);
    expect(fake.seeks).toEqual([[0, 42]]); // partition 2 is not assigned (yet)
    fake.assign([0, 1, 2]); // more partitions: fine, and partition 2 is sought now
    expect(fake.seeks).toEqual([[0, 42], [2, 7]]);
    fake.assign([0, 1, 2]);
    expect(fake.seeks.length).toBe(2); // once
    void fake.deliver(0, [42, 43, 44]);
    const r = await input.batches.next();
    expect(r.value).toMatchObject({ records: [{ v: 42 }, { v: 43 }, { v: 44 }], partition: 0, from: 42, to: 44 } satisfies Partial<ReadBatch>);
    await input.close();
  });

  it("a rebalance that takes partitions away stops a checkpointed run with exit 75", async () => {
    const fake = fakeClient();
    const input = await openKafkaSource(opening(true), fake.client);
    await Promise.resolve();
    fake.assign([0, 1, 2]);
    const waiting = input.batches.next();
    fake.assign([0, 2]);
    const e = await waiting.then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(RunError);
    expect((e as RunError).exitCode).toBe(75);
    expect((e as Error).message).toMatch(/source k \(kafka topic t\): a rebalance of group g took partition 1 from this run; it stops so that a restart resumes from its checkpoint/);
    // The next read fails the same way.
    await expect(input.batches.next()).rejects.toBe(e);
    await input.close();
  });

  it("without --checkpoint a rebalance only changes the partitions read", async () => {
    const fake = fakeClient();
    const input = await openKafkaSource(opening(false), fake.client);
    await Promise.resolve();
    fake.assign([0, 1, 2]);
    fake.assign([0]);
    expect(input.partitions!()).toEqual([0]);
    void fake.deliver(0, [5]);
    expect((await input.batches.next()).value).toMatchObject({ records: [{ v: 5 }], partition: 0 });
    await input.close();
  });
});
