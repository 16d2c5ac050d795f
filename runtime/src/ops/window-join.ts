// Window join: `join OTHER on COND` when both sides carry the same window (LANGUAGE.md §6).

import type { JoinKind } from "./interval-join";
import type { Emit, Key } from "./types";
import { WindowAssigner, WindowIndex, type Win, type WindowSpec } from "./windows";
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

export interface WindowJoinSpec<L, R, Out> {
  leftKey(l: L): Key;
  rightKey(r: R): Key;
  /** The rest of the join condition (true when the keys' equality is all of it). */
  match(l: L, r: R): boolean;
  combine(l: L, r: R, windowStart: number, windowEnd: number): Out;
}

/**
 * The spec of a window join of another kind than inner: `combine` gets null for the missing side
 * of a padded row; a semi or anti join's spec returns the left record itself.
 */
export interface OuterWindowJoinSpec<L, R, Out> extends WindowJoinSpec<L, R, Out> {
  combine(l: L | null, r: R | null, windowStart: number, windowEnd: number): Out;
}

/** One window's buffered rows. */
class JoinWindow<L, R> {
  /** Left rows in arrival order, with their keys. */
  lefts: L[] = [];
  leftKeys: Key[] = [];
  /** Right rows by key, each list in arrival order. */
  rights = new Map<Key, R[]>();
  /**
   * Right and full joins only (made on the first right row, so other kinds allocate nothing):
   * every right row in arrival order, with its key and its index in that key's list (−1: a null
   * key, in no list), to emit the unmatched ones after the left rows.
   */
  rightOrder: { rows: R[]; keys: Key[]; idx: number[] } | undefined = undefined;
}

/**
 * Buffers both sides per window (tumbling or hop, by time: windows.ts). When a window closes (end ≤ watermark, in end order) it
 * emits every pair with equal non-null keys and `match`, in left arrival order then right arrival
 * order, as `combine(l, r, start, end)` with time end − 1. A row is late when every window it
 * belongs to has end ≤ watermark (→ lateLeft / lateRight).
 *
 * `advance(wm)`: wm is the smaller of the two input watermarks (or use advanceLeft/advanceRight).
 *
 * Outer, semi and anti joins (`kind`, LANGUAGE.md §13) emit their unmatched rows when the window
 * fires, with the same time: per window, each left row in arrival order followed by its pairs or
 * its padded row (`combine(l, null)`), then the unmatched right rows in arrival order
 * (`combine(null, r)`, right and full joins). A semi join emits each left row with a match once
 * per window, an anti join each one without; both emit the left row itself. Rows with a null key
 * match nothing but are still padded (and emitted by an anti join).
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
    /** Any kind but inner needs an `OuterWindowJoinSpec`. */
    readonly kind: JoinKind = "inner",
  ) {
    this.win = new WindowAssigner(window);
    this.keepNullLeft = kind === "left" || kind === "full" || kind === "anti";
    this.trackRights = kind === "right" || kind === "full";
  }

  /** Left rows with a null key are kept (to be padded or emitted unmatched). */
  private readonly keepNullLeft: boolean;
  /** Right rows are kept in arrival order too, to emit the unmatched ones. */
  private readonly trackRights: boolean;

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
    if (k === null && !this.keepNullLeft) return;
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
    if (k === null && !this.trackRights) return;
    for (let start = win.start(time); win.holds(start, time, wm); start -= win.slide) this.addRight(this.index.get(start, start + win.size).data, k, r);
  }

  private addRight(jw: JoinWindow<L, R>, k: Key, r: R): void {
    let idx = -1;
    if (k !== null) {
      const list = jw.rights.get(k);
      if (list === undefined) {
        jw.rights.set(k, [r]);
        idx = 0;
      } else idx = list.push(r) - 1;
    }
    if (this.trackRights) {
      const o = (jw.rightOrder ??= { rows: [], keys: [], idx: [] });
      o.rows.push(r);
      o.keys.push(k);
      o.idx.push(idx);
    }
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
    const outer = this.kind !== "inner";
    while ((w = this.index.shift(wm)) !== undefined) {
      const jw = w.data;
      if (outer) {
        this.fireOuter(jw, w.start, w.end);
        continue;
      }
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

  /** One window of an outer, semi or anti join (see the class comment for the order). */
  private fireOuter(jw: JoinWindow<L, R>, start: number, end: number): void {
    // Only a spec made for an outer kind is given with one (the constructor's contract).
    const spec = this.spec as OuterWindowJoinSpec<L, R, Out>;
    const emit = this.emit;
    const kind = this.kind;
    const t = end - 1;
    const lefts = jw.lefts;
    const keys = jw.leftKeys;
    // Right and full joins: which right rows matched, per key list (made when first needed).
    const matchedRights = this.trackRights ? new Map<Key, Uint8Array>() : undefined;
    for (let i = 0; i < lefts.length; i++) {
      const l = lefts[i]!;
      const k = keys[i]!;
      const rs = k === null ? undefined : jw.rights.get(k);
      let any = false;
      if (rs !== undefined) {
        for (let j = 0; j < rs.length; j++) {
          const r = rs[j]!;
          if (!spec.match(l, r)) continue;
          any = true;
          if (kind === "semi" || kind === "anti") break;
          emit(spec.combine(l, r, start, end), t);
          if (matchedRights !== undefined) {
            let m = matchedRights.get(k);
            if (m === undefined) matchedRights.set(k, (m = new Uint8Array(rs.length)));
            m[j] = 1;
          }
        }
      }
      if (kind === "semi" ? any : !any && (kind === "left" || kind === "full" || kind === "anti")) emit(spec.combine(l, null, start, end), t);
    }
    const order = jw.rightOrder;
    if (matchedRights === undefined || order === undefined) return;
    for (let j = 0; j < order.rows.length; j++) {
      const idx = order.idx[j]!;
      if (idx >= 0 && matchedRights.get(order.keys[j]!)?.[idx] === 1) continue;
      emit(spec.combine(null, order.rows[j]!, start, end), t);
    }
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
stateClass("window-join.JoinWindow", JoinWindow);
