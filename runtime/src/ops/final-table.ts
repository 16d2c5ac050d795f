// `emit final`: the latest row of each key of an upsert stream (LANGUAGE.md §6).

import { CheckpointFormatError } from "../checkpoint/codec";
import type { Key } from "./types";

const REMOVED: unique symbol = Symbol("removed");

/**
 * `upsert(key, row)` sets a key's row; `remove(key)` deletes it (an update that failed a later
 * `where`). `rows()` lists the latest row of every present key in order of the key's FIRST
 * appearance: a removed-then-reinserted key keeps its first position. Removing a key that was
 * never upserted does nothing (it does not reserve a position).
 */
export class FinalTable<Row> {
  private readonly map = new Map<Key, Row | typeof REMOVED>();
  private present = 0;

  upsert(key: Key, row: Row): void {
    const m = this.map;
    const old = m.get(key);
    if (old === undefined || old === REMOVED) this.present++;
    m.set(key, row);
  }

  remove(key: Key): void {
    const m = this.map;
    const old = m.get(key);
    if (old !== undefined && old !== REMOVED) {
      m.set(key, REMOVED);
      this.present--;
    }
  }

  /** Number of present keys. */
  get size(): number {
    return this.present;
  }

  /** The latest row per present key, in order of each key's first appearance. */
  rows(): Row[] {
    const out: Row[] = [];
    for (const r of this.map.values()) if (r !== REMOVED) out.push(r);
    return out;
  }

  /**
   * Checkpoints (LANGUAGE.md §12): every key in first-appearance order with its row, a removed
   * key as `[key]` (it keeps its position when it comes back).
   */
  snapshot(): Record<string, unknown> {
    const entries: unknown[][] = [];
    for (const [k, r] of this.map) entries.push(r === REMOVED ? [k] : [k, r]);
    return { entries, present: this.present };
  }

  /** Puts back what `snapshot()` saved. */
  restore(saved: unknown): void {
    const s = saved as { entries?: unknown; present?: unknown } | null;
    if (s === null || typeof s !== "object" || !Array.isArray(s.entries) || typeof s.present !== "number") throw new CheckpointFormatError("malformed checkpoint state: emit final table");
    this.map.clear();
    for (const e of s.entries as unknown[][]) this.map.set(e[0] as Key, e.length > 1 ? (e[1] as Row) : REMOVED);
    this.present = s.present;
  }
}
