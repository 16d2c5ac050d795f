// A checkpointed run (LANGUAGE.md §12, `--checkpoint DIR`): what the driver adds when
// RunOptions.checkpoint is set. Nothing here runs otherwise.
//
//   open     reads the checkpoint (checksum, fingerprint, output lengths; exit 2 when any is
//            wrong), or starts a new run id;
//   env      the run's Env with output files counted (their byte lengths) and, on restore,
//            truncated to their saved length and appended to;
//   openSourceFile   a file source opened at its saved position, its bytes counted (files.ts);
//   attach   puts back the graph's state, the counters, the sources' largest times, and makes
//            itself the run loops' ReadHooks (run/loops.ts);
//   batch    drops the records a restored run had already read (and the bad records it had
//            reported), gives bad records their file's line numbers;
//   between  every `everyMs` of wall time, between two batches: a checkpoint;
//   take     outputs flushed and handed to the OS, then one document — positions, lengths,
//            counters, state — written atomically by the storage.
//
// A checkpoint is taken between two batches (or, at a stop, between two records): the runtime
// is single-threaded, so the graph's state, the sources' positions and the outputs' lengths are
// one consistent cut.
//
// Live sources (network connectors, stdin; §12 "The read log"): a broker source (Kafka, NATS,
// Redis) is saved as the place of the last message processed in each partition (kind
// "broker"), which `startOf` hands to the connector on restore, instead of the group's
// committed offsets; with its idle state (§10). The choices of the live run between two
// checkpoints go to the read log (read-log.ts) through `logHooks`, which the run loop
// (run/loops.ts runLogged) uses to log and, on restore, to replay them.

import type { Format, GraphInstance, Program, SourceSpec } from "../contract.js";
import type { ByteSource, Env, OutputSink } from "../env.js";
import type { ReadBatch } from "../io/batch.js";
import type { BadRecords } from "../run/diagnostics.js";
import { OutputError, RunError } from "../run/errors.js";
import type { SourceState } from "../run/inputs.js";
import { macrotask, type ReadHooks, type Reader } from "../run/loops.js";
import type { NetSinkPosition } from "../run/network.js";
import type { Outputs, SinkCheckpoint } from "../run/outputs.js";
import { ByteChecksum, ClassTable, checksum, checksumBytes, decode, encode, Packing } from "./codec.js";
import { memoryReadLogStorage, parseReadLog, ReadLog, type LogStep, type Position } from "./read-log.js";
import type { ReadLogHooks } from "../run/loops.js";
import type { StartAt } from "../run/network.js";
import { PartitionedClock, type PartitionsSnapshot } from "../source-clock.js";
import type { CheckpointOptions, CheckpointStorage } from "./storage.js";


/** Upper bounds (seconds) of the `flowc_checkpoint_duration_seconds` histogram's buckets. */
export const CHECKPOINT_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type { CheckpointOptions, CheckpointStorage } from "./storage.js";
import { openTracked, type ChunkTracker, type FilePoint } from "./files.js";

/** A checkpoint in memory (tests, browsers, embedders that keep the text elsewhere). */
export function memoryCheckpointStorage(where = "<memory>"): CheckpointStorage & { text: string | undefined; writes: number; readLog: ReturnType<typeof memoryReadLogStorage> } {
  return {
    where,
    text: undefined,
    writes: 0,
    async read() {
      return this.text;
    },
    async write(text) {
      this.text = text;
      this.writes++;
    },
    async remove() {
      this.text = undefined;
    },
    readLog: memoryReadLogStorage(where),
  };
}

/** A checkpoint that cannot be used: exit 2, the run does not start. */
export class CheckpointError extends RunError {
  override name = "CheckpointError";
  constructor(
    message: string,
    /** The file is damaged (not a flowc checkpoint, its checksum, its JSON): the one before it may do. */
    readonly damaged = false,
  ) {
    super(message, 2);
  }
}

/** A source's position: a file's (the start of a chunk and records into it) or a count of items. */
export interface SavedSource {
  name: string;
  /**
   * `live`: stdin, a pipe, mqtt, websocket, http, which cannot replay: a restore reads on from
   * what comes next. `broker`: Kafka, NATS, Redis, read on from `partitions`.
   */
  kind: "file" | "items" | "live" | "broker";
  /**
   * broker: per partition (-1: a source without partitions), the place of the last message
   * processed (`after`) — or, when none was, of the first one read (`at`).
   */
  partitions?: { p: number; after?: Position; at?: Position }[];
  /** A live source with `idle` (§10): its idle state (wall times, epoch ms; null: none, −∞). */
  idle?: { lastArrival: number; since: number | null; from: number | null; given: number | null };
  /** A source with partitions: each partition's largest time, last batch and idle state. */
  clock?: PartitionsSnapshot;
  /** Live sources: the run had begun reading them (its idle state is saved above). */
  started?: boolean;
  /** file: byte offset and line breaks before it, of the chunk the position is in. */
  offset?: number;
  line?: number;
  /** Good records to skip from there (items: from the first item). */
  skip: number;
  /** The last line (item) of a bad record already reported: not reported again. */
  badThrough: number;
  /** Valid records read (the summary's count). */
  count: number;
  /** The largest event time read (null: none yet); the watermark is this − delay. */
  maxTime: number | null;
  /** The watermark then (null: none yet, or the source had ended: see `ended`). */
  watermark: number | null;
  ended: boolean;
}

export interface CheckpointDoc {
  format: "flowc-checkpoint";
  /** 2: sources of kind "broker" (a version 1 document is read as ever). */
  version: 1 | 2;
  /** The run lineage (a new one after --checkpoint-reset). */
  runId: string;
  /** Checkpoints written in this lineage. */
  seq: number;
  /** Wall clock, epoch ms. */
  time: number;
  /** The run completed: starting again does nothing. */
  finished: boolean;
  program: string;
  fingerprint: { sources: string[]; operators: { kind: string; line: number; shape: string }[] };
  sources: SavedSource[];
  /** Each output file (outputs, dead letters, late records): its length in bytes. */
  sinks: { path: string; bytes: number }[];
  /** Each kafka/nats/redis/postgres/http output: the highest row delivered per place (§12). */
  network?: NetSinkPosition[];
  counters: { out: Record<string, number>; late: number; bad: number };
  /** codec.ts encoding of [state of each Program.state entry, watermark members]. */
  state: unknown;
  /** The binary form: the length of each blob (see the file forms below). */
  blobs?: number[];
}

const MAGIC = "flowc-checkpoint";

const utf8 = new TextEncoder();
const utf8Text = new TextDecoder();

// A checkpoint file, in one of two forms:
//   text    `flowc-checkpoint V xHASH`, the document's JSON on the next line — for storages that
//           keep text (`write`). HASH: codec.ts ByteChecksum over the JSON's UTF-8 bytes (14 hex
//           digits without the x: cyrb53 over its UTF-16 units, as flowc wrote before).
//   binary  `flowc-checkpoint V xHASH b` and the JSON, each line padded with spaces to a multiple
//           of 8 bytes, then the blobs: the packed columns (codec.ts `{ $: "I", b: N }`), each
//           padded with zeros to a multiple of 8, their lengths in the document's `blobs` — for
//           storages that keep bytes (`writeBytes`, `readBytes`). HASH covers all after the first
//           line. Columns are read from the file's bytes as they lie (8-aligned: float columns
//           are views), without base64 or a string the size of the state.

/** The blobs of documents read from the binary form (decode reads columns from them). */
const blobsOf = new WeakMap<CheckpointDoc, Uint8Array[]>();

/** The binary part of a checkpoint read from its binary form (none: the text form). */
export function checkpointBlobs(doc: CheckpointDoc): Uint8Array[] | undefined {
  return blobsOf.get(doc);
}

const ceil8 = (n: number) => Math.ceil(n / 8) * 8;

/** `text` as UTF-8 with spaces before its final line break up to a multiple of 8 bytes. */
function paddedLine(text: string): Uint8Array {
  const bytes = utf8.encode(text);
  const line = new Uint8Array(ceil8(bytes.length + 1)).fill(32);
  line.set(bytes);
  line[line.length - 1] = 10;
  return line;
}

/** `bytes` and zeros after them up to a multiple of 8 (a view when the buffer has them: packed columns do). */
function padded(bytes: Uint8Array): Uint8Array {
  const n = ceil8(bytes.length);
  if (n === bytes.length) return bytes;
  if (bytes.byteOffset + n <= bytes.buffer.byteLength) {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, n);
    let zero = true;
    for (let i = bytes.length; i < n; i++) if (view[i] !== 0) zero = false;
    if (zero) return view;
  }
  const out = new Uint8Array(n);
  out.set(bytes);
  return out;
}

/** A checkpoint document in the text form (see above). */
export function serializeCheckpoint(doc: CheckpointDoc): string {
  const body = JSON.stringify(doc);
  return `${MAGIC} ${doc.version} ${checksumBytes(utf8.encode(body))}\n${body}\n`;
}

/**
 * The steps that turn a document, its columns packed, into its file — the binary form as parts
 * (`done(parts)`), or the text form (`done(text)`) — each a few ms for 1M keys.
 */
function checkpointSteps(doc: CheckpointDoc, packing: Packing, binary: boolean, done: (file: Uint8Array[] | string) => void): (() => void)[] {
  let body = "";
  let blobs: Uint8Array[] = [];
  let line: Uint8Array | undefined;
  const sealed = () => {
    blobs = packing.seal(binary);
    if (binary) doc.blobs = blobs.map((b) => b.length);
    body = JSON.stringify(doc);
  };
  if (!binary) {
    return [sealed, () => done(`${MAGIC} ${doc.version} ${checksumBytes(utf8.encode(body))}\n${body}\n`)];
  }
  return [
    sealed,
    () => {
      line = paddedLine(body);
      body = "";
    },
    () => done(binaryFile(doc.version, line!, blobs)),
  ];
}

/** The parts of a binary checkpoint file: its header line, then `line` (the JSON's) and the blobs. */
function binaryFile(version: number, line: Uint8Array, blobs: readonly Uint8Array[]): Uint8Array[] {
  const parts = [line, ...blobs.map(padded)];
  const sum = new ByteChecksum(parts.reduce((n, p) => n + p.length, 0));
  for (const p of parts) sum.update(p);
  return [paddedLine(`${MAGIC} ${version} ${sum.digest()} b`), ...parts];
}

/** A document read by parseCheckpointBytes (maybe changed since) as a binary checkpoint file again. */
export function serializeCheckpointBytes(doc: CheckpointDoc): Uint8Array {
  const parts = binaryFile(doc.version, paddedLine(JSON.stringify(doc)), checkpointBlobs(doc) ?? []);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Reads a checkpoint's text form back; a damaged one (checksum, format) is a CheckpointError.
 */
export function parseCheckpoint(text: string, where: string): CheckpointDoc {
  const nl = text.indexOf("\n");
  const head = (nl < 0 ? text : text.slice(0, nl)).trimEnd().split(" ");
  if (head[3] === "b") throw new CheckpointError(`the checkpoint in ${where} has a binary part: read it as bytes`);
  checkHead(head, where);
  const body = text.slice(nl + 1).replace(/\n$/, "");
  const sum = head[2]!.startsWith("x") ? checksumBytes(utf8.encode(body)) : checksum(body);
  if (sum !== head[2]) throw damaged(where);
  return parseBody(body, where);
}

/** Reads a checkpoint file back, in either form (see above). */
export function parseCheckpointBytes(bytes: Uint8Array, where: string): CheckpointDoc {
  const nl = bytes.indexOf(10);
  const head = utf8Text.decode(bytes.subarray(0, nl < 0 ? Math.min(bytes.length, 200) : nl)).trimEnd().split(" ");
  if (head[3] !== "b") return parseCheckpoint(utf8Text.decode(bytes), where);
  checkHead(head, where);
  const rest = bytes.subarray(nl + 1);
  if (new ByteChecksum(rest.length).update(rest).digest() !== head[2]) throw damaged(where);
  const end = rest.indexOf(10);
  const doc = parseBody(utf8Text.decode(rest.subarray(0, end)), where);
  const blobs: Uint8Array[] = [];
  let at = end + 1;
  for (const n of Array.isArray(doc.blobs) ? doc.blobs : []) {
    if (!Number.isSafeInteger(n) || n < 0 || at + n > rest.length) throw damaged(where);
    blobs.push(rest.subarray(at, at + n));
    at += ceil8(n);
  }
  blobsOf.set(doc, blobs);
  return doc;
}

function checkHead(head: string[], where: string): void {
  if (head[0] !== MAGIC || head.length < 3 || head.length > 4) throw new CheckpointError(`${where} does not hold a flowc checkpoint`, true);
  if (head[1] !== "1" && head[1] !== "2") throw new CheckpointError(`the checkpoint in ${where} has version ${head[1]}, this flowc reads versions 1 and 2`);
}

const damaged = (where: string) => new CheckpointError(`the checkpoint in ${where} is damaged (its checksum does not match); --checkpoint-reset discards it`, true);

function parseBody(body: string, where: string): CheckpointDoc {
  try {
    return JSON.parse(body) as CheckpointDoc;
  } catch (e) {
    throw new CheckpointError(`the checkpoint in ${where} is damaged: ${(e as Error).message}`, true);
  }
}

function connectorText(s: SourceSpec): string {
  const c = s.connector;
  switch (c.kind) {
    case "file":
      return `file(${JSON.stringify(c.path)}, ${c.format})`;
    case "range":
      return `range(${c.from}, ${c.to})`;
    case "nexmark":
      return `nexmark(${c.eventKind}, events ${c.events}, rate ${c.rate}, seed ${c.seed}, start ${c.start})`;
    default:
      return c.kind;
  }
}

/** What must not change about a source for its position to mean the same. */
function sourcePrint(s: SourceSpec): string {
  const et = s.eventTime === undefined ? "arrival time" : `event time ${s.eventTime.field ?? "(expression)"} watermark ${s.eventTime.delayMs}`;
  return `source ${s.name} = ${connectorText(s)} ${et}; type ${JSON.stringify(s.schema)}${s.changes ? `; changes ${s.changes.format}` : ""}`;
}

export function fingerprintOf(program: Program): CheckpointDoc["fingerprint"] {
  return {
    sources: program.sources.map(sourcePrint),
    operators: (program.state ?? []).map((s) => ({ kind: s.kind, line: s.line, shape: s.shape })),
  };
}

/**
 * The first difference between a checkpoint's fingerprint and the program's, as a message
 * naming it by file:line; undefined when they agree. Lines are not compared (a stateless stage
 * added above an operator moves it), only kinds and shapes, in order.
 */
export function fingerprintDifference(saved: CheckpointDoc["fingerprint"], program: Program): string | undefined {
  const now = fingerprintOf(program);
  const file = program.file;
  for (let i = 0; i < Math.max(saved.sources.length, now.sources.length); i++) {
    const a = saved.sources[i];
    const b = now.sources[i];
    if (a === b) continue;
    if (a === undefined) return `${b!.split(" =")[0]} was added`;
    if (b === undefined) return `${a.split(" =")[0]} was removed`;
    return `${b.split(" =")[0]} changed (was: ${a}; now: ${b})`;
  }
  for (let i = 0; i < Math.max(saved.operators.length, now.operators.length); i++) {
    const a = saved.operators[i];
    const b = now.operators[i];
    if (a !== undefined && b !== undefined && a.kind === b.kind && a.shape === b.shape) continue;
    if (a === undefined) return `${file}:${b!.line}: a stateful ${b!.kind} was added`;
    if (b === undefined) return `${file}:${a.line}: the stateful ${a.kind} of the checkpoint is gone`;
    if (a.kind !== b.kind) return `${file}:${b.line}: a ${b.kind} where the checkpoint has a ${a.kind} (line ${a.line})`;
    return `${file}:${b.line}: the ${b.kind} changed (was: ${a.shape}; now: ${b.shape})`;
  }
  return undefined;
}

/** UTF-8 length of a string, without encoding it. */
function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 2; // a surrogate pair: 4 bytes for 2 units
      i++;
    } else n += 2;
  }
  return n;
}

/** An output file's sink, counting the bytes written to it. */
class CountingSink implements OutputSink {
  constructor(
    private readonly inner: OutputSink,
    public bytes: number,
    /** It continues a file a checkpoint restored (a CSV header is already there). */
    readonly resumed: boolean,
  ) {}
  get broken(): boolean | undefined {
    return this.inner.broken;
  }
  write(text: string): boolean {
    this.bytes += utf8Length(text);
    return this.inner.write(text);
  }
  drain(): Promise<void> {
    return this.inner.drain();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  settled(): Promise<void> {
    return this.inner.settled !== undefined ? this.inner.settled() : this.inner.drain();
  }
}

/** What the run keeps about each source between checkpoints. */
interface Track {
  name: string;
  /** A file source: its chunks' tracker and the line of its first byte read. */
  file?: { tracker: ChunkTracker; lineBase: number; opened: FilePoint; openedSkip: number };
  chunkId: number;
  chunkStart: FilePoint;
  /** Good records of the current chunk in batches before the current one. */
  before: number;
  /** Good records of the current batch dropped by a restore (already read). */
  dropped: number;
  lastLength: number;
  seenBatch: boolean;
  /** Records still to drop (a restore). */
  pendingSkip: number;
  badThrough: number;
  /** A broker source: per partition, where it is (SavedSource.partitions). */
  broker?: Map<number, { after?: Position; at?: Position }>;
}

/** Connectors whose messages a restore can read again from a saved place (§12). */
const BROKERS: ReadonlySet<string> = new Set(["kafka", "nats", "redis"]);
/** Connectors that wait for input: with them the run keeps a read log. */
const LIVE: ReadonlySet<string> = new Set(["kafka", "nats", "redis", "mqtt", "websocket", "http", "stdin"]);

const newRunId = (): string => {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
};

export class CheckpointRun implements ReadHooks {
  /** The run's Env: output files counted (and resumed on restore). */
  readonly env: Env;
  private readonly saved: CheckpointDoc | undefined;
  /** The lineage's run id: network sinks mark their rows with it (§12). */
  readonly runId: string;
  private seq: number;
  private readonly everyMs: number;
  private next: number;
  private readonly sinks = new Map<string, CountingSink>();
  private readonly byName = new Map<string, Track>();
  private tracks: Track[] = [];
  private graph: GraphInstance | undefined;
  private sources: SourceState[] = [];
  private outputs: Outputs | undefined;
  private bad: BadRecords | undefined;
  private readonly classes: ClassTable;
  /** Checkpoints written by this process. */
  written = 0;
  /** The last checkpoint written: how long it took (ms) and its length (characters). */
  lastMs = 0;
  lastBytes = 0;
  /** The restore: reading and checking the checkpoint, then putting back the state (ms). */
  restoreMs = 0;
  /** For `--metrics` (§10): how long each checkpoint took, and when the last one was written. */
  readonly timing = { buckets: CHECKPOINT_BUCKETS_S.map(() => 0), sumS: 0, count: 0, lastSuccessS: NaN };

  private constructor(
    private readonly program: Program,
    private readonly options: CheckpointOptions,
    private readonly base: Env,
    private readonly signal: AbortSignal | undefined,
    saved: CheckpointDoc | undefined,
    logged?: { run: string; steps: LogStep[] },
  ) {
    this.saved = saved;
    // A run killed before its first checkpoint: its read log continues its lineage.
    this.runId = saved?.runId ?? logged?.run ?? newRunId();
    this.logged = logged?.steps ?? [];
    this.seq = saved?.seq ?? 0;
    this.everyMs = options.everyMs ?? 10_000;
    this.next = base.now() + this.everyMs;
    this.classes = new ClassTable(program.stateClasses ?? {});
    const savedLengths = new Map((saved?.sinks ?? []).map((s) => [s.path, s.bytes]));
    const env = Object.create(base) as Env;
    env.openOutput = async (path) => {
      const len = savedLengths.get(path);
      let sink: CountingSink;
      if (len !== undefined && len > 0) {
        if (base.resumeOutput === undefined) throw new Error("this environment cannot resume output files (Env.resumeOutput)");
        sink = new CountingSink(await base.resumeOutput(path, len), len, true);
      } else sink = new CountingSink(await base.openOutput(path), 0, false);
      this.sinks.set(path, sink);
      return sink;
    };
    this.env = env;
  }

  /**
   * Reads the checkpoint (or starts a new lineage). Refuses (CheckpointError, exit 2) a damaged
   * checkpoint, one of a program whose stateful parts differ, and output files shorter than
   * their saved length.
   */
  static async open(program: Program, options: CheckpointOptions, env: Env, signal?: AbortSignal): Promise<CheckpointRun> {
    const opened = env.now();
    const where = options.storage.where;
    if (program.state === undefined) throw new CheckpointError(`${program.file} was built without checkpoint support: build it again with this flowc`);
    let doc: CheckpointDoc | undefined;
    let read: string | Uint8Array | undefined;
    try {
      if (options.reset === true) await options.storage.remove();
      read = options.storage.readBytes !== undefined ? await options.storage.readBytes() : await options.storage.read();
    } catch (e) {
      throw new CheckpointError(`cannot read the checkpoint in ${where}: ${(e as Error)?.message ?? String(e)}`);
    }
    const parse = (r: string | Uint8Array) => (typeof r === "string" ? parseCheckpoint(r, where) : parseCheckpointBytes(r, where));
    try {
      if (read !== undefined) doc = parse(read);
    } catch (e) {
      if (!(e instanceof CheckpointError && e.damaged)) throw e;
      doc = await CheckpointRun.previous(options.storage, where, env, e.message);
      if (doc === undefined) throw e;
    }
    // No checkpoint, but the one before it: a crash came between the two renames of a write.
    if (read === undefined && options.reset !== true) doc = await CheckpointRun.previous(options.storage, where, env, `there is no checkpoint in ${where}`);
    if (doc !== undefined) {
      const diff = fingerprintDifference(doc.fingerprint, program);
      if (diff !== undefined) throw new CheckpointError(`the checkpoint in ${where} does not fit this program: ${diff} (--checkpoint-reset discards it)`);
      if (!doc.finished) {
        for (const s of doc.sinks) {
          const size = env.fileSize === undefined ? undefined : await env.fileSize(s.path);
          if (s.bytes > 0 && (size === undefined || size < s.bytes)) {
            throw new CheckpointError(`the output ${s.path} is ${size === undefined ? "missing" : `${size} bytes long`}, shorter than the ${s.bytes} bytes of the checkpoint in ${where}: it was changed after the checkpoint (--checkpoint-reset starts over)`);
          }
        }
      }
    }
    const logged = doc?.finished === true ? undefined : await CheckpointRun.readLog(program, options, doc);
    const run = new CheckpointRun(program, options, env, signal, doc, logged);
    run.restoreMs = env.now() - opened;
    await run.startLog();
    return run;
  }

  /**
   * The checkpoint before the current one, which is damaged or missing (`why`), with a warning;
   * undefined when there is none that can be read.
   */
  private static async previous(storage: CheckpointStorage, where: string, env: Env, why: string): Promise<CheckpointDoc | undefined> {
    let bytes: Uint8Array | undefined;
    try {
      bytes = await storage.readPreviousBytes?.();
    } catch {
      return undefined;
    }
    if (bytes === undefined) return undefined;
    let doc: CheckpointDoc;
    try {
      doc = parseCheckpointBytes(bytes, where);
    } catch {
      return undefined;
    }
    env.stderr(`flowc: ${why.replace(/; --checkpoint-reset discards it$/, "")}; continuing from the checkpoint before it (checkpoint ${doc.seq} of run ${doc.runId}, taken ${new Date(doc.time).toISOString()})\n`);
    return doc;
  }

  /**
   * The steps of the read log that follow the checkpoint `doc` (none: a log of another run or of
   * an earlier checkpoint — a crash came between the checkpoint and the log's rotation).
   */
  private static async readLog(program: Program, options: CheckpointOptions, doc: CheckpointDoc | undefined): Promise<{ run: string; steps: LogStep[] } | undefined> {
    const storage = options.storage.readLog;
    if (storage === undefined || !program.sources.some((s) => LIVE.has(s.connector.kind))) return undefined;
    let text: string | undefined;
    try {
      if (options.reset === true) await storage.remove();
      text = await storage.read();
    } catch (e) {
      throw new CheckpointError(`cannot read the read log in ${storage.where}: ${(e as Error)?.message ?? String(e)}`);
    }
    const log = text === undefined ? undefined : parseReadLog(text);
    if (log === undefined) return undefined;
    if (doc === undefined ? log.header.after !== 0 : log.header.run !== doc.runId || log.header.after !== doc.seq) return undefined;
    return { run: log.header.run, steps: log.steps };
  }

  /** The steps a restore replays (read-log.ts); then the steps of this run. */
  private readonly logged: LogStep[];
  private readLog: ReadLog | undefined;
  /** The run loop's view of the read log (undefined: no live source, no log). */
  private logHooks: ReadLogHooks | undefined;
  /** A live source was read (the live phase has begun): its idle state is saved. */
  private liveStarted = false;

  /** Opens the read log: rewritten from its complete steps (a torn tail goes) before any append. */
  private async startLog(): Promise<void> {
    const storage = this.options.storage.readLog;
    if (storage === undefined || this.finished || !this.program.sources.some((s) => LIVE.has(s.connector.kind))) return;
    const log = new ReadLog(storage, this.runId, this.logged);
    try {
      await log.start(this.saved?.seq ?? 0);
    } catch (e) {
      throw new CheckpointError(`cannot write the read log in ${storage.where}: ${(e as Error)?.message ?? String(e)}`);
    }
    this.readLog = log;
    this.liveStarted = this.saved?.sources.some((s) => s.started === true) === true;
    const fresh = !this.liveStarted && this.logged.length === 0;
    const kinds = this.program.sources.map((s) => s.connector.kind);
    this.logHooks = {
      fresh,
      next: () => log.next(),
      record: (step) => {
        this.liveStarted = true;
        log.record(step);
      },
      flush: () => log.flush(),
      replayable: (s) => BROKERS.has(kinds[s.index]!),
      seen: (s, b) => {
        const broker = this.tracks[s.index]?.broker;
        const p = b.partition ?? -1;
        if (broker === undefined || broker.has(p) || b.from === undefined) return;
        broker.set(p, { at: b.from });
        log.record({ k: "f", s: s.index, p, at: b.from });
      },
    };
  }

  /**
   * Where broker source `name` reads each partition from (Opening.startOf): its saved places,
   * and for partitions the checkpoint has none of, the first place the read log names.
   */
  readonly startOf = (name: string): ReadonlyMap<number, StartAt> | undefined => {
    const i = this.program.sources.findIndex((s) => s.name === name);
    if (i < 0 || !BROKERS.has(this.program.sources[i]!.connector.kind)) return undefined;
    const out = new Map<number, StartAt>();
    for (const x of this.savedSource(name)?.partitions ?? []) out.set(x.p, x.after !== undefined ? { after: x.after } : { at: x.at! });
    for (const step of this.logged) {
      if (step.k === "b" && step.s === i && step.from !== undefined && !out.has(step.p ?? -1)) out.set(step.p ?? -1, { at: step.from });
      if (step.k === "f" && step.s === i && !out.has(step.p)) out.set(step.p, { at: step.at });
    }
    return out.size > 0 ? out : undefined;
  };

  /** The checkpoint is of a run that completed: nothing to do. */
  get finished(): boolean {
    return this.saved?.finished === true;
  }

  /** The checkpoint this run continues, if any. */
  get restored(): CheckpointDoc | undefined {
    return this.saved;
  }

  /** What the network sinks need (§12): the run id and, on restore, their saved positions. */
  get sinkCheckpoint(): SinkCheckpoint {
    return this.saved === undefined ? { runId: this.runId } : { runId: this.runId, restored: this.saved.network ?? [] };
  }

  /** Stopped by a signal: the run ends at a checkpoint instead of the end of its input. */
  get suspended(): boolean {
    return this.signal?.aborted === true;
  }

  private savedSource(name: string): SavedSource | undefined {
    return this.saved?.sources.find((s) => s.name === name);
  }

  /** Opens the file of source `name` at its saved position (Opening.openSourceFile). */
  readonly openSourceFile = async (name: string, path: string, format: Format): Promise<ByteSource | undefined> => {
    if (!this.program.sources.some((s) => s.name === name)) return undefined; // a table
    const saved = this.savedSource(name);
    const start: FilePoint = saved?.kind === "file" ? { offset: saved.offset ?? 0, line: saved.line ?? 0 } : { offset: 0, line: 0 };
    const opened = await openTracked(this.base, path, start, format === "csv");
    this.byName.set(name, this.newTrack(name, { tracker: opened.tracker, lineBase: opened.lineBase, opened: start, openedSkip: saved?.kind === "file" ? saved.skip : 0 }));
    return opened.source;
  };

  private newTrack(name: string, file?: Track["file"]): Track {
    const saved = this.savedSource(name);
    const t: Track = {
      name,
      chunkId: 0,
      chunkStart: file ? { ...file.opened } : { offset: 0, line: 0 },
      before: 0,
      dropped: 0,
      lastLength: 0,
      seenBatch: false,
      pendingSkip: saved?.skip ?? 0,
      badThrough: saved?.badThrough ?? 0,
    };
    if (file) t.file = file;
    return t;
  }

  /**
   * After the graph is built and the sources are open: puts back the state, counters and
   * largest times of the checkpoint, and hooks into the run loops.
   */
  attach(graph: GraphInstance, sources: SourceState[], outputs: Outputs, bad: BadRecords, reader: Reader): void {
    this.graph = graph;
    this.sources = sources;
    this.outputs = outputs;
    this.bad = bad;
    this.tracks = sources.map((s) => this.byName.get(s.name) ?? this.newTrack(s.name));
    sources.forEach((s, i) => {
      if (s.live === true && BROKERS.has(this.program.sources[i]!.connector.kind)) {
        const saved = this.savedSource(s.name)?.partitions ?? [];
        this.tracks[i]!.broker = new Map(saved.map((x) => [x.p, x.after !== undefined ? { after: x.after } : { at: x.at! }]));
      }
    });
    for (const s of sources) {
      // Positions are counted per batch: a generated pull loop takes items past any batch.
      delete s.items;
    }
    const doc = this.saved;
    if (doc !== undefined) {
      const restoring = this.base.now();
      try {
        this.restoreState(doc.state);
      } catch (e) {
        // By name: the operators that threw may be another bundled copy of the runtime's.
        if ((e as Error)?.name !== "CheckpointFormatError") throw e;
        throw new CheckpointError(`the checkpoint in ${this.options.storage.where} cannot be read back: ${(e as Error).message}`);
      }
      this.restoreMs += this.base.now() - restoring;
      for (const s of sources) {
        const saved = this.savedSource(s.name);
        if (saved === undefined) continue;
        s.count = saved.count;
        s.clock.maxTime = saved.maxTime ?? -Infinity;
        this.restoreLive(s, saved, graph);
        // One range source runs without batches: it starts at its next integer instead.
        if (sources.length === 1 && s.range !== undefined) {
          s.range = { from: s.range.from + saved.skip, to: s.range.to };
          this.tracks[s.index]!.pendingSkip = 0;
        }
      }
      outputs.lateCount = doc.counters.late;
      bad.count = doc.counters.bad;
      // Output names are the program's: `toString` must not find Object.prototype's.
      const out = doc.counters.out;
      this.program.outputs.forEach((o, k) => (outputs.counts[k] = Object.prototype.hasOwnProperty.call(out, o.name) ? out[o.name]! : 0));
    }
    this.reportLost(sources);
    reader.hooks = this;
  }

  /** ReadHooks.log: the read log, when the program has live sources. */
  get log(): ReadLogHooks | undefined {
    return this.logHooks;
  }

  /** A live source's idle state and per-partition clock, as saved. */
  private restoreLive(s: SourceState, saved: SavedSource, graph: GraphInstance): void {
    if (saved.clock !== undefined && s.clock instanceof PartitionedClock) s.clock.restore(saved.clock);
    const idle = s.idle;
    if (saved.idle === undefined || idle === undefined) return;
    idle.lastArrival = saved.idle.lastArrival;
    idle.from = saved.idle.from ?? -Infinity;
    idle.given = saved.idle.given ?? -Infinity;
    if (saved.idle.since !== null) {
      idle.since = saved.idle.since;
      // The graph's unions and joins stop waiting for it again (§10).
      graph.idle?.(s.index, true);
    } else delete idle.since;
  }

  /**
   * Sources that cannot replay lost the records the read log shows arrived after the
   * checkpoint (§12): the restore says how many.
   */
  private reportLost(sources: SourceState[]): void {
    const lost = new Map<number, number>();
    for (const step of this.logged) {
      if (step.k !== "b" || BROKERS.has(this.program.sources[step.s]?.connector.kind ?? "")) continue;
      lost.set(step.s, (lost.get(step.s) ?? 0) + step.n + step.bad);
    }
    for (const [i, n] of lost) {
      const s = sources[i];
      if (s === undefined || n === 0) continue;
      this.base.stderr(`flowc: source ${s.name} (${s.label}): ${n} record${n === 1 ? "" : "s"} that arrived after the last checkpoint ${n === 1 ? "was" : "were"} lost (the source cannot replay)\n`);
    }
  }

  private restoreState(data: unknown): void {
    const all = decode(data, this.classes, blobsOf.get(this.saved!)) as Record<string, unknown>[];
    const g = this.graph as unknown as Record<string, unknown>;
    const put = (member: string, value: unknown) => {
      const cur = g[member] as { restore?: (v: unknown) => void } | null | undefined;
      if (cur !== null && typeof cur === "object" && typeof cur.restore === "function") cur.restore(value);
      else g[member] = value;
    };
    const state = this.program.state ?? [];
    state.forEach((node, i) => {
      const saved = all[i] ?? {};
      for (const m of node.members) if (m in saved) put(m, saved[m]);
    });
    const wm = all[state.length] ?? {};
    for (const m of this.program.watermarkMembers ?? []) if (m in wm) put(m, wm[m]);
    // The rows present in outputs printed as changelog / debezium, by output.
    const present = all[state.length + 1] as unknown as (Map<unknown, unknown> | undefined)[] | undefined;
    this.outputs!.present.forEach((m, k) => {
      const saved = present?.[k];
      if (m === undefined || saved === undefined) return;
      m.clear();
      for (const [key, row] of saved) m.set(key, row);
    });
  }

  private snapshotState(packing?: Packing): unknown {
    const g = this.graph as unknown as Record<string, unknown>;
    const take = (member: string) => {
      const v = g[member] as { snapshot?: () => unknown } | null | undefined;
      return v !== null && typeof v === "object" && typeof v.snapshot === "function" ? v.snapshot() : v;
    };
    const nodes: Record<string, unknown>[] = (this.program.state ?? []).map((node) => {
      const o: Record<string, unknown> = {};
      for (const m of node.members) o[m] = take(m);
      return o;
    });
    const wm: Record<string, unknown> = {};
    for (const m of this.program.watermarkMembers ?? []) wm[m] = take(m);
    nodes.push(wm);
    nodes.push([...this.outputs!.present] as unknown as Record<string, unknown>);
    return encode(nodes, this.classes, packing);
  }

  /** ReadHooks.batch: see the file comment. */
  batch(s: SourceState, b: ReadBatch): ReadBatch {
    const t = this.tracks[s.index]!;
    if (s.live === true) {
      // A live source: no records to drop, bad records keep their message's place; a broker
      // source is now after the batch's last message.
      if (t.broker !== undefined && b.to !== undefined) t.broker.set(b.partition ?? -1, { after: b.to });
      return b;
    }
    if (t.file !== undefined) {
      const id = t.file.tracker.id;
      if (id !== t.chunkId) {
        t.chunkId = id;
        t.chunkStart = { ...t.file.tracker.start };
        t.before = 0;
      } else if (t.seenBatch) t.before += t.lastLength;
    }
    t.seenBatch = true;
    t.lastLength = b.records.length;
    let records = b.records;
    let dropped = 0;
    if (t.pendingSkip > 0) {
      dropped = Math.min(t.pendingSkip, records.length);
      t.pendingSkip -= dropped;
      records = records.slice(dropped);
    }
    t.dropped = dropped;
    let bad = b.bad;
    if (bad !== undefined) {
      const lineBase = t.file?.lineBase ?? 0;
      const through = t.badThrough;
      const kept = [];
      for (const x of bad) {
        const line = x.line + lineBase;
        if (line <= through) continue; // reported before the checkpoint
        kept.push({ ...x, line, index: Math.max(0, x.index - dropped) });
        if (line > t.badThrough) t.badThrough = line;
      }
      bad = kept.length > 0 ? kept : undefined;
    }
    return bad !== undefined ? { records, bad, bytes: b.bytes } : { records, bytes: b.bytes };
  }

  private position(s: SourceState): SavedSource {
    const t = this.tracks[s.index]!;
    const common = {
      name: s.name,
      badThrough: t.badThrough,
      count: s.count,
      maxTime: Number.isFinite(s.clock.maxTime) ? s.clock.maxTime : null,
      watermark: Number.isFinite(s.clock.watermark) ? s.clock.watermark : null,
      ended: s.clock.watermark === Infinity,
    };
    if (s.live === true) return this.livePosition(s, t, common);
    if (t.file === undefined) return { ...common, kind: "items", skip: s.count };
    if (!t.seenBatch) return { ...common, kind: "file", offset: t.file.opened.offset, line: t.file.opened.line, skip: t.file.openedSkip };
    const consumed = Math.min(s.pos, s.recs.length);
    return { ...common, kind: "file", offset: t.chunkStart.offset, line: t.chunkStart.line, skip: t.before + t.dropped + consumed + t.pendingSkip };
  }

  /** A live source's SavedSource: its partitions' places (broker), idle state and clock. */
  private livePosition(s: SourceState, t: Track, common: Omit<SavedSource, "kind" | "skip">): SavedSource {
    const out: SavedSource = { ...common, kind: t.broker !== undefined ? "broker" : "live", skip: 0, badThrough: 0 };
    if (t.broker !== undefined) out.partitions = [...t.broker].sort((a, b) => a[0] - b[0]).map(([p, x]) => ({ p, ...x }));
    if (this.liveStarted) {
      out.started = true;
      const idle = s.idle;
      const num = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x : null);
      if (idle !== undefined) out.idle = { lastArrival: idle.lastArrival, since: num(idle.since), from: num(idle.from), given: num(idle.given) };
      if (s.clock instanceof PartitionedClock) out.clock = s.clock.snapshot();
    }
    return out;
  }

  /**
   * Writes a checkpoint: outputs flushed and handed to the OS first (their lengths then count
   * what the state produced), then the document. `finished`: the run completed (outputs closed).
   * Returns once the checkpoint is durable.
   */
  async take(finished: boolean): Promise<void> {
    await this.settle();
    const write = await this.cut(finished);
    while (write.step()) {}
    await this.settle();
  }

  /** The checkpoint being written while the run goes on (see `cut`), if any. */
  private writing: CheckpointWrite | undefined;
  /** A background write that failed: the next `between` throws it. */
  private failed: unknown;
  /** Checkpoints written while the run went on (`between`): how many, the longest the record
   *  loop waited for one (its cut and its steps, ms) and the longest one took to write (ms). */
  readonly live = { count: 0, stallMs: 0, writeMs: 0 };

  /** ReadHooks.between: one step of a checkpoint being written, or a checkpoint when one is due. */
  async between(): Promise<void> {
    if (this.failed !== undefined) throw this.failed;
    const w = this.writing;
    // The rows made so far go out before the loop spends a step on a checkpoint (live latency:
    // otherwise they wait for the next flush, §10).
    if (w !== undefined || this.preparing !== undefined) this.outputs!.flush();
    if (w !== undefined) {
      const at = this.base.now();
      const more = w.step();
      w.stall(this.base.now() - at);
      // Its file is being written: the storage's I/O completes on the event loop's turns.
      if (!more) await macrotask();
      return;
    }
    if (this.base.now() < this.next) return;
    // Stores ready themselves first (SlotColumns: buffers for copies on write), a step a batch.
    if (this.preparing === undefined) this.preparing = this.preparation();
    const prepare = this.preparing.shift();
    if (prepare !== undefined) {
      const at = this.base.now();
      prepare();
      this.live.stallMs = Math.max(this.live.stallMs, this.base.now() - at);
      return;
    }
    this.preparing = undefined;
    // Written while the run goes on — unless the run is stopping, `everyMs` is 0 (a checkpoint
    // after every batch: every batch boundary is one), or the read log cannot start anew at once
    // once it is durable (the steps logged meanwhile would go with the old log).
    const background = !this.suspended && this.everyMs !== 0 && (this.readLog === undefined || this.readLog.rotatesAtOnce);
    const at = this.base.now();
    const write = await this.cut(false, background);
    write.stall(this.base.now() - at);
    write.live = true;
    if (!background) {
      while (write.step()) {}
      await this.settle();
    } else write.pump();
  }

  /** Steps left before the next cut (see `between`); undefined: not begun. */
  private preparing: (() => void)[] | undefined;

  /** The steps of the graph's stores that prepare for a checkpoint (`prepareCheckpoint()`). */
  private preparation(): (() => void)[] {
    const g = this.graph as unknown as Record<string, unknown>;
    const steps: (() => void)[] = [];
    for (const node of this.program.state ?? []) {
      for (const m of node.members) {
        const v = g[m] as { prepareCheckpoint?: () => (() => void)[] } | null | undefined;
        if (v !== null && typeof v === "object" && typeof v.prepareCheckpoint === "function") steps.push(...v.prepareCheckpoint());
      }
    }
    return steps;
  }

  /** Waits for the checkpoint being written (all its steps run now) to be durable. */
  private async settle(): Promise<void> {
    const w = this.writing;
    if (w !== undefined) {
      while (w.step()) {}
      await w.done;
    }
    if (this.failed !== undefined) throw this.failed;
  }

  /**
   * The consistent cut of a checkpoint, taken between two batches: outputs flushed and handed to
   * the OS, then positions, lengths, counters and the state — its long columns copied, not yet
   * packed. What is left (packing, the text, its checksum, the write) runs in steps, each a few
   * ms of work, while the run goes on (`between` runs one per batch, a timer the rest when the
   * run waits for input); the record loop waits only for the cut (§12 "Pause").
   */
  private async cut(finished: boolean, background = false): Promise<CheckpointWrite> {
    const started = this.base.now();
    const outputs = this.outputs!;
    // The rows about to reach the sinks depend on the steps logged so far.
    this.readLog?.flush();
    if (background) this.readLog?.mark();
    if (!finished) {
      await outputs.flushAndDrain();
      for (const sink of this.sinks.values()) await sink.settled();
      // Rows a network sink has in flight are delivered before the checkpoint counts them.
      await outputs.settleSinks();
    }
    const packing = new Packing();
    const doc: CheckpointDoc = {
      format: "flowc-checkpoint",
      version: this.readLog !== undefined ? 2 : 1,
      runId: this.runId,
      seq: ++this.seq,
      time: this.base.wallClock !== undefined ? this.base.wallClock() : Date.now(),
      finished,
      program: this.program.file,
      fingerprint: fingerprintOf(this.program),
      sources: this.sources.map((s) => this.position(s)),
      sinks: [...this.sinks].map(([path, sink]) => ({ path, bytes: sink.bytes })),
      network: outputs.networkPositions(),
      counters: {
        out: Object.fromEntries(this.program.outputs.map((o, k) => [o.name, outputs.counts[k]!])),
        late: outputs.lateCount,
        bad: this.bad!.count,
      },
      state: this.snapshotState(packing),
    };
    const storage = this.options.storage;
    let file: Uint8Array[] | string | undefined;
    const steps = [...packing.steps, ...checkpointSteps(doc, packing, storage.writeBytes !== undefined, (f) => (file = f))];
    const write = new CheckpointWrite(steps, async () => {
      this.lastBytes = typeof file === "string" ? file.length : file!.reduce((n, p) => n + p.length, 0);
      try {
        if (typeof file === "string") await storage.write(file);
        else await storage.writeBytes!(file!);
      } catch (e) {
        throw new OutputError(`cannot write a checkpoint to ${this.options.storage.where}: ${(e as Error)?.message ?? String(e)}`);
      }
      // The read log starts anew after this checkpoint (a run that completed needs none).
      try {
        if (finished) await this.options.storage.readLog?.remove();
        else if (background) this.readLog?.rotateSince(doc.seq);
        else await this.readLog?.rotate(doc.seq);
      } catch (e) {
        throw new OutputError(`cannot write the read log in ${this.options.storage.where}: ${(e as Error)?.message ?? String(e)}`);
      }
      this.written++;
      this.lastMs = this.base.now() - started;
      if (write.live) {
        const l = this.live;
        l.count++;
        l.stallMs = Math.max(l.stallMs, write.longestStall);
        l.writeMs = Math.max(l.writeMs, this.lastMs);
      }
      const took = this.lastMs / 1000;
      const t = this.timing;
      CHECKPOINT_BUCKETS_S.forEach((le, i) => {
        if (took <= le) t.buckets[i]!++;
      });
      t.sumS += took;
      t.count++;
      t.lastSuccessS = doc.time / 1000;
      // A checkpoint that takes long (much state) is not repeated sooner than twice its duration,
      // so checkpoints never take more than a third of the time; everyMs 0 means after every batch.
      this.next = this.everyMs === 0 ? 0 : this.base.now() + Math.max(this.everyMs, 2 * (this.base.now() - started));
    });
    this.writing = write;
    write.done.then(
      () => {
        if (this.writing === write) this.writing = undefined;
      },
      (e) => {
        if (this.writing === write) this.writing = undefined;
        this.failed = e;
      },
    );
    return write;
  }
}

/**
 * The steps of one checkpoint's write (CheckpointRun.cut), then its asynchronous end (the
 * storage's write, the read log's rotation): `step` runs the next step, `pump` runs them on
 * timers while the run waits for input, `done` settles once the checkpoint is durable.
 */
class CheckpointWrite {
  private at = 0;
  private ended = false;
  longestStall = 0;
  /** Taken while the run went on (`between`), not at its end or stop. */
  live = false;
  private resolve!: () => void;
  private reject!: (e: unknown) => void;
  readonly done = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(
    private readonly steps: (() => void)[],
    private readonly end: () => Promise<void>,
  ) {
    // Observed here: a failure is reported through CheckpointRun.failed, not as unhandled.
    this.done.catch(() => {});
  }

  /** Runs the next step; false once none is left (the end has begun). */
  step(): boolean {
    if (this.ended) return false;
    if (this.at < this.steps.length) {
      try {
        this.steps[this.at++]!();
      } catch (e) {
        this.ended = true;
        this.reject(e);
        return false;
      }
      return true;
    }
    this.ended = true;
    this.end().then(this.resolve, this.reject);
    return false;
  }

  /** The record loop waited `ms` for this checkpoint. */
  stall(ms: number): void {
    if (ms > this.longestStall) this.longestStall = ms;
  }

  /** Runs the steps on the event loop's turns, one a turn, so a run waiting for input still writes. */
  pump(): void {
    const tick = () => {
      if (this.step()) void macrotask().then(tick);
    };
    void macrotask().then(tick);
  }
}
