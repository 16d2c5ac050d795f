// The driver: runs a compiled `Program` (contract.ts) over its connectors.
//
//   1. loads every table (last row per key wins);
//   2. opens every source and reads them — one source: batches straight into `graph.push`;
//      several: merged by event time, smallest next time first, ties to the source declared
//      first (LANGUAGE.md §6 "Deterministic replay");
//   3. keeps each source's watermark (largest event time read − delay, from every valid record,
//      before any stage: a SourceClock, source-clock.ts) and calls `graph.advance` when it rises,
//      and with +∞ when the source ends;
//   4. calls `graph.finish()` and flushes the outputs; reports the run summary.
//
// Bad input (§6) is reported as `FILE:LINE: message` on stderr (at most `maxBadMessages` lines,
// all of them counted and dead-lettered), or stops the run under `strict`.
//
// Everything environment-specific (files, stdio, TTY) goes through an `Env` (env.ts); on Node the
// default one is loaded from node.ts by a dynamic import, so this module stays browser-safe.

import type { ConnectorSpec, Format, GraphInstance, OutputSpec, Program, PullState, RunContext, Schema, SourceDecoders } from "./contract.js";
import { DecodeError, makeCsvDecoder, makeDecoder, makeLineDecoder } from "./decode.js";
import type { Env, OutputSink } from "./env.js";
import { makeCsvFormatter, makeFormatter, makeLineFormatter } from "./format.js";
import type { BadRecord, ReadBatch } from "./io/batch.js";
import { readCsv } from "./io/csv.js";
import { readJsonl } from "./io/jsonl.js";
import { readJsonlFast } from "./io/fast-jsonl.js";
import { readCsvFast } from "./io/fast-csv.js";
import { readLines } from "./io/lines.js";
import { SourceClock } from "./source-clock.js";

export type NexmarkConnector = Extract<ConnectorSpec, { kind: "nexmark" }>;
/** Makes the records of a `nexmark(...)` source (each one is decoded and validated). */
export type NexmarkFactory = (spec: NexmarkConnector) => Iterable<unknown> | AsyncIterable<unknown>;
/** What a `nexmark(...)` generator is asked for: the connector's parameters. */
export type NexmarkParams = Omit<NexmarkConnector, "kind">;
/**
 * A `nexmark(...)` generator that knows the type of its records (the stdlib's
 * `nexmarkGenerator`, stdlib/src/nexmark.ts): when the source's declared type accepts them as
 * they are, its arrays are pushed without validation.
 */
export interface NexmarkProvider {
  readonly schemas: { readonly [K in NexmarkConnector["eventKind"]]: Schema };
  /** The records one by one (decoded like JavaScript values). */
  events(spec: NexmarkParams): Iterable<unknown>;
  /** The same records in arrays (trusted). */
  batches(spec: NexmarkParams): Iterable<unknown[]>;
}

export interface RunOptions {
  /** Folder that relative connector paths resolve against (the .flow file's folder). Default ".". */
  baseDir?: string;
  /** Files, stdio and clock. Default: the Node environment (node.ts) when running on Node. */
  env?: Env;
  /** Replaces the connector of a source (or table) by name with these values, decoded and
   *  validated like JSON values (times as ISO strings or epoch ms). For embedding. */
  sourceOverrides?: Record<string, AsyncIterable<unknown> | Iterable<unknown>>;
  /** Writes an output to this file instead of its connector (CLI `--out NAME=PATH`). The format
   *  follows the extension (.csv, .jsonl/.ndjson), else the output's own format. */
  outOverrides?: Record<string, string>;
  /** Hands an output's rows to a callback instead of writing them (nothing is printed for it). */
  onRow?: Record<string, (row: unknown) => void>;
  /** Dead-letter file: one JSON line per bad input record (CLI `--dead-letter F`). */
  deadLetter?: string;
  /** Late-record file: each record dropped as late, as its JSON (CLI `--late F`). */
  lateFile?: string;
  /** Stop at the first bad input record with a `StrictInputError` (CLI `--strict`, exit 65). */
  strict?: boolean;
  /** Write the run summary to stderr (default true). */
  summary?: boolean;
  /** Show a progress line on stderr (default: when stderr is a terminal and summary is on). */
  progress?: boolean;
  /** Bad-record messages printed before "... N more bad records" (default 100). */
  maxBadMessages?: number;
  /** Generator for `nexmark(...)` sources (default: the one registered with registerNexmark —
   *  on Node, node.ts registers the stdlib's; without one such a source fails with InputError). */
  nexmark?: NexmarkFactory | NexmarkProvider;
  /** Aborting ends the input early: the run then finishes as if every source had ended
   *  (windows fire, `emit final` outputs are written). */
  signal?: AbortSignal;
  /** Files the run must never write (absolute paths), with what they are — e.g. the .flow file
   *  itself (`flowc run`). Outputs naming one of these, or an input, are refused (UsageError). */
  protectedPaths?: readonly { path: string; what: string }[];
}

export interface RunSummary {
  /** Valid records read, per source name. */
  in: Record<string, number>;
  /** Rows that reached each output, per output name. */
  out: Record<string, number>;
  totalIn: number;
  totalOut: number;
  late: number;
  bad: number;
  elapsedMs: number;
  eventsPerSec: number;
  /** The run was stopped early by `signal` (SIGINT/SIGTERM): its inputs were cut short. */
  interrupted?: boolean;
}

/** An error that decides the process exit code. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** `strict` and a bad input record: exit 65 (EX_DATAERR). The record was already reported. */
export class StrictInputError extends RunError {
  override name = "StrictInputError";
  constructor(
    readonly source: string,
    readonly file: string,
    readonly line: number,
    readonly error: string,
  ) {
    super(`${file}:${line}: ${error}`, 65);
  }
}

/** An input cannot be opened or read: exit 66 (EX_NOINPUT). */
export class InputError extends RunError {
  override name = "InputError";
  constructor(message: string) {
    super(message, 66);
  }
}

/** An output cannot be created: exit 73 (EX_CANTCREAT). */
export class OutputError extends RunError {
  override name = "OutputError";
  constructor(message: string) {
    super(message, 73);
  }
}

/** A CSV header lacks a declared non-optional column: exit 65 (EX_DATAERR), before any row. */
export class InputFormatError extends RunError {
  override name = "InputFormatError";
  constructor(message: string) {
    super(message, 65);
  }
}

/** Options that do not fit the program (e.g. `--out` naming no output): exit 2. */
export class UsageError extends RunError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}

// The runtime does not import the stdlib: the `nexmark(...)` generator is handed in, per run
// (RunOptions.nexmark) or once for all runs (registerNexmark). node.ts — the Node entry that
// `flowc run`, built programs and the unbundled default environment load — registers the
// stdlib's; a browser host registers it itself (playground/src/runtime.ts).
let registeredNexmark: NexmarkFactory | NexmarkProvider | undefined;
/** Registers the generator used for `nexmark(...)` sources when RunOptions.nexmark is not given. */
export function registerNexmark(factory: NexmarkFactory | NexmarkProvider | undefined): void {
  registeredNexmark = factory;
}

let defaultEnvFactory: (() => Env | Promise<Env>) | undefined;
/**
 * Sets the environment `runProgram` uses when `options.env` is not given. node.ts registers the
 * Node environment when it is loaded, so any Node entry point (runMain, a built program) has it.
 */
export function setDefaultEnv(factory: (() => Env | Promise<Env>) | undefined): void {
  defaultEnvFactory = factory;
}

const isNode = (): boolean => typeof (globalThis as any).process?.versions?.node === "string";

async function defaultEnv(): Promise<Env> {
  if (defaultEnvFactory) return defaultEnvFactory();
  if (isNode()) {
    // Unbundled use on Node (tests, tsx): load node.ts. The specifier is a variable so that
    // bundlers do not follow it — a browser bundle must not pull in node: modules.
    try {
      const spec = "./node.js";
      const node = await import(/* @vite-ignore */ spec);
      await node.loadNodeModules();
      return node.createNodeEnv();
    } catch {
      // fall through to the error below
    }
  }
  throw new Error(
    "runProgram: no options.env and no default environment (on Node, import runtime/src/node.ts, which registers one; elsewhere pass createMemoryEnv() or your own Env)",
  );
}

// ---------------------------------------------------------------------------------------------
// Output writers

/** A Node error as a short phrase: `no space left on device (ENOSPC)`. */
function errorText(e: unknown): string {
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err?.code === "string" ? err.code : undefined;
  const known: Record<string, string> = {
    ENOSPC: "no space left on device",
    EDQUOT: "disk quota exceeded",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EISDIR: "is a directory",
    ENOENT: "no such file or directory",
    ENOTDIR: "a parent is not a directory",
    EROFS: "read-only file system",
    EFBIG: "file too large",
    EIO: "input/output error",
    EPIPE: "broken pipe",
    EEXIST: "a parent folder is a file",
  };
  if (code !== undefined && Object.hasOwn(known, code)) return `${known[code]} (${code})`;
  const message = typeof err?.message === "string" ? err.message : String(e);
  return message.split("\n")[0]!;
}

/** Buffers output text and hands it to the sink in large pieces; notes when the sink is full.
 *  A failing sink (disk full, ...) becomes an OutputError naming `label` (exit 73). */
class BufferedWriter {
  private buf = "";
  needsDrain = false;
  constructor(
    readonly sink: OutputSink,
    readonly label: string,
  ) {}

  private fail(e: unknown): never {
    if (e instanceof RunError) throw e;
    throw new OutputError(`cannot write ${this.label}: ${errorText(e)}`);
  }

  get pending(): boolean {
    return this.buf !== "";
  }

  write(text: string): void {
    this.buf += text;
    if (this.buf.length >= 65536) this.flush();
  }

  flush(): void {
    if (this.buf === "") return;
    const text = this.buf;
    this.buf = "";
    try {
      if (!this.sink.write(text)) this.needsDrain = true;
    } catch (e) {
      this.fail(e);
    }
  }

  async drain(): Promise<void> {
    this.needsDrain = false;
    try {
      await this.sink.drain();
    } catch (e) {
      this.fail(e);
    }
  }

  async close(): Promise<void> {
    this.flush();
    try {
      await this.sink.close();
    } catch (e) {
      this.fail(e);
    }
  }
}

/** `map[key]` when `key` is map's own property (never an inherited `constructor`, `__proto__`). */
function own<T>(map: Record<string, T> | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

function formatOf(path: string, fallback: Format | undefined): Format {
  const p = path.toLowerCase();
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".jsonl") || p.endsWith(".ndjson")) return "jsonl";
  return fallback ?? "jsonl";
}

/** The text of one row of `schema` in `format`, plus the header line a CSV file starts with. */
function rowFormatter(schema: Schema, format: Format): { header?: string; row: (v: unknown) => string } {
  if (format === "csv") {
    const csv = makeCsvFormatter(schema);
    return { header: csv.header, row: csv.row };
  }
  if (format === "lines") return { row: makeLineFormatter(schema) };
  return { row: makeFormatter(schema) };
}

// ---------------------------------------------------------------------------------------------
// Inputs

interface Input {
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
}

/** The items of a synchronous iterable and the general decoder behind the generated one. */
interface PullSource {
  iterable: Iterable<unknown>;
  general: (v: unknown) => unknown;
}

/** `pullBatch` is offered a source's iterable when it is synchronous and has a generated decoder. */
function pullSource(src: Iterable<unknown> | AsyncIterable<unknown>, general: (v: unknown) => unknown, decode: SourceDecoders | undefined): PullSource | undefined {
  if (decode?.value === undefined || typeof (src as any)[Symbol.asyncIterator] === "function") return undefined;
  return { iterable: src as Iterable<unknown>, general };
}

/** How long a run may go on without letting the event loop run other tasks (see afterBatch). */
const YIELD_MS = 20;

/** Resolves after the event loop has run other tasks (timers, I/O, messages). */
const macrotask: () => Promise<void> = (() => {
  const g = globalThis as { setImmediate?: (f: () => void) => unknown };
  if (typeof g.setImmediate === "function") return () => new Promise<void>((resolve) => g.setImmediate!(resolve));
  if (typeof MessageChannel === "function") {
    // Browsers: a message is a task without setTimeout's 4 ms clamp.
    const channel = new MessageChannel();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return () => new Promise<void>((resolve) => {
      waiting.push(resolve);
      channel.port2.postMessage(0);
    });
  }
  return () => new Promise<void>((resolve) => setTimeout(resolve, 0));
})();

/** Items a generated pull loop takes between two looks at stop requests, outputs and progress. */
const PULL_BATCH = 4096;

const ITERABLE_BATCH = 1024;

function rawText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

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
      records.push(general(v));
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

// ---------------------------------------------------------------------------------------------

interface SourceState {
  index: number;
  name: string;
  label: string;
  batches: AsyncIterator<ReadBatch>;
  size?: number;
  bytes: number;
  /** Event-time field; undefined → arrival time (`batchTime`). */
  field: string | undefined;
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
}

const compact = (n: number): string =>
  n < 1000 ? String(Math.round(n)) : n < 1e6 ? (n / 1e3).toFixed(1) + "k" : n < 1e9 ? (n / 1e6).toFixed(1) + "M" : (n / 1e9).toFixed(1) + "G";
const bytesText = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(0)} KB` : n < 1 << 30 ? `${(n / (1 << 20)).toFixed(0)} MB` : `${(n / (1 << 30)).toFixed(2)} GB`;

/** The one-line run summary, e.g. `flowc: 25 in (bids 25), 12 out, 3 late, 0 bad, 4 ms, 6.2k events/s`. */
export function summaryLine(s: RunSummary): string {
  const ins = Object.entries(s.in);
  const outs = Object.entries(s.out);
  const inText = `${s.totalIn} in` + (ins.length > 0 ? ` (${ins.map(([k, v]) => `${k} ${v}`).join(", ")})` : "");
  const outText = `${s.totalOut} out` + (outs.length > 1 ? ` (${outs.map(([k, v]) => `${k} ${v}`).join(", ")})` : "");
  const ms = s.elapsedMs < 10_000 ? `${Math.round(s.elapsedMs)} ms` : `${(s.elapsedMs / 1000).toFixed(1)} s`;
  return `flowc: ${s.interrupted ? "interrupted, " : ""}${inText}, ${outText}, ${s.late} late, ${s.bad} bad, ${ms}, ${compact(s.eventsPerSec)} events/s`;
}

/**
 * When more than a tenth of the records read were dropped as late, a warning that says so and
 * names the event-time sources whose watermark could be larger; else undefined.
 */
export function lateWarning(s: RunSummary, program: Pick<Program, "sources">): string | undefined {
  if (s.totalIn === 0 || s.late * 10 <= s.totalIn) return undefined;
  const pct = Math.round((100 * s.late) / s.totalIn);
  const timed = program.sources.filter((src) => src.eventTime !== undefined).map((src) => src.name);
  const where = timed.length === 0 ? "" : `; consider a larger watermark on source${timed.length > 1 ? "s" : ""} ${timed.join(", ")}`;
  return `flowc: warning: ${pct}% of records were late (dropped)${where}`;
}

/** `a/./b/../c` → `a/c` (no file system: for environments without `fileKey`). */
function normalizePath(path: string): string {
  const abs = path.startsWith("/");
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out.at(-1) !== "..") out.pop();
    else if (part !== ".." || !abs) out.push(part);
  }
  return (abs ? "/" : "") + out.join("/");
}

/**
 * Refuses (UsageError, before any file is opened) an output file that is also an input, a
 * protected file (the program itself) or — when a command-line flag names it — another output:
 * opening it for writing would truncate it before it is read, or mix two outputs. Files are
 * compared by the environment's `fileKey` (device and inode, or the real path of a file that does
 * not exist yet), else by resolved path. Devices such as /dev/null are never compared.
 */
function checkOutputPaths(program: Program, options: RunOptions, env: Env, baseDir: string): void {
  const key = (path: string): string | undefined => {
    const resolved = env.resolvePath(baseDir, path);
    return env.fileKey !== undefined ? env.fileKey(resolved) : normalizePath(resolved);
  };
  const reads = new Map<string, string>();
  const read = (path: string, what: string) => {
    const k = key(path);
    if (k !== undefined && !reads.has(k)) reads.set(k, what);
  };
  for (const t of program.tables) if (t.connector.kind === "file" && own(options.sourceOverrides, t.name) === undefined) read(t.connector.path, `the input of table ${t.name} (${t.connector.path})`);
  for (const s of program.sources) if (s.connector.kind === "file" && own(options.sourceOverrides, s.name) === undefined) read(s.connector.path, `the input of source ${s.name} (${s.connector.path})`);
  for (const p of options.protectedPaths ?? []) read(p.path, p.what);

  const writes: { what: string; path: string; flag: boolean }[] = [];
  for (const o of program.outputs) {
    if (own(options.onRow, o.name) !== undefined) continue;
    const override = own(options.outOverrides, o.name);
    if (override !== undefined) writes.push({ what: `--out ${o.name}=${override}`, path: override, flag: true });
    else if (o.connector?.kind === "file") writes.push({ what: `output ${o.name} (${o.connector.path})`, path: o.connector.path, flag: false });
  }
  if (options.deadLetter !== undefined) writes.push({ what: `--dead-letter ${options.deadLetter}`, path: options.deadLetter, flag: true });
  if (options.lateFile !== undefined) writes.push({ what: `--late ${options.lateFile}`, path: options.lateFile, flag: true });

  const seen = new Map<string, { what: string; flag: boolean }>();
  for (const w of writes) {
    const k = key(w.path);
    if (k === undefined) continue;
    const r = reads.get(k);
    if (r !== undefined) throw new UsageError(`${w.what} names ${r}; writing it would erase it (refusing)`);
    const prev = seen.get(k);
    if (prev !== undefined && (prev.flag || w.flag)) throw new UsageError(`${prev.what} and ${w.what} name the same file (refusing)`);
    if (prev === undefined) seen.set(k, w);
  }
}

/** Runs `program` to the end of its inputs. Rejects with a `RunError` subclass for bad input
 *  under `strict`, unreadable inputs, unwritable outputs and unknown output names. */
export async function runProgram(program: Program, options: RunOptions = {}): Promise<RunSummary> {
  const env = options.env ?? (await defaultEnv());
  const started = env.now();
  const baseDir = options.baseDir ?? ".";
  const strict = options.strict === true;
  const showSummary = options.summary !== false;
  const overrides = options.sourceOverrides ?? {};

  // --- outputs -------------------------------------------------------------------------------
  const outputNames = new Set(program.outputs.map((o) => o.name));
  for (const [kind, map] of [["--out", options.outOverrides], ["onRow", options.onRow]] as const) {
    for (const name of Object.keys(map ?? {})) {
      if (!outputNames.has(name)) {
        throw new UsageError(`${kind}: the program has no output named "${name}" (outputs: ${[...outputNames].join(", ") || "none"})`);
      }
    }
  }
  for (const name of Object.keys(overrides)) {
    if (!program.sources.some((s) => s.name === name) && !program.tables.some((t) => t.name === name)) {
      throw new UsageError(`no source or table named "${name}" to override`);
    }
  }
  checkOutputPaths(program, options, env, baseDir);

  const writers: BufferedWriter[] = [];
  const closeAll = async (): Promise<void> => {
    for (const w of writers) w.flush();
    await Promise.all(writers.map((w) => w.close()));
  };
  const fileWriters = new Map<string, BufferedWriter>();
  let stdoutWriter: BufferedWriter | undefined;
  /** Opens (once per file) the output file `path`; `label` names it in messages. */
  const openFile = async (path: string, label: string): Promise<BufferedWriter> => {
    const resolved = env.resolvePath(baseDir, path);
    let w = fileWriters.get(resolved);
    if (w === undefined) {
      let sink: OutputSink;
      try {
        sink = await env.openOutput(resolved);
      } catch (e) {
        await closeAll().catch(() => {}); // the outputs opened so far
        throw new OutputError(`cannot write ${label} to ${path}: ${errorText(e)}`);
      }
      w = new BufferedWriter(sink, `${label} to ${path}`);
      fileWriters.set(resolved, w);
      writers.push(w);
    }
    return w;
  };

  type Target = { kind: "callback"; fn: (row: unknown) => void } | { kind: "stdout"; format: Format } | { kind: "file"; path: string; format: Format };
  const targetOf = (o: OutputSpec): Target => {
    const cb = own(options.onRow, o.name);
    if (cb) return { kind: "callback", fn: cb };
    const override = own(options.outOverrides, o.name);
    if (override !== undefined) return { kind: "file", path: override, format: formatOf(override, o.connector?.format) };
    if (o.connector?.kind === "file") return { kind: "file", path: o.connector.path, format: o.connector.format };
    return { kind: "stdout", format: o.connector?.format ?? "jsonl" };
  };
  const targets = program.outputs.map(targetOf);
  const stdoutCount = targets.filter((t) => t.kind === "stdout").length;
  const outCounts = program.outputs.map(() => 0);
  const emit: ((row: unknown) => void)[] = [];
  for (let k = 0; k < program.outputs.length; k++) {
    const o = program.outputs[k]!;
    const t = targets[k]!;
    if (t.kind === "callback") {
      const fn = t.fn;
      emit.push((row) => {
        outCounts[k]!++;
        fn(row);
      });
      continue;
    }
    let w: BufferedWriter;
    if (t.kind === "stdout") {
      if (stdoutWriter === undefined) {
        stdoutWriter = new BufferedWriter(env.stdout, "stdout");
        writers.push(stdoutWriter);
      }
      w = stdoutWriter;
    } else {
      w = await openFile(t.path, `output ${o.name}`);
    }
    const fmt = rowFormatter(o.schema, t.format);
    // Several outputs on stdout: each line is `NAME<TAB>row` (§7).
    const prefix = t.kind === "stdout" && stdoutCount > 1 ? o.name + "\t" : "";
    if (fmt.header !== undefined) w.write(prefix + fmt.header + "\n");
    const row = fmt.row;
    emit.push(
      prefix === ""
        ? (r) => {
            outCounts[k]!++;
            w.write(row(r) + "\n");
          }
        : (r) => {
            outCounts[k]!++;
            w.write(prefix + row(r) + "\n");
          },
    );
  }

  // --- diagnostics ---------------------------------------------------------------------------
  const progressOn = options.progress ?? (showSummary && env.stderrIsTTY === true);
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) {
      env.stderr("\r\x1b[K");
      progressShown = false;
    }
  };
  const deadLetter = options.deadLetter !== undefined ? await openFile(options.deadLetter, "the dead-letter file") : undefined;
  const maxBad = options.maxBadMessages ?? 100;
  let badCount = 0;
  let badPrinted = 0;
  const reportBad = (source: string, file: string, b: BadRecord): void => {
    badCount++;
    if (badPrinted < maxBad) {
      clearProgress();
      env.stderr(`${file}:${b.line}: ${b.error}\n`);
      badPrinted++;
    }
    deadLetter?.write(JSON.stringify({ source, file, line: b.line, error: b.error, raw: b.raw }) + "\n");
  };

  let lateCount = 0;
  const lateWriter = options.lateFile !== undefined ? await openFile(options.lateFile, "the late-record file") : undefined;
  const lateFormatters = new WeakMap<Schema, (v: unknown) => string>();
  const late = (row: unknown, schema: Schema): void => {
    lateCount++;
    if (lateWriter === undefined) return;
    let f = lateFormatters.get(schema);
    if (f === undefined) lateFormatters.set(schema, (f = makeFormatter(schema)));
    lateWriter.write(f(row) + "\n");
  };


  // --- opening inputs ------------------------------------------------------------------------
  const openConnector = async (name: string, schema: Schema, connector: ConnectorSpec, keep: readonly string[] | undefined, decode?: SourceDecoders): Promise<Input> => {
    const override = own(overrides, name);
    if (override !== undefined) {
      const general = makeDecoder(schema, keep);
      const items = pullSource(override, general, decode);
      return { label: `<${name}>`, batches: iterableBatches(override, general, decode?.value), ...(items && { items }) };
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
        return makeCsvDecoder(schema, header, keep);
      };
      const batches =
        format === "csv"
          ? decode?.csv !== undefined
            ? readCsvFast(chunks, decode.csv, rowDecoder)
            : readCsv(chunks, rowDecoder)
          : format === "lines"
            ? readLines(chunks, makeLineDecoder(schema))
            : decode?.jsonl !== undefined
              ? readJsonlFast(chunks, decode.jsonl, makeDecoder(schema, keep))
              : readJsonl(chunks, makeDecoder(schema, keep));
      return size === undefined ? { label, batches } : { label, batches, size };
    };
    switch (connector.kind) {
      case "file": {
        let src;
        try {
          src = await env.openInput(env.resolvePath(baseDir, connector.path));
        } catch (e) {
          throw new InputError(`cannot read ${connector.path}: ${(e as Error).message}`);
        }
        return { ...fromBytes(connector.path, src.chunks, connector.format, src.size), ...(src.size === undefined && { live: true }) };
      }
      case "stdin":
        return { ...fromBytes("<stdin>", env.stdin().chunks, connector.format), live: true };
      case "range":
        return { label: `<${name}>`, batches: rangeBatches(connector.from, connector.to), range: { from: connector.from, to: connector.to } };
      case "iterable": {
        const general = makeDecoder(schema, keep);
        const items = pullSource(connector.iterable, general, decode);
        return { label: `<${name}>`, batches: iterableBatches(connector.iterable, general, decode?.value), ...(items && { items }) };
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
        if (schemaAccepts(schema, gen.schemas[connector.eventKind])) {
          return { label: `<${name}>`, batches: arrayBatches(gen.batches(spec)) };
        }
        return { label: `<${name}>`, batches: iterableBatches(gen.events(spec), makeDecoder(schema, keep)) };
      }
    }
  };

  // Aborting ends a pending read at once. (Not `Promise.race` with one long-lived abort promise:
  // every race leaves a reaction on it that keeps its batch reachable until the run ends.)
  const abortWaiters = new Set<(r: IteratorResult<ReadBatch>) => void>();
  options.signal?.addEventListener("abort", () => {
    for (const w of abortWaiters) w({ done: true, value: undefined });
    abortWaiters.clear();
  }, { once: true });
  // When stdout's reader goes away (`| head`) the run stops — unless it also writes files (or
  // hands rows to callbacks): those must be complete, so it goes on, dropping stdout's rows.
  const onlyStdout = writers.every((w) => w === stdoutWriter) && !targets.some((t) => t.kind === "callback");
  const interrupted = (): boolean => options.signal?.aborted === true;
  const stopped = (): boolean => interrupted() || (onlyStdout && env.stdout.broken === true);
  const nextBatch = (it: AsyncIterator<ReadBatch>): Promise<IteratorResult<ReadBatch>> => {
    const signal = options.signal;
    if (signal === undefined) return it.next();
    if (signal.aborted) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      abortWaiters.add(resolve);
      it.next().then(
        (r) => (abortWaiters.delete(resolve), resolve(r)),
        (e) => (abortWaiters.delete(resolve), reject(e)),
      );
    });
  };

  const sources: SourceState[] = [];
  try {
    // --- tables --------------------------------------------------------------------------------
    const tables: Map<unknown, unknown>[] = [];
    for (const t of program.tables) {
      const input = await openConnector(t.name, t.schema, t.connector, undefined);
      const map = new Map<unknown, unknown>();
      const key = t.key;
      for (;;) {
        const r = await input.batches.next();
        if (r.done) break;
        const b = r.value;
        const recs = b.records as any[];
        if (b.bad) {
          for (const bad of b.bad) {
            reportBad(t.name, input.label, bad);
            if (strict) {
              for (let j = 0; j < bad.index; j++) map.set(recs[j][key], recs[j]);
              throw new StrictInputError(t.name, input.label, bad.line, bad.error);
            }
          }
        }
        for (let j = 0; j < recs.length; j++) map.set(recs[j][key], recs[j]);
      }
      tables.push(map);
    }

    // A built-in that fails while a stage makes a row from its state drops that row, reported
    // like a failing record (never the firing of the window it belongs to).
    const failedRow = (e: unknown, where: string): void => {
      if (!(e instanceof Error) || e.name !== "FlowRuntimeError") throw e;
      const error = `${where}: ${e.message}`;
      badCount++;
      if (badPrinted < maxBad) {
        clearProgress();
        env.stderr(`${error}\n`);
        badPrinted++;
      }
      if (strict) throw new StrictInputError("", where, 0, error);
    };
    const ctx: RunContext = { emit, late, tables, failed: failedRow };
    const g = program.create(ctx);

    // --- sources -------------------------------------------------------------------------------
    for (let i = 0; i < program.sources.length; i++) {
      const spec = program.sources[i]!;
      const et = spec.eventTime;
      // With --late, records are decoded whole: a late record is written as its whole JSON
      // record, not just the fields the program reads (projection pushdown is an optimization).
      const whole = options.lateFile !== undefined;
      let keep = whole ? undefined : spec.keep;
      if (et !== undefined) {
        if (spec.schema.kind !== "record" || !spec.schema.fields.some((f) => f.name === et.field)) {
          throw new Error(`source ${spec.name}: the event-time field "${et.field}" is not a field of its type`);
        }
        // The driver reads the event time from the record, so it must be materialised.
        if (keep !== undefined && !keep.includes(et.field)) keep = [...keep, et.field];
      }
      const input = await openConnector(spec.name, spec.schema, spec.connector, keep, whole ? undefined : spec.decode);
      const s: SourceState = {
        index: i,
        name: spec.name,
        label: input.label,
        batches: input.batches,
        bytes: 0,
        field: et?.field,
        clock: new SourceClock(et?.delayMs ?? 0),
        recs: [],
        pos: 0,
        batchTime: 0,
        count: 0,
      };
      if (input.size !== undefined) s.size = input.size;
      if (input.range !== undefined) s.range = input.range;
      if (input.items !== undefined) s.items = input.items;
      if (input.live === true) s.live = true;
      sources.push(s);
    }

    // --- progress ------------------------------------------------------------------------------
    let lastProgress = started;
    const showProgress = (now: number): void => {
      lastProgress = now;
      let read = 0;
      let total = 0;
      let n = 0;
      for (const s of sources) {
        n += s.count;
        if (s.size !== undefined) {
          read += s.bytes;
          total += s.size;
        }
      }
      const rate = n / Math.max((now - started) / 1000, 1e-3);
      const part = total > 0 ? `${bytesText(read)} of ${bytesText(total)} (${Math.floor((100 * read) / total)}%), ` : `${compact(n)} events, `;
      env.stderr(`\r\x1b[Kflowc: ${part}${compact(rate)} events/s`);
      progressShown = true;
    };

    /** Between batches: wait for full outputs to drain; update the progress line. */
    // A source that never waits (a synchronous iterable, a generator) would run on microtasks
    // alone: every YIELD_MS the run lets timers and I/O in, so an abort (a timeout, Ctrl-C) lands.
    let lastYield = env.now();
    const afterBatch = async (): Promise<void> => {
      for (const w of writers) if (w.needsDrain) await w.drain();
      const now = env.now();
      if (progressOn && now - lastProgress >= 250) showProgress(now);
      if (now - lastYield >= YIELD_MS) {
        await macrotask();
        lastYield = env.now();
      }
    };

    /** Loads the source's next non-empty batch; false when it has ended. */
    const refill = async (s: SourceState): Promise<boolean> => {
      for (;;) {
        if (s.failAfter !== undefined) {
          const b = s.failAfter;
          throw new StrictInputError(s.name, s.label, b.line, b.error);
        }
        if (stopped()) return false;
        if (s.live) {
          // About to wait for input: what the records so far produced goes out now (§10).
          for (const w of writers) if (w.pending) w.flush();
          for (const w of writers) if (w.needsDrain) await w.drain();
        }
        const r = await nextBatch(s.batches);
        if (r.done) return false;
        const b = r.value;
        s.bytes = b.bytes;
        let recs = b.records;
        if (b.bad !== undefined) {
          if (strict) {
            // Push the good records before the first bad one, then stop (see above).
            const first = b.bad[0]!;
            reportBad(s.name, s.label, first);
            recs = recs.slice(0, first.index);
            s.failAfter = first;
          } else {
            for (const bad of b.bad) reportBad(s.name, s.label, bad);
          }
        }
        s.recs = recs;
        s.pos = 0;
        if (s.field === undefined) s.batchTime = Date.now();
        if (recs.length > 0) return true;
      }
    };

    // A built-in that fails on one record (division by zero, a bad regex, a time out of range)
    // drops that record, reported like bad input; the run goes on (or stops under --strict).
    const failed: RecordFailure = (s, ordinal, record, e) => {
      if (!(e instanceof Error) || e.name !== "FlowRuntimeError") throw e;
      const error = `record ${ordinal}: ${e.message}`;
      badCount++;
      if (badPrinted < maxBad) {
        clearProgress();
        env.stderr(`${s.label}: ${error}\n`);
        badPrinted++;
      }
      let raw: string;
      try {
        raw = JSON.stringify(record) ?? String(record);
      } catch {
        raw = String(record);
      }
      deadLetter?.write(JSON.stringify({ source: s.name, file: s.label, line: null, error, raw }) + "\n");
      if (options.strict) throw new StrictInputError(s.name, s.label, 0, error);
    };
    if (sources.length === 1 && sources[0]!.range !== undefined) {
      await runRange(g, sources[0]!, stopped, afterBatch, failed);
    } else if (sources.length === 1 && sources[0]!.items !== undefined && hasPullLoop(g, sources[0]!.index)) {
      const badItem = (s: SourceState, b: BadRecord): void => {
        reportBad(s.name, s.label, b);
        if (strict) throw new StrictInputError(s.name, s.label, b.line, b.error);
      };
      await runPull(g, sources[0]!, stopped, afterBatch, badItem);
    } else if (sources.length === 1) {
      await runSingle(g, sources[0]!, refill, afterBatch, failed);
    } else if (sources.length > 1) {
      await runMerged(g, sources, refill, afterBatch, failed);
    }
    g.finish();
    clearProgress();
  } catch (e) {
    clearProgress();
    // Whatever was emitted before the failure is still written (e.g. before a strict stop).
    await closeAll().catch(() => {});
    for (const s of sources) void s.batches.return?.(undefined)?.catch(() => {});
    throw e;
  }
  await closeAll();

  const elapsedMs = env.now() - started;
  const summary: RunSummary = {
    in: Object.fromEntries(sources.map((s) => [s.name, s.count])),
    out: Object.fromEntries(program.outputs.map((o, k) => [o.name, outCounts[k]!])),
    totalIn: sources.reduce((a, s) => a + s.count, 0),
    totalOut: outCounts.reduce((a, n) => a + n, 0),
    late: lateCount,
    bad: badCount,
    elapsedMs,
    eventsPerSec: 0,
  };
  summary.eventsPerSec = summary.totalIn / Math.max(elapsedMs / 1000, 1e-3);
  if (interrupted()) summary.interrupted = true;
  if (badCount > badPrinted) env.stderr(`flowc: ... ${badCount - badPrinted} more bad records\n`);
  if (showSummary) {
    env.stderr(summaryLine(summary) + "\n");
    const warning = lateWarning(summary, program);
    if (warning !== undefined) env.stderr(warning + "\n");
  }
  return summary;
}

type Refill = (s: SourceState) => Promise<boolean>;
/** A record made the program throw; `ordinal` counts the source's records from 1. */
type RecordFailure = (s: SourceState, ordinal: number, record: unknown, error: unknown) => void;

/**
 * One `range(from, to)` source: its integers straight into the graph, in blocks of
 * ITERABLE_BATCH (the arrival time of a block is read once, as for a batch), no arrays.
 */
async function runRange(graph: GraphInstance, s: SourceState, stopped: () => boolean, afterBatch: () => Promise<void>, failed: RecordFailure): Promise<void> {
  const i = s.index;
  const push = graph.push[i]!;
  const { from, to } = s.range!;
  // A graph with a generated loop for this source (an empty probe says whether it has one).
  const fused = graph.pushRange?.(i, from, from, 0) === true;
  const block = fused ? 1 << 16 : 4096;
  for (let a = from; a < to; ) {
    if (stopped()) break;
    const b = Math.min(to, a + block);
    const t = Date.now();
    if (fused) graph.pushRange!(i, a, b, t);
    else {
      for (let x = a; x < b; x++) {
        try {
          push(x, t);
        } catch (e) {
          failed(s, s.count + (x - a) + 1, x, e);
        }
      }
    }
    if (s.clock.observe(t)) graph.advance(i, s.clock.watermark);
    s.count += b - a;
    a = b;
    await afterBatch();
  }
  graph.advance(i, s.clock.end());
}

const noItems: Iterator<unknown> = { next: () => ({ done: true, value: undefined }) };

/** True when the graph has a generated pull loop for source `i` (an empty probe says). */
function hasPullLoop(graph: GraphInstance, i: number): boolean {
  const st: PullState = { maxTime: -Infinity, count: 0, done: false };
  return graph.pullBatch?.(i, noItems, 0, 0, st, () => undefined) === true;
}

/**
 * One source given as a synchronous iterable, pulled by the graph's generated loop: items go from
 * the iterator through the decoder and the stages without being stored in a batch.
 */
async function runPull(graph: GraphInstance, s: SourceState, stopped: () => boolean, afterBatch: () => Promise<void>, badItem: (s: SourceState, b: BadRecord) => void): Promise<void> {
  const i = s.index;
  const { iterable, general } = s.items!;
  const it = iterable[Symbol.iterator]();
  // The generated loop keeps the largest time (its watermark step mirrors SourceClock.observe).
  const st: PullState = { maxTime: s.clock.maxTime, count: 0, done: false };
  let bad = 0;
  const slow = (v: unknown, k: number): unknown => {
    try {
      return general(v);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      bad++;
      badItem(s, { line: st.count + k + 1, raw: rawText(v), error: e.message, index: 0 });
      return undefined;
    }
  };
  try {
    while (!st.done && !stopped()) {
      graph.pullBatch!(i, it, PULL_BATCH, Date.now(), st, slow);
      s.clock.maxTime = st.maxTime;
      s.count = st.count - bad; // records in: the good ones
      await afterBatch();
    }
  } finally {
    if (!st.done) it.return?.();
  }
  graph.advance(i, s.clock.end());
}

/** One source: every batch straight into the graph. */
async function runSingle(graph: GraphInstance, s: SourceState, refill: Refill, afterBatch: () => Promise<void>, failed: RecordFailure): Promise<void> {
  const i = s.index;
  const push = graph.push[i]!;
  const field = s.field;
  const clock = s.clock;
  // A graph with a generated batch loop for this source (an empty probe says whether it has one).
  const batch = graph.pushBatch?.(i, [], -Infinity, -Infinity);
  const fused = batch !== undefined && !Number.isNaN(batch);
  while (await refill(s)) {
    const recs = s.recs;
    const n = recs.length;
    if (fused) {
      // The generated loop mirrors SourceClock.observe with the largest time handed in and out.
      clock.maxTime = graph.pushBatch!(i, recs, s.batchTime, clock.maxTime);
    } else if (field !== undefined) {
      for (let j = 0; j < n; j++) {
        const r = recs[j];
        const t: number = r[field];
        try {
          push(r, t);
        } catch (e) {
          failed(s, s.count + j + 1, r, e);
        }
        if (clock.observe(t)) graph.advance(i, clock.watermark);
      }
    } else {
      const t = s.batchTime;
      for (let j = 0; j < n; j++) {
        try {
          push(recs[j], t);
        } catch (e) {
          failed(s, s.count + j + 1, recs[j], e);
        }
      }
      if (clock.observe(t)) graph.advance(i, clock.watermark);
    }
    s.count += n;
    s.pos = n;
    await afterBatch();
  }
  graph.advance(i, clock.end());
}

/**
 * Several sources, merged by event time: always the smallest next time, ties to the source
 * declared first. Every source's next record must be known before choosing, so a source whose
 * batch ran out is refilled first. Having chosen a source, the records of its batch that are
 * still ahead of every other source's next record go through in one run.
 */
async function runMerged(graph: GraphInstance, sources: SourceState[], refill: Refill, afterBatch: () => Promise<void>, failed: RecordFailure): Promise<void> {
  const active: SourceState[] = []; // kept in declaration order
  for (const s of sources) {
    if (await refill(s)) active.push(s);
    else graph.advance(s.index, s.clock.end());
  }
  const head = (s: SourceState): number => (s.field === undefined ? s.batchTime : s.recs[s.pos][s.field]);

  while (active.length > 0) {
    let best = 0;
    let bestT = head(active[0]!);
    for (let k = 1; k < active.length; k++) {
      const t = head(active[k]!);
      if (t < bestT) {
        best = k;
        bestT = t;
      }
    }
    const s = active[best]!;
    // s may go on while its times are ≤ the next time of each source declared after it and
    // < that of each source declared before it.
    let upToIncl = Infinity;
    let belowExcl = Infinity;
    for (let k = 0; k < active.length; k++) {
      if (k === best) continue;
      const t = head(active[k]!);
      if (k > best) {
        if (t < upToIncl) upToIncl = t;
      } else if (t < belowExcl) belowExcl = t;
    }

    const i = s.index;
    const push = graph.push[i]!;
    const field = s.field;
    const recs = s.recs;
    const n = recs.length;
    let pos = s.pos;
    const clock = s.clock;
    for (; pos < n; pos++) {
      const r = recs[pos];
      const t: number = field === undefined ? s.batchTime : r[field];
      if (!(t <= upToIncl && t < belowExcl)) break;
      try {
        push(r, t);
      } catch (e) {
        failed(s, s.count + (pos - s.pos) + 1, r, e);
      }
      if (clock.observe(t)) graph.advance(i, clock.watermark);
    }
    s.count += pos - s.pos;
    s.pos = pos;

    if (pos >= n) {
      if (!(await refill(s))) {
        graph.advance(i, clock.end());
        active.splice(best, 1);
      }
      await afterBatch();
    }
  }
}
