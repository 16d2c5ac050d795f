// Interval join: `join OTHER on COND within A .. B` (LANGUAGE.md §6).

import type { Emit, Key } from "./types";

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
}
