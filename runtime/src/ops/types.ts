// Shared types of the stateful operators (runtime/src/ops). Generated code specialises each
// operator by passing small "spec" objects (methods, created once) and one emit callback.

/** Receives an operator's output row and its event time (epoch ms). */
export type Emit<Row> = (row: Row, time: number) => void;

/** A grouping / join / distinct key. Composite keys are pre-joined into a string by generated code. */
export type Key = string | number | boolean | null;

/**
 * How a windowed operator assigns windows. Tumbling and hopping windows are aligned to the epoch
 * (floor, so negative times work too); `carried` windows are read from the row (derived rows keep
 * the window that produced them) through the operator's window reader (see `CarriedWindowOf`).
 */
export type WindowSpec =
  | { kind: "tumbling"; size: number }
  | { kind: "hop"; size: number; slide: number }
  | { kind: "carried" };

/**
 * Reads a derived row's window [start, end). Either `windowOf` (returns a pair) or the
 * allocation-free `windowStart` + `windowEnd`; when both are present the latter is used.
 */
export interface CarriedWindowOf<In> {
  windowOf?(row: In): readonly [number, number];
  windowStart?(row: In): number;
  windowEnd?(row: In): number;
}

/** A window argument: the window kind plus, for `carried`, how to read a row's window. */
export type WindowArg<In> = WindowSpec & CarriedWindowOf<In>;

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
   * Optional: true when the result does not depend on the order rows are added in (count, sum of
   * ints, min, max, count_distinct, ...). With `merge`, SessionAgg then keeps one incremental state
   * per session instead of buffering the session's rows to replay them in arrival order.
   */
  orderInsensitive?: boolean;
  /** Optional: true when `key` is the same for every row (an agg without `group by`). */
  keyless?: boolean;
}

/** `t mod m` in [0, m), exact for integers, correct for negative t. */
export function floorMod(t: number, m: number): number {
  const r = t % m;
  return r < 0 ? r + m : r;
}

/** Resolved window kinds (numbers keep the hot switch cheap). */
export const TUMBLING = 0;
export const HOP = 1;
export const CARRIED = 2;

export function windowKind(w: WindowSpec): number {
  switch (w.kind) {
    case "tumbling":
      if (!(w.size > 0)) throw new RangeError(`tumbling window size must be > 0, got ${w.size}`);
      return TUMBLING;
    case "hop":
      if (!(w.size > 0) || !(w.slide > 0)) {
        throw new RangeError(`hop window size and slide must be > 0, got ${w.size}, ${w.slide}`);
      }
      return HOP;
    case "carried":
      return CARRIED;
    default:
      throw new TypeError(`unknown window kind ${(w as { kind: string }).kind}`);
  }
}

/**
 * Picks the object that reads carried windows: `primary` when it has a reader, else `fallback`.
 * Returns [reader, usesStartEnd]; throws when a carried window has no reader.
 */
export function carriedReader<In>(
  primary: CarriedWindowOf<In> | undefined,
  fallback: CarriedWindowOf<In> | undefined,
  what: string,
): [CarriedWindowOf<In>, boolean] {
  for (const o of [primary, fallback]) {
    if (o === undefined) continue;
    if (typeof o.windowStart === "function" && typeof o.windowEnd === "function") return [o, true];
    if (typeof o.windowOf === "function") return [o, false];
  }
  throw new TypeError(`${what}: a carried window needs windowOf(row) or windowStart(row)/windowEnd(row)`);
}
