// Window join: `join OTHER on COND` when both sides carry the same window (LANGUAGE.md §6).

import type { Emit, Key } from "./types";
import { WindowAssigner, WindowIndex, type Win, type WindowSpec } from "./windows";

export interface WindowJoinSpec<L, R, Out> {
  leftKey(l: L): Key;
  rightKey(r: R): Key;
  /** The rest of the join condition (true when the keys' equality is all of it). */
  match(l: L, r: R): boolean;
  combine(l: L, r: R, windowStart: number, windowEnd: number): Out;
}

/** One window's buffered rows. */
class JoinWindow<L, R> {
  /** Left rows in arrival order, with their keys. */
  lefts: L[] = [];
  leftKeys: Key[] = [];
  /** Right rows by key, each list in arrival order. */
  rights = new Map<Key, R[]>();
}

/**
 * Buffers both sides per window (tumbling or hop, by time: windows.ts). When a window closes (end ≤ watermark, in end order) it
 * emits every pair with equal non-null keys and `match`, in left arrival order then right arrival
 * order, as `combine(l, r, start, end)` with time end − 1. A row is late when every window it
 * belongs to has end ≤ watermark (→ lateLeft / lateRight).
 *
 * `advance(wm)`: wm is the smaller of the two input watermarks (or use advanceLeft/advanceRight).
 */
export class WindowJoin<L, R, Out> {
  private readonly win: WindowAssigner;
  private readonly index = new WindowIndex<JoinWindow<L, R>>(() => new JoinWindow<L, R>());
  private wm = -Infinity;
  private wmLeft = -Infinity;
  private wmRight = -Infinity;

  constructor(
    window: WindowSpec,
    private readonly spec: WindowJoinSpec<L, R, Out>,
    private readonly emit: Emit<Out>,
    private readonly lateLeft: (l: L) => void,
    private readonly lateRight: (r: R) => void,
  ) {
    this.win = new WindowAssigner(window);
  }

  /** The join's watermark (the smaller input watermark). */
  get watermark(): number {
    return this.wm;
  }

  /** Number of open windows. */
  get openWindows(): number {
    return this.index.size;
  }

  pushLeft(l: L, time: number): void {
    const win = this.win;
    const wm = this.wm;
    if (win.isLate(time, wm)) {
      this.lateLeft(l);
      return;
    }
    const k = this.spec.leftKey(l);
    if (k === null) return;
    for (let start = win.start(time); win.holds(start, time, wm); start -= win.slide) {
      const jw = this.index.get(start, start + win.size).data;
      jw.lefts.push(l);
      jw.leftKeys.push(k);
    }
  }

  pushRight(r: R, time: number): void {
    const win = this.win;
    const wm = this.wm;
    if (win.isLate(time, wm)) {
      this.lateRight(r);
      return;
    }
    const k = this.spec.rightKey(r);
    if (k === null) return;
    for (let start = win.start(time); win.holds(start, time, wm); start -= win.slide) this.addRight(this.index.get(start, start + win.size).data, k, r);
  }

  private addRight(jw: JoinWindow<L, R>, k: Key, r: R): void {
    const list = jw.rights.get(k);
    if (list === undefined) jw.rights.set(k, [r]);
    else list.push(r);
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

  /** Fires every window with end ≤ wm (in end order) before returning. */
  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    const spec = this.spec;
    const emit = this.emit;
    let w: Win<JoinWindow<L, R>> | undefined;
    while ((w = this.index.shift(wm)) !== undefined) {
      const jw = w.data;
      if (jw.rights.size === 0) continue;
      const start = w.start;
      const end = w.end;
      const t = end - 1;
      const lefts = jw.lefts;
      const keys = jw.leftKeys;
      for (let i = 0; i < lefts.length; i++) {
        const rs = jw.rights.get(keys[i]!);
        if (rs === undefined) continue;
        const l = lefts[i]!;
        for (let j = 0; j < rs.length; j++) {
          const r = rs[j]!;
          if (spec.match(l, r)) emit(spec.combine(l, r, start, end), t);
        }
      }
    }
  }
}
