// Signatures of the scalar built-ins (LANGUAGE.md §5) and of the aggregates.
import { T, isNumeric, isOrdered, join, stripOptional, typeToString, type Type } from "./types";
import type { AggFn } from "./typed";

export type SigResult = { type: Type } | { error: "arity"; expected: string } | { error: "arg"; index: number; expected: string };

type Check = (args: Type[]) => SigResult;

const ok = (type: Type): SigResult => ({ type });
const arity = (expected: string): SigResult => ({ error: "arity", expected });
const bad = (index: number, expected: string): SigResult => ({ error: "arg", index, expected });

function sig(params: (Type | "numeric" | "ordered" | "scalar" | "any")[], result: Type | ((args: Type[]) => Type), optionalFrom = params.length): Check {
  return (args) => {
    if (args.length < optionalFrom || args.length > params.length) {
      const n = optionalFrom === params.length ? `${params.length} argument${params.length === 1 ? "" : "s"}` : `${optionalFrom} to ${params.length} arguments`;
      return arity(n);
    }
    for (let i = 0; i < args.length; i++) {
      const p = params[i]!, a = args[i]!;
      if (a.kind === "error") continue;
      if (p === "numeric") { if (!isNumeric(a)) return bad(i, "int or float"); }
      else if (p === "ordered") { if (!isOrdered(a)) return bad(i, "int, float, string, time or duration"); }
      else if (p === "scalar") { if (!["int", "float", "bool", "string", "time", "duration"].includes(a.kind)) return bad(i, "a scalar"); }
      else if (p === "any") continue;
      else if (!(a.kind === p.kind || (p.kind === "float" && a.kind === "int"))) return bad(i, typeToString(p));
    }
    return ok(typeof result === "function" ? result(args) : result);
  };
}

export const BUILTIN_SIGNATURES: Record<string, Check> = {
  abs: (args) => (args.length !== 1 ? arity("1 argument") : args[0]!.kind === "duration" || isNumeric(args[0]!) || args[0]!.kind === "error" ? ok(args[0]!) : bad(0, "int, float or duration")),
  floor: sig(["numeric"], T.int),
  ceil: sig(["numeric"], T.int),
  sqrt: sig(["numeric"], T.float),
  pow: sig(["numeric", "numeric"], T.float),
  round: (args) => (args.length === 2 ? sig(["numeric", T.int], T.float)(args) : sig(["numeric"], T.int)(args)),
  min: (args) => (args.length !== 2 ? arity("2 arguments (with one argument, `min` is an aggregate: use it in `agg`)") : minMax(args)),
  max: (args) => (args.length !== 2 ? arity("2 arguments (with one argument, `max` is an aggregate: use it in `agg`)") : minMax(args)),
  div: sig([T.int, T.int], T.int),
  int: (args) => {
    if (args.length !== 1) return arity("1 argument");
    const a = args[0]!;
    if (a.kind === "string") return ok(T.optional(T.int));
    if (isNumeric(a) || a.kind === "time" || a.kind === "duration" || a.kind === "bool" || a.kind === "error") return ok(T.int);
    return bad(0, "a number, time, duration, bool or string");
  },
  float: (args) => {
    if (args.length !== 1) return arity("1 argument");
    const a = args[0]!;
    if (a.kind === "string") return ok(T.optional(T.float));
    if (isNumeric(a) || a.kind === "error") return ok(T.float);
    return bad(0, "a number or string");
  },
  string: sig(["scalar"], T.string),
  len: (args) => (args.length !== 1 ? arity("1 argument") : ["string", "array", "error"].includes(args[0]!.kind) ? ok(T.int) : bad(0, "string or array")),
  lower: sig([T.string], T.string),
  upper: sig([T.string], T.string),
  trim: sig([T.string], T.string),
  contains: sig([T.string, T.string], T.bool),
  starts_with: sig([T.string, T.string], T.bool),
  ends_with: sig([T.string, T.string], T.bool),
  substr: sig([T.string, T.int, T.int], T.string, 2),
  replace: sig([T.string, T.string, T.string], T.string),
  split: sig([T.string, T.string], T.array(T.string)),
  matches: sig([T.string, T.string], T.bool),
  regex_extract: sig([T.string, T.string, T.int], T.optional(T.string), 2),
  hour: sig([T.time], T.int),
  minute: sig([T.time], T.int),
  day_of_week: sig([T.time], T.int),
  date: sig([T.time], T.string),
  trunc: sig([T.time, T.duration], T.time),
};

function minMax(args: Type[]): SigResult {
  const [a, b] = args as [Type, Type];
  if (!isOrdered(a) && a.kind !== "error") return bad(0, "int, float, string, time or duration");
  if (!isOrdered(b) && b.kind !== "error") return bad(1, "int, float, string, time or duration");
  const j = join(a, b);
  if (!j) return bad(1, typeToString(a));
  return ok(j);
}

/** Built-ins whose arguments may be optional: they propagate nothing, so only these. */
export const NULL_TOLERANT = new Set<string>(["string"]);

export const AGGREGATES = new Set(["count", "sum", "avg", "min", "max", "first", "last", "count_distinct", "approx_count_distinct", "percentile", "collect", "max_by", "min_by"]);

/** Is this call an aggregate? (`min`/`max` with two arguments are scalar.) */
export const isAggregateCall = (name: string, argc: number) => AGGREGATES.has(name) && !((name === "min" || name === "max") && argc === 2);

/** Aggregate result types; `undefined` + message for a bad input type. */
export function aggregateType(fn: AggFn, args: Type[]): { type: Type } | { error: string; index: number } {
  const a0 = args[0] ?? T.error;
  const inner = stripOptional(a0);
  const opt = a0.kind === "optional";
  const wrap = (t: Type) => (opt ? T.optional(t) : t);
  switch (fn) {
    case "count":
    case "count_expr":
    case "count_distinct":
    case "approx_count_distinct":
      if (fn !== "count" && fn !== "count_expr" && inner.kind !== "error" && !["int", "float", "bool", "string", "time", "duration"].includes(inner.kind)) return { error: typeToString(a0), index: 0 };
      return { type: T.int };
    case "sum":
      if (inner.kind === "error") return { type: T.error };
      if (!isNumeric(inner) && inner.kind !== "duration") return { error: typeToString(a0), index: 0 };
      return { type: wrap(inner) };
    case "avg":
      if (inner.kind === "error") return { type: T.error };
      if (!isNumeric(inner)) return { error: typeToString(a0), index: 0 };
      return { type: wrap(T.float) };
    case "min":
    case "max":
    case "percentile":
      if (inner.kind === "error") return { type: T.error };
      if (!isOrdered(inner)) return { error: typeToString(a0), index: 0 };
      return { type: wrap(inner) };
    case "first":
    case "last":
      return { type: wrap(inner) };
    case "collect":
      return { type: wrap(T.array(inner)) };
    case "max_by":
    case "min_by": {
      const k = stripOptional(args[1] ?? T.error);
      if (k.kind !== "error" && !isOrdered(k)) return { error: typeToString(args[1]!), index: 1 };
      return { type: wrap(inner) };
    }
  }
}

