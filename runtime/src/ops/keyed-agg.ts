// Unwindowed `group by K | agg ...` (LANGUAGE.md §6): an upsert stream keyed by K.

import type { AggSpec, Emit, Key } from "./types";
import { restoreFields, snapshotFields } from "../checkpoint/codec";

/**
 * On every row: add it to its key's state and emit `result(state, NaN, NaN)` with the row's time.
 * State is kept for every key ever seen (there is no window to close).
 */
export class KeyedAgg<In, S, Out> {
  private readonly states = new Map<Key, S>();

  constructor(
    private readonly spec: AggSpec<In, S, Out>,
    private readonly emit: Emit<Out>,
  ) {}

  /** Number of keys held. */
  get keys(): number {
    return this.states.size;
  }

  push(row: In, time: number): void {
    const spec = this.spec;
    const k = spec.key(row);
    let s = this.states.get(k);
    if (s === undefined) {
      s = spec.init(row);
      this.states.set(k, s);
    }
    spec.add(s, row, time);
    const out = spec.result(s, NaN, NaN);
    if (out !== undefined) this.emit(out, time);
  }

  /** Nothing fires on a watermark; present so every operator can be advanced alike. */
  advance(_wm: number): void {}

  /** Checkpoints (LANGUAGE.md §12): this operator's state (see checkpoint/codec.ts). */
  snapshot(): Record<string, unknown> {
    return snapshotFields(this);
  }

  /** Puts back what `snapshot()` saved, into an operator built by the same program. */
  restore(saved: unknown): void {
    restoreFields(this, saved);
  }
}
