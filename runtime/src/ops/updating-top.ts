// `[group by K |] top N by E` without a window (LANGUAGE.md §13): an updating stream of ranks.

import { sameRow, type Delete, type Upsert } from "./changes";
import type { TopSpec } from "./window-top";
import type { Key } from "./types";
import { restoreFields, snapshotFields } from "../checkpoint/codec";

/** What generated code adds to a TopSpec: the output row (the input row with its rank) and its key. */
export interface UpdatingTopSpec<In, Out> extends TopSpec<In> {
  ranked(row: In, rank: number): Out;
  /**
   * The key of an output row, (keys, rank), encoded as every updating stream encodes its key
   * from its key fields — so a union of updating streams sees one key for one row.
   */
  outKey(row: Out): Key;
}

/** One candidate: a row, its arrival number (ties rank by arrival) and its key's ranking. */
interface Entry<In> {
  row: In;
  seq: number;
  group: Ranking<In>;
}

/** One key's candidates, best first, and the rows last sent for each rank. */
interface Ranking<In> {
  key: Key;
  entries: Entry<In>[];
  /** Per rank: the entry and row last sent. */
  sent: { entry: Entry<In>; row: unknown }[];
}

/**
 * Keeps the N best rows per key and sends, after each input change, the ranks whose row changed
 * (upserts, in rank order) and then the ranks that no longer exist (deletes). Ties are broken by
 * arrival, and an upsert is a new arrival. On an append input a row that falls out of the top N
 * can never come back, so each key keeps N rows; on an updating input a retraction can promote
 * any row, so every row of the input's table is kept (sorted).
 */
export class UpdatingTop<In, Out> {
  private readonly rankings = new Map<Key, Ranking<In>>();
  /** Updating input: the current entry of every input key. */
  private readonly byInputKey = new Map<Key, Entry<In>>();
  private seq = 0;

  constructor(
    private readonly n: number,
    private readonly spec: UpdatingTopSpec<In, Out>,
    private readonly upsertOut: Upsert<Out>,
    private readonly deleteOut: Delete,
  ) {}

  /** Rows kept, over every key. */
  get size(): number {
    let n = 0;
    for (const r of this.rankings.values()) n += r.entries.length;
    return n;
  }

  /** An append input's row. */
  push(row: In, time: number): void {
    const g = this.ranking(this.spec.key(row));
    const xs = g.entries;
    // Not better than the N-th (ties go to the earlier row): it can never be among the best N,
    // since nothing is retracted.
    if (xs.length >= this.n && this.spec.compare(xs[xs.length - 1]!.row, row) <= 0) return;
    const at = this.insert(g, { row, seq: this.seq++, group: g });
    if (xs.length > this.n) xs.length = this.n;
    this.sendChanges(g, time, at);
  }

  /** An updating input's upsert of input key `k`. */
  upsert(k: Key, row: In, time: number): void {
    const old = this.byInputKey.get(k);
    const g = this.ranking(this.spec.key(row));
    const e: Entry<In> = { row, seq: this.seq++, group: g };
    this.byInputKey.set(k, e);
    if (old !== undefined && old.group === g) {
      // Within one group the new version takes the old one's place and moves to its own: only
      // the ranks between the two change (no splicing of a long ranking).
      const was = this.find(old);
      const at = this.move(g.entries, was, e);
      this.sendChanges(g, time, Math.min(was, at), Math.max(was, at) + 1);
      return;
    }
    const was = old === undefined ? -1 : this.detach(old);
    const at = this.insert(g, e);
    {
      // The old group's rows below `was` moved up; the new group's from `at` on moved down.
      if (old !== undefined) this.sendChanges(old.group, time, was);
      this.sendChanges(g, time, at);
    }
  }

  /** Puts `e` at `i` (in place of an old entry) and moves it to its place; returns that place. */
  private move(xs: Entry<In>[], i: number, e: Entry<In>): number {
    while (i > 0 && this.order(xs[i - 1]!, e) > 0) {
      xs[i] = xs[i - 1]!;
      i--;
    }
    while (i < xs.length - 1 && this.order(xs[i + 1]!, e) < 0) {
      xs[i] = xs[i + 1]!;
      i++;
    }
    xs[i] = e;
    return i;
  }

  /** Where `e` is in its ranking. */
  private find(e: Entry<In>): number {
    const xs = e.group.entries;
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order(xs[mid]!, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** An updating input's delete of input key `k`. */
  remove(k: Key, time: number): void {
    const old = this.byInputKey.get(k);
    if (old === undefined) return;
    this.byInputKey.delete(k);
    this.sendChanges(old.group, time, this.detach(old));
  }

  private ranking(key: Key): Ranking<In> {
    let g = this.rankings.get(key);
    if (g === undefined) this.rankings.set(key, (g = { key, entries: [], sent: [] }));
    return g;
  }

  private order(a: Entry<In>, b: Entry<In>): number {
    return this.spec.compare(a.row, b.row) || a.seq - b.seq;
  }

  /** Inserts `e` in rank order; returns its 0-based position. */
  private insert(g: Ranking<In>, e: Entry<In>): number {
    const xs = g.entries;
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order(xs[mid]!, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    xs.splice(lo, 0, e);
    return lo;
  }

  /** Takes `e` out of its ranking; returns where it was. */
  private detach(e: Entry<In>): number {
    const at = this.find(e);
    if (e.group.entries[at] === e) e.group.entries.splice(at, 1);
    return at;
  }

  /**
   * Sends the ranks of `g` in [from + 1, to] (the others did not move) whose row changed since
   * last sent, then deletes the vanished ranks.
   */
  private sendChanges(g: Ranking<In>, time: number, from: number, to = Infinity): void {
    const shown = Math.min(this.n, g.entries.length);
    const sent = g.sent;
    const end = Math.min(shown, to);
    for (let i = from; i < end; i++) {
      const entry = g.entries[i]!;
      const was = sent[i];
      if (was !== undefined && was.entry === entry) continue; // same row, same rank
      const row = this.spec.ranked(entry.row, i + 1);
      if (was !== undefined && sameRow(was.row, row)) {
        was.entry = entry;
        continue;
      }
      sent[i] = { entry, row };
      this.upsertOut(row, time, this.spec.outKey(row));
    }
    for (let i = shown; i < sent.length; i++) this.deleteOut(this.spec.outKey(sent[i]!.row as Out), time);
    if (sent.length > shown) sent.length = shown;
    if (g.entries.length === 0) this.rankings.delete(g.key);
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
