// Shared types of the stateful operators (runtime/src/ops). Generated code specialises each
// operator by passing small "spec" objects (methods, created once) and one emit callback.

/** Receives an operator's output row and its event time (epoch ms). */
export type Emit<Row> = (row: Row, time: number) => void;

/** A grouping / join / distinct key. Composite keys are pre-joined into a string by generated code. */
export type Key = string | number | boolean | null;

/** Aggregation of rows of type In into state S, with result Out. */
export interface AggSpec<In, S, Out> {
  key(row: In): Key;
  /** Fresh state for a key in a window (may copy key fields). `add` is then called for the row. */
  init(row: In): S;
  add(state: S, row: In, time: number): void;
  /** Unwindowed aggregation passes NaN, NaN. */
  /** The row of a state; `undefined` when a built-in failed on it (reported; the row is dropped). */
  result(state: S, windowStart: number, windowEnd: number): Out | undefined;
  /**
   * Optional: fold `from` into `into`, as if `from`'s rows were added after `into`'s.
   * Enables hop panes (WindowAgg) and incremental sessions (SessionAgg, with orderInsensitive).
   */
  merge?(into: S, from: S): void;
  /**
   * Optional, with `merge`: a fresh state with the key fields of `like` (what `init` gives for a
   * row of its key). Hop panes build a window's state from their own with it, instead of keeping
   * each key's first row (whole input rows in memory and in checkpoints).
   */
  empty?(like: S): S;
  /**
   * Optional: true when the result does not depend on the order rows are added in (count, sum of
   * ints, min, max, count_distinct, ...). With `merge`, SessionAgg then keeps one incremental state
   * per session instead of buffering the session's rows to replay them in arrival order.
   */
  orderInsensitive?: boolean;
  /** Optional: true when `key` is the same for every row (an agg without `group by`). */
  keyless?: boolean;
}
