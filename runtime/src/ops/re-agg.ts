// Re-aggregation (LANGUAGE.md §13): `group by … | agg …` over an updating stream.

import { sameRow, type Delete, type Upsert } from "./changes";
import type { AggSpec, Key } from "./types";
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

/**
 * An agg spec that can also take a row back out of a state. `retract` returns false when the
 * state can no longer be right (the row held a min, max, first or last value): the group then
 * computes its state again from the rows it keeps. With `exactRetract` (count, sum, avg only) it
 * always succeeds and groups keep no rows; without `retract` every change recomputes.
 */
export interface ReAggSpec<In, S, Out> extends AggSpec<In, S, Out> {
  retract?(state: S, row: In): boolean;
  readonly exactRetract?: boolean;
}

/** One group: its state (or its rows, when the spec cannot retract) and the row last sent. */
class Group<In, S, Out> {
  state: S | undefined = undefined;
  /** The state reflects the rows (false: recompute it from `rows` before the next result). */
  valid = true;
  /** The rows of the group by input key, oldest first (a re-inserted key goes last). */
  readonly rows: Map<Key, { row: In; time: number }> | undefined;
  /** Input keys contributing. */
  size = 0;
  /** The row last sent downstream (undefined: none, or deleted). */
  sent: Out | undefined = undefined;
  constructor(
    readonly key: Key,
    keepRows: boolean,
  ) {
    this.rows = keepRows ? new Map() : undefined;
  }
}

/**
 * The groups of an updating input: an upsert of input key k retracts k's previous row from its
 * group and adds the new row to its (possibly other) group; a delete retracts it. Each input
 * change sends at most one change per affected group — the old group's first — and none for a
 * group whose row did not change; a group left with no rows is deleted downstream.
 */
export class ReAgg<In, S, Out> {
  private readonly groups = new Map<Key, Group<In, S, Out>>();
  /** The current row of every input key and the group it is in. */
  private readonly inputs = new Map<Key, { row: In; group: Group<In, S, Out> }>();
  private readonly keepRows: boolean;

  constructor(
    private readonly spec: ReAggSpec<In, S, Out>,
    private readonly upsertOut: Upsert<Out>,
    private readonly deleteOut: Delete,
  ) {
    this.keepRows = spec.exactRetract !== true;
  }

  /** Number of groups with rows. */
  get size(): number {
    return this.groups.size;
  }

  /** Rows the groups keep to recompute from (0 when every aggregate retracts exactly). */
  get rowsKept(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.rows?.size ?? 0;
    return n;
  }

  upsert(k: Key, row: In, time: number): void {
    const prev = this.inputs.get(k);
    const gk = this.spec.key(row);
    if (prev !== undefined) {
      const old = prev.group;
      this.take(old, k, prev.row);
      if (this.groups.get(gk) === old) {
        // Retract and add in one group: one change.
        this.put(old, k, row, time);
        prev.row = row;
        this.changed(old, time);
        return;
      }
      this.changed(old, time);
    }
    let g = this.groups.get(gk);
    if (g === undefined) this.groups.set(gk, (g = new Group(gk, this.keepRows)));
    this.put(g, k, row, time);
    if (prev !== undefined) {
      prev.row = row;
      prev.group = g;
    } else this.inputs.set(k, { row, group: g });
    this.changed(g, time);
  }

  remove(k: Key, time: number): void {
    const prev = this.inputs.get(k);
    if (prev === undefined) return; // a key that is not present: nothing changes
    this.inputs.delete(k);
    this.take(prev.group, k, prev.row);
    this.changed(prev.group, time);
  }

  private take(g: Group<In, S, Out>, k: Key, row: In): void {
    g.size--;
    if (g.rows !== undefined) g.rows.delete(k);
    const retract = this.spec.retract;
    if (g.valid && (retract === undefined || !retract.call(this.spec, g.state!, row))) g.valid = false;
  }

  private put(g: Group<In, S, Out>, k: Key, row: In, time: number): void {
    g.size++;
    if (g.rows !== undefined) g.rows.set(k, { row, time });
    if (!g.valid) return; // recomputed from the rows, this one included
    if (g.state === undefined) g.state = this.spec.init(row);
    this.spec.add(g.state, row, time);
  }

  /** Sends the group's new row, or its deletion, when it differs from what was sent. */
  private changed(g: Group<In, S, Out>, time: number): void {
    if (g.size === 0) {
      this.groups.delete(g.key);
      if (g.sent !== undefined) {
        g.sent = undefined;
        this.deleteOut(g.key, time);
      }
      return;
    }
    if (!g.valid) {
      // A retraction the state could not take: computed again from the rows, in their order.
      let s: S | undefined = undefined;
      for (const c of g.rows!.values()) {
        if (s === undefined) s = this.spec.init(c.row);
        this.spec.add(s, c.row, c.time);
      }
      g.state = s;
      g.valid = true;
    }
    const row = this.spec.result(g.state!, NaN, NaN);
    if (row === undefined || (g.sent !== undefined && sameRow(g.sent, row))) return;
    g.sent = row;
    this.upsertOut(row, time, g.key);
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
stateClass("re-agg.Group", Group);
