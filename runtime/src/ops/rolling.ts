// Rolling aggregates and `lag` in `extend` (LANGUAGE.md §13):
//   | group by sensor | extend avg5m = avg(v) over 5m, last3 = max(v) over 3 rows, prev = lag(v)
//
// Records wait in a buffer until the watermark passes them (time < watermark); then they are
// processed in event-time order, ties by arrival, so the results do not depend on how the input
// was disordered. A record arriving below the watermark is late. Per key, the operator keeps the
// records some call still needs (a time range: those with time > t − range; rows: the last N;
// lag n: the n previous ones) and one accumulator per call that adds the record entering its
// frame and removes the records leaving it:
//   count, sum, avg      O(1) per record (sums compensated: exact for ints, a float sum does not
//                        drift when large values leave); a frame that empties starts again at 0
//   min, max, max_by,    monotonic deques, O(1) amortized
//   min_by, first, last
//   count_distinct       a count per value, O(1)
//   percentile           the frame's values kept sorted (binary search; insertion moves values)
//   collect              the frame's values copied into each result (its size is the frame's)
//   lag                  the record n back, O(1)
// Memory per key is bounded by the frames. When every call has a time range, a key whose
// records all lie at or below watermark − range can never be read again: its state is dropped.

import type { Emit, Key } from "./types";
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

/** What one call computes; `arg` and `by` index the record's values (RollingSpec.values). */
export interface RollingCallSpec {
  fn: "count" | "count_expr" | "sum" | "avg" | "min" | "max" | "first" | "last" | "count_distinct" | "percentile" | "collect" | "max_by" | "min_by" | "lag";
  /** The frame: records with time > t − range … */
  range?: number;
  /** … or the key's last `rows` records (the current one included). Neither for lag. */
  rows?: number;
  /** lag: how many records back (≥ 1). */
  back?: number;
  arg?: number;
  /** max_by / min_by: the key compared. */
  by?: number;
  /** percentile: p in [0, 1]. */
  p?: number;
}

export interface RollingSpec<In, Out> {
  key(row: In): Key;
  /** The values the calls read, computed when the record arrives (a failing built-in drops the record there). */
  values(row: In): unknown[];
  /** The output row of a record and its calls' results; undefined when a built-in failed (reported, row dropped). */
  result(row: In, results: readonly unknown[]): Out | undefined;
}

/** A queue over an array: push at the back, take from either end. */
class Deque<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  front(): T {
    return this.items[this.head]!;
  }
  back(): T {
    return this.items[this.items.length - 1]!;
  }
  popBack(): void {
    this.items.pop();
    if (this.items.length === this.head) this.clear();
  }
  shift(): void {
    this.head++;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 64 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  /** The element `i` places from the front. */
  at(i: number): T {
    return this.items[this.head + i]!;
  }
  private clear(): void {
    this.items = [];
    this.head = 0;
  }
}

interface Entry {
  time: number;
  values: unknown[];
}

/** One key's state: the records some call still needs (a window into its sequence) and the accumulators. */
class KeyState {
  readonly entries = new Deque<Entry>();
  /** Sequence number (per key, from 0) of the oldest entry kept. */
  base = 0;
  /** Records of the key processed so far: the next one's sequence number. */
  next = 0;
  lastTime = -Infinity;
  constructor(readonly accs: (Acc | undefined)[]) {}
  at(seq: number): Entry {
    return this.entries.at(seq - this.base);
  }
}

/** A call's running result over its frame: records enter at the back and leave at the front. */
interface Acc {
  /** Sequence number of the frame's first record. */
  start: number;
  enter(seq: number, v: unknown, e: Entry): void;
  leave(seq: number, v: unknown, e: Entry): void;
  result(st: KeyState, seq: number): unknown;
}

class CountAcc implements Acc {
  start = 0;
  n = 0;
  constructor(private readonly all: boolean) {}
  enter(_seq: number, v: unknown): void {
    if (this.all || v !== null) this.n++;
  }
  leave(_seq: number, v: unknown): void {
    if (this.all || v !== null) this.n--;
  }
  result(): unknown {
    return this.n;
  }
}

/** Neumaier's compensated sum: `s + c` is the sum; ints stay exact (c stays 0). */
class SumAcc implements Acc {
  start = 0;
  n = 0;
  s = 0;
  c = 0;
  constructor(private readonly mean: boolean) {}
  private add(x: number): void {
    const t = this.s + x;
    this.c += Math.abs(this.s) >= Math.abs(x) ? this.s - t + x : x - t + this.s;
    this.s = t;
  }
  enter(_seq: number, v: unknown): void {
    if (v === null) return;
    this.n++;
    this.add(v as number);
  }
  leave(_seq: number, v: unknown): void {
    if (v === null) return;
    // An empty frame starts from an exact 0: no rounding carries over a gap.
    if (--this.n === 0) this.s = this.c = 0;
    else this.add(-(v as number));
  }
  result(): unknown {
    if (this.n === 0) return null;
    const sum = this.s + this.c;
    return this.mean ? sum / this.n : sum;
  }
}

/** min / max: a deque of values, each smaller (min) than every value behind it. */
class ExtremeAcc implements Acc {
  start = 0;
  private readonly q = new Deque<{ seq: number; v: unknown }>();
  constructor(private readonly max: boolean) {}
  enter(seq: number, v: unknown): void {
    if (v === null) return;
    const q = this.q;
    if (this.max) while (q.size > 0 && (q.back().v as number) < (v as number)) q.popBack();
    else while (q.size > 0 && (q.back().v as number) > (v as number)) q.popBack();
    q.push({ seq, v });
  }
  leave(seq: number): void {
    if (this.q.size > 0 && this.q.front().seq === seq) this.q.shift();
  }
  result(): unknown {
    return this.q.size > 0 ? this.q.front().v : null;
  }
}

/** max_by / min_by: like ExtremeAcc over the key, ties kept in order so the first record wins. */
class ByAcc implements Acc {
  start = 0;
  private readonly q = new Deque<{ seq: number; v: unknown; k: unknown }>();
  constructor(private readonly max: boolean, private readonly by: number) {}
  enter(seq: number, v: unknown, e: Entry): void {
    const k = e.values[this.by];
    if (k === null) return;
    const q = this.q;
    if (this.max) while (q.size > 0 && (q.back().k as number) < (k as number)) q.popBack();
    else while (q.size > 0 && (q.back().k as number) > (k as number)) q.popBack();
    q.push({ seq, v, k });
  }
  leave(seq: number): void {
    if (this.q.size > 0 && this.q.front().seq === seq) this.q.shift();
  }
  result(): unknown {
    return this.q.size > 0 ? this.q.front().v : null;
  }
}

/** first: the frame's non-null values in order (the front is the answer). */
class FirstAcc implements Acc {
  start = 0;
  private readonly q = new Deque<{ seq: number; v: unknown }>();
  enter(seq: number, v: unknown): void {
    if (v !== null) this.q.push({ seq, v });
  }
  leave(seq: number): void {
    if (this.q.size > 0 && this.q.front().seq === seq) this.q.shift();
  }
  result(): unknown {
    return this.q.size > 0 ? this.q.front().v : null;
  }
}

/** last: the latest non-null value; once it leaves, every value left in the frame is null. */
class LastAcc implements Acc {
  start = 0;
  private seq = -1;
  private v: unknown = null;
  enter(seq: number, v: unknown): void {
    if (v === null) return;
    this.seq = seq;
    this.v = v;
  }
  leave(seq: number): void {
    if (seq === this.seq) {
      this.seq = -1;
      this.v = null;
    }
  }
  result(): unknown {
    return this.seq >= 0 ? this.v : null;
  }
}

class DistinctAcc implements Acc {
  start = 0;
  private readonly counts = new Map<unknown, number>();
  enter(_seq: number, v: unknown): void {
    if (v !== null) this.counts.set(v, (this.counts.get(v) ?? 0) + 1);
  }
  leave(_seq: number, v: unknown): void {
    if (v === null) return;
    const n = this.counts.get(v)! - 1;
    if (n === 0) this.counts.delete(v);
    else this.counts.set(v, n);
  }
  result(): unknown {
    return this.counts.size;
  }
}

/** percentile: the frame's values sorted; nearest rank as the stdlib's `Percentile`. */
class PercentileAcc implements Acc {
  start = 0;
  private readonly sorted: number[] = [];
  constructor(private readonly p: number) {}
  /** The first index whose value is ≥ v. */
  private lowerBound(v: number): number {
    const a = this.sorted;
    let lo = 0, hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  enter(_seq: number, v: unknown): void {
    if (v !== null) this.sorted.splice(this.lowerBound(v as number), 0, v as number);
  }
  leave(_seq: number, v: unknown): void {
    if (v !== null) this.sorted.splice(this.lowerBound(v as number), 1);
  }
  result(): unknown {
    const n = this.sorted.length;
    if (n === 0) return null;
    const p = this.p;
    let k = Math.ceil(p * n);
    while (k > 1 && (k - 1) / n >= p) k--;
    while (k < n && k / n < p) k++;
    if (k < 1) k = 1;
    return this.sorted[k - 1]!;
  }
}

/** collect: the frame's non-null values in order, copied for each result. */
class CollectAcc implements Acc {
  start = 0;
  constructor(private readonly arg: number) {}
  enter(): void {}
  leave(): void {}
  result(st: KeyState, seq: number): unknown {
    const out: unknown[] = [];
    for (let i = this.start; i <= seq; i++) {
      const v = st.at(i).values[this.arg];
      if (v !== null) out.push(v);
    }
    return out.length === 0 ? null : out;
  }
}

function newAcc(c: RollingCallSpec): Acc | undefined {
  switch (c.fn) {
    case "count":
      return new CountAcc(true);
    case "count_expr":
      return new CountAcc(false);
    case "sum":
      return new SumAcc(false);
    case "avg":
      return new SumAcc(true);
    case "min":
    case "max":
      return new ExtremeAcc(c.fn === "max");
    case "max_by":
    case "min_by":
      return new ByAcc(c.fn === "max_by", c.by!);
    case "first":
      return new FirstAcc();
    case "last":
      return new LastAcc();
    case "count_distinct":
      return new DistinctAcc();
    case "percentile":
      return new PercentileAcc(c.p!);
    case "collect":
      return new CollectAcc(c.arg!);
    case "lag":
      return undefined;
  }
}

/** A record waiting for the watermark; once processed it is the key's entry (its row let go). */
interface Pending<In> extends Entry {
  row: In | undefined;
  /** Arrival order: ties of time are processed in it. */
  seq: number;
  key: Key;
}

/**
 * The records waiting for the watermark, taken in (time, arrival) order. Records arriving in
 * time order (the usual case) are appended to a queue; only a record older than the queue's last
 * goes into a binary heap, and the next record is the earlier of the two fronts.
 */
class PendingHeap<In> {
  /** In (time, arrival) order: each appended record is not older than the last. */
  private run: Pending<In>[] = [];
  private head = 0;
  private readonly a: Pending<In>[] = [];
  get size(): number {
    return this.run.length - this.head + this.a.length;
  }
  private static before<In>(x: Pending<In>, y: Pending<In>): boolean {
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }
  /** The heap's top comes first (else the queue's front). */
  private heapFirst(): boolean {
    if (this.a.length === 0) return false;
    return this.head === this.run.length || PendingHeap.before(this.a[0]!, this.run[this.head]!);
  }
  peek(): Pending<In> {
    return this.heapFirst() ? this.a[0]! : this.run[this.head]!;
  }
  push(p: Pending<In>): void {
    const run = this.run;
    if (run.length === this.head || run[run.length - 1]!.time <= p.time) {
      run.push(p);
      return;
    }
    const a = this.a;
    let i = a.length;
    a.push(p);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!PendingHeap.before(p, a[parent]!)) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = p;
  }
  pop(): Pending<In> {
    if (!this.heapFirst()) {
      const top = this.run[this.head++]!;
      if (this.head === this.run.length) {
        this.run.length = 0;
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.run.length) {
        this.run = this.run.slice(this.head);
        this.head = 0;
      }
      return top;
    }
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && PendingHeap.before(a[r]!, a[l]!) ? r : l;
        if (!PendingHeap.before(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * The operator of a rolling `extend`. `push(row, time)` buffers a record (or reports it late);
 * `advance(watermark)` processes every buffered record with time < watermark in (time, arrival)
 * order and emits its row with its own time, before returning.
 */
export class Rolling<In, Out> {
  private readonly pending = new PendingHeap<In>();
  private readonly states = new Map<Key, KeyState>();
  private readonly results: unknown[];
  /** The largest range when every call has one (keys then expire), else undefined. */
  private readonly expiry: number | undefined;
  private wm = -Infinity;
  private arrivals = 0;
  private sweepAt = 1024;

  constructor(
    private readonly calls: readonly RollingCallSpec[],
    private readonly spec: RollingSpec<In, Out>,
    private readonly emit: Emit<Out>,
    private readonly late: (row: In) => void,
  ) {
    for (const c of calls) {
      const ok = c.fn === "lag" ? Number.isInteger(c.back) && c.back! >= 1 : (c.range !== undefined && c.range > 0) !== (c.rows !== undefined && Number.isInteger(c.rows) && c.rows > 0);
      if (!ok) throw new RangeError(`rolling ${c.fn}: needs one positive range or row count (lag: back ≥ 1), got ${JSON.stringify(c)}`);
    }
    this.results = new Array<unknown>(calls.length).fill(null);
    this.expiry = calls.length > 0 && calls.every((c) => c.range !== undefined) ? Math.max(...calls.map((c) => c.range!)) : undefined;
  }

  /** Keys with state (expired ones may wait for the next sweep). */
  get keys(): number {
    return this.states.size;
  }

  /** Records kept in the keys' frames (tests check that memory follows the frames). */
  get retained(): number {
    let n = 0;
    for (const st of this.states.values()) n += st.entries.size;
    return n;
  }

  /** Records waiting for the watermark. */
  get buffered(): number {
    return this.pending.size;
  }

  push(row: In, time: number): void {
    if (time < this.wm) {
      this.late(row);
      return;
    }
    const key = this.spec.key(row);
    const values = this.spec.values(row);
    this.pending.push({ row, time, seq: this.arrivals++, key, values });
  }

  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    const p = this.pending;
    while (p.size > 0 && p.peek().time < wm) this.process(p.pop());
    if (wm === Infinity) {
      this.states.clear();
      return;
    }
    // Every later record has time ≥ wm, so it reads nothing at or below wm − range.
    if (this.expiry !== undefined && this.states.size > this.sweepAt) {
      const dead = wm - this.expiry;
      for (const [k, st] of this.states) if (st.lastTime <= dead) this.states.delete(k);
      this.sweepAt = Math.max(1024, 2 * this.states.size);
    }
  }

  private process(p: Pending<In>): void {
    let st = this.states.get(p.key);
    if (st === undefined) this.states.set(p.key, (st = new KeyState(this.calls.map(newAcc))));
    const seq = st.next++;
    const entry: Entry = p; // no second object per record: the row is let go below
    st.entries.push(entry);
    st.lastTime = p.time;
    const calls = this.calls;
    const results = this.results;
    // The oldest record the key's next record may still read.
    let keep = seq + 1;
    for (let i = 0; i < calls.length; i++) {
      const c = calls[i]!;
      if (c.fn === "lag") {
        const back = c.back!;
        results[i] = seq >= back ? st.at(seq - back).values[c.arg!] : null;
        if (seq + 1 - back < keep) keep = seq + 1 - back;
        continue;
      }
      const acc = st.accs[i]!;
      // count() reads no value (-1).
      const arg = c.arg ?? -1;
      if (c.range !== undefined) {
        const oldest = p.time - c.range;
        while (acc.start < seq) {
          const e = st.at(acc.start);
          if (e.time > oldest) break;
          acc.leave(acc.start, arg >= 0 ? e.values[arg] : undefined, e);
          acc.start++;
        }
      } else {
        while (seq - acc.start + 1 > c.rows!) {
          const e = st.at(acc.start);
          acc.leave(acc.start, arg >= 0 ? e.values[arg] : undefined, e);
          acc.start++;
        }
      }
      acc.enter(seq, arg >= 0 ? entry.values[arg] : undefined, entry);
      results[i] = acc.result(st, seq);
      if (acc.start < keep) keep = acc.start;
    }
    while (st.base < keep) {
      st.entries.shift();
      st.base++;
    }
    const out = this.spec.result(p.row!, results);
    p.row = undefined;
    if (out !== undefined) this.emit(out, p.time);
  }

  /** Checkpoints (LANGUAGE.md §12): this operator's state (see checkpoint/codec.ts). */
  snapshot(): Record<string, unknown> {
    return snapshotFields(this);
  }

  /** Puts back what `snapshot()` saved, into an operator built by the same program. */
  restore(saved: unknown): void {
    restoreFields(this, saved);
  }
}

// Classes whose instances are state (checkpoint/codec.ts restores them by these names).
stateClass("rolling.Deque", Deque);
stateClass("rolling.KeyState", KeyState);
stateClass("rolling.CountAcc", CountAcc);
stateClass("rolling.SumAcc", SumAcc);
stateClass("rolling.ExtremeAcc", ExtremeAcc);
stateClass("rolling.ByAcc", ByAcc);
stateClass("rolling.FirstAcc", FirstAcc);
stateClass("rolling.LastAcc", LastAcc);
stateClass("rolling.DistinctAcc", DistinctAcc);
stateClass("rolling.PercentileAcc", PercentileAcc);
stateClass("rolling.CollectAcc", CollectAcc);
stateClass("rolling.PendingHeap", PendingHeap);
