// The one table of Flow's built-in functions and aggregates (LANGUAGE.md §5).
//
// Plain data, no imports: the compiler's checker (signatures), its code generator
// (implementations, which calls may throw), the stdlib's tests and tools (the playground's
// completion) all read this table, and nothing else describes the built-ins. Adding a built-in
// (e.g. §10's `parse_time`, `format_time`, `from_epoch_s`, `from_epoch_ms`, `epoch_ms`) is one
// entry here plus, when it is not an inline template, its `flow_*` export in builtins.ts.

/**
 * A parameter type:
 * - a scalar: `int`, `float` (also accepts an int: widening), `bool`, `string`, `time`, `duration`;
 * - `N`: a number, int or float — a type variable: all `N`s of one overload unify (int widens to
 *   float) and a result `N` is that type (abs(3) is int, abs(3.5) float);
 * - `[string]`: an array of strings; `[any]`: any array; `any`: any type.
 */
export type ParamType = "int" | "float" | "bool" | "string" | "time" | "duration" | "N" | "[string]" | "[any]" | "any";

/** A result type: a scalar, `N` (the unified numeric type of the `N` parameters), an optional or `[string]`. */
export type ResultType =
  | "int" | "float" | "bool" | "string" | "time" | "duration" | "N"
  | "int?" | "float?" | "string?" | "time?"
  | "[string]";

export interface BuiltinOverload {
  readonly params: readonly ParamType[];
  /** How many arguments are required; the parameters after them are optional (default: all). */
  readonly min?: number;
  readonly result: ResultType;
  /**
   * The implementation, one of:
   * - `inline`: JavaScript the code generator writes instead of a call; `$0`, `$1` … are the
   *   argument expressions (parenthesized where the template needs it);
   * - `export`: the stdlib export (stdlib/src/builtins.ts) called with the arguments.
   * An inline overload may also name the export computing the same thing (tests compare them).
   */
  readonly inline?: string;
  readonly export?: string;
  /**
   * Whether it can throw FlowRuntimeError on some record (the run then drops that record, and
   * the generator does not fuse the stage into a tight loop). Only overloads implemented by an
   * export can throw: the generator learns it from the export it calls.
   */
  readonly throws?: boolean;
}

/**
 * What an optional (nullable) argument does:
 * - absent: it is a compile error (E0205): unwrap it first (`x ?? 0`, `where x != null`);
 * - `"propagate"`: null in → null out: any null argument makes the result null (the result
 *   type becomes optional);
 * - `{ tolerate: JS }`: the function accepts null; a null argument gives the JavaScript value
 *   `JS` (`string(x)` of a null gives "null").
 */
export type NullPolicy = "propagate" | { readonly tolerate: string };

export interface BuiltinFunction {
  readonly name: string;
  /** One line for people (completion, docs). */
  readonly doc: string;
  /** In preference order: a call uses the first overload its argument types fit. */
  readonly overloads: readonly BuiltinOverload[];
  readonly nulls?: NullPolicy;
  /** Messages: what argument i must be, when the list derived from the overloads reads badly. */
  readonly expects?: readonly string[];
  /** Messages: added after "takes N arguments" in an arity error. */
  readonly arityNote?: string;
}

const n = (params: ParamType[], result: ResultType, impl: Omit<BuiltinOverload, "params" | "result">): BuiltinOverload => ({ params, result, ...impl });

/** Scalar built-ins (LANGUAGE.md §5). */
export const BUILTIN_FUNCTIONS: readonly BuiltinFunction[] = [
  // Numbers
  {
    name: "abs", doc: "absolute value",
    overloads: [n(["N"], "N", { inline: "Math.abs($0)", export: "flow_abs" }), n(["duration"], "duration", { inline: "Math.abs($0)", export: "flow_abs" })],
  },
  { name: "floor", doc: "the largest int ≤ x", overloads: [n(["int"], "int", { inline: "$0" }), n(["float"], "int", { inline: "Math.floor($0)", export: "flow_floor" })] },
  { name: "ceil", doc: "the smallest int ≥ x", overloads: [n(["int"], "int", { inline: "$0" }), n(["float"], "int", { inline: "Math.ceil($0)", export: "flow_ceil" })] },
  { name: "sqrt", doc: "square root (an error for a negative x)", overloads: [n(["N"], "float", { export: "flow_sqrt", throws: true })] },
  { name: "pow", doc: "a to the power b (an error when not finite)", overloads: [n(["N", "N"], "float", { export: "flow_pow", throws: true })] },
  {
    name: "round", doc: "round(x): nearest int, halves away from zero; round(x, d): to d decimals",
    overloads: [
      n(["int"], "int", { inline: "$0" }),
      n(["float"], "int", { export: "flow_round" }),
      n(["N", "int"], "float", { export: "flow_round2" }),
    ],
  },
  {
    name: "min", doc: "the smaller of a and b (with one argument inside `agg`: the aggregate)",
    arityNote: " (with one argument, `min` is an aggregate: use it in `agg`)",
    overloads: [
      n(["N", "N"], "N", { inline: "Math.min($0, $1)", export: "flow_min2" }),
      n(["time", "time"], "time", { inline: "Math.min($0, $1)", export: "flow_min2" }),
      n(["duration", "duration"], "duration", { inline: "Math.min($0, $1)", export: "flow_min2" }),
      n(["string", "string"], "string", { export: "flow_min2" }),
    ],
  },
  {
    name: "max", doc: "the larger of a and b (with one argument inside `agg`: the aggregate)",
    arityNote: " (with one argument, `max` is an aggregate: use it in `agg`)",
    overloads: [
      n(["N", "N"], "N", { inline: "Math.max($0, $1)", export: "flow_max2" }),
      n(["time", "time"], "time", { inline: "Math.max($0, $1)", export: "flow_max2" }),
      n(["duration", "duration"], "duration", { inline: "Math.max($0, $1)", export: "flow_max2" }),
      n(["string", "string"], "string", { export: "flow_max2" }),
    ],
  },
  { name: "div", doc: "integer division truncating toward zero (an error for b = 0)", overloads: [n(["int", "int"], "int", { export: "flow_div", throws: true })] },
  // Conversions
  {
    name: "int", doc: "truncates a number; a time's epoch ms, a duration's ms; bool → 0/1; parses a string (null if not an int)",
    expects: ["a number, time, duration, bool or string"],
    overloads: [
      n(["int"], "int", { inline: "$0" }),
      n(["float"], "int", { export: "flow_int", throws: true }),
      n(["time"], "int", { inline: "$0" }),
      n(["duration"], "int", { inline: "$0" }),
      n(["bool"], "int", { inline: "($0 ? 1 : 0)" }),
      n(["string"], "int?", { export: "flow_parse_int" }),
    ],
  },
  {
    name: "float", doc: "a number as a float; parses a string (null if not a number)",
    expects: ["a number or string"],
    overloads: [n(["N"], "float", { inline: "$0", export: "flow_float" }), n(["string"], "float?", { export: "flow_parse_float" })],
  },
  {
    name: "string", doc: "the text of a value (a time as ISO-8601, a null as \"null\")",
    nulls: { tolerate: '"null"' },
    overloads: [
      n(["time"], "string", { export: "flow_time_string", throws: true }),
      n(["string"], "string", { inline: "$0" }),
      n(["int"], "string", { inline: "String($0)", export: "flow_string" }),
      n(["float"], "string", { inline: "String($0)", export: "flow_string" }),
      n(["bool"], "string", { inline: "String($0)", export: "flow_string" }),
      n(["duration"], "string", { inline: "String($0)", export: "flow_string" }),
    ],
  },
  // Strings
  { name: "len", doc: "length of a string (UTF-16 units) or an array", overloads: [n(["string"], "int", { inline: "$0.length", export: "flow_len" }), n(["[any]"], "int", { inline: "$0.length" })] },
  { name: "lower", doc: "lower case", overloads: [n(["string"], "string", { inline: "$0.toLowerCase()", export: "flow_lower" })] },
  { name: "upper", doc: "upper case", overloads: [n(["string"], "string", { inline: "$0.toUpperCase()", export: "flow_upper" })] },
  { name: "trim", doc: "without leading and trailing white space", overloads: [n(["string"], "string", { inline: "$0.trim()", export: "flow_trim" })] },
  { name: "contains", doc: "whether s contains sub", overloads: [n(["string", "string"], "bool", { inline: "$0.includes($1)", export: "flow_contains" })] },
  { name: "starts_with", doc: "whether s starts with prefix", overloads: [n(["string", "string"], "bool", { inline: "$0.startsWith($1)", export: "flow_starts_with" })] },
  { name: "ends_with", doc: "whether s ends with suffix", overloads: [n(["string", "string"], "bool", { inline: "$0.endsWith($1)", export: "flow_ends_with" })] },
  { name: "substr", doc: "substr(s, start, len?): 0-based, clamped", overloads: [n(["string", "int", "int"], "string", { min: 2, export: "flow_substr" })] },
  { name: "replace", doc: "every occurrence of a replaced by b (literal)", overloads: [n(["string", "string", "string"], "string", { export: "flow_replace" })] },
  { name: "split", doc: "the parts of s between separators", overloads: [n(["string", "string"], "[string]", { export: "flow_split" })] },
  { name: "matches", doc: "whether the JavaScript regex matches anywhere (an error for an invalid one)", overloads: [n(["string", "string"], "bool", { export: "flow_matches", throws: true })] },
  {
    name: "regex_extract", doc: "regex_extract(s, re, group?): the group of the first match, or null",
    overloads: [n(["string", "string", "int"], "string?", { min: 2, export: "flow_regex_extract", throws: true })],
  },
  // Times (UTC)
  { name: "hour", doc: "hour of the day, 0–23 (UTC)", overloads: [n(["time"], "int", { export: "flow_hour" })] },
  { name: "minute", doc: "minute of the hour, 0–59 (UTC)", overloads: [n(["time"], "int", { export: "flow_minute" })] },
  { name: "day_of_week", doc: "1 = Monday … 7 = Sunday (UTC)", overloads: [n(["time"], "int", { export: "flow_day_of_week" })] },
  { name: "date", doc: "\"YYYY-MM-DD\" (UTC)", overloads: [n(["time"], "string", { export: "flow_date", throws: true })] },
  { name: "trunc", doc: "t rounded down to a multiple of d since the epoch", overloads: [n(["time", "duration"], "time", { export: "flow_trunc", throws: true })] },
  // Time from text and epochs (LANGUAGE.md §10)
  {
    name: "parse_time", doc: "parse_time(s, fmt?): the time s spells (ISO-8601 without fmt; strftime fields %Y %m %d %H %M %S %L %b %z %%), or null",
    overloads: [n(["string", "string"], "time?", { min: 1, export: "flow_parse_time" })],
  },
  { name: "format_time", doc: "format_time(t, fmt): t in UTC by a strftime format (%z prints +0000)", overloads: [n(["time", "string"], "string", { export: "flow_format_time", throws: true })] },
  { name: "from_epoch_s", doc: "the time x seconds after 1970-01-01T00:00:00Z", overloads: [n(["N"], "time", { export: "flow_from_epoch_s", throws: true })] },
  { name: "from_epoch_ms", doc: "the time x milliseconds after 1970-01-01T00:00:00Z", overloads: [n(["N"], "time", { export: "flow_from_epoch_ms", throws: true })] },
  { name: "epoch_ms", doc: "milliseconds since 1970-01-01T00:00:00Z", overloads: [n(["time"], "int", { inline: "$0" })] },
];

/**
 * Stdlib exports generated code calls for operators (not named built-ins): `a / b` and `a % b`
 * (whose divisor may be 0).
 */
export const OPERATOR_HELPERS: readonly { readonly operator: string; readonly export: string; readonly params: readonly ParamType[]; readonly throws: boolean }[] = [
  { operator: "/", export: "flow_fdiv", params: ["float", "float"], throws: true },
  { operator: "%", export: "flow_mod", params: ["N", "N"], throws: true },
];

/**
 * An aggregate's input class: `any` type, `scalar` (int, float, bool, string, time, duration),
 * `ordered` (int, float, string, time, duration), `numeric` (int, float), `summable` (int,
 * float, duration).
 */
export type AggInput = "any" | "scalar" | "ordered" | "numeric" | "summable";

export interface AggregateFunction {
  readonly name: string;
  readonly doc: string;
  /** Accepted argument counts. */
  readonly minArity: number;
  readonly maxArity: number;
  /**
   * What each argument must be; `constant` is a literal number checked by the compiler
   * (`percentile`'s p in [0, 1]). Null values of the first argument are skipped (not by `count()`).
   */
  readonly inputs: readonly (AggInput | "constant")[];
  /**
   * The result: `int` or `float`, `input` (the first argument's type), `[input]` (an array of it).
   * Over an optional input every result but an `int` count is optional (null when every value was null).
   */
  readonly result: "int" | "float" | "input" | "[input]";
  /** Whether the result depends on the order records arrive in (first, last, collect, ties of max_by/min_by). */
  readonly orderDependent: boolean;
  /**
   * Whether two partial states merge into the state of all their records (session windows then
   * merge without replaying records); `exact`: only over a non-float input (float addition is
   * not associative, so a merged float sum could differ from the one in arrival order).
   */
  readonly mergeable: boolean | "exact";
}

const agg = (name: string, doc: string, arity: [number, number], inputs: AggregateFunction["inputs"], result: AggregateFunction["result"], orderDependent: boolean, mergeable: boolean | "exact"): AggregateFunction =>
  ({ name, doc, minArity: arity[0], maxArity: arity[1], inputs, result, orderDependent, mergeable });

/** Aggregates (LANGUAGE.md §5), used in `agg`. `min`/`max` with two arguments are the scalar built-ins. */
export const AGGREGATE_FUNCTIONS: readonly AggregateFunction[] = [
  agg("count", "count(): the records; count(e): the non-null values of e", [0, 1], ["any"], "int", false, true),
  agg("sum", "the sum (int or float as its input)", [1, 1], ["summable"], "input", false, "exact"),
  agg("avg", "the mean (float)", [1, 1], ["numeric"], "float", false, "exact"),
  agg("min", "the smallest value", [1, 1], ["ordered"], "input", false, true),
  agg("max", "the largest value", [1, 1], ["ordered"], "input", false, true),
  agg("first", "the first value (arrival order)", [1, 1], ["any"], "input", true, false),
  agg("last", "the last value (arrival order)", [1, 1], ["any"], "input", true, false),
  agg("count_distinct", "the number of distinct values (exact)", [1, 1], ["scalar"], "int", false, true),
  agg("approx_count_distinct", "the number of distinct values (HyperLogLog, error under 2%)", [1, 1], ["scalar"], "int", false, true),
  agg("percentile", "percentile(e, p): nearest rank, p a constant in [0, 1]", [2, 2], ["ordered", "constant"], "input", false, true),
  agg("collect", "the values as an array (arrival order)", [1, 1], ["any"], "[input]", true, false),
  agg("max_by", "max_by(e, key): e of the first record with the largest key", [2, 2], ["any", "ordered"], "input", true, false),
  agg("min_by", "min_by(e, key): e of the first record with the smallest key", [2, 2], ["any", "ordered"], "input", true, false),
];

// ---- connectors (LANGUAGE.md §4, §11) -----------------------------------------------------------

/** One parameter of a connector: positional in this order unless `namedOnly`. */
export interface ConnectorParam {
  readonly name: string;
  readonly kind: "string" | "int";
  readonly required?: boolean;
  readonly namedOnly?: boolean;
  readonly oneOf?: readonly string[];
}

/**
 * A connector: its parameters as a source (or table) and as a sink (absent: it cannot stand
 * there). A `network` connector waits for data and cannot be a table (tables are bounded input,
 * loaded before the streams start); `metadata` lists the fields a source's record type may
 * declare to be filled from each message instead of its payload (§11), with their Flow types.
 */
export interface ConnectorEntry {
  readonly source?: readonly ConnectorParam[];
  readonly sink?: readonly ConnectorParam[];
  readonly network?: boolean;
  readonly metadata?: Readonly<Record<string, string>>;
}

const FORMATS = ["jsonl", "json", "ndjson", "csv", "lines", "changelog", "debezium"] as const;
const format: ConnectorParam = { name: "format", kind: "string", oneOf: FORMATS };
const namedFormat: ConnectorParam = { ...format, namedOnly: true };
const start: ConnectorParam = { name: "start", kind: "string", namedOnly: true, oneOf: ["earliest", "latest"] };
const url: ConnectorParam = { name: "url", kind: "string", required: true, namedOnly: true };

/** Every connector (the one table the checker reads; docs/connectors/ describes each one). */
export const CONNECTORS: Readonly<Record<string, ConnectorEntry>> = Object.assign(Object.create(null) as Record<string, ConnectorEntry>, {
  file: { source: [{ name: "path", kind: "string", required: true }, format], sink: [{ name: "path", kind: "string", required: true }, format] },
  stdin: { source: [format] },
  stdout: { sink: [format] },
  range: { source: [{ name: "from", kind: "int", required: true }, { name: "to", kind: "int", required: true }] },
  nexmark: {
    source: [
      { name: "kind", kind: "string", required: true, oneOf: ["person", "auction", "bid"] },
      { name: "events", kind: "int", required: true, namedOnly: true },
      { name: "rate", kind: "int", namedOnly: true },
      { name: "seed", kind: "int", namedOnly: true },
      { name: "start", kind: "int", namedOnly: true },
    ],
  },
  kafka: {
    network: true,
    source: [
      { name: "topic", kind: "string", required: true },
      { name: "brokers", kind: "string", required: true, namedOnly: true },
      { name: "group", kind: "string", required: true, namedOnly: true },
      start,
      namedFormat,
    ],
    sink: [{ name: "topic", kind: "string", required: true }, { name: "brokers", kind: "string", required: true, namedOnly: true }, { name: "key", kind: "string", namedOnly: true }, namedFormat],
    metadata: { _key: "string?", _partition: "int", _offset: "int", _timestamp: "time" },
  },
  nats: {
    network: true,
    source: [
      { name: "subject", kind: "string", required: true },
      url,
      { name: "stream", kind: "string", required: true, namedOnly: true },
      { name: "durable", kind: "string", namedOnly: true },
      start,
      namedFormat,
    ],
    sink: [{ name: "subject", kind: "string", required: true }, url, { name: "stream", kind: "string", namedOnly: true }, namedFormat],
    metadata: { _subject: "string", _seq: "int", _timestamp: "time" },
  },
  redis: {
    network: true,
    source: [
      { name: "key", kind: "string", required: true },
      url,
      { name: "group", kind: "string", namedOnly: true },
      start,
      { name: "json", kind: "string", namedOnly: true },
    ],
    sink: [{ name: "key", kind: "string", required: true }, url, namedFormat],
    metadata: { _id: "string" },
  },
  mqtt: {
    network: true,
    source: [{ name: "topic", kind: "string", required: true }, url, { name: "qos", kind: "int", namedOnly: true, oneOf: ["0", "1"] }, namedFormat],
    metadata: { _topic: "string" },
  },
  websocket: { network: true, source: [{ name: "url", kind: "string", required: true }, namedFormat] },
  http: {
    network: true,
    source: [
      { name: "port", kind: "int", required: true, namedOnly: true },
      { name: "path", kind: "string", namedOnly: true },
      { name: "host", kind: "string", namedOnly: true },
      namedFormat,
    ],
    sink: [{ name: "url", kind: "string", required: true }, { name: "method", kind: "string", namedOnly: true, oneOf: ["POST", "PUT"] }, namedFormat],
  },
  postgres: { network: true, sink: [{ name: "table", kind: "string", required: true }, url] },
} satisfies Record<string, ConnectorEntry>);
