// Projection pushdown: finds which fields of each source the program reads, so the decoder
// materializes only those. A source whose whole record flows somewhere (an output, `it`, a join
// side, a top) keeps every field.
import type { TExpr } from "../check/typed";
import { walkExpr } from "../ir/expr";
import { consumers, type ChainOp, type Graph, type Node, type NodeId } from "../ir/graph";

/** Fields of the element var `r` read by `e`; `"*"` when `r` is used whole. */
function fieldsRead(e: TExpr, into: Set<string>, varName = "r") {
  const parents = new Set<TExpr>();
  walkExpr(e, (x) => {
    if (x.kind === "get" && x.object.kind === "var" && x.object.name === varName) {
      into.add(x.field);
      parents.add(x.object);
    }
  });
  walkExpr(e, (x) => {
    if (x.kind === "var" && x.name === varName && !parents.has(x)) into.add("*");
  });
}

/** Fields of a node's input element that the node (and, for pass-through, its consumers) needs. */
function needs(id: NodeId, input: NodeId, g: Graph, users: Map<NodeId, NodeId[]>, seen: Set<string>): Set<string> {
  const key = `${id}<${input}`;
  const out = new Set<string>();
  if (seen.has(key)) return new Set(["*"]);
  seen.add(key);
  const n = g.nodes.get(id)!;
  const downstream = () => {
    for (const u of users.get(id) ?? []) for (const f of needs(u, id, g, users, seen)) out.add(f);
  };
  switch (n.kind) {
    case "chain": {
      for (const op of n.ops) {
        opFields(op, out);
        // A projection builds a new element: nothing downstream reads the source's fields.
        if (op.kind === "project") return out;
        // lookup and unnest keep every other field under its name: keep scanning.
      }
      downstream();
      return out;
    }
    case "agg":
      for (const k of n.keys) fieldsRead(k.expr, out);
      for (const a of n.aggs) for (const x of a.args) fieldsRead(x, out);
      return out;
    case "distinct":
      for (const k of n.keys) fieldsRead(k.expr, out);
      for (const v of n.values) fieldsRead(v, out);
      if (n.values.length === 0) out.add("*");
      downstream();
      return out;
    default:
      // top, join, union and outputs pass whole elements on.
      out.add("*");
      return out;
  }
}

function opFields(op: ChainOp, out: Set<string>) {
  switch (op.kind) {
    case "where":
      fieldsRead(op.cond, out);
      break;
    case "project":
      fieldsRead(op.expr, out);
      break;
    case "lookup":
      fieldsRead(op.key, out);
      break;
    case "unnest":
      out.add(op.field);
      break;
  }
}

export function pushDownProjections(g: Graph): Graph {
  const users = consumers(g);
  const nodes = new Map<NodeId, Node>(g.nodes);
  for (const n of g.nodes.values()) {
    if (n.kind !== "source" || n.type.kind !== "record") continue;
    const need = new Set<string>();
    for (const u of users.get(n.id) ?? []) for (const f of needs(u, n.id, g, users, new Set())) need.add(f);
    if (n.decl.eventTime) need.add(n.decl.eventTime.field);
    if (need.has("*")) continue;
    const keep = n.type.fields.map((f) => f.name).filter((f) => need.has(f));
    nodes.set(n.id, { ...n, keep });
  }
  return { ...g, nodes };
}
