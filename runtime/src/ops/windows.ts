// The one window assigner of the windowed operators (WindowAgg, WindowTop, WindowDistinct,
// WindowJoin; LANGUAGE.md §6): which windows a row at time t belongs to, when a row is late,
// and the order windows fire in. Internal to runtime/src/ops.
//
// Windows are epoch-aligned (floor, so negative times work too):
//   tumbling(size)      t ∈ [start, start + size) with start a multiple of size — one window;
//   hop(size, slide)    every [start, start + size) holding t with start a multiple of slide —
//                       ⌈size / slide⌉ windows, or none when t falls in a gap (slide > size).
// Carried windows — a derived row's own window: a stage downstream of a window keeps the rows
// the window fired, each with time `window_end − 1` — need no kind of their own: they are the
// tumbling windows of size 1 ms (`CARRIED`), whose end is the row's window end; the generated
// code reads the original bounds back as `end − size` and `end` (compiler/src/emit/emit.ts
// `windowArg`, which passes `{ kind: "tumbling", size: 1 }`).
//
// Late: a row is late when every window it belongs to has end ≤ the watermark (or it belongs to
// none). Firing: a watermark fires every open window with end ≤ it, in order of end
// (`WindowIndex.shift`); rows fired by a window have time end − 1.
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

/**
 * How a windowed operator assigns windows: tumbling or hopping, epoch-aligned. A derived row's
 * own window is `CARRIED` (tumbling, 1 ms).
 */
export type WindowSpec = { kind: "tumbling"; size: number } | { kind: "hop"; size: number; slide: number };

/** A derived row's own window (time = window end − 1 ms): what the compiler passes for it. */
export const CARRIED: WindowSpec = { kind: "tumbling", size: 1 };

/** `t mod m` in [0, m), exact for integers, correct for negative t. */
export function floorMod(t: number, m: number): number {
  const r = t % m;
  return r < 0 ? r + m : r;
}

/**
 * The windows of one operator. Hot paths use `start`, `holds` and `isLate` (small, inlined);
 * a row at time t is in the windows
 *
 *     for (let s = w.start(t); w.holds(s, t, wm); s -= w.slide) …   // latest first, open only
 *
 * which for tumbling windows is the one window [w.start(t), w.start(t) + size).
 */
export class WindowAssigner {
  readonly size: number;
  /** Distance between window starts (tumbling: = size). */
  readonly slide: number;
  readonly hop: boolean;

  constructor(spec: WindowSpec) {
    switch (spec?.kind) {
      case "tumbling":
        if (!(spec.size > 0)) throw new RangeError(`tumbling window size must be > 0, got ${spec.size}`);
        this.size = this.slide = spec.size;
        this.hop = false;
        break;
      case "hop":
        if (!(spec.size > 0) || !(spec.slide > 0)) {
          throw new RangeError(`hop window size and slide must be > 0, got ${spec.size}, ${spec.slide}`);
        }
        this.size = spec.size;
        this.slide = spec.slide;
        this.hop = true;
        break;
      default:
        throw new TypeError(`unknown window kind ${(spec as { kind?: string } | undefined)?.kind}`);
    }
  }

  /** The latest window start ≤ t (tumbling: the start of t's window). */
  start(t: number): number {
    return t - floorMod(t, this.slide);
  }

  /** Window [s, s + size) holds t and is still open at watermark wm (end > wm). */
  holds(s: number, t: number, wm: number): boolean {
    const end = s + this.size;
    return end > t && end > wm;
  }

  /** Every window holding t has end ≤ wm, or no window holds t (a gap between hop windows). */
  isLate(t: number, wm: number): boolean {
    const end = this.start(t) + this.size;
    return end <= wm || end <= t;
  }

  /** The windows [start, end) holding t, latest first (all of them, open or not). */
  windowsOf(t: number): [number, number][] {
    const out: [number, number][] = [];
    for (let s = this.start(t); this.holds(s, t, -Infinity); s -= this.slide) out.push([s, s + this.size]);
    return out;
  }
}

/** One open window: [start, end) and the operator's data for it. */
export class Win<P> {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly data: P,
  ) {}
}

/**
 * The open windows of an operator, in firing order. One assigner gives every window a different
 * end (tumbling, hop and hop panes alike), so windows are looked up by end; the firing order is a
 * sorted array consumed from a head index. In-order input appends at the tail, so insertion is
 * O(1) in the common case.
 */
export class WindowIndex<P> {
  private readonly byEnd = new Map<number, Win<P>>();
  private queue: (Win<P> | undefined)[] = [];
  private head = 0;
  /** End of the earliest open window; Infinity when none is open. */
  firstEnd = Infinity;

  constructor(private readonly makeData: () => P) {}

  /** Number of open windows. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** The open window [start, end), created when missing. */
  get(start: number, end: number): Win<P> {
    let w = this.byEnd.get(end);
    if (w === undefined) {
      w = new Win<P>(start, end, this.makeData());
      this.byEnd.set(end, w);
      this.insert(w);
    }
    return w;
  }

  /** The earliest open window (smallest end), or undefined. */
  first(): Win<P> | undefined {
    return this.head < this.queue.length ? this.queue[this.head] : undefined;
  }

  /** The i-th open window in firing order (0 = first), or undefined. */
  at(i: number): Win<P> | undefined {
    const j = this.head + i;
    return j < this.queue.length ? this.queue[j] : undefined;
  }

  /** Firing: removes and returns the earliest open window if its end is ≤ wm, else undefined. */
  shift(wm: number): Win<P> | undefined {
    if (this.head >= this.queue.length) return undefined;
    const w = this.queue[this.head]!;
    if (w.end > wm) return undefined;
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.copyWithin(0, this.head);
      this.queue.length -= this.head;
      this.head = 0;
    }
    this.firstEnd = this.head < this.queue.length ? this.queue[this.head]!.end : Infinity;
    this.byEnd.delete(w.end);
    return w;
  }

  private insert(w: Win<P>): void {
    this.place(w);
    this.firstEnd = this.queue[this.head]!.end;
  }

  private place(w: Win<P>): void {
    const q = this.queue;
    const n = q.length;
    if (n === this.head || q[n - 1]!.end <= w.end) {
      q.push(w);
      return;
    }
    // first index whose end is > w.end
    let lo = this.head;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid]!.end <= w.end) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.head && this.head > 0) {
      q[--this.head] = w;
      return;
    }
    q.push(undefined);
    for (let i = n; i > lo; i--) q[i] = q[i - 1];
    q[lo] = w;
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
stateClass("windows.Win", Win);
stateClass("windows.WindowAssigner", WindowAssigner);
