// Stateful operators of the Flow runtime (LANGUAGE.md §5–6). Generated code instantiates these
// with small spec objects (created once) and one emit callback per operator.
//
// Driving protocol (all operators): `push(row, time)` for each row (joins: `pushLeft` /
// `pushRight`), then `advance(watermark)` whenever the input watermark rises (+Infinity at end);
// `advance` emits everything the watermark fires, in window-end order, before returning, so the
// caller can then pass the watermark downstream. Rows fired by a window have time `end − 1`.
// Joins take the smaller of their two input watermarks: call `advance(min)` or let
// `advanceLeft(wmL)` / `advanceRight(wmR)` track it (`watermark` getter gives the result).
//
//   new WindowAgg(window, spec: AggSpec, emit, late)
//   new SessionAgg(gapMs, spec: AggSpec, emit, late)
//   new KeyedAgg(spec: AggSpec, emit)                       // unwindowed: emits every update
//   new SlotColumns(fields)                                 // numeric states by key slot (generated aggs)
//   new StringSlotColumns(fields)                           // the same by string key
//   new WindowTop(window, n, withTies, spec: TopSpec, emit, late)
//   new WindowDistinct(window, spec: { key }, emit, late)
//   new TimedDistinct(withinMs /* Infinity = unbounded */, spec: { key }, emit)
//   new Rolling(calls: RollingCallSpec[], spec: RollingSpec, emit, late) // extend … over 5m, lag
//   new IntervalJoin(lower, upper, spec: JoinSpec, emit)    // r.t − l.t ∈ [lower, upper]
//   new OuterIntervalJoin(kind, lower, upper, spec: OuterJoinSpec, emit, lateLeft, lateRight)
//                                                          // left/right/full/semi/anti (§13)
//   new WindowJoin(window, spec: WindowJoinSpec, emit, lateLeft, lateRight, kind?)
//   new FinalTable()                                        // emit final: upsert / remove / rows()
//   new ReAgg(spec: ReAggSpec, upsert, delete)              // agg over an updating stream (§13)
//   new UpdatingTop(n, spec: UpdatingTopSpec, keyless, upsert, delete) // top without a window
//
// Updating streams (§13) pass changes: `upsert(key, row, time)` / `remove(key, time)` in,
// `upsert(row, time, key)` / `delete(key, time)` callbacks out (changes.ts).
//
// `window` is { kind: "tumbling", size } | { kind: "hop", size, slide }, epoch-aligned; a derived
// row's own window (time = window end − 1 ms) is { kind: "tumbling", size: 1 } (`CARRIED`).
// windows.ts assigns windows, decides lateness and the firing order for all four windowed ops.

export type { Emit, Key, AggSpec } from "./types";
export { CARRIED, WindowAssigner, type WindowSpec } from "./windows";
export { WindowAgg } from "./window-agg";
export { SessionAgg } from "./session-agg";
export { KeyedAgg } from "./keyed-agg";
export { SlotColumns, StringSlotColumns } from "./slot-columns";
export { WindowTop, type TopSpec } from "./window-top";
export { WindowDistinct } from "./window-distinct";
export { TimedDistinct } from "./timed-distinct";
export { Rolling, type RollingCallSpec, type RollingSpec } from "./rolling";
export { IntervalJoin, OuterIntervalJoin, type JoinKind, type JoinSpec, type OuterJoinSpec } from "./interval-join";
export { WindowJoin, type OuterWindowJoinSpec, type WindowJoinSpec } from "./window-join";
export { FinalTable } from "./final-table";
export { ReAgg, type ReAggSpec } from "./re-agg";
export { UpdatingTop, type UpdatingTopSpec } from "./updating-top";
export { sameRow, isDelete, type Upsert, type Delete } from "./changes";
// Checkpoints: the operators' state classes, for a program's `stateClasses` (checkpoint/codec.ts).
export { registeredStateClasses } from "../checkpoint/codec";
