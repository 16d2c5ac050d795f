// The typed program: what the checker hands to the back end. Names are resolved, types are
// known, `extend` is normalised to a projection, and every expression says what it computes.
import type { Expr, JoinKind, Span } from "../syntax/ast";
import type { RecordT, Type } from "./types";

export type { JoinKind };

export type BinOp =
  | "add" | "sub" | "mul" | "div" | "mod" | "concat"
  | "eq" | "ne" | "lt" | "le" | "gt" | "ge"
  | "and" | "or";

/**
 * The references a typed expression makes to what it is evaluated over (the `var` names below
 * cannot clash with a program's names: `$` is not a Flow identifier character). Later phases
 * bind them: the emitter chooses the JavaScript names, the inliner substitutes parameters.
 */
export const ELEMENT_REF = "$element"; // the current element (a stage's input record)
export const LEFT_REF = "$left"; // a join's left side, in its condition
export const RIGHT_REF = "$right"; // a join's right side, in its condition
/** A `fn`'s i-th parameter, in its body. */
export const paramRef = (i: number): string => `$param${i}`;

export type TExpr = {
  type: Type;
  span: Span;
  /** Declared optional but known non-null here (after `where x != null`): emitted with `!`. */
  narrowed?: boolean;
} & (
  | { kind: "lit"; value: number | string | boolean | null }
  /** A local of the generated code: the element, a join side, a lookup row, a fn parameter. */
  | { kind: "var"; name: string }
  /** Field access; when `object` is optional the result is null for a null object. */
  | { kind: "get"; object: TExpr; field: string }
  | { kind: "index"; object: TExpr; index: TExpr }
  | { kind: "unary"; op: "neg" | "not"; operand: TExpr }
  | { kind: "binary"; op: BinOp; left: TExpr; right: TExpr }
  | { kind: "coalesce"; left: TExpr; right: TExpr }
  | { kind: "in"; value: TExpr; list: TExpr; negated: boolean }
  | { kind: "if"; cond: TExpr; then: TExpr; else: TExpr }
  | { kind: "array"; elements: TExpr[] }
  | { kind: "record"; fields: { name: string; value: TExpr }[] }
  /** A stdlib built-in, by its Flow name. */
  | { kind: "call"; fn: string; args: TExpr[] }
  /** A user `fn`; the inline pass replaces it by its body. */
  | { kind: "callFn"; fn: string; args: TExpr[] }
  /** A function imported from TypeScript. */
  | { kind: "callExtern"; fn: string; args: TExpr[] }
  /**
   * Inside an `agg` item: the value of aggregate number `index` / group key number `index`. In a
   * rolling `extend` (TStage `rolling`), `aggRef` is the value of rolling call number `index`.
   */
  | { kind: "aggRef"; index: number }
  | { kind: "keyRef"; index: number }
);

export type WindowKind = "tumbling" | "hop" | "session";

export interface WindowInfo {
  kind: WindowKind;
  size: number; // tumbling/hop size; session gap
  slide: number; // hop slide; = size for tumbling
  /**
   * Derived rows (fired by a windowed stage) carry their window: a row's time is its window's
   * end − 1 ms, so the next stateful stage groups per original window by time.
   */
  carried: boolean;
  span: Span;
}

export type AggFn =
  | "count" | "count_expr" | "sum" | "avg" | "min" | "max" | "first" | "last"
  | "count_distinct" | "approx_count_distinct" | "percentile" | "collect" | "max_by" | "min_by";

/**
 * How an aggregate takes a row back out of its state (re-aggregation of an updating stream,
 * §13): `exact` in constant space (counts, sums of non-optional values, averages); `checked`
 * when the state stays right unless the row held its extreme, first or last value (min, max,
 * min_by, max_by, first, last of scalar values: the group keeps its rows to recompute then);
 * `none` otherwise (the group's value is recomputed from its rows on every change).
 */
export function retraction(c: AggCall): "exact" | "checked" | "none" {
  if (c.fn === "count" || c.fn === "count_expr" || c.fn === "avg" || (c.fn === "sum" && c.args[0]?.type.kind !== "optional")) return "exact";
  const scalar = (t: Type) => {
    const k = t.kind === "optional" ? t.inner.kind : t.kind;
    return k === "int" || k === "float" || k === "string" || k === "bool" || k === "time" || k === "duration";
  };
  if (["min", "max", "first", "last", "min_by", "max_by"].includes(c.fn) && c.args.every((a) => scalar(a.type))) return "checked";
  return "none";
}

/** An aggregate retracted in constant space (see `retraction`). */
export const retractable = (c: AggCall): boolean => retraction(c) === "exact";

export interface AggCall {
  fn: AggFn;
  /** count(): no argument; max_by/min_by: [value, key]; percentile: [value] (p in `param`). */
  args: TExpr[];
  param?: number;
  type: Type;
  span: Span;
}

/** The records a rolling aggregate covers: time > t − `ms`, or the key's last `n` records. */
export type RollingFrame = { kind: "range"; ms: number } | { kind: "rows"; n: number };

/**
 * A rolling aggregate (`avg(v) over 5m`) or `lag(e, n)` in an `extend` (LANGUAGE.md §13), over
 * the key's records in event-time order (ties by arrival), the current one included.
 */
export interface RollingCall {
  fn: AggFn | "lag";
  /** As AggCall's; lag: [e]. */
  args: TExpr[];
  /** percentile: p; lag: how many records back (≥ 1). */
  param?: number;
  /** Undefined for lag. */
  frame?: RollingFrame;
  type: Type;
  span: Span;
}

export interface GroupKey {
  name: string;
  expr: TExpr;
  type: Type;
  /** The key as written, to re-resolve it when the element changed before its consumer. */
  written?: Expr;
}

/** How a stream's elements relate: an append stream, or upserts keyed by group keys. */
export interface StreamInfo {
  element: Type;
  /** After a join the element is a record of sides, reached as `alias.field`. */
  sides?: string[];
  window?: WindowInfo;
  /** Set by `group by`, consumed by the next agg / top / distinct. */
  keys?: GroupKey[];
  /** A stage reshaped the element after `group by`: the consumer recomputes the keys' expressions. */
  keysStale?: boolean;
  /** Output of an unwindowed agg: an upsert stream keyed by these key fields. */
  upsertKeys?: string[];
  /** The stream comes straight from this source, which has no `event time` (arrival time). */
  arrivalTimeSource?: string;
}

export type TStage = { span: Span; input: StreamInfo; output: StreamInfo } & (
  | { kind: "where"; cond: TExpr }
  /** `window …` and `group by …` only annotate the stream for the next stateful stage. */
  | { kind: "window"; window: WindowInfo }
  | { kind: "groupBy"; keys: GroupKey[] }
  /** select / extend / map: the element becomes `expr` (a record literal for select/extend). */
  | { kind: "project"; expr: TExpr; what: "select" | "extend" | "map" }
  /** One output per element of array field `field`, bound as `as`; `field` is dropped. */
  | { kind: "unnest"; field: string; as: string; elementType: Type }
  | { kind: "lookup"; table: string; alias: string; key: TExpr; rowType: RecordT }
  | { kind: "agg"; window?: WindowInfo; keys: GroupKey[]; aggs: AggCall[]; items: { name: string; expr: TExpr }[] }
  /**
   * `extend` with rolling aggregates or `lag`: the element becomes `expr` (a record literal whose
   * values read the element and `aggRef`s of `calls`), per key, in event-time order.
   */
  | { kind: "rolling"; keys: GroupKey[]; calls: RollingCall[]; expr: TExpr }
  | { kind: "top"; window?: WindowInfo; keys: GroupKey[]; n: number; by: TExpr; desc: boolean; withTies: boolean }
  | { kind: "distinct"; window?: WindowInfo; keys: GroupKey[]; values: TExpr[]; withinMs?: number }
  | {
      kind: "join";
      /** inner, or an outer / semi / anti join (§13: always bounded by `within` or a window). */
      joinKind: JoinKind;
      other: TPipeline;
      leftAlias?: string; // undefined when the left element is already a record of sides
      rightAlias: string;
      /** `on` over the join's sides ($left and $right: LEFT_REF, RIGHT_REF). */
      on: TExpr;
      mode: { kind: "interval"; lower: number; upper: number } | { kind: "window"; window: WindowInfo } | { kind: "unbounded" };
    }
);

export type THead =
  | { kind: "source"; name: string }
  | { kind: "let"; name: string }
  | { kind: "union"; inputs: TPipeline[] }
  | { kind: "pipeline"; pipeline: TPipeline };

export interface TPipeline {
  head: THead;
  stages: TStage[];
  /** The stream after the head. */
  start: StreamInfo;
  out: StreamInfo;
  span: Span;
}

/** Record formats; `changelog` and `debezium` carry changes of an updating stream (§13). */
export type TFormat = "jsonl" | "csv" | "lines" | "changelog" | "debezium";

export type TConnector =
  | { kind: "file"; path: string; format: TFormat }
  | { kind: "stdin"; format: TFormat }
  | { kind: "range"; from: number; to: number }
  | { kind: "nexmark"; eventKind: "person" | "auction" | "bid"; events: number; rate: number; seed: number; start: number }
  | { kind: "stdout"; format: TFormat }
  | TNetworkSource
  | TNetworkSink;

type NetFormat = TFormat;
/** The network sources of §11 (runtime/src/contract.ts `NetworkSourceSpec` mirrors it). */
export type TNetworkSource =
  | { kind: "kafka"; topic: string; brokers: string; group: string; start: "earliest" | "latest"; format: NetFormat }
  | { kind: "nats"; subject: string; url: string; stream: string; durable?: string; start: "earliest" | "latest"; format: NetFormat }
  | { kind: "redis"; key: string; url: string; group?: string; start: "earliest" | "latest"; json?: string }
  | { kind: "mqtt"; topic: string; url: string; qos: 0 | 1; format: NetFormat }
  | { kind: "websocket"; url: string; format: NetFormat }
  | { kind: "http"; port: number; path: string; host: string; format: NetFormat };
/** The network sinks of §11 (runtime/src/contract.ts `NetworkSinkSpec` mirrors it). */
export type TNetworkSink =
  | { kind: "kafka"; sink: true; topic: string; brokers: string; key?: string; format: NetFormat }
  | { kind: "nats"; sink: true; subject: string; url: string; stream?: string; format: NetFormat }
  | { kind: "redis"; sink: true; key: string; url: string; format: NetFormat }
  | { kind: "postgres"; sink: true; table: string; url: string }
  | { kind: "http"; sink: true; url: string; method: "POST" | "PUT"; format: NetFormat };

export interface TSource {
  name: string;
  type: Type;
  connector: TConnector;
  /**
   * The record's event time: a `time` field, or an expression over the record (`time` or
   * `time?`; a null time makes the record bad), and the watermark delay.
   */
  eventTime?: { field: string; expr?: undefined; delayMs: number } | { field?: undefined; expr: TExpr; delayMs: number };
  /** A source of changes (format debezium / changelog): an updating stream keyed by these fields. */
  key?: string[];
  /** `idle D` (§10): after D ms of wall time without a record the source is idle. */
  idleMs?: number;
  span: Span;
}

export interface TTable {
  name: string;
  type: RecordT;
  connector: TConnector;
  key: string;
  span: Span;
}

export interface TOutput {
  name: string;
  final: boolean;
  pipeline: TPipeline;
  sink?: TConnector;
  span: Span;
}

export interface TFn {
  name: string;
  params: { name: string; type: Type }[];
  body: TExpr;
  type: Type;
}

export interface TypedProgram {
  sources: TSource[];
  tables: TTable[];
  lets: Map<string, TPipeline>;
  outputs: TOutput[];
  fns: Map<string, TFn>;
  imports: { names: string[]; from: string }[];
  /** `test` blocks (§14), checked; `run` and `build` ignore them, `flowc test` runs them. */
  tests: TTest[];
}

/**
 * A test value as JSON, the form the runtime decodes (inputs) and prints (outputs): a time is
 * its ISO-8601 text with milliseconds, a duration its milliseconds; records are null-prototype
 * objects with their type's field order.
 */
export type TestJson = null | boolean | number | string | TestJson[] | { [field: string]: TestJson };

/** One literal row of a test, with where it was written. */
export interface TTestRow {
  value: TestJson;
  span: Span;
}

/** `input NAME = …`: the records that replace a source's (or table's) connector. */
export type TTestInput = {
  name: string;
  kind: "source" | "table";
  /** A source of changes: its rows are `{op: "upsert", row}` / `{op: "delete", key}`. */
  changes?: "debezium" | "changelog";
  span: Span;
} & ({ data: "rows"; rows: TTestRow[] } | { data: "file"; path: string });

/** How an `expect` compares: in order, the changelog, as a multiset, the final table. */
export type TestMode = "ordered" | "changes" | "unordered" | "final";

export type TTestExpect = { span: Span } & (
  | {
      kind: "rows";
      mode: TestMode;
      output: string;
      /** The output's key fields when it is an updating stream. */
      key?: string[];
      rows: TTestRow[];
    }
  | { kind: "count"; what: "late" | "bad"; count: number }
);

export interface TTest {
  name: string;
  inputs: TTestInput[];
  expects: TTestExpect[];
  span: Span;
}

/** A type-checked signature of an imported TypeScript function (read by the CLI with ts-morph). */
export interface ExternSignature {
  params: Type[];
  result: Type;
}
