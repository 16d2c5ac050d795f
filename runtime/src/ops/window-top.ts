// Windowed `top N by EXPR [asc|desc] [with ties]` (LANGUAGE.md §5).

import type { Emit, Key } from "./types";
import { WindowAssigner, WindowIndex, type Win, type WindowSpec } from "./windows";
import { restoreFields, snapshotFields } from "../checkpoint/codec";

export interface TopSpec<In> {
  key(row: In): Key;
  /** < 0 when a ranks before b (is better), 0 when tied, > 0 when after. */
  compare(a: In, b: In): number;
}

/**
 * Keeps, per window and key, the best N rows (plus, `withTies`, every row tied with the Nth).
 * When a window fires (end ≤ watermark, in end order) it emits, key by key in first-seen order,
 * that key's rows best first, ties in arrival order, each with time `end − 1`. Late rows (every
 * window ended ≤ watermark) go to `late`. State per key is a small sorted array (N rows, or N plus
 * the tie group of the Nth).
 */
export class WindowTop<In> {
  private readonly win: WindowAssigner;
  private readonly index = new WindowIndex<Map<Key, In[]>>(() => new Map());
  private last: Win<Map<Key, In[]>> | undefined = undefined;
  private wm = -Infinity;

  constructor(
    window: WindowSpec,
    private readonly n: number,
    private readonly withTies: boolean,
    private readonly spec: TopSpec<In>,
    private readonly emit: Emit<In>,
    private readonly late: (row: In) => void,
  ) {
    this.win = new WindowAssigner(window);
  }

  /** Number of open windows. */
  get openWindows(): number {
    return this.index.size;
  }

  push(row: In, time: number): void {
    const win = this.win;
    const wm = this.wm;
    if (win.isLate(time, wm)) {
      this.late(row);
      return;
    }
    if (this.n <= 0) return;
    let start = win.start(time);
    if (win.hop) {
      const k = this.spec.key(row);
      for (; win.holds(start, time, wm); start -= win.slide) this.insert(this.index.get(start, start + win.size).data, k, row);
      return;
    }
    let w = this.last;
    if (w === undefined || w.start !== start) {
      w = this.index.get(start, start + win.size);
      this.last = w;
    }
    this.insert(w.data, this.spec.key(row), row);
  }

  private insert(m: Map<Key, In[]>, k: Key, row: In): void {
    const a = m.get(k);
    if (a === undefined) {
      m.set(k, [row]);
      return;
    }
    const n = this.n;
    const len = a.length;
    if (len >= n) {
      // full: compare with the worst kept row (tied with the Nth when there are extra ties)
      const c = this.spec.compare(row, a[len - 1]!);
      if (c > 0) return;
      if (c === 0) {
        if (this.withTies) a.push(row);
        return;
      }
    }
    // insert after every row that ranks before or ties with `row` (ties keep arrival order)
    let lo = 0;
    let hi = len;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.spec.compare(row, a[mid]!) < 0) hi = mid;
      else lo = mid + 1;
    }
    a.push(row);
    for (let i = len; i > lo; i--) a[i] = a[i - 1]!;
    a[lo] = row;
    if (a.length > n) {
      if (!this.withTies) {
        a.length = n;
      } else {
        const nth = a[n - 1]!;
        let j = n;
        while (j < a.length && this.spec.compare(a[j]!, nth) === 0) j++;
        a.length = j;
      }
    }
  }

  /** Fires every window with end ≤ wm (in end order) before returning. */
  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    const emit = this.emit;
    let w: Win<Map<Key, In[]>> | undefined;
    while ((w = this.index.shift(wm)) !== undefined) {
      if (w === this.last) this.last = undefined;
      const t = w.end - 1;
      for (const a of w.data.values()) {
        for (let i = 0; i < a.length; i++) emit(a[i]!, t);
      }
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
