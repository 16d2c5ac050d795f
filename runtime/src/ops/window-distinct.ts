// Windowed `distinct [EXPR, ...]` (LANGUAGE.md §5).

import type { Emit, Key } from "./types";
import { WindowAssigner, WindowIndex, type Win, type WindowSpec } from "./windows";
import { restoreFields, snapshotFields } from "../checkpoint/codec";

/**
 * Emits, as it arrives and with its own time, the first row of each key (group key + distinct
 * values) per window. Late rows (every window ended ≤ watermark) go to `late`. A window's keys are
 * forgotten when it closes (end ≤ watermark); nothing is emitted then.
 *
 * Hop windows: a row belongs to several windows; it is emitted once, when it is the first of its
 * key in at least one of its open windows (and recorded in all of them).
 */
export class WindowDistinct<In> {
  private readonly win: WindowAssigner;
  private readonly index = new WindowIndex<Set<Key>>(() => new Set());
  private last: Win<Set<Key>> | undefined = undefined;
  private wm = -Infinity;

  constructor(
    window: WindowSpec,
    private readonly spec: { key(row: In): Key },
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
    let start = win.start(time);
    if (win.hop) {
      const k = this.spec.key(row);
      let fresh = false;
      for (; win.holds(start, time, wm); start -= win.slide) {
        const set = this.index.get(start, start + win.size).data;
        const before = set.size;
        if (set.add(k).size !== before) fresh = true;
      }
      if (fresh) this.emit(row, time);
      return;
    }
    let w = this.last;
    if (w === undefined || w.start !== start) {
      w = this.index.get(start, start + win.size);
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

  /** Checkpoints (LANGUAGE.md §12): this operator's state (see checkpoint/codec.ts). */
  snapshot(): Record<string, unknown> {
    return snapshotFields(this);
  }

  /** Puts back what `snapshot()` saved, into an operator built by the same program. */
  restore(saved: unknown): void {
    restoreFields(this, saved);
  }
}
