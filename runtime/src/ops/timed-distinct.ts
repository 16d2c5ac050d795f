// Unwindowed `distinct [EXPR, ...] [within D]` (LANGUAGE.md §5).

import type { Emit, Key } from "./types";
import { restoreFields, snapshotFields } from "../checkpoint/codec";

/**
 * Emits a row (with its time) unless a row with the same key was emitted less than D earlier in
 * event time (t − lastEmitted < D, so an out-of-order row older than the last emitted one is a
 * duplicate too). A key's state is evicted once the watermark reaches lastEmitted + D
 * (wm ≥ last + D): a later duplicate is then emitted again, even one with t − last < D.
 * `withinMs = Infinity` remembers every key (until the watermark is +∞).
 *
 * Eviction is exact at every push (a key whose time is up counts as absent) and physical eviction
 * is amortized: `advance` sweeps the map when it has doubled since the last sweep.
 */
export class TimedDistinct<In> {
  private readonly last = new Map<Key, number>();
  private wm = -Infinity;
  private sweepAt = 1024;

  constructor(
    private readonly withinMs: number,
    private readonly spec: { key(row: In): Key },
    private readonly emit: Emit<In>,
  ) {
    if (!(withinMs >= 0)) throw new RangeError(`distinct within must be ≥ 0, got ${withinMs}`);
  }

  /** Number of keys held (including expired ones not swept yet). */
  get keys(): number {
    return this.last.size;
  }

  push(row: In, time: number): void {
    const k = this.spec.key(row);
    const last = this.last.get(k);
    if (last !== undefined && time - last < this.withinMs && this.wm < last + this.withinMs) return;
    this.last.set(k, time);
    this.emit(row, time);
  }

  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    const m = this.last;
    if (wm === Infinity) {
      m.clear();
      return;
    }
    if (m.size > this.sweepAt) {
      const d = this.withinMs;
      for (const [k, t] of m) if (wm >= t + d) m.delete(k);
      this.sweepAt = Math.max(1024, 2 * m.size);
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
