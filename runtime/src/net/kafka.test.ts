// The Kafka source's checkpoint rules (LANGUAGE.md §12) at the KafkaClient interface, with a
// fake client (fast, and exact about which assignment comes when): a checkpoint's positions
// are sought when the group first assigns each partition; each batch says its first and last
// offset; a rebalance that takes partitions away from a checkpointed run stops it with exit 75,
// and without --checkpoint it does not. A real rebalance (a second member joining the mock
// cluster's group) is in test/checkpoint-live.stress.test.ts.

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
    deliver(partition: number, offsets: number[]): Promise<boolean> {
      const b: KafkaBatch = { topic: "t", partition, messages: offsets.map((offset) => ({ key: null, value: new TextEncoder().encode(`{"v":${offset}}`), offset, timestamp: 0 })) };
      return handlers!.onBatch(b);
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
