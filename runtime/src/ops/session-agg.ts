// `window session(GAP) | group by K | agg ...` (LANGUAGE.md §6).

import type { AggSpec, Emit, Key } from "./types";
import { restoreFields, snapshotFields, stateClass } from "../checkpoint/codec";

class Session<In, S> {
  /** Next open session of the same key (the key's sessions are disjoint and sorted by start). */
  next: Session<In, S> | null = null;
  /** Merged into another session, or fired. */
  dead = false;
  /** Arrival sequence of the session's earliest-arrived row (orders sessions ending together). */
  minSeq: number;
  /** Heap snapshot of (end, minSeq): the heap is lazily reconciled when a session grows. */
  qEnd: number;
  qSeq: number;
  // Buffered mode: the session's rows in arrival order, replayed at fire time.
  rows: In[] | null;
  times: number[] | null;
  seqs: number[] | null;
  // Incremental mode (orderInsensitive + merge): one running state.
  state: S | undefined;

  constructor(
    readonly key: Key,
    public start: number,
    public end: number,
    seq: number,
    buffered: boolean,
  ) {
    this.minSeq = seq;
    this.qEnd = end;
    this.qSeq = seq;
    this.rows = buffered ? [] : null;
    this.times = buffered ? [] : null;
    this.seqs = buffered ? [] : null;
    this.state = undefined;
  }
}

/**
 * Session windows per key: a row at t has window [t, t + gap); it merges every open session of
 * its key that it overlaps (t < session.end && t + gap > session.start), possibly bridging
 * several. A row is late (→ `late(row)`) only when the merged session's end is ≤ the watermark.
 * A session aggregates its rows in arrival order: rows are buffered per session and replayed
 * through init/add when it fires — unless `spec.orderInsensitive` and `spec.merge` are given, in
 * which case each session keeps one incremental state and merges fold states together.
 *
 * `advance(wm)` fires every session with end ≤ wm in order of end; sessions ending at the same
 * time come in order of their earliest-arrived row (the order their keys were first seen in
 * them). A fired row is `result(state, start, end)` with time `end − 1`.
 */
export class SessionAgg<In, S, Out> {
  private readonly byKey = new Map<Key, Session<In, S>>();
  private readonly heap: Session<In, S>[] = [];
  private readonly buffered: boolean;
  private wm = -Infinity;
  private seq = 0;

  constructor(
    private readonly gap: number,
    private readonly spec: AggSpec<In, S, Out>,
    private readonly emit: Emit<Out>,
    private readonly late: (row: In) => void,
  ) {
    if (!(gap > 0)) throw new RangeError(`session gap must be > 0, got ${gap}`);
    this.buffered = !(spec.orderInsensitive === true && typeof spec.merge === "function");
  }

  /** Number of open sessions (for tests and metrics). */
  get openSessions(): number {
    let n = 0;
    for (let s of this.byKey.values()) {
      for (let c: Session<In, S> | null = s; c !== null; c = c.next) n++;
    }
    return n;
  }

  push(row: In, time: number): void {
    const spec = this.spec;
    const k = spec.key(row);
    const rowEnd = time + this.gap;
    const seq = this.seq++;
    let prev: Session<In, S> | null = null;
    let cur: Session<In, S> | null = this.byKey.get(k) ?? null;
    // sessions ending at or before t cannot overlap [t, t + gap)
    while (cur !== null && cur.end <= time) {
      prev = cur;
      cur = cur.next;
    }
    if (cur === null || cur.start >= rowEnd) {
      // a new session
      if (rowEnd <= this.wm) {
        this.late(row);
        return;
      }
      const s = new Session<In, S>(k, time, rowEnd, seq, this.buffered);
      s.next = cur;
      if (prev === null) this.byKey.set(k, s);
      else prev.next = s;
      if (this.buffered) {
        s.rows!.push(row);
        s.times!.push(time);
        s.seqs!.push(seq);
      } else {
        const st = spec.init(row);
        spec.add(st, row, time);
        s.state = st;
      }
      this.heapPush(s);
      return;
    }
    // cur overlaps: it survives and absorbs every following session the row also overlaps.
    // (An open session's end is > the watermark, so the merged session is never late.)
    if (time < cur.start) cur.start = time;
    if (rowEnd > cur.end) cur.end = rowEnd;
    let other = cur.next;
    while (other !== null && other.start < rowEnd) {
      cur.next = other.next;
      other.dead = true;
      if (other.end > cur.end) cur.end = other.end;
      if (other.minSeq < cur.minSeq) cur.minSeq = other.minSeq;
      if (this.buffered) this.mergeRows(cur, other);
      else spec.merge!(cur.state as S, other.state as S);
      other.rows = other.times = other.seqs = null;
      other.state = undefined;
      other.next = null;
      other = cur.next;
    }
    if (this.buffered) {
      cur.rows!.push(row);
      cur.times!.push(time);
      cur.seqs!.push(seq);
    } else {
      spec.add(cur.state as S, row, time);
    }
  }

  /** Fires every session with end ≤ wm before returning. */
  advance(wm: number): void {
    if (!(wm > this.wm)) return;
    this.wm = wm;
    const heap = this.heap;
    while (heap.length > 0 && heap[0]!.qEnd <= wm) {
      const s = this.heapPop();
      if (s.dead) continue;
      if (s.end !== s.qEnd || s.minSeq !== s.qSeq) {
        // grew since it was queued: requeue with its current end
        s.qEnd = s.end;
        s.qSeq = s.minSeq;
        this.heapPush(s);
        continue;
      }
      this.fire(s);
    }
  }

  private fire(s: Session<In, S>): void {
    // unlink from the key's list
    const first = this.byKey.get(s.key)!;
    if (first === s) {
      if (s.next === null) this.byKey.delete(s.key);
      else this.byKey.set(s.key, s.next);
    } else {
      let p = first;
      while (p.next !== s) p = p.next!;
      p.next = s.next;
    }
    s.dead = true;
    s.next = null;
    const spec = this.spec;
    let st: S;
    if (this.buffered) {
      const rows = s.rows!;
      const times = s.times!;
      st = spec.init(rows[0]!);
      for (let i = 0; i < rows.length; i++) spec.add(st, rows[i]!, times[i]!);
      s.rows = s.times = s.seqs = null;
    } else {
      st = s.state as S;
      s.state = undefined;
    }
    const out = spec.result(st, s.start, s.end);
    if (out !== undefined) this.emit(out, s.end - 1);
  }

  /** Merges `from`'s buffered rows into `into`'s, keeping arrival order. */
  private mergeRows(into: Session<In, S>, from: Session<In, S>): void {
    const ar = into.rows!, at = into.times!, as = into.seqs!;
    const br = from.rows!, bt = from.times!, bs = from.seqs!;
    const na = ar.length, nb = br.length;
    if (nb === 0) return;
    if (na === 0 || as[na - 1]! < bs[0]!) {
      for (let i = 0; i < nb; i++) {
        ar.push(br[i]!);
        at.push(bt[i]!);
        as.push(bs[i]!);
      }
      return;
    }
    if (bs[nb - 1]! < as[0]!) {
      for (let i = 0; i < na; i++) {
        br.push(ar[i]!);
        bt.push(at[i]!);
        bs.push(as[i]!);
      }
      into.rows = br;
      into.times = bt;
      into.seqs = bs;
      return;
    }
    const n = na + nb;
    const rr = new Array<In>(n), rt = new Array<number>(n), rs = new Array<number>(n);
    let i = 0, j = 0;
    for (let o = 0; o < n; o++) {
      if (j >= nb || (i < na && as[i]! < bs[j]!)) {
        rr[o] = ar[i]!;
        rt[o] = at[i]!;
        rs[o] = as[i]!;
        i++;
      } else {
        rr[o] = br[j]!;
        rt[o] = bt[j]!;
        rs[o] = bs[j]!;
        j++;
      }
    }
    into.rows = rr;
    into.times = rt;
    into.seqs = rs;
  }

  // A binary min-heap on (qEnd, qSeq).
  private heapPush(s: Session<In, S>): void {
    const h = this.heap;
    let i = h.length;
    h.push(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const q = h[p]!;
      if (q.qEnd < s.qEnd || (q.qEnd === s.qEnd && q.qSeq <= s.qSeq)) break;
      h[i] = q;
      i = p;
    }
    h[i] = s;
  }

  private heapPop(): Session<In, S> {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        const r = c + 1;
        if (r < n && (h[r]!.qEnd < h[c]!.qEnd || (h[r]!.qEnd === h[c]!.qEnd && h[r]!.qSeq < h[c]!.qSeq))) c = r;
        const hc = h[c]!;
        if (last.qEnd < hc.qEnd || (last.qEnd === hc.qEnd && last.qSeq <= hc.qSeq)) break;
        h[i] = hc;
        i = c;
      }
      h[i] = last;
    }
    return top;
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
stateClass("session-agg.Session", Session);
