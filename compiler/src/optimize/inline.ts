// Inlines user `fn`s: a call becomes the function's body with its parameters replaced by the
// arguments. Functions are pure and not recursive (the checker enforces it), so this terminates.
import { paramRef, type TExpr, type TFn } from "../check/typed";
import { mapExpr, mapNodeExprs } from "../ir/expr";
import type { Graph } from "../ir/graph";

export function inlineFunctions(g: Graph): Graph {
  if (g.fns.size === 0) return g;
  const inline = (e: TExpr): TExpr => mapExpr(e, (x) => (x.kind === "callFn" ? expand(x, g.fns) : x));
  const nodes = new Map([...g.nodes].map(([id, n]) => [id, mapNodeExprs(n, inline)]));
  return { ...g, nodes };
}

function expand(call: Extract<TExpr, { kind: "callFn" }>, fns: Map<string, TFn>): TExpr {
  const fn = fns.get(call.fn)!;
  const args = new Map(fn.params.map((_, i) => [paramRef(i), call.args[i]!]));
  // The body may itself call functions: expand those too (bottom-up after substitution).
  const body = mapExpr(fn.body, (x) => (x.kind === "var" && args.has(x.name) ? args.get(x.name)! : x));
  const expanded = mapExpr(body, (x) => (x.kind === "callFn" ? expand(x, fns) : x));
  // Keep the call's declared type (an int argument may flow into a float parameter).
  return { ...expanded, type: call.type, span: call.span };
}
