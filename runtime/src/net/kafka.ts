// Kafka (LANGUAGE.md §11) behind a small interface of ours (`KafkaClient`), implemented with
// kafkajs 2.2 (`kafkajsClient`) — so the client can be swapped without touching the source and
// sink below. What flowc needs of Kafka: a consumer group member that hands over batches per
// partition and commits a batch's offsets once the program has processed it, and a producer
// with acknowledged sends. (kafkajs' idempotent and transactional producers are not used.)
//
// Source: joins `group`; reads the partitions the group assigns it; `start` applies when the
// group has no committed position. Batches are per partition, so the driver keeps a watermark
// per partition (§10: the source's watermark is the smallest over its partitions). Fetching runs
// ahead of processing (bounded by the inbox: 20,000 records); a partition's offsets are committed
// once the run has processed its batches, never for batches only fetched. A lost broker is
// retried with backoff (100 ms … 10 s) and consuming goes on after the batches already taken.
// With --checkpoint (§12) a restored run seeks each partition to its checkpoint's offset when the
// group first assigns it (offsets are still committed, for monitoring), each batch carries its
// first and last offset, and a rebalance that takes partitions away stops the run (exit 75).
//
// Sink: each row one message; `key:` names the field whose value is the message key (and so
// decides the partition). With `--checkpoint` (§12) every message carries the headers
// `flowc-run` (the lineage's run id) and `flowc-row` (its row number in the output), and the
// sink picks the partition itself — the key's (the default partitioner's murmur2, as Java's),
// or without `key:` the row number's (round robin) — so a replayed row goes where it went
// before. On restore it reads the last message of each partition and skips the replayed rows up
// to that partition's last one (RowMarks, run/network.ts): a batch that reached some
// partitions and not others before a crash is completed without duplicates; a retry after a
// failed send reads back first too (and kafkajs does not retry a send itself then). A topic
// whose partition count changed since the checkpoint is refused.

import type { NetworkSinkSpec, NetworkSourceSpec } from "../contract.js";
import { markOfHeaders, type LastMessage, type MessageSink, type NetInput, type NetSinkOpening, type NetSourceOpening, type SinkChange } from "../run/network.js";
import { RunError } from "../run/errors.js";
import { Connection, Inbox, loadClient, messageBytesDecoder, METADATA, changeText, sleep, text, type Decoded, type MessagePlace } from "./common.js";

/**
 * One message read from a partition, as the client gives it (kafkajs' own messages, not copied):
 * offset and timestamp as decimal text (Kafka's are 64-bit), read as numbers only when needed.
 */
export interface KafkaMessage {
  key: Uint8Array | null;
  value: Uint8Array | null;
  offset: string;
  timestamp: string;
}

/** A batch of one partition's messages, in offset order. */
export interface KafkaBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** The partition's end (the offset its next message will have), when the broker said. */
  highWatermark?: number;
}

/** A message to send: `partition` chosen by the caller (else by the key), `headers` as text. */
export interface KafkaOutMessage {
  key: string | null;
  value: string;
  partition?: number;
  headers?: Record<string, string>;
}

/** What flowc uses of a Kafka client. */
export interface KafkaClient {
  /**
   * Joins `group` and calls `onBatch` per batch. Fetching runs ahead of processing: the next
   * batch is fetched once `onBatch` resolves (the source has taken the batch), while the run is
   * still processing it. A batch's offsets are committed only once it has been processed.
   */
  consume(o: {
    topic: string;
    group: string;
    fromBeginning: boolean;
    /**
     * Resolves true once the source has taken the batch (the client fetches on after it), false
     * when the run ended first (the partition's next fetch starts at this batch again).
     * `processed` is called once the run has processed the batch: the client commits its offsets
     * then (and never for a batch the run did not process).
     */
    onBatch(b: KafkaBatch, processed: () => void): Promise<boolean>;
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
  produce(topic: string, messages: KafkaOutMessage[]): Promise<void>;
  /**
   * The topic (created with the brokers' defaults when missing, if they allow): its partition
   * count and, with `readLast`, the headers of the last message of each partition holding one.
   */
  topic(topic: string, readLast: boolean): Promise<{ partitions: number; last: Map<number, Record<string, string>> }>;
  /** The partition the default partitioner gives `key` among `partitions` (murmur2, as Java's). */
  partitionOf(key: string, partitions: number): number;
  close(): Promise<void>;
}

type KafkaJs = typeof import("kafkajs");

/**
 * The KafkaClient of kafkajs. `sendRetries`: how often kafkajs retries a failed send itself
 * (default 2); a checkpointed sink sets 0 and reads back before its own retry (§12), since a
 * send retried blindly may store its messages twice.
 */
export async function kafkajsClient(brokers: string[], o: { sendRetries?: number } = {}): Promise<KafkaClient> {
  const k = await loadClient<KafkaJs>("kafkajs", async () => {
    const m = (await import("kafkajs")) as KafkaJs & { default?: KafkaJs };
    return m.default ?? m;
  });
  const retry = { initialRetryTime: 100, maxRetryTime: 10_000, retries: 8, restartOnFailure: async () => true };
  const kafka = new k.Kafka({ clientId: "flowc", brokers, logLevel: k.logLevel.NOTHING, connectionTimeout: 2000, retry });
  let consumer: import("kafkajs").Consumer | undefined;
  let producer: import("kafkajs").Producer | undefined;
  let producing: Promise<void> | undefined;
  /** Commits what was processed and leaves the group (set by `consume`). */
  let closeConsumer: (() => Promise<void>) | undefined;
  const partitioner = k.Partitioners.DefaultPartitioner();
  return {
    async consume(o) {
      // A 10 s session: a run that stopped without leaving the group (librdkafka's mock cluster never
      // lets a member leave) holds its partitions that long before a restart gets them.
      const c = kafka.consumer({ groupId: o.group, retry, sessionTimeout: 10_000, heartbeatInterval: 3000 });
      consumer = c;
      // Fetching runs ahead of processing: kafkajs fetches a partition from its *resolved* offset
      // and fetches again only once `eachBatch` returns, so a batch is resolved as soon as the
      // source has taken it (not when the run has processed it: that made fetch and processing
      // strictly serial). The group's committed offsets are kept apart from that (autoCommit off,
      // which would commit the resolved ones): a partition's offsets are committed once the run
      // has processed its batches — one commit in flight, the batches processed meanwhile in the
      // next — and a last time when the run closes.
      /** Per assigned partition: the offset after the last batch the source took. */
      const fetched = new Map<number, number>();
      /** Per assigned partition: the offset after the last batch processed, not yet committed. */
      const due = new Map<number, number>();
      /** Per assigned partition: the group join (counted in `joins`) that gave it to this member. */
      const since = new Map<number, number>();
      let joins = 0;
      let committing: Promise<void> | undefined;
      let again = false;
      const commit = (): Promise<void> => {
        if (committing !== undefined) {
          again = true;
          return committing;
        }
        committing = (async () => {
          do {
            again = false;
            const offsets = [...due].map(([partition, next]) => ({ topic: o.topic, partition, offset: String(next) }));
            if (offsets.length === 0) break;
            due.clear();
            try {
              await c.commitOffsets(offsets);
            } catch {
              // Kept for the next commit (a lost broker: kafkajs has retried; the run goes on).
              for (const { partition, offset } of offsets) if (!due.has(partition) && since.has(partition)) due.set(partition, Number(offset));
              break;
            }
          } while (again);
        })().finally(() => (committing = undefined));
        return committing;
      };
      closeConsumer = async () => {
        // The batches processed last are committed before the group is left (briefly: a broker
        // that is gone must not hold the run's end; kafkajs stops retrying once disconnected).
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([commit().then(() => (due.size > 0 ? commit() : undefined)), new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
        clearTimeout(timer);
        await c.disconnect().catch(() => {});
      };
      c.on(c.events.CRASH, (e) => o.onState(false, (e.payload as { error?: unknown }).error));
      c.on(c.events.GROUP_JOIN, (e) => {
        o.onState(true);
        const partitions = [...((e.payload.memberAssignment as Record<string, number[]>)[o.topic] ?? [])];
        // A partition kept through a rebalance (or a restart of the consumer after a lost broker)
        // goes on after the batches the source already took — kafkajs would start again at the
        // committed offset, before batches still waiting in the inbox, and read them twice.
        // Partitions lost: their positions are another member's now, nothing of them is committed.
        joins++;
        const now = new Set(partitions);
        for (const p of [...since.keys()]) if (!now.has(p)) since.delete(p);
        for (const p of partitions) if (!since.has(p)) since.set(p, joins);
        for (const p of [...fetched.keys()]) if (!now.has(p)) fetched.delete(p);
        for (const p of [...due.keys()]) if (!now.has(p)) due.delete(p);
        for (const [p, next] of fetched) c.seek({ topic: o.topic, partition: p, offset: String(next) });
        o.onAssign(partitions);
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
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0 || !isRunning() || isStale()) return;
          const messages = batch.messages;
          const partition = batch.partition;
          const next = Number(messages.at(-1)!.offset) + 1;
          const fetchedIn = joins;
          const processed = () => {
            // Not for a partition lost since this batch was fetched (even if it came back).
            if ((since.get(partition) ?? Infinity) > fetchedIn || (due.get(partition) ?? -1) >= next) return;
            due.set(partition, next);
            void commit();
          };
          // The source takes the batch at once unless its inbox is full: heartbeats go on meanwhile.
          const beat = setInterval(() => void heartbeat().catch(() => {}), 3000);
          let taken: boolean;
          try {
            const high = Number(batch.highWatermark);
            taken = await o.onBatch({ topic: batch.topic, partition, messages, ...(Number.isFinite(high) && { highWatermark: high }) }, processed);
          } finally {
            clearInterval(beat);
          }
          if (!taken) return;
          resolveOffset(batch.messages.at(-1)!.offset);
          fetched.set(partition, next);
        },
      });
    },
    seek(topic, partition, offset) {
      consumer?.seek({ topic, partition, offset: String(offset) });
    },
    async produce(topic, messages) {
      if (producer === undefined) {
        const p = kafka.producer({ allowAutoTopicCreation: true, retry: { retries: o.sendRetries ?? 2, initialRetryTime: 100 } });
        producing ??= p.connect();
        try {
          await producing;
        } catch (e) {
          producing = undefined;
          throw e;
        }
        producer = p;
      }
      await producer.send({ topic, acks: -1, timeout: 5000, messages: messages.map((m) => ({ key: m.key, value: m.value, ...(m.partition !== undefined && { partition: m.partition }), ...(m.headers !== undefined && { headers: m.headers }) })) });
    },
    async topic(topic, readLast) {
      const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 100 } });
      await admin.connect();
      let offsets: { partition: number; high: string; low: string }[];
      try {
        // Asking for its metadata creates a missing topic where the brokers allow (as a send does).
        await admin.fetchTopicMetadata({ topics: [topic] });
        offsets = await admin.fetchTopicOffsets(topic);
      } finally {
        await admin.disconnect().catch(() => {});
      }
      if (offsets.length === 0) throw new Error(`topic ${topic} has no partitions`);
      const last = new Map<number, Record<string, string>>();
      // The last offset of each partition that holds messages.
      const want = new Map(offsets.filter((o) => Number(o.high) > Number(o.low)).map((o) => [o.partition, Number(o.high) - 1]));
      if (!readLast || want.size === 0) return { partitions: offsets.length, last };
      // kafkajs reads only as a group member: a group of its own, nothing committed, left after.
      const reader = kafka.consumer({ groupId: `flowc-readback-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`, retry, sessionTimeout: 10_000, heartbeatInterval: 1000 });
      try {
        await reader.connect();
        await reader.subscribe({ topic, fromBeginning: false });
        let done!: () => void;
        const all = new Promise<void>((r) => (done = r));
        await reader.run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const at = want.get(partition);
            if (at === undefined || Number(message.offset) < at) return;
            const headers: Record<string, string> = Object.create(null);
            for (const [h, v] of Object.entries(message.headers ?? {})) {
              const one = Array.isArray(v) ? v[0] : v;
              if (one !== undefined) headers[h] = one.toString();
            }
            last.set(partition, headers);
            if (last.size === want.size) done();
          },
        });
        for (const [partition, offset] of want) reader.seek({ topic, partition, offset: String(offset) });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`cannot read back the last message of each partition of ${topic}`)), 20_000)));
        try {
          await Promise.race([all, timeout]);
        } finally {
          clearTimeout(timer);
        }
      } finally {
        await reader.disconnect().catch(() => {});
      }
      return { partitions: offsets.length, last };
    },
    partitionOf(key, partitions) {
      const metadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, replicas: [0], isr: [0] }));
      return partitioner({ topic: "", partitionMetadata: metadata as never, message: { key, value: null } });
    },
    async close() {
      await closeConsumer?.();
      await producer?.disconnect().catch(() => {});
    },
  };
}

/**
 * Where the message being decoded came from; its texts are made only when asked (a bad message,
 * metadata). One per batch, moved from message to message (`at`): the decoder reads it only
 * while decoding that message.
 */
class KafkaPlace implements MessagePlace {
  private m!: KafkaMessage;
  private metaValues: Record<string, string | number | null> | undefined;
  constructor(
    private readonly label: string,
    private readonly topic: string,
    private readonly partition: number,
  ) {}
  at(m: KafkaMessage): this {
    this.m = m;
    this.metaValues = undefined;
    return this;
  }
  get where(): string {
    return `${this.label} partition ${this.partition} offset ${this.m.offset}`;
  }
  get position(): Record<string, string | number> {
    return { topic: this.topic, partition: this.partition, offset: Number(this.m.offset) };
  }
  get meta(): Record<string, string | number | null> {
    const m = this.m;
    return (this.metaValues ??= { _key: m.key === null ? null : text(m.key), _partition: this.partition, _offset: Number(m.offset), _timestamp: Number(m.timestamp) });
  }
}

export async function openKafkaSource(o: NetSourceOpening, given?: KafkaClient): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "kafka" }>;
  const client = given ?? (await kafkajsClient(spec.brokers.split(",").map((b) => b.trim())));
  const label = `kafka topic ${spec.topic}`;
  const conn = new Connection(o, `source ${o.name} (${label})`);
  const decode = messageBytesDecoder(o.schema, o.keep, spec.format, METADATA.kafka!, o.timeOf, o.changes, o.fastJson);
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
    onBatch: async (b, processed) => {
      conn.connected();
      const first = Number(b.messages[0]!.offset);
      const last = Number(b.messages.at(-1)!.offset);
      if (b.highWatermark !== undefined) lag.set(b.partition, Math.max(0, b.highWatermark - (last + 1)));
      // Backpressure: no new batch is taken while the inbox is full (the client fetches no more).
      while (inbox.full && !inbox.isClosed) await new Promise<void>((r) => (resume = r));
      // A batch the run will not get to is not taken: not committed, a later run reads it.
      if (inbox.isClosed) return false;
      const out: Decoded = { records: [], bad: undefined };
      const place = new KafkaPlace(label, b.topic, b.partition);
      for (const m of b.messages) decode(m.value, place.at(m), out);
      const span = { from: first, to: last };
      // `processed` (the commit) runs when the driver has processed the batch — never for a batch
      // still in the inbox when the run ends (the inbox drops it with its callback).
      inbox.put(out, processed, b.partition, span);
      return true;
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
  const client = await kafkajsClient(spec.brokers.split(",").map((b) => b.trim()), o.marks === undefined ? {} : { sendRetries: 0 });
  const format = changeText(o.output.schema, spec, o.output.key ?? []);
  const key = spec.key;
  const keyText = (row: unknown): string | null => {
    if (key === undefined) return null;
    const v = (row as Record<string, unknown>)[key];
    return v === null || v === undefined ? null : typeof v === "string" ? v : JSON.stringify(v);
  };
  const marks = o.marks;
  /** With --checkpoint: the topic's partition count (the sink picks partitions itself). */
  let partitions: number | undefined;
  const ready = async () => {
    if (marks === undefined || (partitions !== undefined && marks.resumed)) return;
    const t = await client.topic(spec.topic, !marks.resumed);
    marks.setLayout(`${t.partitions} partitions`);
    if (!marks.resumed) {
      const last = new Map<string, LastMessage>();
      for (const [p, h] of t.last) last.set(String(p), markOfHeaders(h["flowc-run"], h["flowc-row"]) ?? { foreign: "has no flowc-run and flowc-row headers" });
      marks.resume(last, (p) => `partition ${p}`);
    }
    partitions = t.partitions;
  };
  const partitionOf = (k: string | null, seq: number): number => (k !== null ? client.partitionOf(k, partitions!) : (seq - 1) % partitions!);
  return {
    async send(batch: readonly SinkChange[]) {
      await ready();
      const messages: KafkaOutMessage[] = [];
      const sent: [string, number][] = [];
      for (const c of batch) {
        const value = format(c);
        if (value === undefined) continue;
        // A delete has no row: its key field is in the change's key (when the key is the stream's).
        const k = keyText(c.op === "delete" ? c.key : c.row);
        if (marks === undefined || c.seq === undefined) {
          messages.push({ key: k, value });
          continue;
        }
        const partition = partitionOf(k, c.seq);
        if (marks.skip(String(partition), c.seq)) continue; // replayed: already in the partition
        messages.push({ key: k, value, partition, headers: { "flowc-run": marks.runId, "flowc-row": String(c.seq) } });
        sent.push([String(partition), c.seq]);
      }
      try {
        if (messages.length > 0) await client.produce(spec.topic, messages);
      } catch (e) {
        // Some partitions may have stored their messages: the retry reads back first.
        marks?.unsure();
        throw e;
      }
      for (const [p, n] of sent) marks!.sent(p, n);
    },
    async complete(rows: number) {
      await ready();
      marks?.complete(rows);
    },
    close: () => client.close(),
  };
}
