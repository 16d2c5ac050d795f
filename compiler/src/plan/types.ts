// The plan's data types (plan.ts computes them; emit and checkpoints read them).
import type { Graph, Node, NodeId } from "../ir/graph";
import type { RollingCall, TExpr } from "../check/typed";
import type { AggCallPlan } from "./aggregates";

/**
 * Where an unwindowed agg keeps its states: one state (no keys); typed arrays per state field,
 * indexed by a small int key or by the slot of any other int or string key, for `emit final`
 * and upsert streams alike (`columns`: no object per key, see runtime/src/ops/slot-columns.ts);
 * an array of states indexed by a small int key, read only by `emit final` (`dense`); a Map.
 */
export type AggStore = "one" | "columns" | "dense" | "map";

export interface AggPlan {
  calls: AggCallPlan[];
  /** Every call's state can be merged (hop panes, session merges). */
  mergeable: boolean;
  store: AggStore;
  /**
   * Read only by `emit final` outputs: the latest row of each key, in order of the key's first
   * appearance, is its state's result at the end — no row per update.
   */
  finalOnly: boolean;
  /** A keyless final-only agg: generated loops keep its state in locals. */
  inlineInLoops: boolean;
  /** Its input is an updating stream (§13): the runtime's ReAgg keeps the groups. */
  reaggregates: boolean;
  /**
   * Re-aggregation: `exact` — every call takes a row back in constant space (`retract`);
   * `checked` — `retract` says whether the state is still right, else the group's kept rows
   * recompute it; `none` — the rows recompute it on every change (see typed.ts `retraction`).
   */
  retract: "exact" | "checked" | "none";
}

/** What a rolling `extend`'s operator is given (runtime/src/ops/rolling.ts `RollingCallSpec`). */
export interface RollingPlan {
  /** The values stored per record, each argument expression once (`avg(v)` and `max(v)` share `v`). */
  values: TExpr[];
  calls: RollingCallPlan[];
}

export interface RollingCallPlan {
  call: RollingCall;
  /** The runtime's name of the computation: the aggregate's (`count_expr` for `count(e)`) or `lag`. */
  fn: string;
  /** Index in `values` of the argument (not for count()); max_by / min_by: of the key in `by`. */
  arg?: number;
  by?: number;
  /** The frame: a time range in ms or a number of rows; lag: how many records back. */
  range?: number;
  rows?: number;
  back?: number;
  /** percentile's p. */
  p?: number;
}

export interface JoinPlan {
  /** Equi-join keys: conjuncts `a == b` with `a` over the left side only and `b` over the right. */
  leftKeys: TExpr[];
  rightKeys: TExpr[];
  /** The other conjuncts, checked on each pair with equal keys. */
  residual: TExpr[];
}

export interface NodePlan {
  node: Node;
  /** What the node does, for its generated members: `filterBids`, `windowAggCounts`, … */
  member: string;
  consumers: NodeId[];
  /** A watermark reaching this node matters (a stateful operator at or below it). */
  needsWatermark: boolean;
  /** An updating stream whose deletions reach a consumer keeping a table of it (§13). */
  carriesDeletes: boolean;
  agg?: AggPlan;
  join?: JoinPlan;
  rolling?: RollingPlan;
  /**
   * A union or join fed by a source with `idle` (§10): per input, the sources upstream of it (an
   * input is idle when all of them are; then the node's watermark no longer waits for it).
   */
  idleInputs?: number[][];
}

export interface Plan {
  graph: Graph;
  /** In an order where every node comes after its inputs. */
  order: Node[];
  nodes: Map<NodeId, NodePlan>;
  /** Source nodes in the order of the program's sources (the runtime's source index). */
  sources: Extract<Node, { kind: "source" }>[];
  /** Every operator that keeps state, with what it keeps (checkpoints, fingerprints). */
  state: StatefulOperator[];
  /**
   * Generated loops (a source's records pushed through its fused stages in one loop) are worth
   * printing: the driver runs them for a program with one source, and an instrumented build
   * traces every record through the per-record path instead.
   */
  fusedLoops: boolean;
  /** The sources declared with `idle` (their runtime index). */
  idleSources: number[];
}

export interface PlanOptions {
  /** An instrumented build (the playground's tracer): every update is a row, nothing elided. */
  instrument?: boolean;
  /** The program's text, for the lines of stateful operators. */
  source?: string;
}


export interface StatefulOperator {
  /** Graph node id (stable for one program text; not compared across programs). */
  node: NodeId;
  /** The stage's kind: `windowAgg`, `sessionAgg`, `agg`, `top`, `distinct`, `rolling`, `intervalJoin`, `windowJoin`, `emitFinal`. */
  kind: string;
  /** Where it is written: line of the program (the file name is the program's). */
  line: number;
  /** Everything that must match for a checkpoint to be continued: window, keys, state, types. */
  shape: string;
}
