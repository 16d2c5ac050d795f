// What every network connector shares (LANGUAGE.md §10 "Connections", §11): loading a client
// library on first use, reconnecting with exponential backoff, the Inbox that turns messages
// pushed by a client into the driver's batches (bounded: a full inbox pauses the client), the
// decoding of a message's payload and metadata fields into records, and the text of a row.
// Node only: loaded through node.ts's registration, never by the browser-safe runtime.

import type { Format, NetworkSinkSpec, OutputFormat, Schema } from "../contract.js";
import { checkEventTime, DecodeError, makeCsvDecoder, makeDecoder, makeLineDecoder } from "../decode.js";
import type { Env } from "../env.js";
import { makeChangeFormatter, makeCsvFormatter, makeFormatter, makeLineFormatter } from "../format.js";
import type { BadRecord, ReadBatch } from "../io/batch.js";
import { parseCsv } from "../io/csv.js";
import { jsonErrorMessage } from "../io/jsonl.js";
import { SKIPPED, makeChangeDecoder } from "../io/changes.js";
import { JsonCursor, type JsonlLineDecoder } from "../io/fast-jsonl.js";
import { errorText, type ConnectionBoard, type SinkChange } from "../run/network.js";

/**
 * A client package, loaded when a program first uses its connector. The exact versions flowc is
 * tested with are in package.json; a built program (`flowc build`) finds them like any import.
 */
export async function loadClient<T>(pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    throw new Error(`the ${pkg} connector needs the npm package "${pkg}" (npm install ${pkg}): ${errorText(e)}`);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reconnection delays: 100 ms, doubling up to 10 s; back to 100 ms after a success (§10). */
export class Backoff {
  private delay = 100;
  next(): number {
    const d = this.delay;
    this.delay = Math.min(this.delay * 2, 10_000);
    return d;
  }
  reset(): void {
    this.delay = 100;
  }
}

/**
 * A connection's state, said once per change on stderr: `flowc: source orders (nats subject
 * orders): connection lost (…); reconnecting` … `reconnected`.
 */
export class Connection {
  up = false;
  private everUp = false;
  private readonly env: Env;
  private readonly board: ConnectionBoard;
  constructor(
    o: { env: Env; board: ConnectionBoard },
    private readonly label: string,
  ) {
    this.env = o.env;
    this.board = o.board;
  }
  connected(): void {
    if (!this.up && this.everUp) this.env.stderr(`flowc: ${this.label}: reconnected\n`);
    this.up = true;
    this.everUp = true;
    this.board.up(this.label);
  }
  lost(e: unknown): void {
    if (this.up || !this.everUp) this.env.stderr(`flowc: ${this.label}: ${this.everUp ? "connection lost" : "cannot connect"} (${errorText(e)}); reconnecting\n`);
    this.up = false;
    this.everUp = true;
    this.board.down(this.label, errorText(e));
  }
}

/** Records of one batch of messages. */
export interface Decoded {
  records: unknown[];
  bad: BadRecord[] | undefined;
}

import type { Position } from "../checkpoint/read-log.js";

/** The places of the first and last message of some records (ReadBatch.from / to). */
export interface Span {
  from: Position;
  to: Position;
}

/** Records handed to the driver at most in one batch. */
const INBOX_BATCH = 4096;

/**
 * Messages a client pushed, waiting for the driver (an AsyncIterator of batches). At most
 * `capacity` records wait: beyond that the client is paused (`flow.pause`: stop fetching, stop
 * reading the socket, answer 503), and resumed once half of them are taken — a slow sink slows
 * the driver, which takes batches more slowly, which slows the source. `done` callbacks of a
 * batch (acks, commits, HTTP responses) run when the driver asks for the next one: by then the
 * batch's records have gone through the program.
 */
export class Inbox implements AsyncIterator<ReadBatch> {
  private entries: { records: unknown[]; bad: BadRecord[] | undefined; done: (() => void) | undefined; partition: number | undefined; span: Span | undefined }[] = [];
  private failure: { e: unknown } | undefined;
  private queued = 0;
  private waiter: ((r: IteratorResult<ReadBatch>) => void) | undefined;
  private taken: (() => void)[] = [];
  private closed = false;
  private paused = false;

  constructor(
    readonly capacity: number,
    private readonly flow: { pause(): void; resume(): void } = { pause() {}, resume() {} },
  ) {}

  /** More than `capacity` records wait. */
  get full(): boolean {
    return this.queued >= this.capacity;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Records of some messages; `partition`: they all come from that partition (Kafka); `span`:
   * the places of the first and last of those messages (broker sources, for checkpoints).
   */
  put(d: Decoded, done?: () => void, partition?: number, span?: Span): void {
    if (this.closed) return;
    if (d.records.length === 0 && d.bad === undefined) {
      done?.();
      return;
    }
    this.entries.push({ records: d.records, bad: d.bad, done, partition, span });
    this.queued += d.records.length + (d.bad?.length ?? 0);
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      this.rejecter = undefined;
      w({ done: false, value: this.take() });
    }
    if (this.queued >= this.capacity && !this.paused) {
      this.paused = true;
      this.flow.pause();
    }
  }

  next(): Promise<IteratorResult<ReadBatch>> {
    // The batch handed out last has been processed: acknowledge it.
    const taken = this.taken;
    this.taken = [];
    for (const f of taken) f();
    if (this.failure !== undefined) return Promise.reject(this.failure.e);
    if (this.closed) return Promise.resolve({ done: true, value: undefined });
    if (this.entries.length > 0) return Promise.resolve({ done: false, value: this.take() });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.rejecter = reject;
    });
  }

  private rejecter: ((e: unknown) => void) | undefined;

  /**
   * The source cannot go on (a Kafka rebalance took partitions from a checkpointed run): the
   * driver's pending and next reads fail with `e`, which stops the run.
   */
  fail(e: unknown): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = { e };
    const r = this.rejecter;
    this.waiter = undefined;
    this.rejecter = undefined;
    r?.(e);
  }

  private take(): ReadBatch {
    const records: unknown[] = [];
    let bad: BadRecord[] | undefined;
    let n = 0;
    // A batch holds one partition's records: the driver keeps a watermark per partition.
    const partition = this.entries[0]!.partition;
    const from = this.entries[0]!.span?.from;
    let to: Position | undefined;
    while (this.entries.length > 0 && this.entries[0]!.partition === partition && (n === 0 || records.length + this.entries[0]!.records.length <= INBOX_BATCH)) {
      const e = this.entries.shift()!;
      if (e.bad !== undefined) for (const b of e.bad) (bad ??= []).push({ ...b, index: b.index + records.length });
      for (const r of e.records) records.push(r);
      n += e.records.length + (e.bad?.length ?? 0);
      if (e.done !== undefined) this.taken.push(e.done);
      if (e.span !== undefined) to = e.span.to;
    }
    this.queued -= n;
    if (this.paused && this.queued <= this.capacity / 2) {
      this.paused = false;
      this.flow.resume();
    }
    const batch: ReadBatch = bad === undefined ? { records, bytes: 0 } : { records, bad, bytes: 0 };
    if (partition !== undefined) batch.partition = partition;
    if (from !== undefined) batch.from = from;
    if (to !== undefined) batch.to = to;
    return batch;
  }

  /**
   * The run has ended: a pending `next` resolves done; nothing more is taken. `processed`: the
   * driver finished the batch it took last (the run ended normally), so it is acknowledged;
   * after a failure (`return()`, called by the driver first) it is not, and is read again later.
   */
  close(processed = false): void {
    if (this.closed) return;
    this.closed = true;
    const taken = this.taken;
    this.taken = [];
    if (processed) for (const f of taken) f();
    // What waits here is never handed out: dropped, callbacks and all (never acknowledged).
    this.entries = [];
    this.queued = 0;
    const w = this.waiter;
    this.waiter = undefined;
    this.rejecter = undefined;
    w?.({ done: true, value: undefined });
  }

  async return(): Promise<IteratorResult<ReadBatch>> {
    this.close(false);
    return { done: true, value: undefined };
  }
}

/** The metadata fields each connector fills (LANGUAGE.md §11; stdlib/src/catalog.ts checks their types). */
export const METADATA: Readonly<Record<string, readonly string[]>> = {
  kafka: ["_key", "_partition", "_offset", "_timestamp"],
  nats: ["_subject", "_seq", "_timestamp"],
  redis: ["_id"],
  mqtt: ["_topic"],
};

/** Where a message came from: said in bad-record reports and dead letters instead of file:line. */
export interface MessagePlace {
  where: string;
  position: Record<string, string | number>;
  /** Values of the connector's metadata fields (only those the record type declares are used). */
  meta?: Record<string, string | number | null>;
}

const utf8 = new TextDecoder();
export const text = (payload: Uint8Array | string): string => (typeof payload === "string" ? payload : utf8.decode(payload));

/**
 * The decoder of a source's messages: payload text (+ metadata) → records, in `format`:
 * `jsonl` — one JSON value, or JSONL lines when the whole is not one value (blank lines skipped);
 * `csv` — rows without header, cells in the type's field order without the metadata fields;
 * `lines` — the payload is the value. Metadata fields the type declares are filled from the
 * message (they win over payload fields of the same name). A computed event time that is null
 * makes the record bad, as for files.
 */
export function messageDecoder(
  schema: Schema,
  keep: readonly string[] | undefined,
  format: Format,
  metadataOf: readonly string[],
  timeOf: ((record: any) => number | null) | undefined,
  changes?: { format: "debezium" | "changelog"; key: readonly string[] },
): (payload: string, place: MessagePlace, out: Decoded) => void {
  const fields = schema.kind === "record" ? schema.fields.map((f) => f.name) : [];
  const metas = metadataOf.filter((m) => fields.includes(m));
  const checkTime = (r: unknown): unknown => {
    if (timeOf !== undefined) checkEventTime(r, timeOf);
    return r;
  };
  const bad = (out: Decoded, place: MessagePlace, raw: string, error: string, line?: number) => {
    (out.bad ??= []).push({ line: line ?? 1, raw, error, index: out.records.length, where: line === undefined ? place.where : `${place.where} line ${line}`, position: line === undefined ? place.position : { ...place.position, line } });
  };
  const attempt = (out: Decoded, place: MessagePlace, raw: string, line: number | undefined, decode: () => unknown) => {
    try {
      const r = decode();
      if (r !== SKIPPED) out.records.push(checkTime(r));
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      bad(out, place, raw, e.message, line);
    }
  };

  if (format === "lines") {
    const line = makeLineDecoder(schema) ?? ((s: string) => s);
    return (payload, place, out) => attempt(out, place, payload, undefined, () => line(payload));
  }

  if (format === "csv") {
    const payloadFields = fields.filter((f) => !metas.includes(f));
    const decode = makeCsvDecoder(schema, [...payloadFields, ...metas], keep);
    const cell = (v: string | number | null | undefined) => (v === null || v === undefined ? null : String(v));
    return (payload, place, out) => {
      let rows;
      try {
        rows = parseCsv(payload);
      } catch (e) {
        bad(out, place, payload, (e as Error).message);
        return;
      }
      const many = rows.length > 1;
      for (const row of rows) {
        const line = many ? row.line : undefined;
        if (row.cells.length !== payloadFields.length) {
          bad(out, place, row.raw, `expected ${payloadFields.length} cells (${payloadFields.join(", ")}), got ${row.cells.length}`, line);
          continue;
        }
        attempt(out, place, row.raw, line, () => decode([...row.cells, ...metas.map((m) => cell(place.meta?.[m]))]));
      }
    };
  }

  // A source of changes decodes envelopes to upserts and deletes of its table (io/changes.ts).
  const general = changes !== undefined && schema.kind === "record" ? makeChangeDecoder(changes.format, schema, keep, changes.key) : makeDecoder(schema, keep);
  const withMeta = (v: unknown, place: MessagePlace): unknown => {
    if (metas.length === 0 || v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const x: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const m of metas) x[m] = place.meta?.[m] ?? null;
    return x;
  };
  return (payload, place, out) => {
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch (e) {
      if (!payload.includes("\n")) {
        bad(out, place, payload, jsonErrorMessage(e));
        return;
      }
      // JSONL: one record per line.
      const lines = payload.split("\n");
      for (let i = 0; i < lines.length; i++) {
        const l = lines[i]!.replace(/\r$/, "");
        if (l.trim() === "") continue;
        let v: unknown;
        try {
          v = JSON.parse(l);
        } catch (e2) {
          bad(out, place, l, jsonErrorMessage(e2), i + 1);
          continue;
        }
        attempt(out, place, l, i + 1, () => general(withMeta(v, place)));
      }
      return;
    }
    attempt(out, place, payload, undefined, () => general(withMeta(value, place)));
  };
}

/**
 * `messageDecoder` for payloads that arrive as bytes (Kafka, NATS), trying the source's generated
 * JSONL decoder first — the fast path of files (io/fast-jsonl.ts): a message it accepts becomes
 * its record straight from the bytes, without a string or `JSON.parse`. It applies to JSON
 * messages of plain records whose type declares no metadata field; it never decides that a
 * message is bad: anything it does not accept (and a record whose event time fails) goes the
 * general way, as text, which reports it.
 */
export function messageBytesDecoder(
  schema: Schema,
  keep: readonly string[] | undefined,
  format: Format,
  metadataOf: readonly string[],
  timeOf: ((record: any) => number | null) | undefined,
  changes: { format: "debezium" | "changelog"; key: readonly string[] } | undefined,
  fast: JsonlLineDecoder | undefined,
): (payload: Uint8Array | null, place: MessagePlace, out: Decoded) => void {
  const general = messageDecoder(schema, keep, format, metadataOf, timeOf, changes);
  const fields = schema.kind === "record" ? schema.fields.map((f) => f.name) : [];
  const usable = fast !== undefined && format === "jsonl" && changes === undefined && !metadataOf.some((m) => fields.includes(m));
  if (!usable) return (payload, place, out) => general(payload === null ? "null" : text(payload), place, out);
  const cursor = new JsonCursor();
  return (payload, place, out) => {
    if (payload !== null) {
      cursor.reset(payload, 0, payload.length);
      const r = fast(cursor);
      if (r !== undefined) {
        if (timeOf === undefined) {
          out.records.push(r);
          return;
        }
        try {
          checkEventTime(r, timeOf);
          out.records.push(r);
          return;
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      }
    }
    general(payload === null ? "null" : text(payload), place, out);
  };
}

/**
 * The payload of one change in the sink's format, or undefined for none: in §7 JSON, a CSV row or
 * the line, an insert or upsert is its row and a delete sends nothing; in `changelog` every
 * change is `{"op":"upsert"|"insert","row":…}` or `{"op":"delete","key":…}`, and in `debezium`
 * an envelope (`before`, `after`, `op` c/u/d) — as file outputs print them (§13).
 */
export function changeText(schema: Schema, spec: NetworkSinkSpec, key: readonly string[]): (c: SinkChange) => string | undefined {
  const format: OutputFormat = "format" in spec ? spec.format : "jsonl";
  if (format === "changelog" || format === "debezium") {
    const f = makeChangeFormatter(schema, key, format);
    return (c) => (c.op === "insert" ? f.insert(c.row) : f.change(c.op === "delete" ? { op: "delete", before: c.before } : { op: "upsert", row: c.row, before: c.before }));
  }
  const text = format === "csv" ? makeCsvFormatter(schema).row : format === "lines" ? makeLineFormatter(schema) : makeFormatter(schema);
  return (c) => (c.op === "delete" ? undefined : text(c.row));
}

/** A random id of this run (NATS message ids: `Nats-Msg-Id` = run id + row number). */
export function runId(): string {
  return Math.random().toString(36).slice(2, 10) + Date.now().toString(36);
}
