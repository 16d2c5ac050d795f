// Generic traversals of typed expressions and chain ops, shared by the passes.
import type { TExpr } from "../check/typed";
import type { ChainOp, Node } from "./graph";

/** Rebuilds `e` bottom-up, applying `f` to every node after its children. */
export function mapExpr(e: TExpr, f: (e: TExpr) => TExpr): TExpr {
  const m = (x: TExpr) => mapExpr(x, f);
  let out: TExpr;
  switch (e.kind) {
    case "get":
      out = { ...e, object: m(e.object) };
      break;
    case "index":
      out = { ...e, object: m(e.object), index: m(e.index) };
      break;
    case "unary":
      out = { ...e, operand: m(e.operand) };
      break;
    case "binary":
      out = { ...e, left: m(e.left), right: m(e.right) };
      break;
    case "coalesce":
      out = { ...e, left: m(e.left), right: m(e.right) };
      break;
    case "in":
      out = { ...e, value: m(e.value), list: m(e.list) };
      break;
    case "if":
      out = { ...e, cond: m(e.cond), then: m(e.then), else: m(e.else) };
      break;
    case "array":
      out = { ...e, elements: e.elements.map(m) };
      break;
    case "record":
      out = { ...e, fields: e.fields.map((x) => ({ name: x.name, value: m(x.value) })) };
      break;
    case "call":
    case "callFn":
    case "callExtern":
      out = { ...e, args: e.args.map(m) };
      break;
    default:
      out = e;
  }
  return f(out);
}

/** Visits every sub-expression (pre-order). */
export function walkExpr(e: TExpr, f: (e: TExpr) => void): void {
  mapExpr(e, (x) => (f(x), x));
}

/** Applies `f` to every expression held by a node (chain ops, keys, aggregates, conditions). */
export function mapNodeExprs(n: Node, f: (e: TExpr) => TExpr): Node {
  switch (n.kind) {
    case "chain":
      return { ...n, ops: n.ops.map((op) => mapOpExprs(op, f)) };
    case "agg":
      return {
        ...n,
        keys: n.keys.map((k) => ({ ...k, expr: f(k.expr) })),
        aggs: n.aggs.map((a) => ({ ...a, args: a.args.map(f) })),
        items: n.items.map((i) => ({ ...i, expr: f(i.expr) })),
      };
    case "rolling":
      return {
        ...n,
        keys: n.keys.map((k) => ({ ...k, expr: f(k.expr) })),
        calls: n.calls.map((c) => ({ ...c, args: c.args.map(f) })),
        expr: f(n.expr),
      };
    case "top":
      return { ...n, keys: n.keys.map((k) => ({ ...k, expr: f(k.expr) })), by: f(n.by) };
    case "distinct":
      return { ...n, keys: n.keys.map((k) => ({ ...k, expr: f(k.expr) })), values: n.values.map(f) };
    case "join":
      return { ...n, on: f(n.on) };
    default:
      return n;
  }
}

export function mapOpExprs(op: ChainOp, f: (e: TExpr) => TExpr): ChainOp {
  switch (op.kind) {
    case "where":
      return { ...op, cond: f(op.cond) };
    case "project":
      return { ...op, expr: f(op.expr) };
    case "lookup":
      return { ...op, key: f(op.key) };
    case "unnest":
      return op;
  }
}

/** Every expression a node holds, for analyses. */
export function nodeExprs(n: Node): TExpr[] {
  const out: TExpr[] = [];
  mapNodeExprs(n, (e) => (out.push(e), e));
  return out;
}
