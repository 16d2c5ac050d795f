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
  /** Among the best N (`top`), or waiting below them (`rest`). */
  inTop: boolean;
  /** Replaced or deleted while in `rest`: skipped when it comes up (lazy deletion). */
  dead: boolean;
}

/**
 * One key's candidates: the best N in order (`top`), the others in a binary heap best first
 * (`rest`, updating inputs only: a retraction can promote any of them), and the rows last sent
 * for each rank. Every entry of `rest` ranks after every entry of `top`.
 */
interface Ranking<In> {
  key: Key;
  top: Entry<In>[];
  rest: Entry<In>[];
  /** Live entries (top, and rest without the dead ones). */
  live: number;
  /** Dead entries still in `rest` (compacted away when they are half of it). */
  dead: number;
  /** Per rank: the entry and row last sent. */
  sent: { entry: Entry<In>; row: unknown }[];
}

/**
 * Keeps the N best rows per key and sends, after each input change, the ranks whose row changed
 * (upserts, in rank order) and then the ranks that no longer exist (deletes). Ties are broken by
 * arrival, and an upsert is a new arrival. On an append input a row that falls out of the top N
 * can never come back, so each key keeps N rows; on an updating input a retraction can promote
 * any row, so every row of the input's table is kept — the best N in order, the others in a heap
 * (an update costs O(N) when it touches the top N, O(log rows) when it stays below).
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
    for (const r of this.rankings.values()) n += r.live;
    return n;
  }

  /** An append input's row. */
  push(row: In, time: number): void {
    const g = this.ranking(this.spec.key(row));
    const xs = g.top;
    // Not better than the N-th (ties go to the earlier row): it can never be among the best N,
    // since nothing is retracted.
    if (xs.length >= this.n && this.spec.compare(xs[xs.length - 1]!.row, row) <= 0) return;
    const at = this.insertTop(g, this.entry(row, g));
    if (xs.length > this.n) xs.length = this.n;
    g.live = xs.length;
    this.sendChanges(g, time, at);
  }

  /** An updating input's upsert of input key `k`. */
  upsert(k: Key, row: In, time: number): void {
    const old = this.byInputKey.get(k);
    const g = this.ranking(this.spec.key(row));
    const e = this.entry(row, g);
    this.byInputKey.set(k, e);
    let oldFrom = Infinity;
    if (old !== undefined) oldFrom = this.detach(old);
    if (old !== undefined && old.group !== g) {
      this.sendChanges(old.group, time, oldFrom);
      oldFrom = Infinity;
    }
    const at = this.place(g, e);
    const from = Math.min(oldFrom, at);
    if (from !== Infinity) this.sendChanges(g, time, from);
  }

  /** An updating input's delete of input key `k`. */
  remove(k: Key, time: number): void {
    const old = this.byInputKey.get(k);
    if (old === undefined) return;
    this.byInputKey.delete(k);
    const from = this.detach(old);
    if (from !== Infinity) this.sendChanges(old.group, time, from);
    else if (old.group.live === 0) this.rankings.delete(old.group.key);
  }

  private entry(row: In, group: Ranking<In>): Entry<In> {
    return { row, seq: this.seq++, group, inTop: false, dead: false };
  }

  private ranking(key: Key): Ranking<In> {
    let g = this.rankings.get(key);
    if (g === undefined) this.rankings.set(key, (g = { key, top: [], rest: [], live: 0, dead: 0, sent: [] }));
    return g;
  }

  private order(a: Entry<In>, b: Entry<In>): number {
    return this.spec.compare(a.row, b.row) || a.seq - b.seq;
  }

  /**
   * Takes `e` out of its ranking: from the top N (the best waiting row moves up; returns the
   * first rank that changed) or, lazily, from below them (nothing visible changes: Infinity).
   */
  private detach(e: Entry<In>): number {
    const g = e.group;
    g.live--;
    if (!e.inTop) {
      e.dead = true;
      // Dead entries are dropped lazily; when they are half the heap, it is rebuilt without them
      // (memory follows the rows kept, not the updates seen).
      if (++g.dead > 64 && g.dead * 2 > g.rest.length) this.compact(g);
      return Infinity;
    }
    const at = this.find(g.top, e);
    g.top.splice(at, 1);
    e.inTop = false;
    const next = this.popRest(g);
    if (next !== undefined) {
      next.inTop = true;
      g.top.push(next); // below every row of the top, above every other waiting one
    }
    return at;
  }

  /** Puts `e` among the top N (returns its rank − 1; a row pushed below them waits) or below them (Infinity). */
  private place(g: Ranking<In>, e: Entry<In>): number {
    g.live++;
    const top = g.top;
    if (top.length < this.n) return this.insertTop(g, e); // then nothing waits below
    if (this.order(e, top[top.length - 1]!) < 0) {
      const at = this.insertTop(g, e);
      const out = top.pop()!;
      out.inTop = false;
      this.pushRest(g, out);
      return at;
    }
    this.pushRest(g, e);
    return Infinity;
  }

  /** Inserts `e` into the top N in rank order; returns its 0-based position. */
  private insertTop(g: Ranking<In>, e: Entry<In>): number {
    const at = this.find(g.top, e);
    g.top.splice(at, 0, e);
    e.inTop = true;
    return at;
  }

  /** Where `e` is, or goes, among the top N (binary search in rank order). */
  private find(xs: Entry<In>[], e: Entry<In>): number {
    let lo = 0, hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.order(xs[mid]!, e) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // The waiting rows: a binary heap, best first.

  private pushRest(g: Ranking<In>, e: Entry<In>): void {
    const h = g.rest;
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.order(e, h[parent]!) >= 0) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = e;
  }

  /** The best live waiting row, taken out (dead ones met on the way are dropped). */
  private popRest(g: Ranking<In>): Entry<In> | undefined {
    const h = g.rest;
    while (h.length > 0) {
      const top = h[0]!;
      const last = h.pop()!;
      if (h.length > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= h.length) break;
          const r = l + 1;
          const c = r < h.length && this.order(h[r]!, h[l]!) < 0 ? r : l;
          if (this.order(h[c]!, last) >= 0) break;
          h[i] = h[c]!;
          i = c;
        }
        h[i] = last;
      }
      if (!top.dead) return top;
      g.dead--;
    }
    return undefined;
  }

  /** Rebuilds the heap of waiting rows without the dead ones. */
  private compact(g: Ranking<In>): void {
    const live = g.rest.filter((e) => !e.dead);
    g.rest = [];
    g.dead = 0;
    for (const e of live) this.pushRest(g, e);
  }

  /**
   * Sends the ranks of `g` from rank `from` + 1 on (those above did not move) whose row changed
   * since last sent, then deletes the vanished ranks.
   */
  private sendChanges(g: Ranking<In>, time: number, from: number): void {
    const shown = Math.min(this.n, g.top.length);
    const sent = g.sent;
    for (let i = from; i < shown; i++) {
      const entry = g.top[i]!;
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
    if (g.live === 0) this.rankings.delete(g.key);
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
