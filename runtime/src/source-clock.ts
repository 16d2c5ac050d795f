// The clock of one source (LANGUAGE.md §6 "Event time and watermarks"): the one home of the
// runtime's event-time and watermark rules, used by the driver's run loops (run/loops.ts runRange,
// runPull, runSingle, runMerged) and by the operators' test harness (ops/testdata/harness.ts).
//
//   - a record's time is its event-time field, or its computed event time (`event time EXPR`,
//     SourceState.timeOf), or — for a source without event time — its arrival time (when its
//     batch was read), with delay 0;
//   - the source's watermark is the largest time read so far − delay, taken from every valid
//     record before any stage; it only rises: it is passed on (`graph.advance`) after each record
//     whose time exceeds the largest so far;
//   - when the source ends its watermark is +∞.
//
// The generated loops (GraphInstance.pushRange / pushBatch / pullBatch, compiler/src/emit/emit.ts)
// mirror `observe` inline — `if (t > maxT) { maxT = t; this.<source>_watermarkN(t - delay) }` —
// with the largest time handed in and out (`maxTime`); a change of these rules changes them too.
//
// Per-partition watermarks (§10, Kafka): PartitionedClock below. Idle sources (`idle D`): the run
// loop's Reader.waitIdle (run/loops.ts) advances an idle source's watermark with the wall clock.

export class SourceClock {
  /** The largest time read so far (−∞ before the first record). */
  maxTime = -Infinity;
  /** The source has ended: its watermark is +∞. */
  ended = false;

  constructor(
    /** Watermark delay in ms (0 for arrival time). */
    readonly delay: number,
  ) {}

  /** A record with time `t` was read: true when the watermark rose (then pass `watermark` on). */
  observe(t: number): boolean {
    if (t > this.maxTime) {
      this.maxTime = t;
      return true;
    }
    return false;
  }

  /** The source's watermark: largest time − delay, +∞ once it has ended. */
  get watermark(): number {
    return this.ended ? Infinity : this.maxTime - this.delay;
  }

  /** The source has ended; returns its watermark, +∞. */
  end(): number {
    this.ended = true;
    return Infinity;
  }
}

/**
 * The clock of a source with partitions (Kafka, §10): one largest time per partition; the
 * source's watermark is the smallest of them − delay, so a partition that is behind (or has had
 * no record yet: −∞) holds the source back. `maxTime` is that smallest largest time. The driver
 * `select`s the partition of each batch before observing its records; `assign` gives the
 * partitions the source reads now (a partition taken away no longer counts).
 */
export class PartitionedClock extends SourceClock {
  private readonly largest = new Map<number, number>();
  /** With `idle` (§10): wall time of each partition's last batch (or of its assignment). */
  private readonly lastSeen = new Map<number, number>();
  /** Partitions idle now: they no longer hold the source back. */
  private readonly idle = new Set<number>();
  private current = 0;

  /** The partitions read now (known ones not listed are dropped; new ones start at −∞). */
  assign(partitions: readonly number[], now = 0): void {
    for (const p of [...this.largest.keys()]) {
      if (!partitions.includes(p)) {
        this.largest.delete(p);
        this.lastSeen.delete(p);
        this.idle.delete(p);
      }
    }
    for (const p of partitions) {
      if (!this.largest.has(p)) {
        this.largest.set(p, -Infinity);
        this.lastSeen.set(p, now);
      }
    }
  }

  /** The records observed next come from `partition` (their batch arrived at wall time `now`). */
  select(partition: number, now = 0): void {
    this.current = partition;
    if (!this.largest.has(partition)) this.largest.set(partition, -Infinity);
    this.lastSeen.set(partition, now);
    this.idle.delete(partition);
  }

  /**
   * `idle D` applies to each partition (§10): a partition without a batch for `idleMs` of wall
   * time stops counting, so an empty partition does not hold its source back. True when the
   * watermark rose.
   */
  markIdle(now: number, idleMs: number): boolean {
    for (const [p, seen] of this.lastSeen) if (now - seen >= idleMs && p !== this.current) this.idle.add(p);
    return this.raise();
  }

  /**
   * The wall time at which the next partition would go idle (`markIdle`), Infinity when none
   * would: the run loop wakes up then.
   */
  nextIdleAt(idleMs: number): number {
    let at = Infinity;
    for (const [p, seen] of this.lastSeen) if (p !== this.current && !this.idle.has(p) && seen + idleMs < at) at = seen + idleMs;
    return at;
  }

  /** The per-partition state a checkpoint keeps (§12: each source's watermark and idle state). */
  snapshot(): PartitionsSnapshot {
    return {
      current: this.current,
      partitions: [...this.largest].map(([p, t]) => ({ p, largest: Number.isFinite(t) ? t : null, seen: this.lastSeen.get(p) ?? null, idle: this.idle.has(p) })),
    };
  }

  /** Puts back a `snapshot` (a restored run). */
  restore(s: PartitionsSnapshot): void {
    this.largest.clear();
    this.lastSeen.clear();
    this.idle.clear();
    this.current = s.current;
    for (const x of s.partitions) {
      this.largest.set(x.p, x.largest ?? -Infinity);
      if (x.seen !== null) this.lastSeen.set(x.p, x.seen);
      if (x.idle) this.idle.add(x.p);
    }
  }

  override observe(t: number): boolean {
    if (!(t > (this.largest.get(this.current) ?? -Infinity))) return false;
    this.largest.set(this.current, t);
    return this.raise();
  }

  /** The smallest largest time over the partitions that are not idle (all idle: above −∞). */
  private raise(): boolean {
    let low = Infinity;
    let quiet = Infinity;
    for (const [p, v] of this.largest) {
      if (!this.idle.has(p)) {
        if (v < low) low = v;
      } else if (v > -Infinity && v < quiet) quiet = v;
    }
    if (low === Infinity) low = quiet === Infinity ? -Infinity : quiet;
    if (low > this.maxTime) {
      this.maxTime = low;
      return true;
    }
    return false;
  }
}

/** PartitionedClock's state in a checkpoint (times: epoch ms; null: −∞ / none). */
export interface PartitionsSnapshot {
  current: number;
  partitions: { p: number; largest: number | null; seen: number | null; idle: boolean }[];
}
