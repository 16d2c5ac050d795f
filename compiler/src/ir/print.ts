// A stable text form of the graph, for tests and `flowc graph --format text`.
import { ELEMENT_REF, LEFT_REF, RIGHT_REF, type RollingCall, type TExpr, type WindowInfo } from "../check/typed";
import { typeToString } from "../check/types";
import { topoOrder, type Graph, type Node } from "./graph";

const OPS: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/", mod: "%", concat: "+", eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=", and: "and", or: "or" };

export function exprText(e: TExpr): string {
  switch (e.kind) {
    case "lit":
      return typeof e.value === "string" ? JSON.stringify(e.value) : e.type.kind === "duration" ? `${e.value}ms` : e.type.kind === "time" ? `@${new Date(e.value as number).toISOString()}` : String(e.value);
    case "var":
      // The stage's element reads as in the program (`it`); a join's sides by their role.
      return e.name === ELEMENT_REF ? "it" : e.name === LEFT_REF ? "left" : e.name === RIGHT_REF ? "right" : e.name;
    case "get":
      // A field of the element reads as the bare field name, as written in a stage.
      return e.object.kind === "var" && e.object.name === ELEMENT_REF ? e.field : `${exprText(e.object)}.${e.field}`;
    case "index":
      return `${exprText(e.object)}[${exprText(e.index)}]`;
    case "unary":
      return e.op === "not" ? `not ${exprText(e.operand)}` : `-${exprText(e.operand)}`;
    case "binary":
      return `(${exprText(e.left)} ${OPS[e.op]} ${exprText(e.right)})`;
    case "coalesce":
      return `(${exprText(e.left)} ?? ${exprText(e.right)})`;
    case "in":
      return `(${exprText(e.value)}${e.negated ? " not" : ""} in ${exprText(e.list)})`;
    case "if":
      return `(if ${exprText(e.cond)} then ${exprText(e.then)} else ${exprText(e.else)})`;
    case "array":
      return `[${e.elements.map(exprText).join(", ")}]`;
    case "record":
      return `{${e.fields.map((f) => `${f.name}: ${exprText(f.value)}`).join(", ")}}`;
    case "call":
    case "callFn":
    case "callExtern":
      return `${e.fn}(${e.args.map(exprText).join(", ")})`;
    case "aggRef":
      return `$agg${e.index}`;
    case "keyRef":
      return `$key${e.index}`;
  }
}

/** `avg(v) over 300000ms`, `count() over 3 rows`, `lag(v, 2)`. */
export function rollingCallText(c: RollingCall): string {
  const args = [...c.args.map(exprText), ...(c.param !== undefined ? [String(c.param)] : [])].join(", ");
  const fn = c.fn === "count_expr" ? "count" : c.fn;
  return `${fn}(${args})${c.frame ? (c.frame.kind === "rows" ? ` over ${c.frame.n} rows` : ` over ${c.frame.ms}ms`) : ""}`;
}

export function windowTextOf(w: WindowInfo): string {
  const d = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  const base = w.kind === "hop" ? `hop(${d(w.size)}, ${d(w.slide)})` : `${w.kind}(${d(w.size)})`;
  return w.carried ? `${base} carried` : base;
}

/** A one-line label per node: what the graph view and the printer show. */
export function nodeLabel(n: Node, g: Graph): string {
  switch (n.kind) {
    case "source":
      return `source ${n.decl.name}${n.keep ? ` keep(${n.keep.join(", ")})` : ""}`;
    case "chain":
      return n.ops.map((op) => (op.kind === "where" ? `where ${exprText(op.cond)}` : op.kind === "project" ? `${op.what} ${exprText(op.expr)}` : op.kind === "unnest" ? `unnest ${op.field} as ${op.as}` : `lookup ${g.tables[op.table]?.name} as ${op.alias} on ${exprText(op.key)}`)).join(" | ");
    case "union":
      return "union";
    case "agg":
      return `agg${n.window ? ` ${windowTextOf(n.window)}` : ""}${n.keys.length ? ` by ${n.keys.map((k) => k.name).join(", ")}` : ""}: ${n.items.map((i) => `${i.name} = ${exprText(i.expr)}`).join(", ")}${n.aggs.length ? ` where ${n.aggs.map((a, i) => `$agg${i} = ${a.fn}(${a.args.map(exprText).join(", ")}${a.param !== undefined ? `, ${a.param}` : ""})`).join(", ")}` : ""}`;
    case "rolling":
      return `rolling${n.keys.length ? ` by ${n.keys.map((k) => k.name).join(", ")}` : ""}: ${exprText(n.expr)} where ${n.calls.map((c, i) => `$agg${i} = ${rollingCallText(c)}`).join(", ")}`;
    case "top":
      return `top ${n.n} ${n.window ? windowTextOf(n.window) : "unwindowed"}${n.keys.length ? ` by ${n.keys.map((k) => k.name).join(", ")}` : ""} order ${exprText(n.by)} ${n.desc ? "desc" : "asc"}${n.withTies ? " with ties" : ""}`;
    case "distinct":
      return `distinct ${n.values.map(exprText).join(", ") || "it"}${n.window ? ` ${windowTextOf(n.window)}` : ""}${n.withinMs !== undefined ? ` within ${n.withinMs}ms` : ""}`;
    case "join":
      return `${n.joinKind === "inner" ? "" : `${n.joinKind} `}join ${n.mode.kind === "interval" ? `within ${n.mode.lower}ms..${n.mode.upper}ms` : n.mode.kind === "window" ? windowTextOf(n.mode.window) : "unbounded"} on ${exprText(n.on)} as ${n.leftAlias ?? "(sides)"}, ${n.rightAlias}`;
    case "output":
      return `output ${n.decl.name}${n.decl.final ? " final" : ""}`;
  }
}

export function printGraph(g: Graph): string {
  const lines: string[] = [];
  for (const n of topoOrder(g)) {
    const inputs = n.kind === "source" ? "" : ` <- ${(n.kind === "union" ? n.inputs : n.kind === "join" ? [n.left, n.right] : [n.input]).map((i) => `#${i}`).join(", ")}`;
    lines.push(`#${n.id} ${nodeLabel(n, g)}${inputs} : ${typeToString(n.type)}${n.upsert ? " (upsert)" : ""}`);
  }
  return lines.join("\n") + "\n";
}
