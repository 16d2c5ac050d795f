// Signatures of the scalar built-ins and of the aggregates, read from the one table of built-ins
// (stdlib/src/catalog.ts, plain data): the checker types calls with it, the code generator picks
// the same overload's implementation (`resolveBuiltin`).
import { AGGREGATE_FUNCTIONS, BUILTIN_FUNCTIONS, OPERATOR_HELPERS, type AggInput, type AggregateFunction, type BuiltinFunction, type BuiltinOverload, type ParamType, type ResultType } from "../../../stdlib/src/catalog";
import { T, isNumeric, isOrdered, isScalar, stripOptional, typeToString, type Type } from "./types";
import type { AggFn } from "./typed";

export type SigResult = { type: Type } | { error: "arity"; expected: string } | { error: "arg"; index: number; expected: string };

type Check = (args: Type[]) => SigResult;

const FUNCTIONS = new Map<string, BuiltinFunction>(BUILTIN_FUNCTIONS.map((f) => [f.name, f]));

/** The catalog entry of a scalar built-in. */
export const builtinFunction = (name: string): BuiltinFunction | undefined => FUNCTIONS.get(name);

function accepts(p: ParamType, a: Type): boolean {
  switch (p) {
    case "N":
      return isNumeric(a);
    case "float":
      return a.kind === "float" || a.kind === "int";
    case "[string]":
      return a.kind === "array" && a.element.kind === "string";
    case "[any]":
      return a.kind === "array";
    case "any":
      return true;
    default:
      return a.kind === p;
  }
}

const SCALARS = ["int", "float", "bool", "string", "time", "duration"];
const ORDERED = ["int", "float", "string", "time", "duration"];

/** "int or float", "int, float or duration", "a scalar": what a parameter position accepts. */
function describe(params: ParamType[]): string {
  const kinds: string[] = [];
  for (const p of params) {
    for (const k of p === "N" ? ["int", "float"] : p === "[any]" ? ["array"] : p === "any" ? ["any value"] : [p]) if (!kinds.includes(k)) kinds.push(k);
  }
  const same = (set: string[]) => kinds.length === set.length && set.every((k) => kinds.includes(k));
  if (same(SCALARS)) return "a scalar";
  if (same(ORDERED)) return ORDERED.slice(0, -1).join(", ") + " or " + ORDERED.at(-1);
  return kinds.length === 1 ? kinds[0]! : `${kinds.slice(0, -1).join(", ")} or ${kinds.at(-1)}`;
}

function arityText(o: BuiltinOverload): string {
  const max = o.params.length, min = o.min ?? max;
  return min === max ? `${max} argument${max === 1 ? "" : "s"}` : `${min} to ${max} arguments`;
}

function resultType(r: ResultType, numeric: Type): Type {
  switch (r) {
    case "N":
      return numeric;
    case "int?":
      return T.optional(T.int);
    case "float?":
      return T.optional(T.float);
    case "string?":
      return T.optional(T.string);
    case "time?":
      return T.optional(T.time);
    case "[string]":
      return T.array(T.string);
    default:
      return T[r];
  }
}

export type Resolved = { fn: BuiltinFunction; overload: BuiltinOverload; type: Type };

/**
 * The overload of built-in `name` a call with these argument types uses (the first that fits),
 * and the call's type; or why none fits. Optional arguments are matched by their inner type when
 * the function has a null policy (else the checker rejected them before: E0205).
 */
export function resolveBuiltin(name: string, args: Type[]): Resolved | Exclude<SigResult, { type: Type }> | undefined {
  const fn = FUNCTIONS.get(name);
  if (!fn) return undefined;
  const types = fn.nulls ? args.map(stripOptional) : args;
  let candidates = fn.overloads.filter((o) => args.length >= (o.min ?? o.params.length) && args.length <= o.params.length);
  if (candidates.length === 0) return { error: "arity", expected: arityText(fn.overloads[0]!) + (fn.arityNote ?? "") };
  for (let i = 0; i < types.length; i++) {
    const a = types[i]!;
    if (a.kind === "error") continue;
    const fit = candidates.filter((o) => accepts(o.params[i]!, a));
    if (fit.length === 0) return { error: "arg", index: i, expected: fn.expects?.[i] ?? describe(candidates.map((o) => o.params[i]!)) };
    candidates = fit;
  }
  const overload = candidates[0]!;
  // `N` parameters unify: float when one of them is a float.
  const numeric = overload.params.some((p, i) => p === "N" && types[i]?.kind === "float") ? T.float : T.int;
  let type = resultType(overload.result, numeric);
  if (fn.nulls === "propagate" && args.some((a) => a.kind === "optional" || a.kind === "null")) type = T.optional(type);
  return { fn, overload, type };
}

/** Type checks of the built-ins' calls, by name (the playground lists the names). */
export const BUILTIN_SIGNATURES: Record<string, Check> = Object.fromEntries(
  BUILTIN_FUNCTIONS.map((f): [string, Check] => [
    f.name,
    (args) => {
      const r = resolveBuiltin(f.name, args)!;
      return "error" in r ? r : { type: r.type };
    },
  ]),
);

/** Built-ins whose arguments may be optional (a null policy in the table); the others reject them. */
export const NULL_TOLERANT = new Set<string>(BUILTIN_FUNCTIONS.filter((f) => f.nulls !== undefined).map((f) => f.name));

/** Stdlib exports that may throw FlowRuntimeError on a record (built-ins and operator helpers). */
export const THROWING_EXPORTS: ReadonlySet<string> = new Set([
  ...BUILTIN_FUNCTIONS.flatMap((f) => f.overloads.filter((o) => o.throws && o.export !== undefined).map((o) => o.export!)),
  ...OPERATOR_HELPERS.filter((h) => h.throws).map((h) => h.export),
]);

// ---------------------------------------------------------------------------------------------
// Aggregates

const AGGS = new Map<string, AggregateFunction>(AGGREGATE_FUNCTIONS.map((a) => [a.name, a]));

export const AGGREGATES = new Set(AGGREGATE_FUNCTIONS.map((a) => a.name));

/** Is this call an aggregate? (`min`/`max` with two arguments are scalar.) */
export const isAggregateCall = (name: string, argc: number) => AGGREGATES.has(name) && !(FUNCTIONS.has(name) && FUNCTIONS.get(name)!.overloads.some((o) => argc >= (o.min ?? o.params.length) && argc <= o.params.length));

/** The argument counts an aggregate accepts: [min, max]. */
export function aggregateArity(name: string): [number, number] {
  const a = AGGS.get(name);
  return a ? [a.minArity, a.maxArity] : [1, 1];
}

function acceptsAgg(input: AggInput, t: Type): boolean {
  switch (input) {
    case "any":
      return true;
    case "scalar":
      return isScalar(t);
    case "ordered":
      return isOrdered(t);
    case "numeric":
      return isNumeric(t);
    case "summable":
      return isNumeric(t) || t.kind === "duration";
  }
}

/** Aggregate result types, or the index of an argument of a bad type and that type's text. */
export function aggregateType(fn: AggFn, args: Type[]): { type: Type } | { error: string; index: number } {
  const spec = AGGS.get(fn === "count_expr" ? "count" : fn)!;
  if (fn === "count") return { type: T.int };
  const a0 = args[0] ?? T.error;
  const inner = stripOptional(a0);
  const wrap = (t: Type) => (a0.kind === "optional" ? T.optional(t) : t);
  // Values of the inputs (the constant `percentile` p is checked by the checker).
  for (let i = 0; i < spec.inputs.length; i++) {
    const input = spec.inputs[i]!;
    if (input === "constant" || input === "any") continue;
    const t = stripOptional(args[i] ?? T.error);
    if (t.kind === "error") {
      if (i === 0 && spec.result !== "int") return { type: T.error };
      continue;
    }
    if (!acceptsAgg(input, t)) return { error: typeToString(args[i]!), index: i };
  }
  switch (spec.result) {
    case "int":
      return { type: T.int };
    case "float":
      return { type: wrap(T.float) };
    case "input":
      return { type: wrap(inner) };
    case "[input]":
      return { type: wrap(T.array(inner)) };
  }
}
