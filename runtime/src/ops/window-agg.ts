// Windowed `agg` over tumbling or hopping windows (LANGUAGE.md §6); a derived row's own
// (carried) window is tumbling(1 ms), see windows.ts.

import type { AggSpec, Emit, Key } from "./types";
import { WindowAssigner, WindowIndex, floorMod, type Win, type WindowSpec } from "./windows";
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

/** Per (pane, key) state of hop panes. */
class PaneEntry<In, S> {
  constructor(
    readonly state: S,
    /**
     * First row of the key in the pane, for a spec without `empty` only: `init` input when
     * building a window's fresh state.
     */
    readonly row: In | undefined,
    /** Arrival sequence of that row (a window's key order is first-seen order). */
    readonly seq: number,
  ) {}
}

const TUMBLING = 0;
const HOP = 1;
const PANES = 2;

function gcd(a: number, b: number): number {
  while (b !== 0) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/**
 * `window W | group by K | agg ...`.
 *
 * For each pushed row: late (every window it belongs to has end ≤ the watermark) → `late(row)`;
 * else it is added to its windows whose end is > the watermark. `advance(wm)` fires every window
 * with end ≤ wm, in order of end, and within a window one row per key in first-seen order, with
 * time `end − 1`. Fired windows are freed.
 *
 * Hop windows with `spec.merge` keep one state per pane (pane = gcd(size, slide)) and build each
 * window's result by merging its panes, in pane order, into a fresh `init` state; cost per row
 * does not grow with size/slide. Note that with panes an order-sensitive aggregate (first, last,
 * collect) sees rows in pane (time) order rather than arrival order — pass `merge` only for
 * aggregates where that is acceptable (identical for in-order input). Without `merge`, each row is
 * added to each of its windows.
 */
export class WindowAgg<In, S, Out> {
  private readonly kind: number;
  private readonly win: WindowAssigner;
  private readonly size: number;
  private readonly slide: number;
  private readonly pane: number;
  private wm = -Infinity;
  private seq = 0;
  private readonly index: WindowIndex<Map<Key, any>>;
  /** The window (pane) the previous row went to: most rows go to the same one. */
  private last: Win<Map<Key, any>> | undefined = undefined;
  /** With a keyless spec: the state of `last`'s one key, once looked up. */
  private lastState: S | undefined = undefined;
  private readonly keyless: boolean;
  // hop panes
  private nextStart = -Infinity;
  private readonly scratchIdx = new Map<Key, number>();
  private readonly scratchStates: S[] = [];
  private readonly scratchSeqs: number[] = [];

  constructor(
    window: WindowSpec,
    private readonly spec: AggSpec<In, S, Out>,
    private readonly emit: Emit<Out>,
    private readonly late: (row: In) => void,
  ) {
    const win = (this.win = new WindowAssigner(window));
    this.kind = win.hop ? HOP : TUMBLING;
    this.size = win.size;
    this.slide = win.slide;
    this.pane = 0;
    if (win.hop) {
      const p = gcd(this.size, this.slide);
      if (typeof spec.merge === "function" && Number.isInteger(this.size) && Number.isInteger(this.slide) && p < this.size) {
        this.kind = PANES;
        this.pane = p;
      }
    }
    this.index = new WindowIndex<Map<Key, any>>(() => new Map());
    this.keyless = spec.keyless === true;
  }

  /** Number of open windows (panes for hop windows with merge). */
  get openWindows(): number {
    return this.index.size;
  }

  /**
   * A row into a tumbling window: what `push` does for them, small enough for V8 to inline into
   * the generated loop (the emitter calls it directly when the window is tumbling).
   */
  pushTumbling(row: In, time: number): void {
    // The assigner's `start` inlined by hand: this method must stay small enough for V8 to
    // inline it into the generated loops (measured: ~10% on the tumbling benchmark).
    const start = time - floorMod(time, this.size);
    const w = this.last;
    const s = this.lastState;
    if (s !== undefined && w!.start === start) this.spec.add(s, row, time);
    else this.pushTumblingSlow(row, time, start);
  }

  private pushTumblingSlow(row: In, time: number, start: number): void {
    const size = this.size;
    let w = this.last;
    // `last` is open (firing a window forgets it), so a row for it is never late.
    if (w === undefined || w.start !== start) {
      if (this.win.isLate(time, this.wm)) {
        this.late(row);
        return;
      }
      w = this.index.get(start, start + size);
      this.last = w;
      this.lastState = undefined;
    }
    const spec = this.spec;
    let s = this.lastState;
    if (s === undefined) {
      const k = spec.key(row);
      const m = w.data;
      s = m.get(k);
      if (s === undefined) {
        s = spec.init(row);
        m.set(k, s);
      }
      if (this.keyless) this.lastState = s;
    }
    spec.add(s as S, row, time);
  }

  push(row: In, time: number): void {
    const spec = this.spec;
    switch (this.kind) {
      case TUMBLING:
        this.pushTumbling(row, time);
        return;
      case HOP: {
        const win = this.win;
        const wm = this.wm;
        // late, or in a gap between windows (slide > size): in no open window
        if (win.isLate(time, wm)) {
          this.late(row);
          return;
        }
        const k = spec.key(row);
        for (let start = win.start(time); win.holds(start, time, wm); start -= win.slide) {
          const m = this.index.get(start, start + win.size).data;
          let s = m.get(k);
          if (s === undefined) {
            s = spec.init(row);
            m.set(k, s);
          }
          spec.add(s as S, row, time);
        }
        return;
      }
      case PANES: {
        if (this.win.isLate(time, this.wm)) {
          this.late(row);
          return;
        }
        const ps = time - floorMod(time, this.pane);
        let w = this.last;
        if (w === undefined || w.start !== ps) {
          w = this.index.get(ps, ps + this.pane);
          this.last = w;
        }
        const k = spec.key(row);
        let e: PaneEntry<In, S> | undefined = w.data.get(k);
        if (e === undefined) {
          e = new PaneEntry(spec.init(row), spec.empty === undefined ? row : undefined, this.seq);
          w.data.set(k, e);
        }
        this.seq++;
        spec.add(e.state, row, time);
      }
    }
  }

  /** Fires every window with end ≤ wm (in end order) before returning. */
  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    // Kept small for inlining: most watermarks (one per record in order) fire nothing.
    if (this.kind === PANES) this.advancePanes(wm);
    else if (wm >= this.index.firstEnd) this.fire(wm);
  }

  private fire(wm: number): void {
    const spec = this.spec;
    const emit = this.emit;
    let w: Win<Map<Key, S>> | undefined;
    while ((w = this.index.shift(wm)) !== undefined) {
      if (w === this.last) {
        this.last = undefined;
        this.lastState = undefined;
      }
      const start = w.start;
      const end = w.end;
      const t = end - 1;
      for (const s of w.data.values()) {
        const out = spec.result(s, start, end);
        if (out !== undefined) emit(out, t);
      }
    }
  }

  private advancePanes(wm: number): void {
    const size = this.size;
    const slide = this.slide;
    const index = this.index as WindowIndex<Map<Key, PaneEntry<In, S>>>;
    for (;;) {
      const p0 = index.first();
      if (p0 === undefined) break;
      // first window containing p0: smallest multiple of slide s with s + size > p0.start
      const x = p0.start - size;
      let ws = x - floorMod(x, slide) + slide;
      if (ws < this.nextStart) ws = this.nextStart;
      const we = ws + size;
      if (we > wm) break;
      this.fireWindow(ws, we);
      this.nextStart = ws + slide;
      this.freePanes();
    }
    if (wm === Infinity) {
      this.nextStart = Infinity;
    } else {
      const x = wm - size;
      const open = x - floorMod(x, slide) + slide; // smallest window start with end > wm
      if (open > this.nextStart) this.nextStart = open;
    }
    this.freePanes();
  }

  /** Drops panes whose last window (start = the largest multiple of slide ≤ pane start) has fired. */
  private freePanes(): void {
    const index = this.index;
    const slide = this.slide;
    for (;;) {
      const p = index.first();
      if (p === undefined) return;
      if (p.start - floorMod(p.start, slide) >= this.nextStart) return;
      if (p === this.last) {
        this.last = undefined;
        this.lastState = undefined;
      }
      index.shift(Infinity);
    }
  }

  private fireWindow(ws: number, we: number): void {
    const spec = this.spec;
    const merge = spec.merge!;
    const idx = this.scratchIdx;
    const states = this.scratchStates;
    const seqs = this.scratchSeqs;
    const index = this.index as WindowIndex<Map<Key, PaneEntry<In, S>>>;
    let n = 0;
    let maxSeq = -1;
    let sorted = true;
    for (let i = 0; ; i++) {
      const p = index.at(i);
      if (p === undefined || p.start >= we) break;
      for (const [k, e] of p.data) {
        const j = idx.get(k);
        if (j === undefined) {
          const fresh = spec.empty !== undefined ? spec.empty(e.state) : spec.init(e.row!);
          merge(fresh, e.state);
          idx.set(k, n);
          states[n] = fresh;
          seqs[n] = e.seq;
          n++;
          if (e.seq < maxSeq) sorted = false;
          else maxSeq = e.seq;
        } else {
          merge(states[j]!, e.state);
          if (e.seq < seqs[j]!) {
            seqs[j] = e.seq;
            sorted = false;
          }
        }
      }
    }
    const emit = this.emit;
    const t = we - 1;
    if (sorted) {
      for (let i = 0; i < n; i++) {
        const out = spec.result(states[i]!, ws, we);
        if (out !== undefined) emit(out, t);
      }
    } else {
      const order = new Array<number>(n);
      for (let i = 0; i < n; i++) order[i] = i;
      order.sort((a, b) => seqs[a]! - seqs[b]!);
      for (let i = 0; i < n; i++) {
        const out = spec.result(states[order[i]!]!, ws, we);
        if (out !== undefined) emit(out, t);
      }
    }
    idx.clear();
    states.length = 0;
    seqs.length = 0;
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
stateClass("window-agg.PaneEntry", PaneEntry);
