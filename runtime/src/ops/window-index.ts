// The open windows of a windowed operator, ordered for firing. Internal to runtime/src/ops.
//
// Windows are looked up by [start, end) and fired in order of end (ties — possible only for
// carried windows — by creation order). Lookups go through a Map keyed by end (windows sharing an
// end are chained); firing order is a sorted array consumed from a head index. In-order input
// appends at the tail, so insertion is O(1) in the common case.

export class Win<P> {
  /** Another open window with the same end (carried windows only). */
  sameEnd: Win<P> | null = null;
  constructor(
    readonly start: number,
    readonly end: number,
    readonly seq: number,
    readonly data: P,
  ) {}
}

export class WindowIndex<P> {
  private readonly byEnd = new Map<number, Win<P>>();
  private queue: (Win<P> | undefined)[] = [];
  private head = 0;
  private seq = 0;
  /** End of the earliest open window; Infinity when none is open. */
  firstEnd = Infinity;

  constructor(private readonly makeData: () => P) {}

  /** Number of open windows. */
  get size(): number {
    return this.queue.length - this.head;
  }

  /** The open window [start, end), or undefined. */
  find(start: number, end: number): Win<P> | undefined {
    let w = this.byEnd.get(end);
    while (w !== undefined && w.start !== start) w = w.sameEnd ?? undefined;
    return w;
  }

  /** The open window [start, end), created when missing. */
  get(start: number, end: number): Win<P> {
    const first = this.byEnd.get(end);
    let w = first;
    while (w !== undefined) {
      if (w.start === start) return w;
      w = w.sameEnd ?? undefined;
    }
    const created = new Win<P>(start, end, this.seq++, this.makeData());
    if (first === undefined) {
      this.byEnd.set(end, created);
    } else {
      created.sameEnd = first.sameEnd;
      first.sameEnd = created;
    }
    this.insert(created);
    return created;
  }

  /** The earliest open window (smallest end), or undefined. */
  first(): Win<P> | undefined {
    return this.head < this.queue.length ? this.queue[this.head] : undefined;
  }

  /** The i-th open window in firing order (0 = first), or undefined. */
  at(i: number): Win<P> | undefined {
    const j = this.head + i;
    return j < this.queue.length ? this.queue[j] : undefined;
  }

  /** Removes and returns the earliest open window if its end is ≤ wm, else undefined. */
  shift(wm: number): Win<P> | undefined {
    if (this.head >= this.queue.length) return undefined;
    const w = this.queue[this.head]!;
    if (w.end > wm) return undefined;
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue.copyWithin(0, this.head);
      this.queue.length -= this.head;
      this.head = 0;
    }
    this.firstEnd = this.head < this.queue.length ? this.queue[this.head]!.end : Infinity;
    const first = this.byEnd.get(w.end)!;
    if (first === w) {
      if (w.sameEnd === null) this.byEnd.delete(w.end);
      else this.byEnd.set(w.end, w.sameEnd);
    } else {
      let p = first;
      while (p.sameEnd !== w) p = p.sameEnd!;
      p.sameEnd = w.sameEnd;
    }
    w.sameEnd = null;
    return w;
  }

  private insert(w: Win<P>): void {
    this.place(w);
    this.firstEnd = this.queue[this.head]!.end;
  }

  private place(w: Win<P>): void {
    const q = this.queue;
    const n = q.length;
    if (n === this.head || q[n - 1]!.end <= w.end) {
      q.push(w);
      return;
    }
    // first index whose end is > w.end (w is the newest window, so it goes after equal ends)
    let lo = this.head;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid]!.end <= w.end) lo = mid + 1;
      else hi = mid;
    }
    if (lo === this.head && this.head > 0) {
      q[--this.head] = w;
      return;
    }
    q.push(undefined);
    for (let i = n; i > lo; i--) q[i] = q[i - 1];
    q[lo] = w;
  }
}
