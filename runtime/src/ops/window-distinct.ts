// Windowed `distinct [EXPR, ...]` (LANGUAGE.md §5).

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

/**
 * Emits, as it arrives and with its own time, the first row of each key (group key + distinct
 * values) per window. Late rows (every window ended ≤ watermark) go to `late`. A window's keys are
 * forgotten when it closes (end ≤ watermark); nothing is emitted then.
 *
 * Hop windows: a row belongs to several windows; it is emitted once, when it is the first of its
 * key in at least one of its open windows (and recorded in all of them).
 */
export class WindowDistinct<In> {
  private readonly kind: number;
  private readonly size: number;
  private readonly slide: number;
  private readonly reader: CarriedWindowOf<In> | null = null;
  private readonly startEnd: boolean = false;
  private readonly index = new WindowIndex<Set<Key>>(() => new Set());
  private last: Win<Set<Key>> | undefined = undefined;
  private wm = -Infinity;

  constructor(
    window: WindowArg<In>,
    private readonly spec: { key(row: In): Key } & CarriedWindowOf<In>,
    private readonly emit: Emit<In>,
    private readonly late: (row: In) => void,
  ) {
    this.kind = windowKind(window);
    this.size = window.kind === "carried" ? 0 : window.size;
    this.slide = window.kind === "hop" ? window.slide : this.size;
    if (this.kind === CARRIED) [this.reader, this.startEnd] = carriedReader(window, spec, "WindowDistinct");
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
      const k = this.spec.key(row);
      let fresh = false;
      for (; start + size > time && start + size > wm; start -= this.slide) {
        const set = this.index.get(start, start + size).data;
        const before = set.size;
        if (set.add(k).size !== before) fresh = true;
      }
      if (fresh) this.emit(row, time);
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
    let w = this.last;
    if (w === undefined || w.start !== start || w.end !== end) {
      w = this.index.get(start, end);
      this.last = w;
    }
    const set = w.data;
    const k = this.spec.key(row);
    const before = set.size;
    if (set.add(k).size === before) return;
    this.emit(row, time);
  }

  /** Forgets every window with end ≤ wm. */
  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    let w: Win<Set<Key>> | undefined;
    while ((w = this.index.shift(wm)) !== undefined) {
      if (w === this.last) this.last = undefined;
    }
  }
}
