// The Kafka source's commits against librdkafka's mock cluster (kcat), through the real kafkajs
// client: fetching runs ahead of processing (a batch arrives while the run still holds the one
// before), the group's committed offset is always that of the batches the run has processed —
// never of one only fetched — and a new run of the same group resumes right after the last
// processed record: nothing lost, and nothing read twice but the batch that never went through.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordSchema } from "../runtime/src/contract";
import { createMemoryEnv } from "../runtime/src/env";
import { kafkajsClient, openKafkaSource, type KafkaClient } from "../runtime/src/net/kafka";
import { ConnectionBoard, type NetInput, type NetSourceOpening } from "../runtime/src/run/network";
import { haveServer, kafkaClient, produceTo, startKafka, waitFor, type TestServer, useKafka } from "./servers";

const R: RecordSchema = { kind: "record", fields: [{ name: "v", type: { kind: "int" } }] };
const TOPIC = "ahead";
const GROUP = "ahead-g";

describe.skipIf(!haveServer("kafka"))("kafka source: commits follow processing, fetching runs ahead", () => {
  let cluster: TestServer;
  let kafka: import("kafkajs").Kafka;
  useKafka((c, k) => ((cluster = c), (kafka = k)));

  const produce = (from: number, to: number) => produceTo(kafka, TOPIC, Array.from({ length: to - from }, (_, i) => ({ value: `{"v":${from + i}}`, partition: 0 })));
  const committed = async (): Promise<string | undefined> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
      return t?.partitions.find((p) => p.partition === 0)?.offset;
    } finally {
      await admin.disconnect();
    }
  };
  /** A source of the group on the real client; `arrived`: the offsets of each batch it was handed. */
  const open = async () => {
    const real = await kafkajsClient(cluster.url.split(","));
    const arrived: number[][] = [];
    const client: KafkaClient = {
      ...real,
      consume: (o) => real.consume({ ...o, onBatch: (b, processed) => (arrived.push(b.messages.map((m) => Number(m.offset))), o.onBatch(b, processed)) }),
    };
    const opening: NetSourceOpening = {
      name: "k",
      schema: R,
      spec: { kind: "kafka", topic: TOPIC, brokers: cluster.url, group: GROUP, start: "earliest", format: "jsonl" },
      keep: undefined,
      timeOf: undefined,
      env: createMemoryEnv({}),
      board: new ConnectionBoard(),
    };
    const input = await openKafkaSource(opening, client);
    const has = (offset: number) => arrived.some((b) => b.includes(offset));
    return { input, has };
  };
  const values = async (input: NetInput) => ((await input.batches.next()).value!.records as { v: number }[]).map((r) => r.v);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

  it("commits only what the run processed while fetching runs ahead; a new run resumes right after it", async () => {
    await produce(0, 10);
    const first = await open();
    await waitFor("the first batch", () => first.has(9), 60_000);
    expect(await values(first.input)).toEqual(range(0, 10)); // the run holds it (not processed yet)

    // The next batch is fetched while the run still holds the first one …
    await produce(10, 20);
    await waitFor("the second batch, fetched ahead", () => first.has(19), 30_000);
    // … and nothing is committed: the first batch has not been processed.
    expect(await committed()).toBe("-1");

    // Asking for the next batch: the first has been processed, its offsets are committed.
    expect(await values(first.input)).toEqual(range(10, 20));
    await waitFor("offset 10 committed", async () => (await committed()) === "10", 30_000);

    // A third batch is fetched, then the run ends before it reaches the program: the batch the
    // run took last is committed on the way out, the one that waited is not.
    await produce(20, 30);
    await waitFor("the third batch, fetched ahead", () => first.has(29), 30_000);
    await first.input.close();
    expect(await committed()).toBe("20");

    // The same group again (once the mock cluster lets the first member's session lapse): it
    // starts right after the last processed record.
    const second = await open();
    expect(await values(second.input)).toEqual(range(20, 30));
    await second.input.close();
    expect(await committed()).toBe("30");
  }, 120_000);
});
