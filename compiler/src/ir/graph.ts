// The dataflow graph: sources, fused stateless chains, stateful operators, unions, joins and
// outputs, connected by edges. Lowering builds it from the typed program; optimization passes
// rewrite it; the emitter prints it as TypeScript.
import type { Span } from "../syntax/ast";
import type { AggCall, GroupKey, JoinKind, RollingCall, TExpr, TFn, TOutput, TSource, TTable, WindowInfo } from "../check/typed";
import type { RecordT, Type } from "../check/types";

export type NodeId = number;

/** One stateless step of a chain. Expressions read the element as ELEMENT_REF (`$element`). */
export type ChainOp = { span: Span; inType: Type; outType: Type } & (
  | { kind: "where"; cond: TExpr }
  | { kind: "project"; expr: TExpr; what: "select" | "extend" | "map" }
  | { kind: "unnest"; field: string; as: string; elementType: Type }
  | { kind: "lookup"; table: number; alias: string; key: TExpr; rowType: RecordT }
);

interface NodeBase {
  id: NodeId;
  /** Element type of the records this node emits. */
  type: Type;
  /** Spans of the source text this node comes from (for comments and the graph view). */
  spans: Span[];
  /**
   * Chains and outputs: the node's input is an updating stream, so its records come with their
   * key (and deletes come too). Other nodes: as `updating`.
   */
  upsert: boolean;
  /**
   * The node's output is an updating stream (§13): an unwindowed agg or top, a source of
   * changes, or a chain over one that kept the key. Its rows reach consumers with their key.
   */
  updating: boolean;
}

export type Node = NodeBase & (
  | { kind: "source"; source: number; decl: TSource; keep?: string[] }
  | { kind: "chain"; input: NodeId; ops: ChainOp[] }
  | { kind: "union"; inputs: NodeId[] }
  | { kind: "agg"; input: NodeId; window?: WindowInfo; keys: GroupKey[]; aggs: AggCall[]; items: { name: string; expr: TExpr }[]; inType: Type }
  /**
   * A rolling `extend` (LANGUAGE.md §13): per key, in event-time order once the watermark passes
   * a record, `expr` (the new element, reading `$element` and `aggRef`s of `calls`).
   */
  | { kind: "rolling"; input: NodeId; keys: GroupKey[]; calls: RollingCall[]; expr: TExpr; inType: Type }
  | { kind: "top"; input: NodeId; window?: WindowInfo; keys: GroupKey[]; n: number; by: TExpr; desc: boolean; withTies: boolean }
  | { kind: "distinct"; input: NodeId; window?: WindowInfo; keys: GroupKey[]; values: TExpr[]; withinMs?: number }
  | {
      kind: "join";
      /** inner, or §13's outer / semi / anti join (bounded: interval or window mode). */
      joinKind: JoinKind;
      left: NodeId;
      right: NodeId;
      leftType: Type;
      rightType: Type;
      leftAlias?: string;
      rightAlias: string;
      on: TExpr;
      mode: { kind: "interval"; lower: number; upper: number } | { kind: "window"; window: WindowInfo } | { kind: "unbounded" };
    }
  | { kind: "output"; input: NodeId; output: number; decl: TOutput; keyFields?: string[] }
);

export type NodeKind = Node["kind"];

export interface Graph {
  file: string;
  nodes: Map<NodeId, Node>;
  sources: TSource[];
  tables: TTable[];
  outputs: TOutput[];
  imports: { names: string[]; from: string }[];
  fns: Map<string, TFn>;
}

/**
 * The node hands its input's elements on unchanged (a chain of `where`s, `distinct`): it carries
 * its input's element type, projected or whole.
 */
export function passesElementsThrough(n: Node): n is Extract<Node, { kind: "chain" | "distinct" }> {
  return (n.kind === "chain" && n.ops.every((op) => op.kind === "where")) || n.kind === "distinct";
}

export function inputsOf(n: Node): NodeId[] {
  switch (n.kind) {
    case "source":
      return [];
    case "union":
      return n.inputs;
    case "join":
      return [n.left, n.right];
    default:
      return [n.input];
  }
}

/** Consumers of every node, in node order (a stable order makes generated code stable). */
export function consumers(g: Graph): Map<NodeId, NodeId[]> {
  const out = new Map<NodeId, NodeId[]>();
  for (const id of g.nodes.keys()) out.set(id, []);
  for (const n of g.nodes.values()) for (const i of inputsOf(n)) out.get(i)?.push(n.id);
  return out;
}

/** Nodes in an order where every node comes after its inputs. */
export function topoOrder(g: Graph): Node[] {
  const seen = new Set<NodeId>();
  const order: Node[] = [];
  const visit = (id: NodeId) => {
    if (seen.has(id)) return;
    seen.add(id);
    const n = g.nodes.get(id)!;
    for (const i of inputsOf(n)) visit(i);
    order.push(n);
  };
  for (const id of [...g.nodes.keys()].sort((a, b) => a - b)) visit(id);
  return order;
}
