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

/** How long a run may go on without letting the event loop run other tasks (see afterBatch). */
const YIELD_MS = 20;
/** How often an idle source's wall-clock watermark is passed on (§10; outputs flush as often). */
const IDLE_TICK_MS = 50;

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
      // A partitioned source (Kafka): this batch's records raise their partition's watermark.
      if (b.partition !== undefined && s.clock instanceof PartitionedClock) {
        const now = this.arrival();
        if (s.partitions !== undefined) s.clock.assign(s.partitions(), now);
        s.clock.select(b.partition, now);
        // `idle` applies to each partition (§10): the quiet ones stop holding the source back.
        if (s.idle !== undefined && s.clock.markIdle(now, s.idle.ms)) this.graph.advance(s.index, s.clock.watermark);
      }
      if (s.field === undefined && s.timeOf === undefined) s.batchTime = this.arrival();
      if (recs.length > 0) return true;
    }
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
  private sleep(ms: number): Promise<void> {
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
  const waiting = new Map<SourceState, Promise<{ s: SourceState; ok: boolean; error?: unknown }>>();
  const wait = (s: SourceState) =>
    waiting.set(s, run.refill(s).then((ok) => ({ s, ok }), (error: unknown) => ({ s, ok: false, error })));
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
      settled(await Promise.race(waiting.values()));
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
