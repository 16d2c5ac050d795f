// NATS JetStream (LANGUAGE.md §11) with the official `nats` client.
//
// Source: reads the stream `stream` (created, capturing `subject`, when missing) filtered by
// `subject`. With `durable:` a durable consumer with explicit acks: a message is acknowledged
// once the driver has processed it, and a restarted run resumes at the consumer's position.
// Without it, an ephemeral consumer that this run recreates after a lost connection at the
// stream sequence after the last one it received — so a reconnect loses and repeats nothing.
// Messages are pulled in batches (`fetch`), and not pulled while the inbox is full. With
// --checkpoint (§12) a restored run reads from the stream sequence after its checkpoint's (a
// durable consumer is created again there); each batch carries its first and last sequence.
//
// Sink: JetStream publish, each message acknowledged by the server, with a `Nats-Msg-Id` of
// this run's id and the row number (the stream drops a message sent twice by a retry within its
// duplicate window). One connection per try, never reconnected by the client, so a failed
// batch leaves a prefix of its rows in the stream. With `--checkpoint` (§12) the id is the
// lineage's run id, and the headers `flowc-run` and `flowc-row` carry it and the row number; on
// restore the sink reads the last message on the subject in its stream and skips the replayed
// rows up to it (RowMarks, run/network.ts). A subject no stream captures (and no `stream:` to create one) cannot be
// published to: each delivery fails ("no stream captures subject", when publishing or reading
// back) and, after --sink-retry, the run stops with exit 73 naming the sink.

import type { NetworkSinkSpec, NetworkSourceSpec } from "../contract.js";
import { markOfHeaders, type LastMessage, type MessageSink, type NetInput, type NetSinkOpening, type NetSourceOpening, type SinkChange } from "../run/network.js";
import { Backoff, Connection, Inbox, loadClient, messageBytesDecoder, METADATA, changeText, runId, sleep, type Decoded } from "./common.js";

type Nats = typeof import("nats");
type NatsConnection = import("nats").NatsConnection;

const load = () => loadClient<Nats>("nats", () => import("nats"));

/** Connects, retrying for ever with backoff (the client reconnects by itself after that). */
async function connectNats(nats: Nats, url: string, conn: Connection, stopped: () => boolean): Promise<NatsConnection | undefined> {
  const backoff = new Backoff();
  const reconnectBackoff = new Backoff();
  while (!stopped()) {
    try {
      const nc = await nats.connect({
        servers: url,
        reconnect: true,
        maxReconnectAttempts: -1,
        reconnectDelayHandler: () => reconnectBackoff.next(),
        timeout: 2000,
      });
      conn.connected();
      void (async () => {
        for await (const s of nc.status()) {
          if (s.type === "disconnect") conn.lost(new Error(`disconnected from ${url}`));
          else if (s.type === "reconnect") {
            reconnectBackoff.reset();
            conn.connected();
          }
        }
      })().catch(() => {});
      return nc;
    } catch (e) {
      conn.lost(e);
      await sleep(backoff.next());
    }
  }
  return undefined;
}

/** Creates the stream capturing `subject` unless a stream of that name exists. */
async function ensureStream(nc: NatsConnection, stream: string, subject: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({ name: stream, subjects: [subject] });
  }
}

export async function openNatsSource(o: NetSourceOpening): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "nats" }>;
  const nats = await load();
  const label = `nats subject ${spec.subject}`;
  const conn = new Connection(o, `source ${o.name} (${label})`);
  const decode = messageBytesDecoder(o.schema, o.keep, spec.format, METADATA.nats!, o.timeOf, o.changes, o.fastJson);
  let resume: (() => void) | undefined;
  const inbox = new Inbox(20_000, { pause() {}, resume: () => resume?.() });
  let nc: NatsConnection | undefined;
  let fetching: { stop(): void } | undefined;
  const stopped = () => inbox.isClosed;

  const run = async () => {
    nc = await connectNats(nats, spec.url, conn, stopped);
    if (nc === undefined) return;
    const backoff = new Backoff();
    // A checkpoint's position (§12): the stream sequence to read from, instead of the durable
    // consumer's position or `start`.
    const from = o.start?.get(-1);
    const fromSeq = from === undefined ? undefined : from.after !== undefined ? Number(from.after) + 1 : Number(from.at);
    // The sequence to read from next (ephemeral consumers restart there after a lost connection).
    let nextSeq = fromSeq !== undefined && Number.isFinite(fromSeq) ? fromSeq : undefined;
    let sought = nextSeq === undefined;
    while (!stopped()) {
      try {
        await ensureStream(nc, spec.stream, spec.subject);
        const jsm = await nc.jetstreamManager();
        const js = nc.jetstream();
        let name: string;
        if (spec.durable !== undefined) {
          name = spec.durable;
          const config = {
            durable_name: name,
            ack_policy: nats.AckPolicy.Explicit,
            filter_subject: spec.subject,
          };
          if (!sought) {
            // The checkpoint's position wins: the durable consumer starts again there (its acks
            // go on, for monitoring).
            await jsm.consumers.delete(spec.stream, name).catch(() => {});
            await jsm.consumers.add(spec.stream, { ...config, deliver_policy: nats.DeliverPolicy.StartSequence, opt_start_seq: nextSeq! });
            sought = true;
          } else {
            try {
              await jsm.consumers.info(spec.stream, name);
            } catch {
              await jsm.consumers.add(spec.stream, { ...config, deliver_policy: spec.start === "latest" ? nats.DeliverPolicy.New : nats.DeliverPolicy.All });
            }
          }
        } else {
          const start =
            nextSeq !== undefined
              ? { deliver_policy: nats.DeliverPolicy.StartSequence, opt_start_seq: nextSeq }
              : { deliver_policy: spec.start === "latest" ? nats.DeliverPolicy.New : nats.DeliverPolicy.All };
          const info = await jsm.consumers.add(spec.stream, {
            ...start,
            ack_policy: nats.AckPolicy.None,
            filter_subject: spec.subject,
            inactive_threshold: nats.nanos(60_000),
          });
          name = info.name;
        }
        const consumer = await js.consumers.get(spec.stream, name);
        conn.connected();
        backoff.reset();
        while (!stopped()) {
          if (inbox.full) {
            await new Promise<void>((r) => (resume = r));
            resume = undefined;
            continue;
          }
          const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
          fetching = batch;
          const out: Decoded = { records: [], bad: undefined };
          const acks: (() => void)[] = [];
          let first: number | undefined;
          let last = 0;
          for await (const m of batch) {
            const seq = m.seq;
            nextSeq = Math.max(nextSeq ?? 0, seq + 1);
            first ??= seq;
            last = seq;
            const ts = Math.floor(m.info.timestampNanos / 1e6);
            decode(m.data, { where: `${label} seq ${seq}`, position: { subject: m.subject, seq }, meta: { _subject: m.subject, _seq: seq, _timestamp: ts } }, out);
            if (spec.durable !== undefined) acks.push(() => m.ack());
            // Hand messages on as they come rather than at the end of the fetch (latency, §10).
            if (batch.getPending() === 0 || out.records.length >= 500) {
              const done = acks.splice(0);
              inbox.put({ records: out.records.splice(0), bad: out.bad }, done.length ? () => done.forEach((f) => f()) : undefined, undefined, { from: first, to: last });
              out.bad = undefined;
              first = undefined;
            }
          }
          const done = acks.splice(0);
          if (first !== undefined) inbox.put({ records: out.records, bad: out.bad }, done.length ? () => done.forEach((f) => f()) : undefined, undefined, { from: first, to: last });
          else done.forEach((f) => f());
        }
      } catch (e) {
        if (stopped()) break;
        conn.lost(e);
        await sleep(backoff.next());
      }
    }
  };
  const running = run().catch((e) => o.env.stderr(`flowc: source ${o.name} (${label}): ${String(e)}\n`));
  return {
    label,
    batches: inbox,
    async close() {
      inbox.close(true);
      resume?.();
      fetching?.stop();
      await running;
      await nc?.close().catch(() => {});
    },
  };
}

export async function openNatsSink(o: NetSinkOpening): Promise<MessageSink> {
  const spec = o.spec as Extract<NetworkSinkSpec, { kind: "nats" }>;
  const nats = await load();
  const format = changeText(o.output.schema, spec, o.output.key ?? []);
  const conn = new Connection(o, o.label);
  const marks = o.marks;
  const id = marks?.runId ?? runId();
  let row = 0;
  let nc: NatsConnection | undefined;
  let closed = false;
  let streamReady = spec.stream === undefined;
  const connect = async (): Promise<NatsConnection> => {
    if (nc === undefined) {
      // One try per delivery: the writer retries with backoff and gives up after --sink-retry.
      // No reconnecting inside the client: it would send the publishes it still buffers on the
      // new connection while the ones lost with the old socket are gone, so the stream could
      // hold a row after a missing one, which a restore that reads back the last row would skip
      // for good. With one connection per try, the server stores a prefix of each batch.
      try {
        const opened = await nats.connect({ servers: spec.url, reconnect: false, timeout: 2000 });
        nc = opened;
        void opened.closed().then((e) => {
          if (nc !== opened) return;
          nc = undefined;
          if (!closed) conn.lost(e ?? new Error("connection closed"));
        });
        conn.connected();
      } catch (e) {
        conn.lost(e);
        throw e;
      }
    }
    if (closed) throw new Error("closed");
    if (!streamReady) {
      await ensureStream(nc, spec.stream!, spec.subject);
      streamReady = true;
    }
    if (marks !== undefined && !marks.resumed) {
      // The last message on the subject in the stream that captures it (§12).
      const jsm = await nc.jetstreamManager();
      const stream = await jsm.streams.find(spec.subject).catch((e: unknown) => {
        // The same words as a publish to the subject gets (below).
        throw /no stream matches subject/i.test(String((e as Error)?.message)) ? new Error(`no stream captures subject ${spec.subject}`) : e;
      });
      const last = new Map<string, LastMessage>();
      try {
        const m = await jsm.streams.getMessage(stream, { last_by_subj: spec.subject });
        last.set("", markOfHeaders(m.header?.get("flowc-run") || undefined, m.header?.get("flowc-row") || undefined) ?? { foreign: "has no flowc-run and flowc-row headers" });
      } catch (e) {
        // 404: the subject has no message in the stream.
        if ((e as { code?: unknown }).code !== "404" && !/no message found/i.test(String((e as Error)?.message))) throw e;
      }
      marks.resume(last, () => `stream ${stream} (subject ${spec.subject})`);
    }
    return nc;
  };
  return {
    async send(batch: readonly SinkChange[]) {
      const js = (await connect()).jetstream();
      const first = row;
      const acks: Promise<unknown>[] = [];
      let k = first;
      let last: number | undefined;
      for (const c of batch) {
        const payload = format(c);
        if (payload === undefined) continue;
        k++;
        if (marks === undefined || c.seq === undefined) {
          acks.push(js.publish(spec.subject, payload, { msgID: `${id}-${k}`, timeout: 5000 }));
          continue;
        }
        if (marks.skip("", c.seq)) continue; // replayed: already in the stream
        const h = nats.headers();
        h.set("flowc-run", id);
        h.set("flowc-row", String(c.seq));
        acks.push(js.publish(spec.subject, payload, { msgID: `${id}-${c.seq}`, headers: h, timeout: 5000 }));
        last = c.seq;
      }
      try {
        await Promise.all(acks);
      } catch (e) {
        // A prefix of the batch may be in the stream: the retry reads the last row back first
        // (the message ids also make the stream drop a repeat within its duplicate window).
        marks?.unsure();
        // No JetStream stream listens on the subject: the server answers "no responders".
        if ((e as { code?: unknown }).code === "503") throw new Error(`no stream captures subject ${spec.subject} (503 no responders)`);
        throw e;
      }
      row = k;
      if (last !== undefined) marks!.sent("", last);
    },
    async complete(rows: number) {
      if (marks === undefined) return;
      await connect();
      marks.complete(rows);
    },
    async close() {
      closed = true;
      await nc?.drain().catch(() => {});
    },
  };
}
