// What the streaming readers yield. Browser-safe: no Node imports in io/.

/** A record that could not be read or did not match the source type. */
export interface BadRecord {
  /** 1-based physical line where the record starts (item number for iterables). */
  line: number;
  /** The record's text, without its line break (for iterables: the item as JSON). */
  raw: string;
  /** What is wrong, e.g. `field "price": expected int, got "abc"` or `invalid JSON: ...`. */
  error: string;
  /** How many of the batch's good `records` came before this one (keeps the reading order). */
  index: number;
  /**
   * A network message's place, said instead of `file:line`: `kafka topic orders partition 2
   * offset 17` (see runtime/src/net/), and the same as data for the dead-letter line.
   */
  where?: string;
  position?: Record<string, string | number>;
}

/**
 * A batch of decoded records, in input order. Readers yield one batch per chunk of input they
 * read (thousands of records), so the driver's per-record work is a plain loop.
 */
export interface ReadBatch {
  records: unknown[];
  /** Bad records met while reading this batch (absent when none). */
  bad?: BadRecord[];
  /** Bytes consumed from the underlying stream so far (cumulative; for progress display). */
  bytes: number;
  /** The partition all these records come from (Kafka): the source keeps a watermark per partition. */
  partition?: number;
  /**
   * Broker sources (Kafka, NATS, Redis): the place of the batch's first and last message — an
   * offset, a stream sequence, an entry id — so a checkpoint can say where to read on (§12).
   */
  from?: number | string;
  to?: number | string;
}
