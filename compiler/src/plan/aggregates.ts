// What each aggregate keeps per key (and window): its state fields as data. The emitter prints
// the updates of these fields; a checkpoint serializes them; nothing else decides their shape.
import type { AggCall, WindowInfo } from "../check/typed";
import { stripOptional, type Type } from "../check/types";

/** How a state field starts, and so what it holds. */
export type StateInit =
  | "zero" // a number: a count or a sum
  | "false" // a flag: some non-null value was seen
  | "null" // the current value (min, max, first, last, max_by's value or key), null until one
  | "set" // a Set of distinct values (count_distinct)
  | "hll" // a HyperLogLog sketch (approx_count_distinct)
  | "percentile" // the values of a percentile, kept sorted on demand
  | "list"; // the values in arrival order (collect)

export interface StateField {
  /** Field name in the state record: `a0`, `a0c`, … (the aggregate's index and a suffix). */
  name: string;
  init: StateInit;
  /** The Flow type of the value a `null`, `set` or `list` field holds. */
  holds?: Type;
  /** Updated in place (a set, sketch or list), never reassigned. */
  byRef: boolean;
}

export interface AggCallPlan {
  call: AggCall;
  /** `a0`, `a1`, …: the prefix of this aggregate's fields. */
  field: string;
  fields: StateField[];
  /**
   * Two partial states can be merged (hop panes, session merges) without changing the result:
   * not for order-dependent aggregates, nor for float sums (addition is not associative).
   */
  mergeable: boolean;
  /** The argument may be null (the update skips nulls). */
  optional: boolean;
}

/**
 * Which runtime operator an `agg` is: unwindowed (an upsert stream), over sessions of its own
 * (SessionAgg merges them), or over windows (WindowAgg; a carried session window is one).
 */
export function aggOperator(window: WindowInfo | undefined): "agg" | "sessionAgg" | "windowAgg" {
  return !window ? "agg" : window.kind === "session" && !window.carried ? "sessionAgg" : "windowAgg";
}

/** The state of the `index`-th aggregate call of an `agg`. */
export function planAggCall(call: AggCall, index: number): AggCallPlan {
  const f = `a${index}`;
  const argT = call.args[0]?.type;
  const optional = argT?.kind === "optional";
  const value = argT ? stripOptional(argT) : undefined;
  const exactSum = value !== undefined && value.kind !== "float";
  const field = (name: string, init: StateInit, holds?: Type): StateField => ({ name, init, holds, byRef: init === "set" || init === "hll" || init === "percentile" || init === "list" });
  const plan = (fields: StateField[], mergeable: boolean): AggCallPlan => ({ call, field: f, fields, mergeable, optional });
  switch (call.fn) {
    case "count":
    case "count_expr":
      return plan([field(f, "zero")], true);
    case "sum":
      return plan(optional ? [field(f, "zero"), field(`${f}n`, "false")] : [field(f, "zero")], exactSum);
    case "avg":
      return plan([field(f, "zero"), field(`${f}c`, "zero")], exactSum);
    case "min":
    case "max":
      return plan([field(f, "null", value)], true);
    case "first":
      return plan([field(f, "null", value), field(`${f}s`, "false")], false);
    case "last":
      return plan([field(f, "null", value)], false);
    case "count_distinct":
      return plan([field(f, "set", value)], true);
    case "approx_count_distinct":
      return plan([field(f, "hll")], true);
    case "percentile":
      return plan([field(f, "percentile")], true);
    case "collect":
      return plan([field(f, "list", value)], false);
    case "max_by":
    case "min_by":
      return plan([field(f, "null", argT), field(`${f}k`, "null", stripOptional(call.args[1]!.type))], false);
  }
}
