// The contract between generated code and the runtime. Generated modules import only
// types from here plus the operator classes and connectors they use.
//
// Values at run time: see schema.ts.

import type { CsvLineDecoder } from "./io/fast-csv.js";
import type { JsonlLineDecoder } from "./io/fast-jsonl.js";
import type { Schema } from "./schema.js";

// The types of run-time values live in schema.ts (a leaf: the decoders import it, and this
// module imports the decoders' types).
export type { FieldSchema, RecordSchema, Schema } from "./schema.js";

export type Format = "jsonl" | "csv" | "lines";
/** Outputs may also print every change of a stream (LANGUAGE.md §13). */
export type OutputFormat = Format | "changelog" | "debezium";

export type ConnectorSpec =
  | { kind: "file"; path: string; format: Format }
  | { kind: "stdin"; format: Format }
  | { kind: "range"; from: number; to: number }
  | {
      kind: "nexmark";
      eventKind: "person" | "auction" | "bid";
      events: number;
      rate: number;
      seed: number;
      start: number;
    }
  | { kind: "iterable"; iterable: AsyncIterable<unknown> | Iterable<unknown> }
  | NetworkSourceSpec;

/**
 * The network sources of LANGUAGE.md §11 (opened by runtime/src/net/, Node only). `format`: how a
 * message's payload holds its record — `jsonl` one JSON value or JSONL lines, `csv` one row
 * without header in the type's field order (metadata fields left out), `lines` the text.
 */
export type NetworkSourceSpec =
  | { kind: "kafka"; topic: string; brokers: string; group: string; start: "earliest" | "latest"; format: Format }
  | { kind: "nats"; subject: string; url: string; stream: string; durable?: string; start: "earliest" | "latest"; format: Format }
  | { kind: "redis"; key: string; url: string; group?: string; start: "earliest" | "latest"; json?: string }
  | { kind: "mqtt"; topic: string; url: string; qos: 0 | 1; format: Format }
  | { kind: "websocket"; url: string; format: Format }
  | { kind: "http"; port: number; path: string; host: string; format: Format };

/** The network sinks of §11: each row is one message in `format` (postgres: one table row). */
export type NetworkSinkSpec =
  | { kind: "kafka"; sink: true; topic: string; brokers: string; key?: string; format: OutputFormat }
  | { kind: "nats"; sink: true; subject: string; url: string; stream?: string; format: OutputFormat }
  | { kind: "redis"; sink: true; key: string; url: string; format: OutputFormat }
  | { kind: "postgres"; sink: true; table: string; url: string }
  | { kind: "http"; sink: true; url: string; method: "POST" | "PUT"; format: OutputFormat };

export interface SourceSpec {
  name: string;
  /** The declared type (records are validated against all of it). */
  schema: Schema;
  /**
   * Field names of the declared record type that the program reads; the decoder may leave the
   * others out of the value it builds (projection pushdown). Undefined = keep everything.
   */
  keep?: string[];
  connector: ConnectorSpec;
  /** Event-time field (a `time` field of the record) and watermark delay in ms. */
  /**
   * The record's event time: a field, or a function of the record (`event time EXPR`; a null
   * result or a failing built-in makes the record bad), and the watermark delay in ms.
   */
  eventTime?: { field: string; of?: undefined; delayMs: number } | { field?: undefined; of: (record: any) => number | null; delayMs: number };
  /**
   * Decoders generated for this source's type and kept fields (compiler/src/emit/decoder.ts):
   * fast paths for JSONL and CSV bytes. A line they return `undefined` for is decoded the
   * general way (which also reports bad records), so they never change results.
   */
  decode?: SourceDecoders;
  /**
   * A source of changes (§13: `format: "debezium" | "changelog"` with a `key` clause): its
   * messages are upserts and deletes of rows keyed by `key`; a delete reaches the graph as the
   * key's kept row marked deleted (io/changes.ts `isDelete`).
   */
  changes?: { format: "debezium" | "changelog"; key: string[] };
  /**
   * `idle D` (§10): when D ms of wall time pass without a record, the source is idle until its
   * next one — operators with several inputs no longer wait for it, and its watermark advances
   * with the wall clock.
   */
  idleMs?: number;
}

/** Generated per-source decoders (see runtime/src/io/fast-jsonl.ts). */
export interface SourceDecoders {
  jsonl?: JsonlLineDecoder;
  csv?: CsvLineDecoder;
  /** JavaScript values (iterable sources, overrides): the record, or `undefined` for the general way. */
  value?: (v: unknown) => unknown;
}

export interface TableSpec {
  name: string;
  schema: Schema;
  connector: ConnectorSpec;
  /** Key field; when several rows share a key, the last one wins. */
  key: string;
}

export interface OutputSpec {
  /** `out1`, `out2`, ... for unnamed outputs. */
  name: string;
  schema: Schema;
  /** Undefined = stdout JSONL. */
  connector?: { kind: "stdout"; format: OutputFormat } | { kind: "file"; path: string; format: OutputFormat } | NetworkSinkSpec;
  /** An updating stream's key fields (§13); undefined for an append stream. */
  key?: string[];
  /** `emit final`: the graph keeps the latest row per key and emits them in `finish()`, at the end of input. */
  final: boolean;
}

/** What the runtime hands to a program's graph when a run starts. */
export interface RunContext {
  /** One function per output (index as in `Program.outputs`): a row reached the output. */
  readonly emit: ReadonlyArray<(row: unknown) => void>;
  /**
   * One function per output of an updating stream (§13): `row` is the new row of `key`, or
   * undefined when the key was deleted. Absent in hosts built before updating streams.
   */
  readonly change?: ReadonlyArray<(key: unknown, row: unknown) => void>;
  /**
   * A late record dropped by a windowed stage (written to --late, counted); `operator` is the
   * stage, `file:line stage` (metrics count late records per operator, §10).
   */
  late(row: unknown, schema: Schema, operator?: string): void;
  /** Loaded tables, index as in `Program.tables`: key value → row (last row wins). */
  readonly tables: ReadonlyArray<Map<unknown, unknown>>;
  /**
   * A built-in failed while a stage made a row from its state (an `agg` item such as
   * `sum(x) / count(x)` when a window fires; `where` is `file:line agg`): that row is dropped and
   * reported. Rethrows errors that are not the program's run-time errors.
   */
  failed(error: unknown, where: string): void;
}

/** An instantiated dataflow graph. The driver calls these; generated code implements them. */
export interface GraphInstance {
  /** One per source (index as in `Program.sources`): a valid record with its event time. */
  readonly push: ReadonlyArray<(record: any, time: number) => void>;
  /** Instrumented builds: rows emitted per node id. */
  readonly counts?: number[];
  /** Instrumented builds: the runtime operator of each stateful node, by node id (for tracing). */
  readonly operators?: Record<number, object>;
  /** Instrumented builds: set it to observe every row a stateful operator emits. */
  onOperatorRow?: ((node: number, row: unknown, t: number) => void) | undefined;
  /** Source `source`'s watermark rose to `watermark` (+Infinity when it has ended). */
  advance(source: number, watermark: number): void;
  /** Every source has ended and every watermark is +Infinity: flush `emit final` outputs. */
  finish(): void;
  /**
   * Present when a source has `idle` (§10): source `source` became idle (`on`) or had a record
   * again. Unions and joins then take the smallest watermark of their inputs that are not idle.
   */
  idle?(source: number, on: boolean): void;
  /**
   * Optional fast path for a `range()` source: pushes the integers [from, to) with time `t` in
   * one generated loop. Returns false when the graph has none for this source.
   */
  pushRange?(source: number, from: number, to: number, time: number): boolean;
  /**
   * Optional fast path: pushes a decoded batch of one source in one generated loop (event time
   * read from each record; `time` is the arrival time of the batch for sources without event
   * time), raising the source's watermark as the per-record path does (`advance` after each record
   * whose time exceeds the largest so far, `maxTime`). Returns the new largest time, or NaN when
   * the graph has no loop for this source.
   */
  pushBatch?(source: number, records: readonly unknown[], time: number, maxTime: number): number;
  /**
   * Optional fast path for a source given as a synchronous iterable: pulls up to `max` items,
   * decodes each with the source's generated value decoder (an item it does not accept goes to
   * `slow(item, k)`, the general decoder: a record, or undefined for a bad item it reported) and
   * pushes it through the fused stages, raising the watermark as `pushBatch` does. Updates `st`.
   * Returns false when the graph has no such loop for this source.
   */
  pullBatch?(source: number, items: Iterator<unknown>, max: number, time: number, st: PullState, slow: (item: unknown, k: number) => unknown): boolean;
}

/** What `pullBatch` reads and updates. */
export interface PullState {
  /** The largest event time so far (the watermark step compares with it). */
  maxTime: number;
  /** Items taken from the iterator, good and bad. */
  count: number;
  /** The iterator has ended. */
  done: boolean;
}

export interface Program {
  /** The .flow file name, for messages. */
  file: string;
  sources: SourceSpec[];
  tables: TableSpec[];
  outputs: OutputSpec[];
  /**
   * The generated loops the graph has, as the source indexes that have each one: `range` —
   * `GraphInstance.pushRange`, `batch` — `pushBatch`, `pull` — `pullBatch`. When given, the
   * driver uses exactly these and never probes; absent in modules built before it, where the
   * driver finds out by calling each loop once with empty input (false / NaN: none).
   */
  loops?: ProgramLoops;
  /**
   * Checkpoints (LANGUAGE.md §12): every operator that keeps state, in the plan's order — its
   * kind, line and shape (compiler/src/plan/schema.ts: a checkpoint continues only a program
   * whose list is equal) and the graph members holding its state (an operator's `snapshot()` /
   * `restore()`, or a Map, array, typed array or state object of the generated code). Absent in
   * modules built before checkpoints: such a program cannot be checkpointed.
   */
  state?: readonly StatefulNode[];
  /** Members holding the input watermarks of unions and joins (state, not part of the fingerprint). */
  watermarkMembers?: readonly string[];
  /** The classes whose instances a checkpoint holds (generated `AggNState`s, stdlib sketches), by name. */
  stateClasses?: Readonly<Record<string, Function>>;
  create(ctx: RunContext): GraphInstance;
}

/** See `Program.state`. */
export interface StatefulNode {
  node: number;
  kind: string;
  line: number;
  shape: string;
  members: readonly string[];
}

/** See `Program.loops`. */
export interface ProgramLoops {
  range: readonly number[];
  batch: readonly number[];
  pull: readonly number[];
}
