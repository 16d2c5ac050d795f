// Outputs as async iterables, for embedding: `for await (const row of stream().outputs.out1)`.
import type { Program } from "./contract.js";
import { runProgram, type RunOptions, type RunSummary } from "./driver.js";

/** A single-consumer queue: rows pushed by the run, pulled by `for await`. */
class RowQueue implements AsyncIterable<unknown> {
  private readonly rows: unknown[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<unknown>) => void) | undefined;
  private failure: ((e: unknown) => void) | undefined;
  private ended = false;
  private error: unknown;

  push(row: unknown): void {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failure = undefined;
      w({ value: row, done: false });
    } else this.rows.push(row);
  }

  end(error?: unknown): void {
    this.ended = true;
    this.error = error;
    if (this.waiting) {
      const [w, f] = [this.waiting, this.failure!];
      this.waiting = this.failure = undefined;
      if (error !== undefined) f(error);
      else w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<unknown> {
    return {
      next: () => {
        if (this.head < this.rows.length) {
          const value = this.rows[this.head++];
          if (this.head > 1024 && this.head * 2 > this.rows.length) {
            this.rows.splice(0, this.head);
            this.head = 0;
          }
          return Promise.resolve({ value, done: false });
        }
        if (this.ended) return this.error !== undefined ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failure = reject;
        });
      },
    };
  }
}

export interface ProgramStreams {
  /** One async iterable per output, by name; each ends when the run ends. */
  outputs: Record<string, AsyncIterable<unknown>>;
  /** The run's summary (rejects, and so do the iterables, when the run fails). */
  done: Promise<RunSummary>;
}

/**
 * Runs `program`, delivering every output's rows as an async iterable instead of printing them.
 * Rows are buffered until read (the run does not wait for a slow reader).
 */
export function streamProgram(program: Program, options: RunOptions = {}): ProgramStreams {
  const queues = new Map(program.outputs.map((o) => [o.name, new RowQueue()]));
  // Null-prototype: an output may be named `constructor`, `toString` or `__proto__`.
  const onRow: Record<string, (row: unknown) => void> = Object.assign(Object.create(null) as Record<string, (row: unknown) => void>, options.onRow);
  for (const [name, q] of queues) if (!Object.hasOwn(onRow, name)) onRow[name] = (row) => q.push(row);
  const done = runProgram(program, { summary: false, ...options, onRow }).then(
    (summary) => {
      for (const q of queues.values()) q.end();
      return summary;
    },
    (e: unknown) => {
      for (const q of queues.values()) q.end(e ?? new Error("run failed"));
      throw e;
    },
  );
  return { outputs: Object.fromEntries(queues), done };
}
