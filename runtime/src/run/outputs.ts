// The outputs of a run: one writer per file (buffered, with backpressure) and stdout, the
// function each program output's rows go to (`RunContext.emit`), the dead-letter and late-record
// files, and the checks that refuse an output that would overwrite an input.

import type { NetworkSinkSpec, OutputFormat, OutputSpec, Program, Schema } from "../contract.js";
import type { Env, OutputSink } from "../env.js";
import { makeChangeFormatter, makeCsvFormatter, makeFormatter, makeLineFormatter, PresentRows } from "../format.js";
import { OutputError, RunError, UsageError } from "./errors.js";
import { ConnectionBoard, openNetworkSink, RowMarks, SINK_RETRY_MS, sinkLabel, SinkWriter, type NetSinkPosition } from "./network.js";
import type { RunOptions } from "./options.js";

/** A Node error as a short phrase: `no space left on device (ENOSPC)`. */
export function errorText(e: unknown): string {
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

/** What the run loops see of every output: BufferedWriter (text) and SinkWriter (network). */
export interface Writer {
  readonly label: string;
  /** Something is buffered that `flush` would hand on. */
  readonly pending: boolean;
  /** The sink is full: `await drain()` before going on. */
  needsDrain: boolean;
  flush(): void;
  drain(): Promise<void>;
  close(): Promise<void>;
}

/** Buffers output text and hands it to the sink in large pieces; notes when the sink is full.
 *  A failing sink (disk full, ...) becomes an OutputError naming `label` (exit 73). */
export class BufferedWriter {
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

/**
 * The changes of an updating output to a network sink (§13): upserts and deletes with the key's
 * fields and the row they replace, against the rows present (kept here); a delete of a key
 * that is not present sends nothing.
 */
function networkChanges(o: OutputSpec, sw: SinkWriter, count: () => number): (key: unknown, row: unknown) => void {
  const fields = o.key ?? [];
  const present = new PresentRows();
  const keyOf = (row: unknown): Record<string, unknown> => Object.fromEntries(fields.map((f) => [f, (row as Record<string, unknown>)[f]]));
  return (key, row) => {
    const c = present.change(key, row);
    if (c === undefined) return;
    const seq = count();
    sw.write(c.op === "delete" ? { op: "delete", key: keyOf(c.before), before: c.before, seq } : { op: "upsert", key: keyOf(c.row), row: c.row, ...(c.before !== undefined && { before: c.before }), seq });
  };
}

/** `map[key]` when `key` is map's own property (never an inherited `constructor`, `__proto__`). */
export function own<T>(map: Record<string, T> | undefined, key: string): T | undefined {
  return map !== undefined && Object.hasOwn(map, key) ? map[key] : undefined;
}

function formatOf(path: string, fallback: OutputFormat | undefined): OutputFormat {
  const p = path.toLowerCase();
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".jsonl") || p.endsWith(".ndjson")) return "jsonl";
  return fallback ?? "jsonl";
}

/** The text of one row of `schema` in `format`, plus the header line a CSV file starts with. */
function rowFormatter(schema: Schema, format: OutputFormat): { header?: string; row: (v: unknown) => string } {
  if (format === "csv") {
    const csv = makeCsvFormatter(schema);
    return { header: csv.header, row: csv.row };
  }
  if (format === "lines") return { row: makeLineFormatter(schema) };
  return { row: makeFormatter(schema) };
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
export function checkOutputPaths(program: Program, options: RunOptions, env: Env, baseDir: string): void {
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

/**
 * Refuses (UsageError) options naming an output, source or table the program does not have:
 * `--out` / `onRow` outputs and source overrides.
 */
export function checkNames(program: Program, options: RunOptions): void {
  const outputNames = new Set(program.outputs.map((o) => o.name));
  for (const [kind, map] of [["--out", options.outOverrides], ["onRow", options.onRow]] as const) {
    for (const name of Object.keys(map ?? {})) {
      if (!outputNames.has(name)) {
        throw new UsageError(`${kind}: the program has no output named "${name}" (outputs: ${[...outputNames].join(", ") || "none"})`);
      }
    }
  }
  for (const name of Object.keys(options.sourceOverrides ?? {})) {
    if (!program.sources.some((s) => s.name === name) && !program.tables.some((t) => t.name === name)) {
      throw new UsageError(`no source or table named "${name}" to override`);
    }
  }
}

type Target =
  | { kind: "callback"; fn: (row: unknown) => void }
  | { kind: "stdout"; format: OutputFormat }
  | { kind: "file"; path: string; format: OutputFormat }
  | { kind: "network"; spec: NetworkSinkSpec };

/** What a checkpointed run tells the network sinks (§12): the lineage, and where a restore is. */
export interface SinkCheckpoint {
  runId: string;
  /** Restoring a checkpoint: each network output's saved position (none: nothing delivered). */
  restored?: readonly NetSinkPosition[];
}

/**
 * Every writer of a run, opened (in this order: the program's outputs, the dead-letter file, the
 * late-record file) by `Outputs.open`; a file named twice gets one writer. When one cannot be
 * created, those opened so far are closed and the run fails with an OutputError (exit 73).
 */
export class Outputs {
  readonly writers: Writer[] = [];
  /** The network outputs' writers (their failures stop a run that waits for input). */
  private readonly sinkWriters: SinkWriter[] = [];
  /** With --checkpoint: each network output's marks (by output index), for its position. */
  private readonly marks: (RowMarks | undefined)[] = [];
  /** One function per program output: counts the row and writes it (or hands it to onRow). */
  readonly emit: ((row: unknown) => void)[] = [];
  /** One function per program output: a change of an updating stream (row undefined: a delete). */
  readonly change: ((key: unknown, row: unknown) => void)[] = [];
  /** Rows per program output. */
  readonly counts: number[];
  /** The dead-letter file (`--dead-letter`). */
  deadLetter: BufferedWriter | undefined;
  /** Records dropped as late (counted with or without `--late`). */
  lateCount = 0;
  /** Per output printed as changelog / debezium: the rows present by key (checkpoints save it). */
  readonly present: (Map<unknown, unknown> | undefined)[] = [];
  private lateWriter: BufferedWriter | undefined;
  private readonly lateFormatters = new WeakMap<Schema, (v: unknown) => string>();
  private readonly fileWriters = new Map<string, BufferedWriter>();
  private stdoutWriter: BufferedWriter | undefined;
  private readonly targets: Target[];

  private constructor(
    private readonly program: Program,
    private readonly options: RunOptions,
    private readonly env: Env,
    private readonly baseDir: string,
    private readonly checkpoint: SinkCheckpoint | undefined,
  ) {
    this.counts = program.outputs.map(() => 0);
    this.targets = program.outputs.map((o) => this.targetOf(o));
  }

  /** The network outputs' connections (the run's board, see run/network.ts). */
  board = new ConnectionBoard();

  static async open(program: Program, options: RunOptions, env: Env, baseDir: string, board?: ConnectionBoard, checkpoint?: SinkCheckpoint): Promise<Outputs> {
    const outs = new Outputs(program, options, env, baseDir, checkpoint);
    if (board !== undefined) outs.board = board;
    await outs.openAll();
    return outs;
  }

  /** Only stdout is written (no files, no onRow callbacks): a run may stop when its reader goes. */
  get onlyStdout(): boolean {
    return this.writers.every((w) => w === this.stdoutWriter) && !this.targets.some((t) => t.kind === "callback");
  }

  /** Late records per operator (`file:line stage`), for metrics. */
  readonly lateByOperator = new Map<string, number>();

  /** A late record dropped by a windowed stage: counted, written to `--late`. */
  readonly late = (row: unknown, schema: Schema, operator?: string): void => {
    this.lateCount++;
    if (operator !== undefined) this.lateByOperator.set(operator, (this.lateByOperator.get(operator) ?? 0) + 1);
    const w = this.lateWriter;
    if (w === undefined) return;
    let f = this.lateFormatters.get(schema);
    if (f === undefined) this.lateFormatters.set(schema, (f = makeFormatter(schema)));
    w.write(f(row) + "\n");
  };

  /**
   * `read` (a pending read of input), cut short when a network output fails for good: a run
   * waiting for input then stops with that sink's OutputError (exit 73) instead of waiting on.
   */
  raceSinks<T>(read: Promise<T>): Promise<T> {
    if (this.sinkWriters.length === 0) return read;
    if (this.sinkFailure !== undefined) return Promise.reject(this.sinkFailure);
    // Not `Promise.race` with the writers' long-lived `failed` promises: every race leaves a
    // reaction on them that keeps its batch reachable until the run ends (all input, in memory).
    return new Promise<T>((resolve, reject) => {
      this.readWaiters.add(reject);
      read.then(
        (v) => (this.readWaiters.delete(reject), resolve(v)),
        (e) => (this.readWaiters.delete(reject), reject(e)),
      );
    });
  }

  /** The first network output that failed for good (raceSinks). */
  private sinkFailure: OutputError | undefined;
  /** Reads in progress, told when a network output fails for good. */
  private readonly readWaiters = new Set<(e: unknown) => void>();

  private watchSink(sw: SinkWriter): void {
    void sw.failed.then((e) => {
      this.sinkFailure ??= e;
      for (const w of [...this.readWaiters]) w(e);
      this.readWaiters.clear();
    });
  }

  /** Waits for the outputs whose sinks asked to (backpressure). */
  async drain(): Promise<void> {
    for (const w of this.writers) if (w.needsDrain) await w.drain();
  }

  /** Hands everything buffered to the sinks now, without waiting for them. */
  flush(): void {
    for (const w of this.writers) if (w.pending) w.flush();
  }

  /** Hands everything buffered to the sinks now, and waits for them (before a wait for input). */
  async flushAndDrain(): Promise<void> {
    for (const w of this.writers) if (w.pending) w.flush();
    await this.drain();
  }

  /** Waits until every network output has delivered all its rows (a checkpoint counts them, §12). */
  async settleSinks(): Promise<void> {
    for (const sw of this.sinkWriters) await sw.drain();
  }

  /** Network outputs whose rows carry marks (§12): a new lineage checkpoints before any goes out. */
  get marked(): boolean {
    return this.marks.some((m) => m !== undefined);
  }

  /** Each network output's position, for a checkpoint (after flushAndDrain: nothing in flight). */
  networkPositions(): NetSinkPosition[] {
    const out: NetSinkPosition[] = [];
    this.marks.forEach((m, k) => m !== undefined && out.push(m.position(this.program.outputs[k]!.name)));
    return out;
  }

  /** The run completed: every network output delivered and checked against its row count (§12). */
  async completeSinks(): Promise<void> {
    for (let k = 0; k < this.program.outputs.length; k++) {
      const sw = this.networkWriter[k];
      if (sw !== undefined) await sw.complete(this.counts[k]!);
    }
  }

  private readonly networkWriter: (SinkWriter | undefined)[] = [];

  /** Flushes and closes every writer — all of them, even after one failed (a network sink that
   *  refused keeps its connection open otherwise, and the process would not end); then throws
   *  the first failure. */
  async closeAll(): Promise<void> {
    let failure: { e: unknown } | undefined;
    for (const w of this.writers) {
      try {
        w.flush();
      } catch (e) {
        failure ??= { e };
      }
    }
    for (const r of await Promise.allSettled(this.writers.map((w) => w.close()))) if (r.status === "rejected") failure ??= { e: r.reason };
    if (failure !== undefined) throw failure.e;
  }

  private targetOf(o: OutputSpec): Target {
    const options = this.options;
    const cb = own(options.onRow, o.name);
    if (cb) return { kind: "callback", fn: cb };
    const override = own(options.outOverrides, o.name);
    if (override !== undefined) return { kind: "file", path: override, format: formatOf(override, o.connector !== undefined && "format" in o.connector ? o.connector.format : undefined) };
    if (o.connector?.kind === "file") return { kind: "file", path: o.connector.path, format: o.connector.format };
    if (o.connector !== undefined && o.connector.kind !== "stdout") return { kind: "network", spec: o.connector };
    return { kind: "stdout", format: o.connector?.format ?? options.stdoutFormat ?? "jsonl" };
  }

  /** Opens (once per file) the output file `path`; `label` names it in messages. */
  private async openFile(path: string, label: string): Promise<BufferedWriter> {
    const resolved = this.env.resolvePath(this.baseDir, path);
    let w = this.fileWriters.get(resolved);
    if (w === undefined) {
      let sink: OutputSink;
      try {
        sink = await this.env.openOutput(resolved);
      } catch (e) {
        await this.closeAll().catch(() => {}); // the outputs opened so far
        throw new OutputError(`cannot write ${label} to ${path}: ${errorText(e)}`);
      }
      w = new BufferedWriter(sink, `${label} to ${path}`);
      this.fileWriters.set(resolved, w);
      this.writers.push(w);
    }
    return w;
  }

  private async openAll(): Promise<void> {
    const { program, options, targets, counts, emit, change } = this;
    const stdoutCount = targets.filter((t) => t.kind === "stdout").length;
    for (let k = 0; k < program.outputs.length; k++) {
      const o = program.outputs[k]!;
      const t = targets[k]!;
      if (t.kind === "callback") {
        const fn = t.fn;
        const e = (row: unknown) => {
          counts[k]!++;
          fn(row);
        };
        emit.push(e);
        change.push((_key, row) => row !== undefined && e(row));
        continue;
      }
      if (t.kind === "network") {
        // A network sink (§11): rows go to it as changes; it formats and delivers them.
        const label = `output ${o.name} (${sinkLabel(t.spec)})`;
        const ck = this.checkpoint;
        const marks = ck === undefined ? undefined : new RowMarks(ck.runId, label, ck.restored?.find((p) => p.output === o.name), ck.restored !== undefined);
        this.marks[k] = marks;
        let sink;
        try {
          sink = await openNetworkSink({ output: o, spec: t.spec, label, env: this.env, board: this.board, ...(marks !== undefined && { marks }) });
        } catch (e) {
          await this.closeAll().catch(() => {});
          throw e instanceof RunError ? e : new OutputError(`cannot open ${label}: ${errorText(e)}`);
        }
        const sw = new SinkWriter(label, sink, this.env, options.sinkRetryMs ?? SINK_RETRY_MS, o.final);
        this.writers.push(sw);
        this.sinkWriters.push(sw);
        this.watchSink(sw);
        this.networkWriter[k] = sw;
        emit.push((row) => {
          sw.write({ op: "insert", row, seq: ++counts[k]! });
        });
        change.push(networkChanges(o, sw, () => ++counts[k]!));
        continue;
      }
      let w: BufferedWriter;
      if (t.kind === "stdout") {
        if (this.stdoutWriter === undefined) {
          this.stdoutWriter = new BufferedWriter(this.env.stdout, "stdout");
          this.writers.push(this.stdoutWriter);
        }
        w = this.stdoutWriter;
      } else {
        w = await this.openFile(t.path, `output ${o.name}`);
      }
      // Several outputs on stdout: each line is `NAME<TAB>row` (§7).
      const prefix = t.kind === "stdout" && stdoutCount > 1 ? o.name + "\t" : "";
      if (t.format === "changelog" || t.format === "debezium") {
        // Every change, printed against the rows present (a delete of an absent key: nothing).
        const lines = makeChangeFormatter(o.schema, o.key ?? [], t.format);
        const present = new PresentRows();
        this.present[k] = present.rows;
        emit.push((r) => {
          counts[k]!++;
          w.write(prefix + lines.insert(r) + "\n");
        });
        change.push((key, r) => {
          const c = present.change(key, r);
          if (c === undefined) return;
          counts[k]!++;
          w.write(prefix + lines.change(c) + "\n");
        });
        continue;
      }
      const fmt = rowFormatter(o.schema, t.format);
      if (fmt.header !== undefined && w.sink.resumed !== true) w.write(prefix + fmt.header + "\n");
      const row = fmt.row;
      const e: (r: unknown) => void =
        prefix === ""
          ? (r) => {
              counts[k]!++;
              w.write(row(r) + "\n");
            }
          : (r) => {
              counts[k]!++;
              w.write(prefix + row(r) + "\n");
            };
      emit.push(e);
      // Plain rows: an upsert prints its row, a delete nothing (§13).
      change.push((_key, r) => r !== undefined && e(r));
    }
    if (options.deadLetter !== undefined) this.deadLetter = await this.openFile(options.deadLetter, "the dead-letter file");
    if (options.lateFile !== undefined) this.lateWriter = await this.openFile(options.lateFile, "the late-record file");
  }
}
