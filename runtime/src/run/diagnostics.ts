// What a run says on stderr while it runs: bad records (LANGUAGE.md §6 "Bad input") and the
// progress line. Every clock read is `Env.now()`.

import type { Env } from "../env.js";
import type { BadRecord } from "../io/batch.js";
import type { BufferedWriter } from "./outputs.js";
import { StrictInputError } from "./errors.js";

export const compact = (n: number): string =>
  n < 1000 ? String(Math.round(n)) : n < 1e6 ? (n / 1e3).toFixed(1) + "k" : n < 1e9 ? (n / 1e6).toFixed(1) + "M" : (n / 1e9).toFixed(1) + "G";
const bytesText = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(0)} KB` : n < 1 << 30 ? `${(n / (1 << 20)).toFixed(0)} MB` : `${(n / (1 << 30)).toFixed(2)} GB`;

/** What the progress line reads of each source. */
export interface ProgressSource {
  /** Valid records read. */
  count: number;
  /** Bytes read so far and, when known, the total. */
  bytes: number;
  size?: number;
}

/** Milliseconds between two updates of the progress line. */
export const PROGRESS_MS = 250;

/**
 * The progress line on stderr (`flowc: 12 MB of 40 MB (30%), 1.2M events/s`), redrawn at most
 * every PROGRESS_MS, and cleared before anything else is written to stderr.
 */
export class Progress {
  private shown = false;
  private last: number;

  constructor(
    private readonly env: Env,
    readonly on: boolean,
    private readonly started: number,
    private readonly sources: readonly ProgressSource[],
  ) {
    this.last = started;
  }

  /** Redraws the line when it is on and PROGRESS_MS have passed since the last time. */
  tick(now: number): void {
    if (this.on && now - this.last >= PROGRESS_MS) this.show(now);
  }

  show(now: number): void {
    this.last = now;
    let read = 0;
    let total = 0;
    let n = 0;
    for (const s of this.sources) {
      n += s.count;
      if (s.size !== undefined) {
        read += s.bytes;
        total += s.size;
      }
    }
    const rate = n / Math.max((now - this.started) / 1000, 1e-3);
    const part = total > 0 ? `${bytesText(read)} of ${bytesText(total)} (${Math.floor((100 * read) / total)}%), ` : `${compact(n)} events, `;
    this.env.stderr(`\r\x1b[Kflowc: ${part}${compact(rate)} events/s`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) {
      this.env.stderr("\r\x1b[K");
      this.shown = false;
    }
  }
}

/** The message of a program's run-time error (a built-in failed); rethrows any other error. */
function runtimeErrorMessage(e: unknown): string {
  if (!(e instanceof Error) || e.name !== "FlowRuntimeError") throw e;
  return e.message;
}

/** JSON text of a value for a dead letter, whatever it is. */
export function rawText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Bad records, one home for every kind: input that does not decode (`FILE:LINE: message`), a
 * record the program failed on (a built-in threw: `FILE: record N: message`) and a row a stage
 * failed to make from its state (`FILE:LINE agg: message`). Each is counted; the first
 * `maxMessages` are printed; input records go to the dead-letter file; under `strict` the failing
 * ones stop the run (StrictInputError — for bad input the caller decides when, see refill).
 */
export class BadRecords {
  count = 0;
  /** Bad input records per source (for metrics). */
  readonly bySource = new Map<string, number>();
  private printed = 0;

  constructor(
    private readonly env: Env,
    private readonly progress: Progress,
    private readonly deadLetter: BufferedWriter | undefined,
    private readonly maxMessages: number,
    private readonly strict: boolean,
  ) {}

  private report(message: string, letter?: { source: string; file: string; line: number | null; position?: Record<string, string | number>; error: string; raw: string }): void {
    this.count++;
    if (this.printed < this.maxMessages) {
      this.progress.clear();
      this.env.stderr(message + "\n");
      this.printed++;
    }
    if (letter !== undefined) this.deadLetter?.write(JSON.stringify(letter) + "\n");
  }

  /** An input record of `source` (read from `file`) that is not a valid value of its type. */
  input(source: string, file: string, b: BadRecord): void {
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1);
    // A network message says where it came from (topic, partition, offset …) instead of a line.
    if (b.where !== undefined) this.report(`${b.where}: ${b.error}`, { source, file, line: null, ...(b.position && { position: b.position }), error: b.error, raw: b.raw });
    else this.report(`${file}:${b.line}: ${b.error}`, { source, file, line: b.line, error: b.error, raw: b.raw });
  }

  /** The program failed on record number `ordinal` of `source`: the record is dropped. */
  record(source: string, file: string, ordinal: number, record: unknown, e: unknown): void {
    const error = `record ${ordinal}: ${runtimeErrorMessage(e)}`;
    this.report(`${file}: ${error}`, { source, file, line: null, error, raw: rawText(record) });
    if (this.strict) throw new StrictInputError(source, file, 0, error);
  }

  /** A stage failed to make a row from its state (`where` is `file:line agg`): the row is dropped. */
  row(where: string, e: unknown): void {
    const error = `${where}: ${runtimeErrorMessage(e)}`;
    this.report(error);
    if (this.strict) throw new StrictInputError("", where, 0, error);
  }

  /** `flowc: ... N more bad records` when some were not printed, else undefined. */
  more(): string | undefined {
    return this.count > this.printed ? `flowc: ... ${this.count - this.printed} more bad records` : undefined;
  }
}
