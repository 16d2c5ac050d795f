// The plan: every decision the code generator needs, made once, as plain data about the
// optimized graph — who consumes what, where watermarks and deletions must flow, how each
// aggregate keeps its state, how a join finds its partners, what each generated member is
// called, and the schema of the state a checkpoint will hold. The emitter only prints it.
import type { Graph, Node, NodeId } from "../ir/graph";
import { consumers, inputsOf, topoOrder } from "../ir/graph";
import { walkExpr } from "../ir/expr";
import { LEFT_REF, RIGHT_REF, retraction, type TExpr } from "../check/typed";
import { planAggCall } from "./aggregates";
export { aggOperator } from "./aggregates";
import { memberNames } from "./names";
import { stateSchema } from "./schema";
import type { AggPlan, AggStore, JoinPlan, NodePlan, Plan, PlanOptions, RollingCallPlan, RollingPlan } from "./types";
import { exprText } from "../ir/print";
import { typeToString } from "../check/types";

export type { AggCallPlan, StateField, StateInit } from "./aggregates";
export type { AggPlan, AggStore, JoinPlan, NodePlan, Plan, PlanOptions, RollingCallPlan, RollingPlan, StatefulOperator } from "./types";

/** Small non-negative int keys of a final-only agg index an array of this size. */
export const DENSE_KEYS = 4096;

export function plan(g: Graph, options: PlanOptions = {}): Plan {
  const order = topoOrder(g);
  const users = consumers(g);
  const names = memberNames(order);
  const nodes = new Map<NodeId, NodePlan>();
  for (const n of order) nodes.set(n.id, { node: n, member: names.get(n.id)!, consumers: users.get(n.id) ?? [], needsWatermark: false, carriesDeletes: false });
  // Watermarks and deletions flow toward the outputs: decide from the consumers back.
  for (const n of [...order].reverse()) {
    const p = nodes.get(n.id)!;
    p.needsWatermark = hasOperator(n) || p.consumers.some((c) => nodes.get(c)!.needsWatermark);
    // Deletions flow out of an updating stream to what keeps a table of it: `emit final`,
    // outputs of changes, re-aggregation, top-N — through chains that keep the key.
    p.carriesDeletes =
      n.updating &&
      p.consumers.some((c) => {
        const u = nodes.get(c)!.node;
        return ((u.kind === "chain" || u.kind === "union") && nodes.get(c)!.carriesDeletes) || u.kind === "output" || ((u.kind === "agg" || u.kind === "top") && !u.window);
      });
  }
  for (const n of order) {
    const p = nodes.get(n.id)!;
    if (n.kind === "agg") p.agg = planAgg(n, p.consumers.map((c) => nodes.get(c)!.node), options, g.nodes.get(n.input)!.updating);
    if (n.kind === "join") p.join = planJoin(n.on);
    if (n.kind === "rolling") p.rolling = planRolling(n);
  }
  const sources = order.filter((n): n is Extract<Node, { kind: "source" }> => n.kind === "source").sort((a, b) => a.source - b.source);
  const idleSources = sources.filter((s) => s.decl.idleMs !== undefined).map((s) => s.source);
  if (idleSources.length > 0) planIdleInputs(order, nodes, new Set(idleSources));
  return { graph: g, order, nodes, sources, state: stateSchema(g, order, nodes, options.source), fusedLoops: sources.length === 1 && !options.instrument && sources.every((s) => s.decl.eventTime?.expr === undefined && !s.updating), idleSources };
}

/**
 * Which sources feed each input of every union and join downstream of a source with `idle`: an
 * input is idle when all its sources are (§10), and the node then takes the smallest watermark
 * of its other inputs.
 */
function planIdleInputs(order: Node[], nodes: Map<NodeId, NodePlan>, idle: Set<number>) {
  const upstream = new Map<NodeId, Set<number>>();
  for (const n of order) {
    const set = new Set<number>(n.kind === "source" ? [n.source] : []);
    for (const i of inputsOf(n)) for (const s of upstream.get(i)!) set.add(s);
    upstream.set(n.id, set);
    if ((n.kind === "union" || n.kind === "join") && [...set].some((s) => idle.has(s))) {
      nodes.get(n.id)!.idleInputs = inputsOf(n).map((i) => [...upstream.get(i)!].sort((a, b) => a - b));
    }
  }
}

function planAgg(n: Extract<Node, { kind: "agg" }>, users: Node[], options: PlanOptions, reaggregates: boolean): AggPlan {
  const calls = n.aggs.map((a, i) => planAggCall(a, i));
  // Re-aggregation (an updating input) keeps its groups in the runtime's ReAgg.
  const finalOnly = !n.window && !reaggregates && !options.instrument && users.length > 0 && users.every((u) => u.kind === "output" && u.decl.final);
  let store: AggStore = "map";
  // Every state field a number starting at 0 (counts, sums of non-null values): states fit typed
  // arrays, one per field, by small key or by slot (no object per key) — for `emit final` and for
  // an upsert stream alike.
  const fields = calls.flatMap((c) => c.fields);
  const numeric = fields.length > 0 && fields.every((f) => f.init === "zero");
  const oneKey = n.keys.length === 1 ? n.keys[0]!.type.kind : undefined;
  if (!n.window && n.keys.length === 0) store = "one";
  else if (!n.window && oneKey === "int" && !reaggregates && (numeric || finalOnly)) {
    // The array's order of keys is not their first appearance: only `emit final` (which walks the
    // order of first appearance kept beside it) may read a dense store at the end.
    store = numeric ? "columns" : "dense";
  } else if (!n.window && oneKey === "string" && !reaggregates && numeric) store = "columns";
  const kinds = n.aggs.map(retraction);
  const retract = !reaggregates || kinds.includes("none") ? "none" : kinds.includes("checked") ? "checked" : "exact";
  return { calls, mergeable: calls.every((c) => c.mergeable), store, finalOnly, inlineInLoops: finalOnly && store === "one", reaggregates, retract };
}

/** A rolling extend's stored values (each argument once) and its calls as the runtime takes them. */
function planRolling(n: Extract<Node, { kind: "rolling" }>): RollingPlan {
  const values: TExpr[] = [];
  const seen = new Map<string, number>();
  // Two arguments are the same value when they print alike and have the same type.
  const slot = (e: TExpr): number => {
    const k = `${exprText(e)}: ${typeToString(e.type)}`;
    let i = seen.get(k);
    if (i === undefined) {
      seen.set(k, (i = values.length));
      values.push(e);
    }
    return i;
  };
  const calls = n.calls.map((call): RollingCallPlan => {
    const c: RollingCallPlan = { call, fn: call.fn };
    if (call.args[0] !== undefined) c.arg = slot(call.args[0]);
    if (call.args[1] !== undefined) c.by = slot(call.args[1]);
    if (call.frame?.kind === "range") c.range = call.frame.ms;
    if (call.frame?.kind === "rows") c.rows = call.frame.n;
    if (call.fn === "lag") c.back = call.param;
    if (call.fn === "percentile") c.p = call.param;
    return c;
  });
  return { values, calls };
}

/** Splits a join condition into equi-join keys and the residual conjuncts. */
function planJoin(on: TExpr): JoinPlan {
  const leftKeys: TExpr[] = [], rightKeys: TExpr[] = [], residual: TExpr[] = [];
  for (const c of conjuncts(on)) {
    if (c.kind === "binary" && c.op === "eq") {
      const a = sidesOf(c.left), b = sidesOf(c.right);
      if (a === "left" && b === "right") {
        leftKeys.push(c.left);
        rightKeys.push(c.right);
        continue;
      }
      if (a === "right" && b === "left") {
        leftKeys.push(c.right);
        rightKeys.push(c.left);
        continue;
      }
    }
    residual.push(c);
  }
  return { leftKeys, rightKeys, residual };
}

const conjuncts = (e: TExpr): TExpr[] => (e.kind === "binary" && e.op === "and" ? [...conjuncts(e.left), ...conjuncts(e.right)] : [e]);


/** Which side an expression reads: only the left, only the right, both or neither. */
function sidesOf(e: TExpr): "left" | "right" | "both" | "none" {
  let left = false, right = false;
  walkExpr(e, (x) => {
    if (x.kind !== "var") return;
    if (x.name === LEFT_REF) left = true;
    else if (x.name === RIGHT_REF) right = true;
    else left = right = true; // a free variable: neither side alone
  });
  return left && right ? "both" : left ? "left" : right ? "right" : "none";
}

/**
 * The node is a runtime operator that keeps state across records and fires on watermarks
 * (windowed agg, top, distinct, rolling extend, join); unwindowed aggs keep their state in the generated code.
 */
export function hasOperator(n: Node): boolean {
  return (n.kind === "agg" && n.window !== undefined) || n.kind === "top" || n.kind === "distinct" || n.kind === "rolling" || n.kind === "join";
}

export { inputsOf };
