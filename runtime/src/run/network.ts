// The network connectors (LANGUAGE.md §11) as the driver sees them: a registry that the Node
// entry fills (node.ts registers runtime/src/net/, which loads each client library only when a
// program uses its connector), the sink interface, and `SinkWriter`, which batches a network
// output's rows, delivers them one batch at a time in order, retries a failed delivery with
// backoff for up to `sinkRetryMs` and then stops the run (OutputError, exit 73, naming the sink).
// Browser-safe: nothing here imports Node or a client.

import type { Env } from "../env.js";
import type { NetworkSinkSpec, NetworkSourceSpec, OutputSpec, Schema } from "../contract.js";
import { InputError, OutputError, RunError } from "./errors.js";
import type { ReadBatch } from "../io/batch.js";
import type { JsonlLineDecoder } from "../io/fast-jsonl.js";

/**
 * One change a sink delivers. Append streams give `insert`s. An updating stream (§13) will give
 * `upsert`s (the row of its key, `key` its key fields) and `delete`s (only the key): the sinks
 * that apply them (postgres) read `key`; the message sinks print them per `format`.
 */
export type SinkChange = (
  | { op: "insert"; row: unknown }
  /** An updating stream's change (§13): the key's fields, and the row it replaces (`before`). */
  | { op: "upsert"; key: Record<string, unknown>; row: unknown; before?: unknown }
  | { op: "delete"; key: Record<string, unknown>; before?: unknown }
) & {
  /** Its row number in the output (1-based; a checkpoint restores the count, so a replayed row
   *  gets the number it had: §12). Every change counts, a delete that sends nothing too. */
  seq?: number;
};

/** A network sink: delivers batches of changes, in order; connects (again) as it needs to. */
export interface MessageSink {
  /** Delivers every change of `batch` (all or nothing as far as the caller knows: on a
   *  rejection the same batch is sent again, so a sink may deliver a message twice). A sink
   *  that cannot go on at all (a refusal, §12) throws an OutputError: it is not retried. */
  send(batch: readonly SinkChange[]): Promise<void>;
  /** The run completed having produced `rows` rows in this output: a sink that read back its
   *  last message (§12) refuses (OutputError) when that message is beyond them. */
  complete?(rows: number): Promise<void>;
  /** Closes the connection (after the last send). */
  close(): Promise<void>;
}

/** A message's mark with `--checkpoint` (§12): the run lineage and the row's number in its output. */
export interface RowMark {
  run: string;
  row: number;
}

/**
 * The last message a sink holds at one place — a Kafka partition, or `""` for the one NATS
 * subject or Redis stream: this lineage's or another run's mark, or `foreign` saying why it has
 * none that fits (`has no flowc mark`).
 */
export type LastMessage = RowMark | { foreign: string };

/** A network output's position in a checkpoint: the highest row delivered at each place. */
export interface NetSinkPosition {
  output: string;
  places: [place: string, row: number][];
  /** What the places depend on, where it can change (Kafka: `4 partitions`). */
  layout?: string;
}

/** The text of a mark where a single string holds it (Redis `_flowc`, Postgres `_flowc_row`). */
export const markText = (m: RowMark): string => `${m.run}:${m.row}`;

/** A mark's text read back; undefined when it is not one (a run id never holds a colon). */
export function parseMark(text: string | null | undefined): RowMark | undefined {
  if (typeof text !== "string") return undefined;
  const k = text.lastIndexOf(":");
  if (k <= 0) return undefined;
  const row = Number(text.slice(k + 1));
  return Number.isSafeInteger(row) && row > 0 ? { run: text.slice(0, k), row } : undefined;
}

/** The mark from a message's `flowc-run` and `flowc-row` headers (Kafka, NATS). */
export function markOfHeaders(run: string | undefined, row: string | undefined): RowMark | undefined {
  if (run === undefined || run === "" || row === undefined || !/^[1-9][0-9]*$/.test(row)) return undefined;
  const n = Number(row);
  return Number.isSafeInteger(n) ? { run, row: n } : undefined;
}

/**
 * The exactly-once rule of a `kafka`, `nats` or `redis` sink with `--checkpoint` (§12): every
 * message carries the lineage's run id and its row number; on restore the sink reads back the
 * last message at each place and skips the replayed rows up to it. Refused (OutputError, exit
 * 73, naming the sink): a place where the checkpoint had delivered rows whose last message is
 * another run's or has no mark (someone else writes there), or is older than what the
 * checkpoint had delivered, or is missing (messages were lost); and, when the run completes,
 * a last message beyond the rows the run produced (it was written by a run that read other
 * input). A place the checkpoint knows no row of may hold anything (an earlier lineage's rows).
 * Pure: the sinks read back and deliver, this decides.
 */
export class RowMarks {
  /** Per place: the rows known to be in the sink (the checkpoint's, or delivered since). */
  private saved: Map<string, number>;
  /** Per place: the last row of this lineage read back; replayed rows up to it are skipped. */
  private readonly through = new Map<string, number>();
  private readonly delivered: Map<string, number>;
  private readonly savedLayout: string | undefined;
  private layout: string | undefined;
  /** Read back (or nothing to read: a new lineage). */
  resumed: boolean;

  constructor(
    readonly runId: string,
    /** How messages name the sink: `output o (kafka topic t)`. */
    readonly label: string,
    /** The checkpoint's position of this output; undefined: a new lineage, nothing to read back. */
    saved: NetSinkPosition | undefined,
    /** Restoring a checkpoint (saved undefined then means: no row was delivered). */
    restoring = saved !== undefined,
  ) {
    this.saved = new Map(saved?.places ?? []);
    this.delivered = new Map(this.saved);
    this.savedLayout = saved?.layout;
    this.layout = saved?.layout;
    this.resumed = !restoring;
  }

  /**
   * The sink's places as they are now (Kafka: the topic's partition count). A restore refuses a
   * layout that changed since the checkpoint: replayed rows would not go where they went.
   */
  setLayout(layout: string): void {
    const was = this.savedLayout;
    if (!this.resumed && was !== undefined && was !== layout && this.saved.size > 0) throw this.refuse(`it had ${was} at the checkpoint and has ${layout} now (rows would not go where they went)`);
    this.layout = layout;
  }

  private refuse(what: string): OutputError {
    return new OutputError(`${this.label}: ${what}; refusing to write (§12: the run writes this sink alone; --checkpoint-reset starts a new run)`);
  }

  /** The messages read back: the last one per place (a place absent is empty). */
  resume(last: ReadonlyMap<string, LastMessage>, where: (place: string) => string = () => "the sink"): void {
    for (const [place, row] of this.saved) {
      if (row > 0 && !last.has(place)) throw this.refuse(`${where(place)} is empty, but rows up to row ${row} had been delivered there (messages were lost)`);
    }
    for (const [place, m] of last) {
      const saved = this.saved.get(place) ?? 0;
      if ("foreign" in m || m.run !== this.runId) {
        if (saved > 0) throw this.refuse(`the last message in ${where(place)} ${"foreign" in m ? m.foreign : `is of another run (${m.run} row ${m.row}), not of this run (${this.runId})`}`);
        continue; // an earlier lineage's rows: this one wrote nothing there yet
      }
      if (m.row < saved) throw this.refuse(`the last message in ${where(place)} is row ${m.row}, but rows up to row ${saved} had been delivered there (messages were lost)`);
      this.through.set(place, m.row);
      this.delivered.set(place, m.row);
    }
    this.resumed = true;
  }

  /**
   * A delivery failed: how much of it reached the sink is unknown. The next try reads back
   * again and skips what is there — for sinks that store a failed batch's messages as a prefix
   * per place (Redis: one pipelined connection; Kafka: one request per partition), so that a
   * retry does not write them twice.
   */
  unsure(): void {
    if (!this.resumed) return;
    this.saved = new Map(this.delivered);
    this.resumed = false;
  }

  /** A replayed row already in the sink at `place`: not sent again. */
  skip(place: string, row: number | undefined): boolean {
    return row !== undefined && row <= (this.through.get(place) ?? 0);
  }

  /** Rows delivered at `place` up to `row`. */
  sent(place: string, row: number | undefined): void {
    if (row !== undefined && row > (this.delivered.get(place) ?? 0)) this.delivered.set(place, row);
  }

  /** The run completed with `rows` rows in the output: a row read back beyond them is a gap. */
  complete(rows: number): void {
    for (const [place, row] of this.through) {
      if (row > rows) throw this.refuse(`it holds row ${row} of this run${place === "" ? "" : ` (at ${place})`}, but the run produced ${rows} rows (its input changed since?)`);
    }
  }

  position(output: string): NetSinkPosition {
    return this.layout === undefined ? { output, places: [...this.delivered] } : { output, places: [...this.delivered], layout: this.layout };
  }
}

/** A short reason: a Node error's code as well (`connect ECONNREFUSED 127.0.0.1:4222`). */
export function errorText(e: unknown): string {
  const err = e as { message?: unknown; code?: unknown };
  const m = typeof err?.message === "string" && err.message !== "" ? err.message : typeof err?.code === "string" ? err.code : String(e);
  return m.split("\n")[0]!;
}

/** An opened network source (run/inputs.ts turns it into its `Input`). */
export interface NetInput {
  /** How messages name the source: `nats subject orders`. */
  label: string;
  batches: AsyncIterator<ReadBatch>;
  /** Closes the connection (the run has ended). */
  close(): Promise<void>;
  /** A source with partitions (Kafka): those assigned to it now; batches are per partition. */
  partitions?: () => readonly number[];
  /** Records behind the broker's end per partition, where the broker tells (`flowc_source_lag`). */
  lag?: () => ReadonlyMap<number, number>;
}

/**
 * The connections of one run and which are down (§10: "the run summary … says which connection
 * is down"): each network connector reports its own; the summary lists those down at the end.
 */
export class ConnectionBoard {
  private readonly downs = new Map<string, string>();
  up(label: string): void {
    this.downs.delete(label);
  }
  down(label: string, reason: string): void {
    this.downs.set(label, reason);
  }
  /** `label (reason)` of each connection down now, in the order they went down. */
  list(): string[] {
    return [...this.downs].map(([label, reason]) => `${label} (${reason})`);
  }
}

/** What opening a network source is given. */
export interface NetSourceOpening {
  name: string;
  schema: Schema;
  spec: NetworkSourceSpec;
  /** Fields to materialise (projection); undefined = all. */
  keep: readonly string[] | undefined;
  /** `event time EXPR`: a record whose time is null is bad input. */
  timeOf: ((record: any) => number | null) | undefined;
  /** A source of changes (§13: debezium / changelog messages with a `key`). */
  changes?: { format: "debezium" | "changelog"; key: readonly string[] };
  /** The source's generated JSONL decoder (a fast path for JSON messages: common.ts messageBytesDecoder). */
  fastJson?: JsonlLineDecoder;
  env: Env;
  /** Where the source says whether its connection is up. */
  board: ConnectionBoard;
  /**
   * A checkpointed run (§12): where to read each partition (-1: a source without partitions)
   * from — after the message at `after` (the last one processed), or at `at` — instead of the
   * group's or durable consumer's position. Partitions not listed start as without a checkpoint.
   */
  start?: ReadonlyMap<number, StartAt>;
  /** The run is checkpointed: a Kafka rebalance that takes partitions away stops it (exit 75). */
  checkpointed?: boolean;
}

/** Where a broker source reads a partition from (NetSourceOpening.start). */
export interface StartAt {
  after?: number | string;
  at?: number | string;
}

/** What opening a network sink is given. */
export interface NetSinkOpening {
  output: OutputSpec;
  spec: NetworkSinkSpec;
  /** `output NAME (kafka topic T)`: how messages name the sink. */
  label: string;
  env: Env;
  board: ConnectionBoard;
  /** With `--checkpoint` (§12): the lineage's run id, and what a restore must read back. */
  marks?: RowMarks;
}

export interface NetworkConnectors {
  openSource(o: NetSourceOpening): Promise<NetInput>;
  openSink(o: NetSinkOpening): Promise<MessageSink>;
}

let registered: (() => Promise<NetworkConnectors>) | undefined;
/** Registers the network connectors (node.ts does, lazily: nothing is loaded before a use). */
export function registerNetwork(loader: (() => Promise<NetworkConnectors>) | undefined): void {
  registered = loader;
}

async function connectors(what: string, fail: (m: string) => RunError): Promise<NetworkConnectors> {
  if (registered === undefined) throw fail(`${what} needs the network connectors, which run on Node only (runtime/src/node.ts registers them)`);
  return registered();
}

export async function openNetworkSource(o: NetSourceOpening): Promise<NetInput> {
  const net = await connectors(`source ${o.name}`, (m) => new InputError(m));
  try {
    return await net.openSource(o);
  } catch (e) {
    // A client package that cannot be loaded, a port in use: the input cannot be opened (66).
    throw e instanceof RunError ? e : new InputError(`source ${o.name}: ${errorText(e)}`);
  }
}

export async function openNetworkSink(o: NetSinkOpening): Promise<MessageSink> {
  return (await connectors(o.label, (m) => new OutputError(m))).openSink(o);
}

/** The connector as messages name it: `nats subject alerts`, `postgres table counts`. */
export function sinkLabel(spec: NetworkSinkSpec): string {
  switch (spec.kind) {
    case "kafka":
      return `kafka topic ${spec.topic}`;
    case "nats":
      return `nats subject ${spec.subject}`;
    case "redis":
      return `redis stream ${spec.key}`;
    case "postgres":
      return `postgres table ${spec.table}`;
    case "http":
      return `http ${spec.method} ${spec.url}`;
  }
}

/** Rows in one delivery at most. */
export const SINK_BATCH = 1000;
/** Rows waiting beyond this make the driver wait for the sink (backpressure). */
export const SINK_HIGH_WATER = 10_000;
/** Default of `--sink-retry` (§12): how long a failing delivery is retried. */
export const SINK_RETRY_MS = 60_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The writer of one network output (the driver's `Writer` interface, like BufferedWriter):
 * `write` queues a change; `flush` starts delivering what is queued (the driver flushes before
 * each wait for input and between batches, §10); deliveries go one at a time, in order. A
 * delivery that fails is retried with exponential backoff (100 ms … 10 s) until `retryMs` have
 * passed since its first failure; then the writer fails for good: its next use throws an
 * OutputError naming the sink, and `failed` settles so a run waiting for input stops too.
 */
export class SinkWriter {
  private queue: SinkChange[] = [];
  private inflight: Promise<void> | undefined;
  private error: OutputError | undefined;
  private wantFlush = false;
  needsDrain = false;
  /** Resolves with the error when delivery has failed for good. */
  readonly failed: Promise<OutputError>;
  private onFail!: (e: OutputError) => void;

  constructor(
    readonly label: string,
    private readonly sink: MessageSink,
    private readonly env: Env,
    private readonly retryMs: number,
    /** `emit final`: everything goes in one delivery at close (a table in one transaction). */
    private readonly whole = false,
  ) {
    this.failed = new Promise((resolve) => (this.onFail = resolve));
  }

  get pending(): boolean {
    return this.queue.length > 0;
  }

  private check(): void {
    if (this.error !== undefined) throw this.error;
  }

  write(change: SinkChange): void {
    this.check();
    this.queue.push(change);
    if (this.queue.length >= SINK_HIGH_WATER) this.needsDrain = true;
  }

  flush(): void {
    this.check();
    if (this.whole || this.queue.length === 0) return;
    this.wantFlush = true;
    if (this.inflight === undefined) this.next();
  }

  private next(): void {
    const batch = this.queue.splice(0, SINK_BATCH);
    // A flush asks for everything queued: it is done only once the queue is empty (a flush that
    // came during a delivery may have more than one batch waiting).
    if (this.queue.length === 0) this.wantFlush = false;
    this.inflight = this.deliver(batch).then(
      () => {
        this.inflight = undefined;
        // More came meanwhile: send on while a flush was asked for or a full batch waits.
        if (this.queue.length > 0 && (this.wantFlush || this.queue.length >= SINK_BATCH)) this.next();
      },
      (e: OutputError) => {
        this.inflight = undefined;
        this.error = e;
        this.onFail(e);
      },
    );
  }

  private deliver(batch: SinkChange[]): Promise<void> {
    return this.retrying(() => this.sink.send(batch));
  }

  /** `attempt`, retried with backoff for up to retryMs; a refusal (an OutputError) is not retried. */
  private async retrying(attempt: () => Promise<void>): Promise<void> {
    let delay = 100;
    let firstFailure: number | undefined;
    for (;;) {
      try {
        await attempt();
        if (firstFailure !== undefined) this.env.stderr(`flowc: ${this.label}: delivered again\n`);
        return;
      } catch (e) {
        // By name: a sink module may hold another bundled copy of the runtime's errors.
        if ((e as Error)?.name === "OutputError" && e instanceof Error) throw e instanceof OutputError ? e : new OutputError(e.message);
        const now = this.env.now();
        if (firstFailure === undefined) {
          firstFailure = now;
          this.env.stderr(`flowc: ${this.label}: delivery failed (${errorText(e)}); retrying for up to ${Math.round(this.retryMs / 1000)} s\n`);
        }
        if (now - firstFailure >= this.retryMs) {
          throw new OutputError(`cannot deliver to ${this.label} (retried for ${Math.round((now - firstFailure) / 1000)} s): ${errorText(e)}`);
        }
        await sleep(Math.min(delay, Math.max(0, this.retryMs - (now - firstFailure))));
        delay = Math.min(delay * 2, 10_000);
      }
    }
  }

  /** Waits until everything written has been delivered (or the sink failed: throws). */
  async drain(): Promise<void> {
    this.needsDrain = false;
    for (;;) {
      this.check();
      if (this.inflight !== undefined) await this.inflight;
      else if (this.queue.length > 0 && !this.whole) this.next();
      else break;
    }
    this.check();
  }

  /**
   * The run completed with `rows` rows in this output: everything is delivered, and a sink that
   * read back its last message checks it is not beyond them (§12). Fails like a delivery.
   */
  async complete(rows: number): Promise<void> {
    await this.drain();
    const sink = this.sink;
    if (sink.complete === undefined) return;
    await this.retrying(() => sink.complete!(rows)).catch((e: OutputError) => {
      this.error = e;
      throw e;
    });
  }

  async close(): Promise<void> {
    if (this.error === undefined) {
      if (this.whole && this.queue.length > 0) {
        // Every row of an `emit final` table in one delivery (postgres: one transaction).
        const batch = this.queue;
        this.queue = [];
        this.inflight = this.deliver(batch).then(
          () => void (this.inflight = undefined),
          (e: OutputError) => {
            this.inflight = undefined;
            this.error = e;
          },
        );
      }
      try {
        await this.drain();
      } finally {
        await this.sink.close().catch(() => {});
      }
    } else {
      await this.sink.close().catch(() => {});
      throw this.error;
    }
  }
}
