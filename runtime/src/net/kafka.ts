// Kafka (LANGUAGE.md §11) behind a small interface of ours (`KafkaClient`), implemented with
// kafkajs 2.2 (`kafkajsClient`) — so the client can be swapped without touching the source and
// sink below. What flowc needs of Kafka: a consumer group member that hands over batches per
// partition and commits a batch's offsets once the program has processed it, and a producer
// with acknowledged sends. (kafkajs' idempotent and transactional producers are not used.)
//
// Source: joins `group`; reads the partitions the group assigns it; `start` applies when the
// group has no committed position. Batches are per partition, so the driver keeps a watermark
// per partition (§10: the source's watermark is the smallest over its partitions). A lost broker
// is retried with backoff (100 ms … 10 s) and consuming resumes from the committed offsets.
// With --checkpoint (§12) a restored run seeks each partition to its checkpoint's offset when the
// group first assigns it (offsets are still committed, for monitoring), each batch carries its
// first and last offset, and a rebalance that takes partitions away stops the run (exit 75).
//
// Sink: each row one message; `key:` names the field whose value is the message key (and so
// decides the partition).

import type { NetworkSinkSpec, NetworkSourceSpec } from "../contract.js";
import type { MessageSink, NetInput, NetSinkOpening, NetSourceOpening, SinkChange } from "../run/network.js";
import { RunError } from "../run/errors.js";
import { Connection, Inbox, loadClient, messageDecoder, METADATA, changeText, sleep, text, type Decoded } from "./common.js";

/** One message read from a partition. */
export interface KafkaMessage {
  key: string | null;
  value: Uint8Array | null;
  offset: number;
  timestamp: number;
}

/** A batch of one partition: `processed` must be awaited before the next batch is asked for. */
export interface KafkaBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** The partition's end (the offset its next message will have), when the broker said. */
  highWatermark?: number;
}

/** What flowc uses of a Kafka client. */
export interface KafkaClient {
  /** Joins `group` and calls `onBatch` per batch; offsets are committed after it resolves. */
  consume(o: {
    topic: string;
    group: string;
    fromBeginning: boolean;
    /** Resolves true once the batch has been processed (its offsets may be committed), false
     *  when the run ended first. */
    onBatch(b: KafkaBatch): Promise<boolean>;
    onState(up: boolean, e?: unknown): void;
    /** The group gave this member these partitions of the topic. */
    onAssign(partitions: number[]): void;
  }): Promise<void>;
  /**
   * Reads `partition` of `topic` from `offset` on (a checkpoint's position, §12). Called from
   * `onAssign`, before the partition's first fetch.
   */
  seek(topic: string, partition: number, offset: number): void;
  /** Sends messages and waits for the brokers' acknowledgement. */
  produce(topic: string, messages: { key: string | null; value: string }[]): Promise<void>;
  close(): Promise<void>;
}

type KafkaJs = typeof import("kafkajs");

/** The KafkaClient of kafkajs. */
export async function kafkajsClient(brokers: string[]): Promise<KafkaClient> {
  const k = await loadClient<KafkaJs>("kafkajs", async () => {
    const m = (await import("kafkajs")) as KafkaJs & { default?: KafkaJs };
    return m.default ?? m;
  });
  const retry = { initialRetryTime: 100, maxRetryTime: 10_000, retries: 8, restartOnFailure: async () => true };
  const kafka = new k.Kafka({ clientId: "flowc", brokers, logLevel: k.logLevel.NOTHING, connectionTimeout: 2000, retry });
  let consumer: import("kafkajs").Consumer | undefined;
  let producer: import("kafkajs").Producer | undefined;
  let producing: Promise<void> | undefined;
  return {
    async consume(o) {
      // A 10 s session: a run that stopped without leaving the group (librdkafka's mock cluster never
      // lets a member leave) holds its partitions that long before a restart gets them.
      const c = kafka.consumer({ groupId: o.group, retry, sessionTimeout: 10_000, heartbeatInterval: 3000 });
      consumer = c;
      c.on(c.events.CRASH, (e) => o.onState(false, (e.payload as { error?: unknown }).error));
      c.on(c.events.GROUP_JOIN, (e) => {
        o.onState(true);
        o.onAssign([...((e.payload.memberAssignment as Record<string, number[]>)[o.topic] ?? [])]);
      });
      for (;;) {
        try {
          await c.connect();
          await c.subscribe({ topic: o.topic, fromBeginning: o.fromBeginning });
          break;
        } catch (e) {
          o.onState(false, e);
          await sleep(1000);
        }
      }
      await c.run({
        autoCommit: true,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          const messages = batch.messages.map((m) => ({
            key: m.key === null ? null : m.key.toString("utf8"),
            value: m.value,
            offset: Number(m.offset),
            timestamp: Number(m.timestamp),
          }));
          const beat = setInterval(() => void heartbeat().catch(() => {}), 3000);
          let processed: boolean;
          try {
            const high = Number(batch.highWatermark);
            processed = await o.onBatch({ topic: batch.topic, partition: batch.partition, messages, ...(Number.isFinite(high) && { highWatermark: high }) });
          } finally {
            clearInterval(beat);
          }
          if (processed) resolveOffset(batch.messages.at(-1)!.offset);
        },
      });
    },
    seek(topic, partition, offset) {
      consumer?.seek({ topic, partition, offset: String(offset) });
    },
    async produce(topic, messages) {
      if (producer === undefined) {
        const p = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: 2, initialRetryTime: 100 } });
        producing ??= p.connect();
        try {
          await producing;
        } catch (e) {
          producing = undefined;
          throw e;
        }
        producer = p;
      }
      await producer.send({ topic, acks: -1, timeout: 5000, messages: messages.map((m) => ({ key: m.key, value: m.value })) });
    },
    async close() {
      await consumer?.disconnect().catch(() => {});
      await producer?.disconnect().catch(() => {});
    },
  };
}

export async function openKafkaSource(o: NetSourceOpening, given?: KafkaClient): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "kafka" }>;
  const client = given ?? (await kafkajsClient(spec.brokers.split(",").map((b) => b.trim())));
  const label = `kafka topic ${spec.topic}`;
  const conn = new Connection(o, `source ${o.name} (${label})`);
  const decode = messageDecoder(o.schema, o.keep, spec.format, METADATA.kafka!, o.timeOf, o.changes);
  let resume: (() => void) | undefined;
  const inbox = new Inbox(20_000, { pause() {}, resume: () => resume?.() });
  let assigned: number[] = [];
  /** Records behind the broker's end, per partition, as of each partition's last batch (§10). */
  const lag = new Map<number, number>();
  // A checkpoint's positions (§12) win over the group's committed offsets: each partition is
  // sought once, when the group first assigns it.
  const seek = new Map(o.start ?? []);
  const onAssign = (partitions: number[]) => {
    const lost = assigned.filter((p) => !partitions.includes(p));
    assigned = partitions;
    if (lost.length > 0 && o.checkpointed === true) {
      // A rebalance took partitions away: their records would go to another member while this
      // run's checkpoint holds their state. Stop (exit 75) so a restart resumes from it (§12).
      inbox.fail(
        new RunError(
          `source ${o.name} (${label}): a rebalance of group ${spec.group} took partition${lost.length > 1 ? "s" : ""} ${lost.join(", ")} from this run; it stops so that a restart resumes from its checkpoint (several instances per group are not supported with --checkpoint)`,
          75,
        ),
      );
      return;
    }
    for (const p of partitions) {
      const at = seek.get(p);
      if (at === undefined) continue;
      seek.delete(p);
      const offset = at.after !== undefined ? Number(at.after) + 1 : Number(at.at);
      if (Number.isFinite(offset)) client.seek(spec.topic, p, offset);
    }
  };
  const consuming = client.consume({
    onAssign,
    topic: spec.topic,
    group: spec.group,
    fromBeginning: spec.start === "earliest",
    onState: (up, e) => (up ? conn.connected() : conn.lost(e ?? new Error("disconnected"))),
    onBatch: async (b) => {
      conn.connected();
      if (b.highWatermark !== undefined && b.messages.length > 0) lag.set(b.partition, Math.max(0, b.highWatermark - (b.messages.at(-1)!.offset + 1)));
      // Backpressure: no new batch is accepted while the inbox is full.
      while (inbox.full && !inbox.isClosed) await new Promise<void>((r) => (resume = r));
      const out: Decoded = { records: [], bad: undefined };
      for (const m of b.messages) {
        const place = {
          where: `${label} partition ${b.partition} offset ${m.offset}`,
          position: { topic: b.topic, partition: b.partition, offset: m.offset },
          meta: { _key: m.key, _partition: b.partition, _offset: m.offset, _timestamp: m.timestamp },
        };
        decode(m.value === null ? "null" : text(m.value), place, out);
      }
      // Offsets are committed once the driver has taken the batch and processed it; a batch
      // the run did not get to is not committed (a later run reads it).
      if (inbox.isClosed) return false;
      const span = { from: b.messages[0]!.offset, to: b.messages.at(-1)!.offset };
      return Promise.race([new Promise<boolean>((processed) => inbox.put(out, () => processed(true), b.partition, span)), inbox.closing.then(() => false)]);
    },
  });
  consuming.catch((e) => conn.lost(e));
  return {
    label,
    batches: inbox,
    partitions: () => assigned,
    lag: () => lag,
    async close() {
      inbox.close(true);
      resume?.();
      await client.close();
    },
  };
}

export async function openKafkaSink(o: NetSinkOpening): Promise<MessageSink> {
  const spec = o.spec as Extract<NetworkSinkSpec, { kind: "kafka" }>;
  const client = await kafkajsClient(spec.brokers.split(",").map((b) => b.trim()));
  const format = changeText(o.output.schema, spec, o.output.key ?? []);
  const key = spec.key;
  const keyText = (row: unknown): string | null => {
    if (key === undefined) return null;
    const v = (row as Record<string, unknown>)[key];
    return v === null || v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v);
  };
  return {
    async send(batch: readonly SinkChange[]) {
      const messages: { key: string | null; value: string }[] = [];
      for (const c of batch) {
        const value = format(c);
        // A delete has no row: its key field is in the change's key (when the key is the stream's).
        if (value !== undefined) messages.push({ key: keyText(c.op === "delete" ? c.key : c.row), value });
      }
      if (messages.length > 0) await client.produce(spec.topic, messages);
    },
    close: () => client.close(),
  };
}
