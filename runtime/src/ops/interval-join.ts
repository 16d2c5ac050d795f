// Interval join: `join OTHER on COND within A .. B` (LANGUAGE.md §6).

import type { Emit, Key } from "./types";
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

export interface JoinSpec<L, R, Out> {
  leftKey(l: L): Key;
  rightKey(r: R): Key;
  /** The rest of the join condition (true when the keys' equality is all of it). */
  match(l: L, r: R): boolean;
  combine(l: L, r: R): Out;
}

/** One key's buffered rows of one side, in arrival order. */
class Bucket<T> {
  rows: T[] = [];
  times: number[] = [];
}

/**
 * Pairs l and r with equal (non-null) keys, `match(l, r)` and r.t − l.t ∈ [lower, upper] (both
 * inclusive: `within D` is [−D, D], an unbounded join [−∞, +∞]). Each pair is emitted once, when
 * its second row arrives, with time max(l.t, r.t); a left arrival emits its pairs in right arrival
 * order and vice versa.
 *
 * `advance(wm)` — wm is the smaller of the two inputs' watermarks (or use advanceLeft/advanceRight,
 * which track both) — evicts left rows with l.t + upper < wm and right rows with r.t − lower < wm:
 * they can pair with no on-time row any more. A row arriving below the watermark still joins with
 * the rows that remain, and is itself not kept when it is already past eviction. Eviction is exact
 * at every probe; memory is reclaimed by amortized sweeps (in probes and in `advance`).
 */
export class IntervalJoin<L, R, Out> {
  private readonly left = new Map<Key, Bucket<L>>();
  private readonly right = new Map<Key, Bucket<R>>();
  private wm = -Infinity;
  private wmLeft = -Infinity;
  private wmRight = -Infinity;
  private stored = 0;
  private sweepAt = 4096;
  /** Set it to observe each matched pair (the playground's tracer draws them). */
  onPair: ((left: L, right: R) => void) | undefined = undefined;

  constructor(
    private readonly lower: number,
    private readonly upper: number,
    private readonly spec: JoinSpec<L, R, Out>,
    private readonly emit: Emit<Out>,
  ) {
    if (!(lower <= upper)) throw new RangeError(`join bounds must satisfy lower ≤ upper, got ${lower} .. ${upper}`);
  }

  /** The join's watermark (the smaller input watermark). */
  get watermark(): number {
    return this.wm;
  }

  /** Number of buffered rows (both sides, including expired ones not swept yet). */
  get bufferedRows(): number {
    return this.stored;
  }

  pushLeft(l: L, time: number): void {
    const spec = this.spec;
    const k = spec.leftKey(l);
    if (k === null) return;
    const wm = this.wm;
    const lower = this.lower;
    const b = this.right.get(k);
    if (b !== undefined) {
      const rows = b.rows;
      const times = b.times;
      const n = rows.length;
      const lo = time + lower;
      const hi = time + this.upper;
      let j = 0;
      for (let i = 0; i < n; i++) {
        const rt = times[i]!;
        if (rt - lower < wm) continue; // evicted
        const r = rows[i]!;
        if (j !== i) {
          rows[j] = r;
          times[j] = rt;
        }
        j++;
        if (rt >= lo && rt <= hi && spec.match(l, r)) {
          if (this.onPair !== undefined) this.onPair(l, r);
          this.emit(spec.combine(l, r), rt > time ? rt : time);
        }
      }
      if (j < n) {
        rows.length = j;
        times.length = j;
        this.stored -= n - j;
        if (j === 0) this.right.delete(k);
      }
    }
    if (time + this.upper < wm) return; // already past eviction
    let own = this.left.get(k);
    if (own === undefined) {
      own = new Bucket<L>();
      this.left.set(k, own);
    }
    own.rows.push(l);
    own.times.push(time);
    this.stored++;
  }

  pushRight(r: R, time: number): void {
    const spec = this.spec;
    const k = spec.rightKey(r);
    if (k === null) return;
    const wm = this.wm;
    const upper = this.upper;
    const b = this.left.get(k);
    if (b !== undefined) {
      const rows = b.rows;
      const times = b.times;
      const n = rows.length;
      // r.t − l.t ∈ [lower, upper]  ⇔  l.t ∈ [r.t − upper, r.t − lower]
      const lo = time - upper;
      const hi = time - this.lower;
      let j = 0;
      for (let i = 0; i < n; i++) {
        const lt = times[i]!;
        if (lt + upper < wm) continue; // evicted
        const l = rows[i]!;
        if (j !== i) {
          rows[j] = l;
          times[j] = lt;
        }
        j++;
        if (lt >= lo && lt <= hi && spec.match(l, r)) {
          if (this.onPair !== undefined) this.onPair(l, r);
          this.emit(spec.combine(l, r), lt > time ? lt : time);
        }
      }
      if (j < n) {
        rows.length = j;
        times.length = j;
        this.stored -= n - j;
        if (j === 0) this.left.delete(k);
      }
    }
    if (time - this.lower < wm) return; // already past eviction
    let own = this.right.get(k);
    if (own === undefined) {
      own = new Bucket<R>();
      this.right.set(k, own);
    }
    own.rows.push(r);
    own.times.push(time);
    this.stored++;
  }

  /** The left input's watermark rose: advances the join to min(left, right). */
  advanceLeft(wm: number): void {
    if (wm > this.wmLeft) this.wmLeft = wm;
    this.advance(this.wmLeft < this.wmRight ? this.wmLeft : this.wmRight);
  }

  /** The right input's watermark rose: advances the join to min(left, right). */
  advanceRight(wm: number): void {
    if (wm > this.wmRight) this.wmRight = wm;
    this.advance(this.wmLeft < this.wmRight ? this.wmLeft : this.wmRight);
  }

  /** Raises the join's watermark (the smaller input watermark) and evicts expired rows. */
  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    if (wm === Infinity) {
      // nothing can arrive any more
      this.left.clear();
      this.right.clear();
      this.stored = 0;
      return;
    }
    if (this.stored <= this.sweepAt) return;
    const upper = this.upper;
    const lower = this.lower;
    let kept = 0;
    for (const [k, b] of this.left) {
      const times = b.times;
      const rows = b.rows;
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        const t = times[i]!;
        if (t + upper < wm) continue;
        rows[j] = rows[i]!;
        times[j] = t;
        j++;
      }
      if (j === 0) this.left.delete(k);
      else {
        rows.length = j;
        times.length = j;
        kept += j;
      }
    }
    for (const [k, b] of this.right) {
      const times = b.times;
      const rows = b.rows;
      let j = 0;
      for (let i = 0; i < times.length; i++) {
        const t = times[i]!;
        if (t - lower < wm) continue;
        rows[j] = rows[i]!;
        times[j] = t;
        j++;
      }
      if (j === 0) this.right.delete(k);
      else {
        rows.length = j;
        times.length = j;
        kept += j;
      }
    }
    this.stored = kept;
    this.sweepAt = Math.max(4096, 2 * kept);
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

/** The kinds of join (LANGUAGE.md §13); `IntervalJoin` and a plain `WindowJoin` are "inner". */
export type JoinKind = "inner" | "left" | "right" | "full" | "semi" | "anti";

/**
 * An outer, semi or anti join's spec. `combine` gets null for the missing side of a padded row;
 * a semi or anti join's spec returns the left record itself.
 */
export interface OuterJoinSpec<L, R, Out> {
  leftKey(l: L): Key;
  rightKey(r: R): Key;
  match(l: L, r: R): boolean;
  combine(l: L | null, r: R | null): Out;
}

const UNMATCHED = 0;
const MATCHED = 1;
/** Emitted padded (or by an anti join): it matches nothing any more, but a record it would have matched is late. */
const RELEASED = 2;

/** A buffered row of an outer join, with what the padding rules need to know about it. */
class Held<T> {
  state = UNMATCHED;
  constructor(
    readonly row: T,
    readonly t: number,
    /** Arrival order within the join (both sides count): ties in the release order. */
    readonly seq: number,
  ) {}
}

/** Min-heap of held rows by (time, arrival): the order unmatched rows are released in. */
class ReleaseQueue<T> {
  private readonly a: Held<T>[] = [];
  get size(): number {
    return this.a.length;
  }
  peek(): Held<T> | undefined {
    return this.a[0];
  }
  private static less<T>(x: Held<T>, y: Held<T>): boolean {
    return x.t < y.t || (x.t === y.t && x.seq < y.seq);
  }
  push(h: Held<T>): void {
    const a = this.a;
    let i = a.length;
    a.push(h);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!ReleaseQueue.less(h, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = h;
  }
  pop(): Held<T> | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length === 0 || last === undefined) return top;
    let i = 0;
    const n = a.length;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && ReleaseQueue.less(a[r]!, a[l]!) ? r : l;
      if (!ReleaseQueue.less(a[c]!, last)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = last;
    return top;
  }
}

/**
 * `left` / `right` / `full` / `semi` / `anti join OTHER on COND within A .. B` (LANGUAGE.md §13).
 * Pairs are found as by `IntervalJoin` (r.t − l.t ∈ [A, B], equal non-null keys and `match`), each
 * emitted once with time max(l.t, r.t); an inner join uses `IntervalJoin`, which has none of the
 * bookkeeping below.
 *
 * - A left row at t can match right rows up to t + B: once the right input's watermark exceeds
 *   t + B, an unmatched left row is released — emitted padded (`combine(l, null)`, left and full
 *   joins) or as itself (anti join) — with time max(t, t + B). Symmetrically an unmatched right
 *   row at t is released (right and full joins, `combine(null, r)`) with time max(t, t − A) once
 *   the left watermark exceeds t − A. The rows one watermark rise releases come in order of time,
 *   then arrival. A row whose release point has already passed when it arrives unmatched is
 *   released at once.
 * - A semi join emits each left row once, at its first match (the first matching right row in
 *   arrival order), with the later of the two times.
 * - A released row stays only to recognise late records: a later row that would have matched it
 *   and matches nothing else is reported to `lateLeft` / `lateRight` and dropped.
 * - Rows with a null key match nothing; outer and anti joins still release them.
 * - Eviction is `IntervalJoin`'s: a left row goes once min(watermarks) > t + B, a right row once
 *   it is > t − A (a live unmatched row has been released by then).
 *
 * Watermarks come per input (`advanceLeft`, `advanceRight`): the release rules read each side's
 * own; `advance(wm)` raises both.
 */
export class OuterIntervalJoin<L, R, Out> {
  private readonly left = new Map<Key, Held<L>[]>();
  private readonly right = new Map<Key, Held<R>[]>();
  private readonly leftQueue = new ReleaseQueue<L>();
  private readonly rightQueue = new ReleaseQueue<R>();
  private readonly padLeft: boolean;
  private readonly padRight: boolean;
  private wm = -Infinity;
  private wmLeft = -Infinity;
  private wmRight = -Infinity;
  private seq = 0;
  private stored = 0;
  private sweepAt = 4096;
  /** Set it to observe each matched pair (the playground's tracer draws them). */
  onPair: ((left: L, right: R) => void) | undefined = undefined;

  constructor(
    readonly kind: Exclude<JoinKind, "inner">,
    private readonly lower: number,
    private readonly upper: number,
    private readonly spec: OuterJoinSpec<L, R, Out>,
    private readonly emit: (row: Out, time: number) => void,
    private readonly lateLeft: (l: L) => void,
    private readonly lateRight: (r: R) => void,
  ) {
    if (!(lower <= upper) || !Number.isFinite(lower) || !Number.isFinite(upper)) throw new RangeError(`join bounds must be finite with lower ≤ upper, got ${lower} .. ${upper}`);
    this.padLeft = kind === "left" || kind === "full" || kind === "anti";
    this.padRight = kind === "right" || kind === "full";
  }

  /** The join's watermark (the smaller input watermark). */
  get watermark(): number {
    return this.wm;
  }

  /** Number of buffered rows (both sides, including expired ones not swept yet). */
  get bufferedRows(): number {
    return this.stored;
  }

  /** Unmatched rows waiting for their release (both sides). */
  get pendingRows(): number {
    return this.leftQueue.size + this.rightQueue.size;
  }

  pushLeft(l: L, time: number): void {
    const spec = this.spec;
    const kind = this.kind;
    const seq = this.seq++;
    const k = spec.leftKey(l);
    let matched = false;
    let sawReleased = false;
    if (k !== null) {
      const b = this.right.get(k);
      if (b !== undefined) {
        const wm = this.wm;
        const lower = this.lower;
        const lo = time + lower;
        const hi = time + this.upper;
        let j = 0;
        for (let i = 0; i < b.length; i++) {
          const h = b[i]!;
          if (h.t - lower < wm) continue; // evicted
          b[j++] = h;
          if ((matched && (kind === "semi" || kind === "anti")) || h.t < lo || h.t > hi || !spec.match(l, h.row)) continue;
          if (h.state === RELEASED) {
            sawReleased = true;
            continue;
          }
          if (kind === "semi") {
            this.emit(spec.combine(l, h.row), h.t > time ? h.t : time);
          } else if (kind !== "anti") {
            h.state = MATCHED;
            if (this.onPair !== undefined) this.onPair(l, h.row);
            this.emit(spec.combine(l, h.row), h.t > time ? h.t : time);
          }
          matched = true;
        }
        if (j < b.length) {
          this.stored -= b.length - j;
          b.length = j;
          if (j === 0) this.right.delete(k);
        }
      }
    }
    if (!matched && sawReleased) {
      this.lateLeft(l);
      return;
    }
    // A semi join's matched row has been emitted, an anti join's will never be.
    if (matched && (kind === "semi" || kind === "anti")) return;
    const h = new Held(l, time, seq);
    if (matched) h.state = MATCHED;
    const upper = this.upper;
    if (k !== null && time + upper >= this.wm) {
      let own = this.left.get(k);
      if (own === undefined) this.left.set(k, (own = []));
      own.push(h);
      this.stored++;
    }
    if (matched || !this.padLeft) return;
    if (time + upper < this.wmRight) this.releaseLeft(h); // its last chance has passed already
    else this.leftQueue.push(h);
  }

  pushRight(r: R, time: number): void {
    const spec = this.spec;
    const kind = this.kind;
    const seq = this.seq++;
    const k = spec.rightKey(r);
    let matched = false;
    let sawReleased = false;
    if (k !== null) {
      const b = this.left.get(k);
      if (b !== undefined) {
        const wm = this.wm;
        const upper = this.upper;
        // r.t − l.t ∈ [lower, upper]  ⇔  l.t ∈ [r.t − upper, r.t − lower]
        const lo = time - upper;
        const hi = time - this.lower;
        let j = 0;
        for (let i = 0; i < b.length; i++) {
          const h = b[i]!;
          if (h.t + upper < wm) continue; // evicted
          if (h.t >= lo && h.t <= hi && spec.match(h.row, r)) {
            if (h.state === RELEASED) sawReleased = true;
            else {
              matched = true;
              if (kind === "semi" || kind === "anti") {
                // A semi join emits its left row once; an anti join's matched row is never
                // emitted (its queue entry is skipped): either way it leaves the join.
                h.state = MATCHED;
                if (kind === "semi") this.emit(spec.combine(h.row, r), h.t > time ? h.t : time);
                continue;
              }
              h.state = MATCHED;
              if (this.onPair !== undefined) this.onPair(h.row, r);
              this.emit(spec.combine(h.row, r), h.t > time ? h.t : time);
            }
          }
          b[j++] = h;
        }
        if (j < b.length) {
          this.stored -= b.length - j;
          b.length = j;
          if (j === 0) this.left.delete(k);
        }
      }
    }
    if (!matched && sawReleased) {
      this.lateRight(r);
      return;
    }
    const h = new Held(r, time, seq);
    if (matched) h.state = MATCHED;
    const lower = this.lower;
    if (k !== null && time - lower >= this.wm) {
      let own = this.right.get(k);
      if (own === undefined) this.right.set(k, (own = []));
      own.push(h);
      this.stored++;
    }
    if (matched || !this.padRight) return;
    if (time - lower < this.wmLeft) this.releaseRight(h);
    else this.rightQueue.push(h);
  }

  private releaseLeft(h: Held<L>): void {
    h.state = RELEASED;
    const t = h.t + this.upper;
    this.emit(this.spec.combine(h.row, null), t > h.t ? t : h.t);
  }

  private releaseRight(h: Held<R>): void {
    h.state = RELEASED;
    const t = h.t - this.lower;
    this.emit(this.spec.combine(null, h.row), t > h.t ? t : h.t);
  }

  /** The left input's watermark rose: releases unmatched right rows, advances the join to min(left, right). */
  advanceLeft(wm: number): void {
    if (!(wm > this.wmLeft)) return;
    this.wmLeft = wm;
    this.release();
    this.evict(this.wmLeft < this.wmRight ? this.wmLeft : this.wmRight);
  }

  /** The right input's watermark rose: releases unmatched left rows, advances the join to min(left, right). */
  advanceRight(wm: number): void {
    if (!(wm > this.wmRight)) return;
    this.wmRight = wm;
    this.release();
    this.evict(this.wmLeft < this.wmRight ? this.wmLeft : this.wmRight);
  }

  /** Both inputs' watermarks rose to wm (a test's or a single driver's view). */
  advance(wm: number): void {
    if (wm > this.wmLeft) this.wmLeft = wm;
    if (wm > this.wmRight) this.wmRight = wm;
    this.release();
    this.evict(this.wmLeft < this.wmRight ? this.wmLeft : this.wmRight);
  }

  /**
   * Releases the unmatched rows whose last chance has passed: left rows with t + B < right
   * watermark, right rows with t − A < left watermark, merged by (release time, arrival).
   */
  private release(): void {
    const lq = this.leftQueue;
    const rq = this.rightQueue;
    const upper = this.upper;
    const lower = this.lower;
    const wmR = this.wmRight;
    const wmL = this.wmLeft;
    // Release times are t + max(B, 0) on the left and t + max(−A, 0) on the right.
    const dl = upper > 0 ? upper : 0;
    const dr = -lower > 0 ? -lower : 0;
    for (;;) {
      let hl = lq.peek();
      while (hl !== undefined && hl.state !== UNMATCHED) {
        lq.pop(); // matched since it was queued
        hl = lq.peek();
      }
      let hr = rq.peek();
      while (hr !== undefined && hr.state !== UNMATCHED) {
        rq.pop();
        hr = rq.peek();
      }
      const readyL = hl !== undefined && hl.t + upper < wmR;
      const readyR = hr !== undefined && hr.t - lower < wmL;
      if (!readyL && !readyR) return;
      const leftFirst = readyL && (!readyR || hl!.t + dl < hr!.t + dr || (hl!.t + dl === hr!.t + dr && hl!.seq < hr!.seq));
      if (leftFirst) this.releaseLeft(lq.pop()!);
      else this.releaseRight(rq.pop()!);
    }
  }

  private evict(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    if (wm === Infinity) {
      // everything pending has been released above; nothing can arrive any more
      this.left.clear();
      this.right.clear();
      this.stored = 0;
      return;
    }
    if (this.stored <= this.sweepAt) return;
    const upper = this.upper;
    const lower = this.lower;
    let kept = 0;
    for (const [k, b] of this.left) {
      let j = 0;
      for (let i = 0; i < b.length; i++) if (b[i]!.t + upper >= wm) b[j++] = b[i]!;
      if (j === 0) this.left.delete(k);
      else {
        b.length = j;
        kept += j;
      }
    }
    for (const [k, b] of this.right) {
      let j = 0;
      for (let i = 0; i < b.length; i++) if (b[i]!.t - lower >= wm) b[j++] = b[i]!;
      if (j === 0) this.right.delete(k);
      else {
        b.length = j;
        kept += j;
      }
    }
    this.stored = kept;
    this.sweepAt = Math.max(4096, 2 * kept);
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
stateClass("interval-join.Bucket", Bucket);
stateClass("interval-join.Held", Held);
stateClass("interval-join.ReleaseQueue", ReleaseQueue);
