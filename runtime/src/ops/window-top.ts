// Windowed `top N by EXPR [asc|desc] [with ties]` (LANGUAGE.md §5).

import {
  CARRIED,
  HOP,
  TUMBLING,
  carriedReader,
  floorMod,
  windowKind,
  type CarriedWindowOf,
  type Emit,
  type Key,
  type WindowArg,
} from "./types";
import { WindowIndex, type Win } from "./window-index";

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
  private readonly kind: number;
  private readonly size: number;
  private readonly slide: number;
  private readonly reader: CarriedWindowOf<In> | null = null;
  private readonly startEnd: boolean = false;
  private readonly index = new WindowIndex<Map<Key, In[]>>(() => new Map());
  private last: Win<Map<Key, In[]>> | undefined = undefined;
  private wm = -Infinity;

  constructor(
    window: WindowArg<In>,
    private readonly n: number,
    private readonly withTies: boolean,
    private readonly spec: TopSpec<In> & CarriedWindowOf<In>,
    private readonly emit: Emit<In>,
    private readonly late: (row: In) => void,
  ) {
    this.kind = windowKind(window);
    this.size = window.kind === "carried" ? 0 : window.size;
    this.slide = window.kind === "hop" ? window.slide : this.size;
    if (this.kind === CARRIED) [this.reader, this.startEnd] = carriedReader(window, spec, "WindowTop");
  }

  /** Number of open windows. */
  get openWindows(): number {
    return this.index.size;
  }

  push(row: In, time: number): void {
    const kind = this.kind;
    if (kind === HOP) {
      const size = this.size;
      const wm = this.wm;
      let start = time - floorMod(time, this.slide);
      if (start + size <= wm || start + size <= time) {
        this.late(row);
        return;
      }
      if (this.n <= 0) return;
      const k = this.spec.key(row);
      for (; start + size > time && start + size > wm; start -= this.slide) {
        this.insert(this.index.get(start, start + size).data, k, row);
      }
      return;
    }
    let start: number;
    let end: number;
    if (kind === TUMBLING) {
      start = time - floorMod(time, this.size);
      end = start + this.size;
    } else {
      const r = this.reader!;
      if (this.startEnd) {
        start = r.windowStart!(row);
        end = r.windowEnd!(row);
      } else {
        const se = r.windowOf!(row);
        start = se[0];
        end = se[1];
      }
    }
    if (end <= this.wm) {
      this.late(row);
      return;
    }
    if (this.n <= 0) return;
    let w = this.last;
    if (w === undefined || w.start !== start || w.end !== end) {
      w = this.index.get(start, end);
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
}
