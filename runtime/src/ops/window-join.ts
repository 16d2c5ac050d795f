// Window join: `join OTHER on COND` when both sides carry the same window (LANGUAGE.md §6).

import { HOP, TUMBLING, floorMod, windowKind, type Emit, type Key, type WindowSpec } from "./types";
import { WindowIndex, type Win } from "./window-index";

export interface WindowJoinSpec<L, R, Out> {
  leftKey(l: L): Key;
  rightKey(r: R): Key;
  /** The rest of the join condition (true when the keys' equality is all of it). */
  match(l: L, r: R): boolean;
  combine(l: L, r: R, windowStart: number, windowEnd: number): Out;
}

/** How each side's derived rows carry their window (window kind `carried`). */
export interface CarriedJoinWindows<L, R> {
  leftWindowOf?(l: L): readonly [number, number];
  rightWindowOf?(r: R): readonly [number, number];
  leftWindowStart?(l: L): number;
  leftWindowEnd?(l: L): number;
  rightWindowStart?(r: R): number;
  rightWindowEnd?(r: R): number;
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
 * Buffers both sides per window (tumbling/hop by time, or carried: leftWindowOf/rightWindowOf or
 * the *WindowStart/*WindowEnd pairs). When a window closes (end ≤ watermark, in end order) it
 * emits every pair with equal non-null keys and `match`, in left arrival order then right arrival
 * order, as `combine(l, r, start, end)` with time end − 1. A row is late when every window it
 * belongs to has end ≤ watermark (→ lateLeft / lateRight).
 *
 * `advance(wm)`: wm is the smaller of the two input watermarks (or use advanceLeft/advanceRight).
 */
export class WindowJoin<L, R, Out> {
  private readonly kind: number;
  private readonly size: number;
  private readonly slide: number;
  private readonly leftSE: boolean = false;
  private readonly rightSE: boolean = false;
  private readonly win: CarriedJoinWindows<L, R>;
  private readonly index = new WindowIndex<JoinWindow<L, R>>(() => new JoinWindow<L, R>());
  private wm = -Infinity;
  private wmLeft = -Infinity;
  private wmRight = -Infinity;

  constructor(
    window: WindowSpec & CarriedJoinWindows<L, R>,
    private readonly spec: WindowJoinSpec<L, R, Out> & CarriedJoinWindows<L, R>,
    private readonly emit: Emit<Out>,
    private readonly lateLeft: (l: L) => void,
    private readonly lateRight: (r: R) => void,
  ) {
    this.kind = windowKind(window);
    this.size = window.kind === "carried" ? 0 : window.size;
    this.slide = window.kind === "hop" ? window.slide : this.size;
    this.win = window;
    if (window.kind === "carried") {
      const w: CarriedJoinWindows<L, R> =
        typeof window.leftWindowOf === "function" || typeof window.leftWindowStart === "function" ? window : spec;
      this.win = w;
      this.leftSE = typeof w.leftWindowStart === "function" && typeof w.leftWindowEnd === "function";
      this.rightSE = typeof w.rightWindowStart === "function" && typeof w.rightWindowEnd === "function";
      if (!this.leftSE && typeof w.leftWindowOf !== "function") throw new TypeError("WindowJoin: carried window needs leftWindowOf");
      if (!this.rightSE && typeof w.rightWindowOf !== "function") throw new TypeError("WindowJoin: carried window needs rightWindowOf");
    }
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
    const kind = this.kind;
    if (kind === HOP) {
      const size = this.size;
      const wm = this.wm;
      let start = time - floorMod(time, this.slide);
      if (start + size <= wm || start + size <= time) {
        this.lateLeft(l);
        return;
      }
      const k = this.spec.leftKey(l);
      if (k === null) return;
      for (; start + size > time && start + size > wm; start -= this.slide) {
        const jw = this.index.get(start, start + size).data;
        jw.lefts.push(l);
        jw.leftKeys.push(k);
      }
      return;
    }
    let start: number;
    let end: number;
    if (kind === TUMBLING) {
      start = time - floorMod(time, this.size);
      end = start + this.size;
    } else if (this.leftSE) {
      start = this.win.leftWindowStart!(l);
      end = this.win.leftWindowEnd!(l);
    } else {
      const se = this.win.leftWindowOf!(l);
      start = se[0];
      end = se[1];
    }
    if (end <= this.wm) {
      this.lateLeft(l);
      return;
    }
    const k = this.spec.leftKey(l);
    if (k === null) return;
    const jw = this.index.get(start, end).data;
    jw.lefts.push(l);
    jw.leftKeys.push(k);
  }

  pushRight(r: R, time: number): void {
    const kind = this.kind;
    if (kind === HOP) {
      const size = this.size;
      const wm = this.wm;
      let start = time - floorMod(time, this.slide);
      if (start + size <= wm || start + size <= time) {
        this.lateRight(r);
        return;
      }
      const k = this.spec.rightKey(r);
      if (k === null) return;
      for (; start + size > time && start + size > wm; start -= this.slide) {
        this.addRight(this.index.get(start, start + size).data, k, r);
      }
      return;
    }
    let start: number;
    let end: number;
    if (kind === TUMBLING) {
      start = time - floorMod(time, this.size);
      end = start + this.size;
    } else if (this.rightSE) {
      start = this.win.rightWindowStart!(r);
      end = this.win.rightWindowEnd!(r);
    } else {
      const se = this.win.rightWindowOf!(r);
      start = se[0];
      end = se[1];
    }
    if (end <= this.wm) {
      this.lateRight(r);
      return;
    }
    const k = this.spec.rightKey(r);
    if (k === null) return;
    this.addRight(this.index.get(start, end).data, k, r);
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
