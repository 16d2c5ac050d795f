// Redis streams (LANGUAGE.md §11) with node-redis (`redis`).
//
// Source: XREAD from the entry after the last one received (so a reconnect resumes where it left
// off; `start: "latest"` begins after the stream's last entry at start), or with `group:` a
// consumer group member (XREADGROUP; its own pending entries first, then new ones; XACK once
// the driver has processed them, so a restarted run resumes at the group's position). An
// entry's fields are the record's fields, converted like CSV cells (`_id` is the entry id);
// `json: "FIELD"` decodes that field as the whole JSON record instead. With --checkpoint (§12) a
// restored run reads after its checkpoint's entry id (a group is set there: XGROUP SETID); each
// batch carries its first and last entry id.
//
// Sink: XADD KEY * data ROW_JSON per row (pipelined on one connection, in order). With
// `--checkpoint` (§12) each entry has a second field `_flowc` = `RUN:ROW` (the lineage's run id
// and the row number); on restore the sink reads the stream's last entry (XREVRANGE … COUNT 1)
// and skips the replayed rows up to it (RowMarks, run/network.ts) — and so does a retry after a
// failed delivery, so a batch half added is not added twice.
//
// Commands are refused at once while the connection is down (no offline queue): the source
// backs off and reads again, the sink's writer retries.

import type { NetworkSinkSpec, NetworkSourceSpec } from "../contract.js";
import { DecodeError, makeCsvDecoder } from "../decode.js";
import { markText, parseMark, type LastMessage, type MessageSink, type NetInput, type NetSinkOpening, type NetSourceOpening, type SinkChange } from "../run/network.js";
import { Backoff, Connection, Inbox, loadClient, messageDecoder, METADATA, changeText, sleep, type Decoded } from "./common.js";

type RedisModule = typeof import("redis");
/** What flowc uses of a node-redis client (raw commands: replies as RESP2 arrays). */
interface Client {
  readonly isReady: boolean;
  sendCommand(args: string[]): Promise<unknown>;
  close(): Promise<unknown>;
  destroy(): void;
}

const load = () => loadClient<RedisModule>("redis", () => import("redis"));

function client(redis: RedisModule, url: string, conn: Connection): Client {
  const backoff = new Backoff();
  const c = redis.createClient({
    url,
    RESP: 2,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: () => backoff.next() },
  });
  c.on("error", (e: unknown) => conn.lost(e));
  c.on("ready", () => {
    backoff.reset();
    conn.connected();
  });
  // The first connection is retried by reconnectStrategy like any later one.
  c.connect().catch((e: unknown) => conn.lost(e));
  return c;
}

/** Resolves when the client is connected; rejects after 2 s (the writer retries). */
async function ready(c: Client): Promise<void> {
  for (let waited = 0; !c.isReady; waited += 50) {
    if (waited >= 2000) throw new Error("not connected");
    await sleep(50);
  }
}

/**
 * The id just before entry id `id` ("ms-seq"): XREAD reads the entries after an id, so this
 * reads from `id` on.
 */
export function entryBefore(id: string): string {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (m === null) return "0-0";
  const ms = BigInt(m[1]!);
  const seq = BigInt(m[2]!);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-18446744073709551615` : "0-0";
}

type Entry = [id: string, fields: string[]];
type XReadReply = [key: string, entries: Entry[]][] | null;

/** The message of a Redis error reply, e.g. BUSYGROUP. */
const replyText = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function openRedisSource(o: NetSourceOpening): Promise<NetInput> {
  const spec = o.spec as Extract<NetworkSourceSpec, { kind: "redis" }>;
  const redis = await load();
  const label = `redis stream ${spec.key}`;
  const conn = new Connection(o, `source ${o.name} (${label})`);
  const c = client(redis, spec.url, conn);
  let resume: (() => void) | undefined;
  const inbox = new Inbox(20_000, { pause() {}, resume: () => resume?.() });
  const stopped = () => inbox.isClosed;
  const metas = METADATA.redis!;
  const fields = o.schema.kind === "record" ? o.schema.fields.map((f) => f.name) : [];
  const wantsId = fields.includes("_id");
  const json = spec.json !== undefined ? messageDecoder(o.schema, o.keep, "jsonl", metas, o.timeOf, o.changes) : undefined;
  // Entry fields as CSV cells, one decoder per set of field names.
  const byHeader = new Map<string, (cells: readonly (string | null)[]) => unknown>();
  const checkTime = (r: unknown) => {
    if (o.timeOf === undefined) return r;
    const t = o.timeOf(r);
    if (t === null || t === undefined || !Number.isFinite(t)) throw new DecodeError("the event time is null");
    return r;
  };

  const decodeEntry = (id: string, flat: string[], out: Decoded) => {
    const where = `${label} id ${id}`;
    const place = { where, position: { key: spec.key, id }, meta: { _id: id } };
    if (json !== undefined) {
      const k = flat.findIndex((v, i) => i % 2 === 0 && v === spec.json);
      if (k < 0) {
        (out.bad ??= []).push({ line: 1, raw: JSON.stringify(flat), error: `the entry has no field "${spec.json}"`, index: out.records.length, where, position: place.position });
        return;
      }
      json(flat[k + 1]!, place, out);
      return;
    }
    const header: string[] = [];
    const cells: (string | null)[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (metas.includes(flat[i]!)) continue;
      header.push(flat[i]!);
      cells.push(flat[i + 1]!);
    }
    if (wantsId) {
      header.push("_id");
      cells.push(id);
    }
    const key = header.join("\u0000");
    let decode = byHeader.get(key);
    if (decode === undefined) byHeader.set(key, (decode = makeCsvDecoder(o.schema, header, o.keep)));
    try {
      out.records.push(checkTime(decode(cells)));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      const raw = JSON.stringify(Object.fromEntries(header.map((h, i) => [h, cells[i]])));
      (out.bad ??= []).push({ line: 1, raw, error: e.message, index: out.records.length, where, position: place.position });
    }
  };

  const run = async () => {
    const backoff = new Backoff();
    // A checkpoint's position (§12): read after that entry id, instead of `start` or the group's
    // position.
    const from = o.start?.get(-1);
    const fromId = from === undefined ? undefined : from.after !== undefined ? String(from.after) : entryBefore(String(from.at));
    let lastId: string | undefined = fromId ?? (spec.start === "earliest" ? "0-0" : undefined);
    // A group member reads its own unacknowledged entries first — not when a checkpoint says
    // where to read (the group is set there).
    let pendingFirst = fromId === undefined;
    let groupReady = false;
    let groupSet = fromId === undefined;
    while (!stopped()) {
      try {
        if (!c.isReady) {
          // The client reconnects by itself (and says why it cannot): wait for it.
          await sleep(backoff.next());
          continue;
        }
        if (inbox.full) {
          await new Promise<void>((r) => (resume = r));
          resume = undefined;
          continue;
        }
        let reply: XReadReply;
        if (spec.group !== undefined) {
          if (!groupReady) {
            try {
              await c.sendCommand(["XGROUP", "CREATE", spec.key, spec.group, spec.start === "latest" ? "$" : "0", "MKSTREAM"]);
            } catch (e) {
              if (!replyText(e).includes("BUSYGROUP")) throw e;
            }
            if (!groupSet) {
              await c.sendCommand(["XGROUP", "SETID", spec.key, spec.group, fromId!]);
              groupSet = true;
            }
            groupReady = true;
          }
          reply = (await c.sendCommand(["XREADGROUP", "GROUP", spec.group, "flowc", "COUNT", "500", "BLOCK", "1000", "STREAMS", spec.key, pendingFirst ? "0" : ">"])) as XReadReply;
        } else {
          if (lastId === undefined) {
            const last = (await c.sendCommand(["XREVRANGE", spec.key, "+", "-", "COUNT", "1"])) as Entry[];
            lastId = last.length > 0 ? last[0]![0] : "0-0";
          }
          reply = (await c.sendCommand(["XREAD", "COUNT", "500", "BLOCK", "1000", "STREAMS", spec.key, lastId])) as XReadReply;
        }
        backoff.reset();
        const entries = reply?.[0]?.[1] ?? [];
        if (entries.length === 0) {
          if (pendingFirst) pendingFirst = false;
          continue;
        }
        const out: Decoded = { records: [], bad: undefined };
        const ids: string[] = [];
        for (const [id, flat] of entries) {
          // A pending entry whose data was trimmed away comes back without fields.
          if (flat !== null) decodeEntry(id, flat, out);
          ids.push(id);
          lastId = id;
        }
        const group = spec.group;
        inbox.put(out, group === undefined ? undefined : () => void c.sendCommand(["XACK", spec.key, group, ...ids]).catch(() => {}), undefined, { from: ids[0]!, to: ids.at(-1)! });
      } catch (e) {
        if (stopped()) break;
        conn.lost(e);
        groupReady = groupReady && c.isReady;
        await sleep(backoff.next());
      }
    }
  };
  const running = run();
  return {
    label,
    batches: inbox,
    async close() {
      inbox.close(true);
      resume?.();
      await running.catch(() => {});
      c.destroy();
    },
  };
}

export async function openRedisSink(o: NetSinkOpening): Promise<MessageSink> {
  const spec = o.spec as Extract<NetworkSinkSpec, { kind: "redis" }>;
  const redis = await load();
  const format = changeText(o.output.schema, spec, o.output.key ?? []);
  const conn = new Connection(o, o.label);
  const marks = o.marks;
  let c: Client | undefined;
  const connect = async (): Promise<Client> => {
    c ??= client(redis, spec.url, conn);
    await ready(c);
    if (marks !== undefined && !marks.resumed) {
      const last = new Map<string, LastMessage>();
      const entries = (await c.sendCommand(["XREVRANGE", spec.key, "+", "-", "COUNT", "1"])) as Entry[];
      const flat = entries[0]?.[1];
      if (flat !== undefined) {
        const k = flat.findIndex((v, i) => i % 2 === 0 && v === "_flowc");
        const id = entries[0]![0];
        last.set("", (k < 0 ? undefined : parseMark(flat[k + 1])) ?? { foreign: k < 0 ? `(id ${id}) has no _flowc field` : `(id ${id}) has a _flowc field that is not RUN:ROW` });
      }
      marks.resume(last, () => `stream ${spec.key}`);
    }
    return c;
  };
  return {
    async send(batch: readonly SinkChange[]) {
      const cl = await connect();
      const sends: Promise<unknown>[] = [];
      let last: number | undefined;
      for (const ch of batch) {
        const data = format(ch);
        if (data === undefined) continue;
        if (marks === undefined || ch.seq === undefined) {
          sends.push(cl.sendCommand(["XADD", spec.key, "*", "data", data]));
          continue;
        }
        if (marks.skip("", ch.seq)) continue; // replayed: already in the stream
        sends.push(cl.sendCommand(["XADD", spec.key, "*", "data", data, "_flowc", markText({ run: marks.runId, row: ch.seq })]));
        last = ch.seq;
      }
      try {
        await Promise.all(sends);
      } catch (e) {
        // Some entries may have been added: the retry reads the last one back first.
        marks?.unsure();
        throw e;
      }
      if (last !== undefined) marks!.sent("", last);
    },
    async complete(rows: number) {
      if (marks === undefined) return;
      await connect();
      marks.complete(rows);
    },
    async close() {
      if (c === undefined) return;
      try {
        if (c.isReady) await c.close();
      } catch {
        // closing a broken connection
      } finally {
        c.destroy();
      }
    },
  };
}
