// The read log of a checkpointed live run (LANGUAGE.md §12 "The read log").
//
// Replay from files is deterministic; live input is not: which source (and partition) delivers
// the next batch, how many records it holds, when it arrived (arrival times, the wall clock that
// drives `idle`), which partitions a Kafka group assigned. With --checkpoint, the run loop of
// live sources (run/loops.ts runLogged) turns every such choice into a step, appends it here
// *before* the step reaches the graph, and hands the log to the OS before anything the step
// produced can reach a sink (ReadLog.flush: one write per step at most — steps between two
// flushes are one group commit). A restored run reads the steps written after its checkpoint
// and replays them — the records re-read from the replayable sources (Kafka, NATS, Redis) cut
// into the logged batches, the logged times and idle ticks — so it computes exactly the rows of
// the run that was killed; then it goes on live.
//
// The log is a text file (DIR/readlog beside DIR/checkpoint), one JSON object per line; the
// first line names the run lineage and the checkpoint it follows:
//
//   {"log":"flowc-read-log","v":1,"run":"<run id>","after":<checkpoint seq, 0: none>}
//   {"k":"s","t":<wall ms>}                    the live phase started (a fresh lineage)
//   {"k":"b","s":<source>,"p":<partition>,"n":<records>,"bad":<bad records>,"t":<wall ms>,
//        "from":<position>,"to":<position>,"parts":[…]}   a batch went into the graph
//   {"k":"t","t":<wall ms>}                    an idle tick (§10 `idle`) at that wall time
//   {"k":"e","s":<source>}                     a source ended
//   {"k":"f","s":<source>,"p":<partition>,"at":<position>}   a partition's first message seen
//                                              (read ahead, nothing of it processed yet)
//
// A checkpoint rotates the log: after the checkpoint document is written, the log starts anew
// with a header naming it (the steps before it no longer matter). A crash between the two
// leaves a log whose header names the previous checkpoint: it is ignored. Only the tail can be
// torn (the log is only appended to): a last line without its line break, or one that does not
// parse, ends the log there.
//
// Browser-safe: storage goes through ReadLogStorage (node-storage.ts: a file; memory here).

import { RunError } from "../run/errors.js";

/** A message's place in its partition: Kafka offset, NATS stream sequence, Redis entry id. */
export type Position = number | string;

/** One nondeterministic choice of a live run (see the file comment). */
export type LogStep =
  | { k: "s"; t: number }
  | { k: "b"; s: number; p?: number; n: number; bad: number; t: number; from?: Position; to?: Position; parts?: number[] }
  | { k: "t"; t: number }
  | { k: "e"; s: number }
  | { k: "f"; s: number; p: number; at: Position };

/** Where the read log is kept (the Node one: a file in the checkpoint's folder). */
export interface ReadLogStorage {
  readonly where: string;
  /** The log's text, or undefined when there is none. */
  read(): Promise<string | undefined>;
  /** Replaces the log with `text` (after a checkpoint); a crash leaves the old text or the new. */
  reset(text: string): Promise<void>;
  /**
   * Optional: `reset`, done before it returns — so no step appended meanwhile goes to the old
   * log. With it, checkpoints of a run with a log are written while the run goes on.
   */
  resetSync?(text: string): void;
  /** Appends `text`, handed to the OS before it returns (no fsync: see the file comment). */
  append(text: string): void;
  /** Discards the log (`--checkpoint-reset`, a run that completed). */
  remove(): Promise<void>;
}

/** A read log in memory (tests, browsers). */
export function memoryReadLogStorage(where = "<memory>"): ReadLogStorage & { text: string | undefined } {
  return {
    where,
    text: undefined,
    async read() {
      return this.text;
    },
    async reset(text) {
      this.text = text;
    },
    resetSync(text) {
      this.text = text;
    },
    append(text) {
      this.text = (this.text ?? "") + text;
    },
    async remove() {
      this.text = undefined;
    },
  };
}

const MAGIC = "flowc-read-log";

export interface LogHeader {
  run: string;
  /** The checkpoint (its seq) the steps follow; 0: the lineage had none yet. */
  after: number;
}

export function headerLine(h: LogHeader): string {
  return JSON.stringify({ log: MAGIC, v: 1, run: h.run, after: h.after }) + "\n";
}

const isPos = (x: unknown): x is Position => typeof x === "string" || (typeof x === "number" && Number.isFinite(x));
const isInt = (x: unknown): x is number => typeof x === "number" && Number.isInteger(x);
const isTime = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x);

/** A step as read back, or undefined when the line is not one (a torn or damaged tail). */
function stepOf(v: unknown): LogStep | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const o = v as Record<string, unknown>;
  switch (o.k) {
    case "s":
    case "t":
      return isTime(o.t) ? { k: o.k, t: o.t } : undefined;
    case "e":
      return isInt(o.s) ? { k: "e", s: o.s } : undefined;
    case "f":
      return isInt(o.s) && isInt(o.p) && isPos(o.at) ? { k: "f", s: o.s, p: o.p, at: o.at } : undefined;
    case "b": {
      if (!isInt(o.s) || !isInt(o.n) || !isInt(o.bad) || !isTime(o.t)) return undefined;
      const b: LogStep = { k: "b", s: o.s, n: o.n, bad: o.bad, t: o.t };
      if (o.p !== undefined) {
        if (!isInt(o.p)) return undefined;
        b.p = o.p;
      }
      if (o.from !== undefined) {
        if (!isPos(o.from)) return undefined;
        b.from = o.from;
      }
      if (o.to !== undefined) {
        if (!isPos(o.to)) return undefined;
        b.to = o.to;
      }
      if (o.parts !== undefined) {
        if (!Array.isArray(o.parts) || !o.parts.every(isInt)) return undefined;
        b.parts = o.parts as number[];
      }
      return b;
    }
    default:
      return undefined;
  }
}

/** A log's text read back: its header and its complete steps (a torn tail is dropped). */
export function parseReadLog(text: string): { header: LogHeader; steps: LogStep[] } | undefined {
  const lines = text.split("\n");
  // The part after the last line break is a line being written when the run died.
  lines.pop();
  const first = lines.shift();
  if (first === undefined) return undefined;
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(first) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (h === null || typeof h !== "object" || h.log !== MAGIC || h.v !== 1 || typeof h.run !== "string" || !isInt(h.after)) return undefined;
  const steps: LogStep[] = [];
  for (const line of lines) {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      break;
    }
    const step = stepOf(v);
    if (step === undefined) break;
    steps.push(step);
  }
  return { header: { run: h.run, after: h.after }, steps };
}

/**
 * The read log of one run: steps buffered by `record`, handed to the storage by `flush`, the
 * log started anew by `rotate` after each checkpoint. `replay` holds the steps a restored run
 * has still to replay (ReadLogHooks.next takes them); a checkpoint taken while some are left
 * keeps them in the new log, so a crash then replays them again.
 */
export class ReadLog {
  private buffer = "";
  private replayAt = 0;
  /**
   * A checkpoint's cut whose checkpoint is being written while the run goes on (`mark`): where
   * the replay was, and the steps recorded since — the log that follows that checkpoint.
   */
  private cut: { replayAt: number; since: string } | undefined;

  constructor(
    private readonly storage: ReadLogStorage,
    private readonly run: string,
    private readonly replay: readonly LogStep[] = [],
  ) {}

  /** The next step to replay (and it counts as replayed), or undefined when none is left. */
  next(): LogStep | undefined {
    return this.replayAt < this.replay.length ? this.replay[this.replayAt++] : undefined;
  }

  /** Steps still to replay. */
  get left(): number {
    return this.replay.length - this.replayAt;
  }

  /** A step of this run, appended (buffered) to the log. */
  record(step: LogStep): void {
    const line = JSON.stringify(step) + "\n";
    this.buffer += line;
    if (this.cut !== undefined) this.cut.since += line;
  }

  /** The storage can start the log anew at once (`rotateSince`). */
  get rotatesAtOnce(): boolean {
    return this.storage.resetSync !== undefined;
  }

  /**
   * A checkpoint's cut, its steps flushed: the checkpoint will be written while the run goes on,
   * and the steps from now on follow it (`rotateSince`).
   */
  mark(): void {
    this.cut = { replayAt: this.replayAt, since: "" };
  }

  /**
   * The checkpoint of the last `mark`, `seq`, is durable: the log starts anew after it, with the
   * steps since its cut (those not replayed yet at the cut, then those recorded) — at once, so no
   * step goes to the old log meanwhile.
   */
  rotateSince(seq: number): void {
    const cut = this.cut!;
    this.cut = undefined;
    const left = this.replay.slice(cut.replayAt).map((s) => JSON.stringify(s) + "\n").join("");
    // Recorded and not flushed yet: in the new log now, as a flush would have put them.
    this.buffer = "";
    this.storage.resetSync!(headerLine({ run: this.run, after: seq }) + left + cut.since);
  }

  /** What was recorded goes to the storage (the OS) now: before anything it produced reaches a sink. */
  flush(): void {
    if (this.buffer === "") return;
    const text = this.buffer;
    this.buffer = "";
    this.storage.append(text);
  }

  /**
   * Checkpoint `seq` was written: the log starts anew after it. Steps recorded but not flushed
   * are before the checkpoint (dropped); steps not replayed yet stay (the checkpoint's positions
   * are before their records).
   */
  async rotate(seq: number): Promise<void> {
    this.buffer = "";
    const left = this.replay.slice(this.replayAt).map((s) => JSON.stringify(s) + "\n").join("");
    await this.storage.reset(headerLine({ run: this.run, after: seq }) + left);
  }

  /** Starts the log of a new lineage (or one restored with no log to replay). */
  async start(seq: number): Promise<void> {
    await this.storage.reset(headerLine({ run: this.run, after: seq }) + this.replay.slice(this.replayAt).map((s) => JSON.stringify(s) + "\n").join(""));
  }
}

/** One partition's records read ahead while replaying, in order, with their bad records. */
interface Pending {
  records: unknown[];
  bad: NonNullable<import("../io/batch.js").ReadBatch["bad"]>;
  /** Position of the last message read (of the last batch added). */
  to: Position | undefined;
  /** Position of the first record waiting, when known (it starts a batch as delivered). */
  head: Position | undefined;
}

type ReadBatch = import("../io/batch.js").ReadBatch;

/**
 * The records read again do not fit the read log (the source no longer holds what it held: a
 * trimmed stream, a deleted topic): the checkpoint cannot be continued (exit 2).
 */
export class ReplayError extends RunError {
  override name = "ReplayError";
  constructor(message: string) {
    super(`${message}; --checkpoint-reset starts over`, 2);
  }
}

/**
 * The records of one source read again while replaying, per partition, cut into the logged
 * batches (`take`): the source may deliver them grouped otherwise than the run that logged them,
 * but each partition's records come in the same order. What is left after the replay goes on
 * into the live run first (`leftovers`).
 */
export class ReplayBuffer {
  private readonly parts = new Map<number, Pending>();

  /** A batch read from the source (partition -1: a source without partitions). */
  add(b: ReadBatch): void {
    const p = b.partition ?? -1;
    let q = this.parts.get(p);
    if (q === undefined) this.parts.set(p, (q = { records: [], bad: [], to: undefined, head: undefined }));
    const base = q.records.length;
    if (base === 0 && q.bad.length === 0) q.head = b.from;
    for (const r of b.records) q.records.push(r);
    if (b.bad !== undefined) for (const x of b.bad) q.bad.push({ ...x, index: x.index + base });
    if (b.to !== undefined) q.to = b.to;
  }

  /**
   * The logged batch of `n` records and `bad` bad records of partition `p`, or undefined while
   * fewer have been read. The bad records among the first `n` records come with it (in their
   * places); one more bad record right after them too, when `bad` counts it. `from`: the place
   * of the batch's first message as logged — the source must deliver from there again (a
   * trimmed stream or an expired topic does not: a ReplayError).
   */
  take(p: number, n: number, bad: number, from?: Position): ReadBatch | undefined {
    const q = this.parts.get(p);
    if (q === undefined) return n === 0 && bad === 0 ? { records: [], bytes: 0 } : undefined;
    if (from !== undefined && q.head !== undefined && q.head !== from) {
      throw new ReplayError(`the read log's next batch${p >= 0 ? ` of partition ${p}` : ""} starts at ${from}, but the source delivered from ${q.head} (the records after the checkpoint are no longer there)`);
    }
    if (q.records.length < n || q.bad.length < bad) return undefined;
    // The batch's bad records are the first `bad` ones: each must lie within its n records, and
    // the records must be the same as when they were logged.
    if (bad > 0 && q.bad[bad - 1]!.index > n) throw new ReplayError(`the source's records differ from the ones the read log counted (a bad record after record ${n} of a batch of ${n})`);
    // A bad record at index n may belong to this batch or the next: `bad` decides.
    const records = q.records.splice(0, n);
    const mine = q.bad.splice(0, bad);
    q.head = undefined; // the rest starts inside a delivered batch
    for (const x of q.bad) x.index -= n;
    const out: ReadBatch = mine.length > 0 ? { records, bad: mine, bytes: 0 } : { records, bytes: 0 };
    if (p >= 0) out.partition = p;
    return out;
  }

  /** What was read beyond the replayed batches, one batch per partition (then empty). */
  leftovers(): ReadBatch[] {
    const out: ReadBatch[] = [];
    for (const [p, q] of this.parts) {
      if (q.records.length === 0 && q.bad.length === 0) continue;
      const b: ReadBatch = q.bad.length > 0 ? { records: q.records, bad: q.bad, bytes: 0 } : { records: q.records, bytes: 0 };
      if (p >= 0) b.partition = p;
      if (q.to !== undefined) b.to = q.to;
      out.push(b);
    }
    this.parts.clear();
    return out;
  }
}
