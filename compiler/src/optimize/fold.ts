// Constant folding: literal arithmetic, comparisons, boolean identities, `if` on a constant,
// `??` on a non-null literal; `where true` steps disappear.
import type { TExpr } from "../check/typed";
import { mapExpr, mapOpExprs } from "../ir/expr";
import type { Graph, Node } from "../ir/graph";

const lit = (e: TExpr) => (e.kind === "lit" ? e.value : undefined);
const isLit = (e: TExpr): e is Extract<TExpr, { kind: "lit" }> => e.kind === "lit";

export function foldExpr(e: TExpr): TExpr {
  return mapExpr(e, foldNode);
}

function foldNode(e: TExpr): TExpr {
  const mk = (value: number | string | boolean | null): TExpr => ({ kind: "lit", value, type: e.type, span: e.span });
  switch (e.kind) {
    case "unary":
      if (isLit(e.operand)) {
        const v = e.operand.value;
        if (e.op === "not" && typeof v === "boolean") return mk(!v);
        if (e.op === "neg" && typeof v === "number") return mk(-v);
      }
      return e;
    case "binary": {
      const a = lit(e.left), b = lit(e.right);
      if (e.op === "and") {
        if (a === true) return e.right;
        if (a === false || b === false) return a === false ? mk(false) : e;
        if (b === true) return e.left;
        return e;
      }
      if (e.op === "or") {
        if (a === false) return e.right;
        if (a === true) return mk(true);
        if (b === false) return e.left;
        return e;
      }
      if (!isLit(e.left) || !isLit(e.right)) return e;
      if (typeof a === "number" && typeof b === "number") {
        switch (e.op) {
          case "add": return mk(a + b);
          case "sub": return mk(a - b);
          case "mul": return mk(a * b);
          case "div": return b === 0 ? e : mk(a / b);
          case "mod": return b === 0 ? e : mk(a % b);
          case "lt": return mk(a < b);
          case "le": return mk(a <= b);
          case "gt": return mk(a > b);
          case "ge": return mk(a >= b);
        }
      }
      if (typeof a === "string" && typeof b === "string" && e.op === "concat") return mk(a + b);
      if (e.op === "eq") return mk(a === b);
      if (e.op === "ne") return mk(a !== b);
      return e;
    }
    case "coalesce":
      if (isLit(e.left)) return e.left.value === null ? e.right : { ...e.left, type: e.type };
      return e;
    case "if":
      if (isLit(e.cond) && typeof e.cond.value === "boolean") {
        const pick = e.cond.value ? e.then : e.else;
        return { ...pick, type: e.type };
      }
      return e;
    default:
      return e;
  }
}

export function foldConstants(g: Graph): Graph {
  const nodes = new Map<number, Node>();
  for (const [id, n] of g.nodes) {
    if (n.kind === "chain") {
      const ops = n.ops.map((op) => mapOpExprs(op, foldExpr)).filter((op) => !(op.kind === "where" && op.cond.kind === "lit" && op.cond.value === true));
      nodes.set(id, { ...n, ops });
    } else if (n.kind === "agg") {
      nodes.set(id, { ...n, items: n.items.map((i) => ({ ...i, expr: foldExpr(i.expr) })), aggs: n.aggs.map((a) => ({ ...a, args: a.args.map(foldExpr) })), keys: n.keys.map((k) => ({ ...k, expr: foldExpr(k.expr) })) });
    } else if (n.kind === "rolling") {
      nodes.set(id, { ...n, expr: foldExpr(n.expr), calls: n.calls.map((c) => ({ ...c, args: c.args.map(foldExpr) })), keys: n.keys.map((k) => ({ ...k, expr: foldExpr(k.expr) })) });
    } else if (n.kind === "join") {
      nodes.set(id, { ...n, on: foldExpr(n.on) });
    } else nodes.set(id, n);
  }
  return { ...g, nodes };
}
