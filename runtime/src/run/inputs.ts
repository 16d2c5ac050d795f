// The inputs of a run: connectors (files, stdin, range, iterables, nexmark) opened as batches of
// decoded records, and the state of each source being read (SourceState).

import type { ConnectorSpec, Format, Program, Schema, SourceDecoders } from "../contract.js";
import { checkEventTime, DecodeError, makeCsvDecoder, makeDecoder as makeValueDecoder, makeLineDecoder } from "../decode.js";
import type { ByteSource, Env } from "../env.js";
import type { BadRecord, ReadBatch } from "../io/batch.js";
import { readCsv } from "../io/csv.js";
import { readCsvFast } from "../io/fast-csv.js";
import { readJsonlFast } from "../io/fast-jsonl.js";
import { readJsonl } from "../io/jsonl.js";
import { SKIPPED, makeChangeDecoder, type ChangeFormat } from "../io/changes.js";
import { readLines } from "../io/lines.js";
import { PartitionedClock, SourceClock } from "../source-clock.js";
import { rawText, type BadRecords } from "./diagnostics.js";
import { InputError, InputFormatError, StrictInputError } from "./errors.js";
import { ConnectionBoard, openNetworkSource, type StartAt } from "./network.js";
import type { NexmarkFactory, NexmarkProvider, RunOptions } from "./options.js";
import { own } from "./outputs.js";

// The runtime does not import the stdlib: the `nexmark(...)` generator is handed in, per run
// (RunOptions.nexmark) or once for all runs (registerNexmark). node.ts — the Node entry that
// `flowc run`, built programs and the unbundled default environment load — registers the
// stdlib's; a browser host registers it itself (playground/src/runtime.ts).
let registeredNexmark: NexmarkFactory | NexmarkProvider | undefined;
/** Registers the generator used for `nexmark(...)` sources when RunOptions.nexmark is not given. */
export function registerNexmark(factory: NexmarkFactory | NexmarkProvider | undefined): void {
  registeredNexmark = factory;
}

/** What opening an input needs. */
export interface Opening {
  env: Env;
  baseDir: string;
  options: RunOptions;
  /** The run's network connections (absent: a fresh board). */
  board?: ConnectionBoard;
  /**
   * A checkpointed run (checkpoint/run.ts) opens the file of source `name` itself: at its saved
   * position, its bytes counted. undefined for tables and without --checkpoint.
   */
  openSourceFile?: (name: string, path: string, format: Format) => Promise<ByteSource | undefined>;
  /**
   * A checkpointed run: where broker source `name` reads each partition from (its saved
   * places, §12); undefined without --checkpoint. Its presence also tells a Kafka source that a
   * rebalance taking partitions away stops the run (exit 75).
   */
  startOf?: (name: string) => ReadonlyMap<number, StartAt> | undefined;
}

/** An opened connector: its batches of decoded records and what the run loops need to know. */
export interface Input {
  /** The file as written in the program, `<stdin>`, or `<name>` for other connectors. */
  label: string;
  batches: AsyncIterator<ReadBatch>;
  /** Total bytes, when reading a file of known size. */
  size?: number;
  /** A `range(from, to)` source: a single-source run loops over it without batches. */
  range?: { from: number; to: number };
  /** A synchronous iterable with a generated value decoder: a graph may pull it itself. */
  items?: PullSource;
  /** It may wait for data (stdin, a pipe): outputs are flushed before each wait (§10). */
  live?: boolean;
  /** Closes a network source's connection once the run has ended. */
  close?: () => Promise<void>;
  /** Batches come per partition (ReadBatch.partition): a watermark per partition (§10). */
  partitions?: () => readonly number[];
  /** Records behind the broker's end per partition (metrics). */
  lag?: () => ReadonlyMap<number, number>;
}

/** The items of a synchronous iterable and the general decoder behind the generated one. */
export interface PullSource {
  iterable: Iterable<unknown>;
  general: (v: unknown) => unknown;
}

/** `pullBatch` is offered a source's iterable when it is synchronous and has a generated decoder. */
function pullSource(src: Iterable<unknown> | AsyncIterable<unknown>, general: (v: unknown) => unknown, decode: SourceDecoders | undefined): PullSource | undefined {
  if (decode?.value === undefined || typeof (src as any)[Symbol.asyncIterator] === "function") return undefined;
  return { iterable: src as Iterable<unknown>, general };
}

export const ITERABLE_BATCH = 1024;

/** An async iterable may wait for its next item: the source is live (§10: flush before waiting). */
const isAsync = (src: Iterable<unknown> | AsyncIterable<unknown>): boolean => typeof (src as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";

/**
 * Batches of decoded values from a JavaScript iterable. A synchronous iterable is read
 * ITERABLE_BATCH items at a time; an async one item by item (it may be live: a batch must not
 * wait for items that have not happened yet). Bad items are numbered from 1 like lines.
 * `fast` is the source's generated decoder (`undefined`: the general way, which also reports).
 */
async function* iterableBatches(
  src: Iterable<unknown> | AsyncIterable<unknown>,
  general: (v: unknown) => unknown,
  fast?: (v: unknown) => unknown,
): AsyncGenerator<ReadBatch> {
  let n = 0;
  /** The general way: the decoded record, or the item reported as bad. */
  const slow = (v: unknown, records: unknown[], bad: BadRecord[] | undefined): BadRecord[] | undefined => {
    try {
      const r = general(v);
      if (r !== SKIPPED) records.push(r);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      (bad ??= []).push({ line: n, raw: rawText(v), error: e.message, index: records.length });
    }
    return bad;
  };
  if (typeof (src as any)[Symbol.asyncIterator] === "function") {
    for await (const v of src as AsyncIterable<unknown>) {
      n++;
      const records: unknown[] = [];
      const r = fast === undefined ? undefined : fast(v);
      const bad = r !== undefined ? (records.push(r), undefined) : slow(v, records, undefined);
      yield bad ? { records, bad, bytes: 0 } : { records, bytes: 0 };
    }
    return;
  }
  const it = (src as Iterable<unknown>)[Symbol.iterator]();
  for (;;) {
    const records: unknown[] = [];
    let bad: BadRecord[] | undefined;
    let done = false;
    for (let k = 0; k < ITERABLE_BATCH; k++) {
      const x = it.next();
      if (x.done) {
        done = true;
        break;
      }
      n++;
      const r = fast === undefined ? undefined : fast(x.value);
      if (r !== undefined) records.push(r);
      else bad = slow(x.value, records, bad);
    }
    if (records.length > 0 || bad) yield bad ? { records, bad, bytes: 0 } : { records, bytes: 0 };
    if (done) return;
  }
}

/** Batches of arrays from a trusted generator (no validation): the arrays are used as they are. */
async function* arrayBatches(src: Iterable<unknown[]>): AsyncGenerator<ReadBatch> {
  for (const records of src) yield { records, bytes: 0 };
}

/** The integers [from, to). */
function* integers(from: number, to: number): Generator<number> {
  for (let x = from; x < to; x++) yield x;
}

async function* rangeBatches(from: number, to: number): AsyncGenerator<ReadBatch> {
  const size = 4096;
  for (let a = from; a < to; a += size) {
    const b = Math.min(to, a + size);
    const records = new Array<number>(b - a);
    for (let k = 0; k < b - a; k++) records[k] = a + k;
    yield { records, bytes: 0 };
  }
}

/** True when every value of type `actual` is a valid value of type `declared`. */
export function schemaAccepts(declared: Schema, actual: Schema): boolean {
  if (declared.kind === "optional") return schemaAccepts(declared.inner, actual.kind === "optional" ? actual.inner : actual);
  switch (declared.kind) {
    case "float":
      return actual.kind === "float" || actual.kind === "int";
    case "array":
      return actual.kind === "array" && schemaAccepts(declared.element, actual.element);
    case "record":
      return (
        actual.kind === "record" &&
        declared.fields.every((f) => {
          const a = actual.fields.find((g) => g.name === f.name);
          return a !== undefined && schemaAccepts(f.type, a.type);
        })
      );
    default:
      return declared.kind === actual.kind;
  }
}

/** A source being read: its batches, position, clock and counts. */
export interface SourceState {
  index: number;
  name: string;
  label: string;
  batches: AsyncIterator<ReadBatch>;
  size?: number;
  bytes: number;
  /** Event-time field; undefined → computed (`timeOf`) or arrival time (`batchTime`). */
  field: string | undefined;
  /** A computed event time (`event time EXPR`), checked when the record was decoded. */
  timeOf?: (record: any) => number;
  /** The source's largest time and watermark (source-clock.ts). */
  clock: SourceClock;
  /** The current batch and the position of the next record in it. */
  recs: any[];
  pos: number;
  batchTime: number;
  count: number;
  /** Under `strict`: the bad record that follows the current batch. */
  failAfter?: BadRecord;
  /** See Input.range. */
  range?: { from: number; to: number };
  /** See Input.items. */
  items?: PullSource;
  /** See Input.live. */
  live?: boolean;
  /** See Input.close. */
  close?: () => Promise<void>;
  /** See Input.partitions: the partitions assigned now. */
  partitions?: () => readonly number[];
  /** See Input.lag. */
  lag?: () => ReadonlyMap<number, number>;
  /** A live source with `idle` (§10): how it goes idle and what its watermark then is. */
  idle?: IdleState;
}

/**
 * A live source declared with `idle D` (§10): after D ms of wall time without a record it is
 * idle until its next one; meanwhile its watermark advances with the wall clock from where it
 * was (a source that never had a record stays at −∞).
 */
export interface IdleState {
  ms: number;
  /** Wall time of its last record (or of the run's start). */
  lastArrival: number;
  /** Idle since this wall time (undefined: not idle). */
  since?: number;
  /** Its watermark when it went idle. */
  from: number;
  /** The largest watermark given while idle (its next record's watermark starts there). */
  given: number;
}

/**
 * Opens the connector of a source or table (or its `sourceOverrides` replacement) as batches of
 * records decoded to `schema` (`keep`: the fields to materialise; `decode`: generated fast
 * decoders). An input that cannot be opened is an InputError (exit 66).
 */
export async function openConnector(
  at: Opening,
  name: string,
  schema: Schema,
  connector: ConnectorSpec,
  keep: readonly string[] | undefined,
  decode?: SourceDecoders,
  timeOf?: (record: any) => number | null,
  changes?: { format: ChangeFormat; key: readonly string[] },
): Promise<Input> {
  const { env, baseDir, options } = at;
  // A computed event time is checked as each record is decoded (so a bad one is reported with
  // its line): every decoder is wrapped, and no path skips decoding.
  const timed = <A extends unknown[]>(d: (...a: A) => unknown) => (timeOf === undefined ? d : withEventTime(d, timeOf));
  // A change source (§13) decodes envelopes to upserts and deletes of its table's rows.
  const makeDecoder = (sch: Schema, k: readonly string[] | undefined) =>
    timed(changes !== undefined && sch.kind === "record" ? makeChangeDecoder(changes.format, sch, k, changes.key) : makeValueDecoder(sch, k));
  if (changes !== undefined) decode = undefined; // the generated decoders read plain records
  const override = own(options.sourceOverrides, name);
  if (override !== undefined) {
    const general = makeDecoder(schema, keep);
    const items = pullSource(override, general, decode);
    return { label: `<${name}>`, batches: iterableBatches(override, general, decode?.value), ...(items && { items }), ...(isAsync(override) && { live: true }) };
  }
  const fromBytes = (label: string, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, format: Format, size?: number): Input => {
    // A header without a declared non-optional column fails once, before any row (exit 65).
    const rowDecoder = (header: string[]) => {
      if (schema.kind === "record") {
        const missing = schema.fields.filter((f) => f.type.kind !== "optional" && !header.includes(f.name)).map((f) => `"${f.name}"`);
        if (missing.length > 0) {
          throw new InputFormatError(
            `${label}: the CSV header lacks column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (needed by ${name}; header: ${header.join(",")})`,
          );
        }
      }
      return timed(makeCsvDecoder(schema, header, keep));
    };
    const batches =
      format === "csv"
        ? decode?.csv !== undefined
          ? readCsvFast(chunks, decode.csv, rowDecoder)
          : readCsv(chunks, rowDecoder)
        : format === "lines"
          ? readLines(chunks, timeOf === undefined ? makeLineDecoder(schema) : timed(makeLineDecoder(schema) ?? ((line: string) => line)))
          : decode?.jsonl !== undefined
            ? readJsonlFast(chunks, decode.jsonl, makeDecoder(schema, keep))
            : readJsonl(chunks, makeDecoder(schema, keep));
    return size === undefined ? { label, batches } : { label, batches, size };
  };
  switch (connector.kind) {
    case "file": {
      let src;
      try {
        const path = env.resolvePath(baseDir, connector.path);
        src = (await at.openSourceFile?.(name, path, connector.format)) ?? (await env.openInput(path));
      } catch (e) {
        throw new InputError(`cannot read ${connector.path}: ${(e as Error).message}`);
      }
      return { ...fromBytes(connector.path, src.chunks, connector.format, src.size), ...(src.size === undefined && { live: true }) };
    }
    case "stdin":
      return { ...fromBytes("<stdin>", env.stdin().chunks, connector.format), live: true };
    case "range":
      if (timeOf !== undefined) return { label: `<${name}>`, batches: iterableBatches(integers(connector.from, connector.to), makeDecoder(schema, undefined)) };
      return { label: `<${name}>`, batches: rangeBatches(connector.from, connector.to), range: { from: connector.from, to: connector.to } };
    case "iterable": {
      const general = makeDecoder(schema, keep);
      const items = pullSource(connector.iterable, general, decode);
      return { label: `<${name}>`, batches: iterableBatches(connector.iterable, general, decode?.value), ...(items && { items }), ...(isAsync(connector.iterable) && { live: true }) };
    }
    case "nexmark": {
      const gen = options.nexmark ?? registeredNexmark;
      if (gen === undefined) {
        throw new InputError("the nexmark() source has no generator here (pass RunOptions.nexmark, or registerNexmark(...) once; the Node entry node.ts registers the stdlib's)");
      }
      if (typeof gen === "function") return { label: `<${name}>`, batches: iterableBatches(gen(connector), makeDecoder(schema, keep)) };
      const spec = { eventKind: connector.eventKind, events: connector.events, rate: connector.rate, seed: connector.seed, start: connector.start };
      // The generator's records are trusted when the declared type accepts them as they are
      // (skipping validation keeps the benchmark source fast); else each one is decoded.
      if (timeOf === undefined && schemaAccepts(schema, gen.schemas[connector.eventKind])) {
        return { label: `<${name}>`, batches: arrayBatches(gen.batches(spec)) };
      }
      return { label: `<${name}>`, batches: iterableBatches(gen.events(spec), makeDecoder(schema, keep)) };
    }
    case "kafka":
    case "nats":
    case "redis":
    case "mqtt":
    case "websocket":
    case "http": {
      // Network sources (§11, runtime/src/net/ on Node): they wait for messages.
      const start = at.startOf?.(name);
      const net = await openNetworkSource({
        name,
        schema,
        spec: connector,
        keep,
        timeOf,
        ...(changes && { changes }),
        ...(decode?.jsonl && { fastJson: decode.jsonl }),
        env,
        board: at.board ?? new ConnectionBoard(),
        ...(start !== undefined && { start }),
        ...(at.startOf !== undefined && { checkpointed: true }),
      });
      return { label: net.label, batches: net.batches, live: true, close: net.close, ...(net.partitions && { partitions: net.partitions }), ...(net.lag && { lag: net.lag }) };
    }
  }
}

/**
 * A decoder that also computes the record's event time: a null time, or a built-in failing on
 * the record, makes it bad input (reported with its line like any other bad record).
 */
function withEventTime<A extends unknown[]>(decode: (...a: A) => unknown, timeOf: (record: any) => number | null): (...a: A) => unknown {
  return (...a: A) => {
    const r = decode(...a);
    checkEventTime(r, timeOf);
    return r;
  };
}

/**
 * Opens every source of the program, in declaration order (an input that cannot be opened fails
 * the run with an InputError before any record is read).
 */
export async function openSources(at: Opening, program: Program, sources: SourceState[]): Promise<void> {
  const options = at.options;
  for (let i = 0; i < program.sources.length; i++) {
    const spec = program.sources[i]!;
    const et = spec.eventTime;
    // With --late, records are decoded whole: a late record is written as its whole JSON
    // record, not just the fields the program reads (projection pushdown is an optimization).
    const whole = options.lateFile !== undefined;
    let keep = whole ? undefined : spec.keep;
    if (et?.field !== undefined) {
      if (spec.schema.kind !== "record" || !spec.schema.fields.some((f) => f.name === et.field)) {
        throw new Error(`source ${spec.name}: the event-time field "${et.field}" is not a field of its type`);
      }
      // The driver reads the event time from the record, so it must be materialised.
      if (keep !== undefined && !keep.includes(et.field)) keep = [...keep, et.field];
    }
    const input = await openConnector(at, spec.name, spec.schema, spec.connector, keep, whole ? undefined : spec.decode, et?.of, spec.changes);
    const s: SourceState = {
      index: i,
      name: spec.name,
      label: input.label,
      batches: input.batches,
      bytes: 0,
      field: et?.field,
      clock: input.partitions !== undefined ? new PartitionedClock(et?.delayMs ?? 0) : new SourceClock(et?.delayMs ?? 0),
      recs: [],
      pos: 0,
      batchTime: 0,
      count: 0,
    };
    if (input.size !== undefined) s.size = input.size;
    if (input.range !== undefined) s.range = input.range;
    if (input.items !== undefined) s.items = input.items;
    if (input.live === true) s.live = true;
    if (input.live === true && spec.idleMs !== undefined) {
      const now = at.env.wallClock !== undefined ? at.env.wallClock() : Date.now();
      s.idle = { ms: spec.idleMs, lastArrival: now, from: -Infinity, given: -Infinity };
    }
    if (input.close !== undefined) s.close = input.close;
    if (input.partitions !== undefined) s.partitions = input.partitions;
    if (input.lag !== undefined) s.lag = input.lag;
    // Decoding let through only records whose computed time is a number.
    if (et?.of !== undefined) s.timeOf = et.of as (record: any) => number;
    sources.push(s);
  }
}

/**
 * Loads every table of the program: key value → row, the last row of a key winning. Bad rows are
 * reported; under `strict` the first one stops the run (the rows before it are kept).
 */
export async function loadTables(at: Opening, program: Program, bad: BadRecords, strict: boolean): Promise<Map<unknown, unknown>[]> {
  const tables: Map<unknown, unknown>[] = [];
  for (const t of program.tables) {
    const input = await openConnector(at, t.name, t.schema, t.connector, undefined);
    const map = new Map<unknown, unknown>();
    const key = t.key;
    for (;;) {
      const r = await input.batches.next();
      if (r.done) break;
      const b = r.value;
      const recs = b.records as any[];
      if (b.bad) {
        for (const x of b.bad) {
          bad.input(t.name, input.label, x);
          if (strict) {
            for (let j = 0; j < x.index; j++) map.set(recs[j][key], recs[j]);
            throw new StrictInputError(t.name, input.label, x.line, x.error);
          }
        }
      }
      for (let j = 0; j < recs.length; j++) map.set(recs[j][key], recs[j]);
    }
    tables.push(map);
  }
  return tables;
}
