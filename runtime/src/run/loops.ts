// The run loops: records and watermarks from the sources into the graph (dispatch), and what
// happens between two batches (refill, afterBatch). One source: its batches straight into the
// graph, through a generated loop when the program has one (range / batch / pull); several:
// merged by event time, smallest next time first, ties to the source declared first (LANGUAGE.md
// §6 "Deterministic replay"). Watermarks: each source's SourceClock (source-clock.ts).

import type { GraphInstance, ProgramLoops, PullState } from "../contract.js";
import { DecodeError } from "../decode.js";
import type { Env } from "../env.js";
import type { BadRecord, ReadBatch } from "../io/batch.js";
import { rawText, type BadRecords, type Progress } from "./diagnostics.js";
import { StrictInputError } from "./errors.js";
import type { IdleState, SourceState } from "./inputs.js";
import type { Outputs } from "./outputs.js";
import { PartitionedClock } from "../source-clock.js";
import { ReplayBuffer, ReplayError, type LogStep } from "../checkpoint/read-log.js";

/** How long a run may go on without letting the event loop run other tasks (see afterBatch). */
const YIELD_MS = 20;
/** How often an idle source's wall-clock watermark is passed on (§10; outputs flush as often). */
const IDLE_TICK_MS = 50;

/** Resolves after the event loop has run other tasks (timers, I/O, messages). */
export const macrotask: () => Promise<void> = (() => {
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

/** Reads the next batch of an input; aborting `signal` ends a pending read at once (done). */
export function abortableReads(signal: AbortSignal | undefined): (it: AsyncIterator<ReadBatch>) => Promise<IteratorResult<ReadBatch>> {
  if (signal === undefined) return (it) => it.next();
  // Not `Promise.race` with one long-lived abort promise: every race leaves a reaction on it that
  // keeps its batch reachable until the run ends.
  const abortWaiters = new Set<(r: IteratorResult<ReadBatch>) => void>();
  signal.addEventListener("abort", () => {
    for (const w of abortWaiters) w({ done: true, value: undefined });
    abortWaiters.clear();
  }, { once: true });
  return (it) => {
    if (signal.aborted) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      abortWaiters.add(resolve);
      it.next().then(
        (r) => (abortWaiters.delete(resolve), resolve(r)),
        (e) => (abortWaiters.delete(resolve), reject(e)),
      );
    });
  };
}

/**
 * What a checkpointed run adds to the loops (checkpoint/run.ts, LANGUAGE.md §12); absent
 * without --checkpoint, so the loops then do exactly what they did before. Called per batch, never
 * per record.
 */
export interface ReadHooks {
  /** A batch of `s` arrived: the batch without the records a restored run had already read. */
  batch(s: SourceState, b: ReadBatch): ReadBatch;
  /** Between two batches (outputs drained): takes a checkpoint when one is due. */
  between(): Promise<void>;
  /** The run stops to resume from its checkpoint: the end of a source does not fire windows. */
  readonly suspended: boolean;
  /** The read log of live sources (§12 "The read log"): the loops then run `runLogged`. */
  readonly log?: ReadLogHooks;
}

/**
 * What `runLogged` needs of a checkpointed run's read log (checkpoint/read-log.ts, kept by
 * checkpoint/run.ts).
 */
export interface ReadLogHooks {
  /** The live phase starts without saved idle state: it logs (and replays) its start time. */
  readonly fresh: boolean;
  /** The next step logged after the checkpoint to replay, or undefined when none is left. */
  next(): LogStep | undefined;
  /** A step of this run (buffered). */
  record(step: LogStep): void;
  /** The steps recorded go to the OS: before anything they produced can reach a sink. */
  flush(): void;
  /** The source's records can be read again (Kafka, NATS, Redis): its logged batches replay. */
  replayable(s: SourceState): boolean;
  /** A batch was read ahead while replaying (a partition's first place may need logging). */
  seen(s: SourceState, b: ReadBatch): void;
}

/** What the run loops use besides the graph and the sources. */
export class Reader {
  private lastYield: number;
  /** Set by a checkpointed run. */
  hooks: ReadHooks | undefined = undefined;

  constructor(
    readonly graph: GraphInstance,
    /** Program.loops: the generated loops the graph declares (undefined: probe them). */
    readonly loops: ProgramLoops | undefined,
    private readonly env: Env,
    private readonly outputs: Outputs,
    private readonly progress: Progress,
    private readonly bad: BadRecords,
    private readonly strict: boolean,
    /** The run should end its input now (interrupted, or stdout's reader went away). */
    readonly stopped: () => boolean,
    private readonly nextBatch: (it: AsyncIterator<ReadBatch>) => Promise<IteratorResult<ReadBatch>>,
  ) {
    this.lastYield = env.now();
  }

  /** The wall clock (epoch ms): the arrival time of records of a source without event time. */
  arrival(): number {
    return this.env.wallClock !== undefined ? this.env.wallClock() : Date.now();
  }

  /**
   * Between batches: wait for full outputs to drain; update the progress line. A source that never
   * waits (a synchronous iterable, a generator) would run on microtasks alone: every YIELD_MS the
   * run lets timers and I/O in, so an abort (a timeout, Ctrl-C) lands.
   */
  async afterBatch(): Promise<void> {
    // Inline (not `await outputs.drain()`): no extra promise per batch when nothing is full.
    for (const w of this.outputs.writers) if (w.needsDrain) await w.drain();
    const now = this.env.now();
    this.progress.tick(now);
    if (now - this.lastYield >= YIELD_MS) {
      await macrotask();
      this.lastYield = this.env.now();
    }
    if (this.hooks !== undefined) await this.hooks.between();
  }

  /**
   * Source `s` has ended (or the run stops): its watermark becomes +∞ — unless a checkpointed
   * run stops to resume later, whose open windows must not fire (§10 "Stopping").
   */
  end(s: SourceState): void {
    if (this.hooks?.suspended === true) return;
    this.graph.advance(s.index, s.clock.end());
  }

  /** Hands everything buffered to the outputs' sinks (before waiting for input, §10). */
  flushOutputs(): Promise<void> {
    return this.outputs.flushAndDrain();
  }

  /** Loads the source's next non-empty batch; false when it has ended. */
  async refill(s: SourceState): Promise<boolean> {
    for (;;) {
      if (s.failAfter !== undefined) {
        const b = s.failAfter;
        throw new StrictInputError(s.name, s.label, b.line, b.error);
      }
      if (this.stopped()) return false;
      // About to wait for input: what the records so far produced goes out now (§10).
      if (s.live) await this.outputs.flushAndDrain();
      const read = this.outputs.raceSinks(this.nextBatch(s.batches));
      const r = s.idle === undefined ? await read : await this.waitIdle(s, s.idle, read);
      if (r.done) return false;
      const b = this.hooks === undefined ? r.value : this.hooks.batch(s, r.value);
      this.accept(s, b);
      // A partitioned source (Kafka): this batch's records raise their partition's watermark.
      if (b.partition !== undefined && s.clock instanceof PartitionedClock) {
        const now = this.arrival();
        if (s.partitions !== undefined) s.clock.assign(s.partitions(), now);
        s.clock.select(b.partition, now);
        // `idle` applies to each partition (§10): the quiet ones stop holding the source back.
        if (s.idle !== undefined && s.clock.markIdle(now, s.idle.ms)) this.graph.advance(s.index, s.clock.watermark);
      }
      if (s.field === undefined && s.timeOf === undefined) s.batchTime = this.arrival();
      if (s.recs.length > 0) return true;
    }
  }

  /**
   * A batch of `s` becomes its current one (`recs`): its bad records reported — under `strict`
   * only the records before the first bad one are kept, and the next read stops the run.
   */
  private accept(s: SourceState, b: ReadBatch): void {
    s.bytes = b.bytes;
    let recs = b.records;
    if (b.bad !== undefined) {
      if (this.strict) {
        // Push the good records before the first bad one, then stop at the next refill.
        const first = b.bad[0]!;
        this.bad.input(s.name, s.label, first);
        recs = recs.slice(0, first.index);
        s.failAfter = first;
      } else {
        for (const bad of b.bad) this.bad.input(s.name, s.label, bad);
      }
    }
    s.recs = recs;
    s.pos = 0;
  }

  /** The next batch of `s` as it comes (no hooks, no idle): runLogged's reads. */
  read(s: SourceState): Promise<IteratorResult<ReadBatch>> {
    if (s.failAfter !== undefined) return Promise.reject(new StrictInputError(s.name, s.label, s.failAfter.line, s.failAfter.error));
    return this.outputs.raceSinks(this.nextBatch(s.batches));
  }

  /**
   * runLogged: batch `b` of live source `s`, which arrived at wall time `now`, goes into the
   * graph — the same steps whether the batch is live or replayed from the read log, so a replay
   * computes what the logged run did. `parts`: the partitions assigned then (Kafka).
   */
  applyBatch(s: SourceState, b: ReadBatch, now: number, parts: readonly number[] | undefined): void {
    const graph = this.graph;
    const i = s.index;
    this.accept(s, this.hooks === undefined ? b : this.hooks.batch(s, b));
    const idle = s.idle;
    if (idle !== undefined) {
      idle.lastArrival = now;
      if (idle.since !== undefined) {
        idle.since = undefined;
        // The source speaks again: it is counted again, from the watermark it reached while idle.
        if (idle.given > s.clock.watermark) s.clock.maxTime = idle.given + s.clock.delay;
        graph.idle?.(i, false);
      }
    }
    const clock = s.clock;
    if (b.partition !== undefined && clock instanceof PartitionedClock) {
      if (parts !== undefined) clock.assign(parts, now);
      clock.select(b.partition, now);
      if (idle !== undefined && clock.markIdle(now, idle.ms)) graph.advance(i, clock.watermark);
    }
    if (s.field === undefined && s.timeOf === undefined) s.batchTime = now;
    const recs = s.recs;
    const n = recs.length;
    const push = graph.push[i]!;
    const field = s.field;
    const timeOf = s.timeOf;
    for (let j = 0; j < n; j++) {
      const r = recs[j];
      const t: number = field !== undefined ? r[field] : timeOf !== undefined ? timeOf(r) : s.batchTime;
      try {
        push(r, t);
      } catch (e) {
        this.failed(s, s.count + j + 1, r, e);
      }
      if (clock.observe(t)) graph.advance(i, clock.watermark);
    }
    s.count += n;
    s.pos = n;
  }

  /**
   * runLogged: `idle` (§10) at wall time `now` for the live sources not ended — the rules of
   * waitIdle, as one step that a replay repeats with the logged time.
   */
  idleTick(live: readonly SourceState[], ended: ReadonlySet<number>, now: number): void {
    const graph = this.graph;
    for (const s of live) {
      const idle = s.idle;
      if (idle === undefined || ended.has(s.index)) continue;
      if (s.clock instanceof PartitionedClock && s.clock.markIdle(now, idle.ms)) graph.advance(s.index, s.clock.watermark);
      if (idle.since === undefined && now - idle.lastArrival >= idle.ms) {
        idle.since = now;
        idle.from = s.clock.watermark;
        graph.idle?.(s.index, true);
      }
      if (idle.since !== undefined && idle.from > -Infinity) {
        const wm = idle.from + (now - idle.since);
        if (wm > idle.given) {
          idle.given = wm;
          graph.advance(s.index, wm);
        }
      }
    }
  }

  /** runLogged: the wall time of the next idle step to take (Infinity: none is due). */
  nextIdle(live: readonly SourceState[], ended: ReadonlySet<number>, now: number): number {
    let at = Infinity;
    for (const s of live) {
      const idle = s.idle;
      if (idle === undefined || ended.has(s.index)) continue;
      if (idle.since === undefined) at = Math.min(at, idle.lastArrival + idle.ms);
      else if (idle.from > -Infinity) at = Math.min(at, now + IDLE_TICK_MS);
      if (s.clock instanceof PartitionedClock) at = Math.min(at, s.clock.nextIdleAt(idle.ms));
    }
    return at;
  }

  /**
   * Waits for `read` (a live source's next batch) while applying `idle` (§10): once the source
   * has had no record for its idle time it is idle — unions and joins stop waiting for it
   * (`GraphInstance.idle`) — and its watermark advances with the wall clock, passed on (and the
   * rows it fires flushed) every IDLE_TICK_MS. Its next batch ends the idle spell; the watermark
   * it had reached stays (watermarks never go down).
   */
  private async waitIdle(s: SourceState, idle: IdleState, read: Promise<IteratorResult<ReadBatch>>): Promise<IteratorResult<ReadBatch>> {
    let result: IteratorResult<ReadBatch> | undefined;
    let failure: { e: unknown } | undefined;
    const settled = read.then(
      (x) => void (result = x),
      (e: unknown) => void (failure = { e }),
    );
    while (result === undefined && failure === undefined) {
      const now = this.arrival();
      // A partitioned source: its quiet partitions stop holding it back first.
      if (s.clock instanceof PartitionedClock && s.clock.markIdle(now, idle.ms)) {
        this.graph.advance(s.index, s.clock.watermark);
        await this.outputs.flushAndDrain();
      }
      if (idle.since === undefined && now - idle.lastArrival >= idle.ms) {
        idle.since = now;
        idle.from = s.clock.watermark;
        this.graph.idle?.(s.index, true);
      }
      if (idle.since !== undefined && idle.from > -Infinity) {
        const wm = idle.from + (now - idle.since);
        if (wm > idle.given) {
          idle.given = wm;
          this.graph.advance(s.index, wm);
          await this.outputs.flushAndDrain();
        }
      }
      const wait = idle.since !== undefined ? IDLE_TICK_MS : Math.max(1, idle.lastArrival + idle.ms - now);
      await Promise.race([settled, this.sleep(wait)]);
    }
    if (failure !== undefined) throw failure.e;
    idle.lastArrival = this.arrival();
    if (idle.since !== undefined) {
      idle.since = undefined;
      // The source speaks again: it is counted again, from the watermark it reached while idle.
      if (idle.given > s.clock.watermark) s.clock.maxTime = idle.given + s.clock.delay;
      this.graph.idle?.(s.index, false);
    }
    return result!;
  }

  /** Resolves after `ms` of the environment's time (tests drive it; Node: a timer). */
  sleep(ms: number): Promise<void> {
    return this.env.sleep !== undefined ? this.env.sleep(ms) : new Promise((resolve) => setTimeout(resolve, ms));
  }

  /**
   * A built-in failed on a record (division by zero, a bad regex, a time out of range): the record
   * is dropped, reported like bad input; the run goes on (or stops under --strict). `ordinal`
   * counts the source's records from 1.
   */
  failed(s: SourceState, ordinal: number, record: unknown, e: unknown): void {
    this.bad.record(s.name, s.label, ordinal, record, e);
  }

  /** An item of a pulled iterable that is not a valid value of the source's type. */
  badItem(s: SourceState, b: BadRecord): void {
    this.bad.input(s.name, s.label, b);
    if (this.strict) throw new StrictInputError(s.name, s.label, b.line, b.error);
  }
}

/** Reads every source to its end (or a stop) into the graph: the loop that fits the sources. */
export async function dispatch(run: Reader, sources: SourceState[]): Promise<void> {
  const log = run.hooks?.log;
  if (log !== undefined && sources.some((s) => s.live === true)) return runLogged(run, sources, log);
  const only = sources.length === 1 ? sources[0]! : undefined;
  if (only !== undefined && only.range !== undefined) await runRange(run, only);
  else if (only !== undefined && only.items !== undefined && hasLoop(run, "pull", only.index)) await runPull(run, only);
  else if (only !== undefined) await runSingle(run, only);
  else if (sources.length > 1) await runMerged(run, sources);
}

/**
 * One `range(from, to)` source: its integers straight into the graph, in blocks of
 * ITERABLE_BATCH (the arrival time of a block is read once, as for a batch), no arrays.
 */
async function runRange(run: Reader, s: SourceState): Promise<void> {
  const graph = run.graph;
  const i = s.index;
  const push = graph.push[i]!;
  const { from, to } = s.range!;
  const fused = hasLoop(run, "range", i, from);
  const block = fused ? 1 << 16 : 4096;
  for (let a = from; a < to; ) {
    if (run.stopped()) break;
    const b = Math.min(to, a + block);
    const t = run.arrival();
    if (fused) graph.pushRange!(i, a, b, t);
    else {
      for (let x = a; x < b; x++) {
        try {
          push(x, t);
        } catch (e) {
          run.failed(s, s.count + (x - a) + 1, x, e);
        }
      }
    }
    if (s.clock.observe(t)) graph.advance(i, s.clock.watermark);
    s.count += b - a;
    a = b;
    await run.afterBatch();
  }
  run.end(s);
}

const noItems: Iterator<unknown> = { next: () => ({ done: true, value: undefined }) };

const LOOP_METHOD = { range: "pushRange", batch: "pushBatch", pull: "pullBatch" } as const;

/**
 * True when the graph has a generated loop of `kind` for source `i`: as the program declares
 * (Program.loops) — then nothing is probed — or, for programs that do not declare their loops,
 * as a call with empty input says (false / NaN: no loop).
 */
function hasLoop(run: Reader, kind: keyof ProgramLoops, i: number, from = 0): boolean {
  const graph = run.graph;
  if (run.loops !== undefined) return run.loops[kind].includes(i) && typeof graph[LOOP_METHOD[kind]] === "function";
  switch (kind) {
    case "range":
      return graph.pushRange?.(i, from, from, 0) === true;
    case "batch": {
      const b = graph.pushBatch?.(i, [], -Infinity, -Infinity);
      return b !== undefined && !Number.isNaN(b);
    }
    case "pull": {
      const st: PullState = { maxTime: -Infinity, count: 0, done: false };
      return graph.pullBatch?.(i, noItems, 0, 0, st, () => undefined) === true;
    }
  }
}

/**
 * One source given as a synchronous iterable, pulled by the graph's generated loop: items go from
 * the iterator through the decoder and the stages without being stored in a batch.
 */
async function runPull(run: Reader, s: SourceState): Promise<void> {
  const graph = run.graph;
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
      run.badItem(s, { line: st.count + k + 1, raw: rawText(v), error: e.message, index: 0 });
      return undefined;
    }
  };
  try {
    while (!st.done && !run.stopped()) {
      graph.pullBatch!(i, it, PULL_BATCH, run.arrival(), st, slow);
      s.clock.maxTime = st.maxTime;
      s.count = st.count - bad; // records in: the good ones
      await run.afterBatch();
    }
  } finally {
    if (!st.done) it.return?.();
  }
  run.end(s);
}

/** One source: every batch straight into the graph. */
async function runSingle(run: Reader, s: SourceState): Promise<void> {
  const graph = run.graph;
  const i = s.index;
  const push = graph.push[i]!;
  const field = s.field;
  const timeOf = s.timeOf;
  const clock = s.clock;
  // The generated loop keeps one largest time: not for a watermark per partition.
  const fused = hasLoop(run, "batch", i) && !(clock instanceof PartitionedClock);
  while (await run.refill(s)) {
    const recs = s.recs;
    const n = recs.length;
    if (fused) {
      // The generated loop mirrors SourceClock.observe with the largest time handed in and out.
      clock.maxTime = graph.pushBatch!(i, recs, s.batchTime, clock.maxTime);
    } else if (field !== undefined || timeOf !== undefined) {
      for (let j = 0; j < n; j++) {
        const r = recs[j];
        const t: number = field !== undefined ? r[field] : timeOf!(r);
        try {
          push(r, t);
        } catch (e) {
          run.failed(s, s.count + j + 1, r, e);
        }
        if (clock.observe(t)) graph.advance(i, clock.watermark);
      }
    } else {
      const t = s.batchTime;
      for (let j = 0; j < n; j++) {
        try {
          push(recs[j], t);
        } catch (e) {
          run.failed(s, s.count + j + 1, recs[j], e);
        }
      }
      if (clock.observe(t)) graph.advance(i, clock.watermark);
    }
    s.count += n;
    s.pos = n;
    await run.afterBatch();
  }
  run.end(s);
}

/**
 * Reads of several live sources, awaited together: each settled read is queued, `next` takes them
 * in the order they settled. Not `Promise.race` over the pending reads: a quiet source's read can
 * stay pending for the whole run, and every race would leave a reaction on it holding that race's
 * result — every batch the other sources delivered, in memory until the run ends.
 */
export class Arrivals<T> {
  private readonly ready: T[] = [];
  private wake: (() => void) | undefined;
  add(read: Promise<T>): void {
    void read.then((v) => {
      this.ready.push(v);
      const w = this.wake;
      this.wake = undefined;
      w?.();
    });
  }
  /** The next settled read; undefined when `timeout` (a short-lived promise) resolves first. */
  async next(timeout?: Promise<unknown>): Promise<T | undefined> {
    if (this.ready.length === 0) {
      const arrived = new Promise<void>((resolve) => (this.wake = resolve));
      if (timeout === undefined) await arrived;
      else await Promise.race([arrived, timeout]);
      if (this.ready.length === 0) return undefined;
    }
    return this.ready.shift();
  }
}

/**
 * Several sources, merged by event time: always the smallest next time, ties to the source
 * declared first. Every source's next record must be known before choosing, so a source whose
 * batch ran out is refilled first. Having chosen a source, the records of its batch that are
 * still ahead of every other source's next record go through in one run.
 */
async function runMerged(run: Reader, sources: SourceState[]): Promise<void> {
  const graph = run.graph;
  const active: SourceState[] = []; // kept in declaration order
  // Live sources (network, stdin) whose next batch is being waited for: the others go on
  // meanwhile (a quiet source must not stop the rest; live input has no deterministic order).
  const waiting = new Set<SourceState>();
  const arrivals = new Arrivals<{ s: SourceState; ok: boolean; error?: unknown }>();
  const wait = (s: SourceState) => {
    waiting.add(s);
    arrivals.add(run.refill(s).then((ok) => ({ s, ok }), (error: unknown) => ({ s, ok: false, error })));
  };
  /** A refill of `waiting` has settled: its source goes back among the active ones, or ends. */
  const settled = (r: { s: SourceState; ok: boolean; error?: unknown }) => {
    waiting.delete(r.s);
    if (r.error !== undefined) throw r.error;
    if (r.ok) {
      let k = 0;
      while (k < active.length && active[k]!.index < r.s.index) k++;
      active.splice(k, 0, r.s);
    } else run.end(r.s);
  };
  for (const s of sources) {
    if (s.live) wait(s);
    else if (await run.refill(s)) active.push(s);
    else run.end(s);
  }
  const head = (s: SourceState): number => (s.field !== undefined ? s.recs[s.pos][s.field] : s.timeOf !== undefined ? s.timeOf(s.recs[s.pos]) : s.batchTime);

  while (active.length > 0 || waiting.size > 0) {
    if (active.length === 0) {
      // Every source waits for input: what was produced goes out first (§10).
      await run.flushOutputs();
      settled((await arrivals.next())!);
      continue;
    }
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
      const t: number = field !== undefined ? r[field] : s.timeOf !== undefined ? s.timeOf(r) : s.batchTime;
      if (!(t <= upToIncl && t < belowExcl)) break;
      try {
        push(r, t);
      } catch (e) {
        run.failed(s, s.count + (pos - s.pos) + 1, r, e);
      }
      if (clock.observe(t)) graph.advance(i, clock.watermark);
    }
    s.count += pos - s.pos;
    s.pos = pos;

    if (pos >= n) {
      if (s.live) {
        active.splice(best, 1);
        wait(s);
      } else if (!(await run.refill(s))) {
        // Stopping to resume later: the other sources must not run ahead of this one (the
        // restored run goes on in the order of one uninterrupted run).
        if (run.hooks?.suspended === true) return;
        run.end(s);
        active.splice(best, 1);
      }
      await run.afterBatch();
    }
  }
}

/** A live source's read that settled: its batch, its end (`done`), or why it failed. */
interface Arrival {
  s: SourceState;
  r?: IteratorResult<ReadBatch>;
  error?: unknown;
}

/**
 * A checkpointed run with live sources (§12 "The read log"). Sources that never wait (files,
 * range, nexmark) are read first, merged by event time as ever (runMerged reads a mixture in
 * that order too: live batches only once the others have ended). Then the live sources, one
 * step at a time: a batch of whichever source delivers first (processed whole), an idle tick,
 * the end of a source — each step logged (and flushed to the OS) as it goes into the graph.
 * A restored run first replays the steps logged after its checkpoint: each logged batch cut
 * from the records its source delivers again, with its logged arrival time; idle ticks at their
 * logged times. Then it goes on live, with what it read ahead while replaying first.
 */
async function runLogged(run: Reader, sources: SourceState[], log: ReadLogHooks): Promise<void> {
  const fixed = sources.filter((s) => s.live !== true);
  const live = sources.filter((s) => s.live === true);
  if (fixed.length > 0) {
    await runMerged(run, fixed);
    if (run.stopped()) return;
  }
  const ended = new Set<number>();
  const startIdle = (t: number) => {
    for (const s of live) if (s.idle !== undefined) s.idle.lastArrival = t;
  };
  if (log.fresh) {
    const t = run.arrival();
    log.record({ k: "s", t });
    startIdle(t);
  }

  // The replay of the steps logged after the checkpoint.
  const buffers = new Map<SourceState, ReplayBuffer>();
  const replaying = new Map(sources.map((s) => [s.index, s]));
  while (!run.stopped()) {
    const step = log.next();
    if (step === undefined) break;
    switch (step.k) {
      case "s":
        startIdle(step.t);
        break;
      case "t":
        run.idleTick(live, ended, step.t);
        await run.afterBatch();
        break;
      case "e": {
        const s = replaying.get(step.s);
        if (s === undefined) break;
        ended.add(s.index);
        run.end(s);
        break;
      }
      case "f":
        break; // a position, read by the checkpoint
      case "b": {
        const s = replaying.get(step.s);
        // A source that cannot replay lost these records (the restore said how many).
        if (s === undefined || !log.replayable(s)) break;
        let buf = buffers.get(s);
        if (buf === undefined) buffers.set(s, (buf = new ReplayBuffer()));
        let b: ReadBatch | undefined;
        while ((b = buf.take(step.p ?? -1, step.n, step.bad, step.from)) === undefined) {
          log.flush(); // what `seen` logged goes out before the read acknowledges the last batch
          const r = await run.read(s);
          if (r.done) {
            if (run.stopped()) return;
            throw new ReplayError(`${s.label} ended while its records after the checkpoint were read again`);
          }
          log.seen(s, r.value);
          buf.add(r.value);
        }
        if (step.from !== undefined) b.from = step.from;
        if (step.to !== undefined) b.to = step.to;
        run.applyBatch(s, b, step.t, step.parts);
        if (s.failAfter !== undefined) await run.read(s); // strict: stops the run
        await run.afterBatch();
        break;
      }
    }
  }
  if (run.stopped()) return;
  // What was read ahead goes on first.
  for (const [s, buf] of buffers) {
    const ahead = buf.leftovers();
    if (ahead.length === 0) continue;
    const inner = s.batches;
    s.batches = {
      next: () => (ahead.length > 0 ? Promise.resolve({ done: false, value: ahead.shift()! }) : inner.next()),
      return: (v?: unknown) => inner.return?.(v) ?? Promise.resolve({ done: true, value: undefined }),
    };
  }

  // Live.
  const pending = new Set<SourceState>();
  const arrivals = new Arrivals<Arrival>();
  const read = (s: SourceState) => {
    log.flush(); // the read acknowledges the last batch (a Kafka commit): the log goes first
    pending.add(s);
    arrivals.add(run.read(s).then((r) => ({ s, r }), (error: unknown) => ({ s, error })));
  };
  for (const s of live) if (!ended.has(s.index)) read(s);
  while (pending.size > 0 && !run.stopped()) {
    log.flush();
    // About to wait for input: what the records so far produced goes out now (§10).
    await run.flushOutputs();
    const before = run.arrival();
    const wake = run.nextIdle(live, ended, before);
    const got = wake === Infinity ? await arrivals.next() : await arrivals.next(run.sleep(Math.max(1, wake - before)));
    if (run.stopped()) break;
    const now = run.arrival();
    // Each step is logged and handed to the OS before it goes into the graph: no row it
    // produces reaches a sink (not even a full output buffer written mid-batch) before it.
    if (got === undefined) {
      log.record({ k: "t", t: now });
      log.flush();
      run.idleTick(live, ended, now);
      await run.afterBatch();
      continue;
    }
    const s = got.s;
    pending.delete(s);
    if (got.error !== undefined) throw got.error;
    if (got.r!.done) {
      log.record({ k: "e", s: s.index });
      log.flush();
      ended.add(s.index);
      run.end(s);
      continue;
    }
    const b = got.r!.value;
    const parts = s.partitions?.();
    const step: LogStep = { k: "b", s: s.index, n: b.records.length, bad: b.bad?.length ?? 0, t: now };
    if (b.partition !== undefined) step.p = b.partition;
    if (b.from !== undefined) step.from = b.from;
    if (b.to !== undefined) step.to = b.to;
    if (parts !== undefined) step.parts = [...parts];
    log.record(step);
    log.flush();
    run.applyBatch(s, b, now, parts);
    await run.afterBatch();
    read(s);
  }
  for (const s of live) if (!ended.has(s.index)) run.end(s);
}
