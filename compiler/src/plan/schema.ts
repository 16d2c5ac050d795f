// The schema of a program's state: every operator that keeps state, at its `file:line`, with
// the shape of what it keeps — the contract between a checkpoint and the program that reads it.
// Two programs with equal schemas can continue each other's checkpoints; stateless stages are
// not part of it, so they may change freely.
import type { Graph, Node, NodeId } from "../ir/graph";
import type { Type } from "../check/types";
import { rollingCallText } from "../ir/print";
import { aggOperator } from "./aggregates";
import type { NodePlan, StatefulOperator } from "./types";

/**
 * A type as the shape of state: records by their fields, never by name — a field added to,
 * removed from or retyped in a record the state holds changes the fingerprint (§12).
 */
function typeToString(t: Type): string {
  switch (t.kind) {
    case "optional":
      return `${typeToString(t.inner)}?`;
    case "array":
      return `[${typeToString(t.element)}]`;
    case "record":
      return `{ ${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(", ")} }`;
    default:
      return t.kind;
  }
}

/** Line (1-based) of a source offset. */
function lineOf(text: string | undefined, offset: number): number {
  if (text === undefined) return 0;
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

function windowText(w: { kind: string; size: number; slide: number; carried: boolean } | undefined): string {
  return w ? `${w.carried ? "carried " : ""}${w.kind}(${w.size}${w.kind === "hop" ? `, ${w.slide}` : ""})` : "none";
}

function shapeOf(n: Node, p: NodePlan, inType: string): { kind: string; shape: string } | undefined {
  switch (n.kind) {
    case "agg": {
      const kind = aggOperator(n.window);
      const state = p.agg!.calls.map((c) => `${c.call.fn}(${c.fields.map((f) => `${f.name}:${f.init}${f.holds ? `<${typeToString(f.holds)}>` : ""}`).join(",")})`).join(" ");
      // The columns store keeps its larger keys in SlotColumns (not a Map of states, as before):
      // a checkpoint of the earlier layout is refused by its fingerprint, not misread.
      const store = p.agg!.store === "columns" ? "slot-columns" : p.agg!.store;
      return { kind, shape: `input ${inType}; window ${windowText(n.window)}; keys ${n.keys.map((k) => `${k.name}:${typeToString(k.type)}`).join(",")}; state ${state}; store ${store}` };
    }
    case "rolling":
      return { kind: "rolling", shape: `input ${inType}; keys ${n.keys.map((k) => `${k.name}:${typeToString(k.type)}`).join(",")}; calls ${n.calls.map((c) => `${rollingCallText(c)}:${typeToString(c.type)}`).join(" ")}` };
    case "top":
      return { kind: "top", shape: `input ${inType}; window ${windowText(n.window)}; keys ${n.keys.map((k) => `${k.name}:${typeToString(k.type)}`).join(",")}; n ${n.n}${n.withTies ? " with ties" : ""}` };
    case "distinct":
      return { kind: "distinct", shape: `input ${inType}; window ${windowText(n.window)}; values ${n.values.map((v) => typeToString(v.type)).join(",")}; within ${n.withinMs ?? "forever"}` };
    case "join":
      return {
        kind: n.mode.kind === "window" ? "windowJoin" : "intervalJoin",
        shape: `${n.joinKind === "inner" ? "" : `${n.joinKind}; `}left ${typeToString(n.leftType)}; right ${typeToString(n.rightType)}; ${n.mode.kind === "window" ? `window ${windowText(n.mode.window)}` : n.mode.kind === "interval" ? `within ${n.mode.lower}..${n.mode.upper}` : "unbounded"}`,
      };
    case "output":
      return n.decl.final ? { kind: "emitFinal", shape: `rows ${typeToString(n.type)}` } : undefined;
    default:
      return undefined;
  }
}

export function stateSchema(g: Graph, order: Node[], nodes: Map<NodeId, NodePlan>, sourceText: string | undefined): StatefulOperator[] {
  const out: StatefulOperator[] = [];
  for (const n of order) {
    const p = nodes.get(n.id)!;
    const input = n.kind === "source" || n.kind === "union" || n.kind === "join" ? undefined : g.nodes.get(n.input);
    const s = shapeOf(n, p, input ? typeToString(input.type) : "");
    if (s) out.push({ node: n.id, kind: s.kind, line: lineOf(sourceText, n.spans[0]?.start ?? 0), shape: s.shape });
  }
  return out;
}
