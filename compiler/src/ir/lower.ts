// Lowering: typed program → dataflow graph. Stateless stages of a pipeline go into one chain
// node; each stateful stage becomes its own node; a `let` used several times is one node with
// several consumers.
import type { TPipeline, TStage, TypedProgram } from "../check/typed";
import type { ChainOp, Graph, Node, NodeId } from "./graph";

export function lower(program: TypedProgram, file: string): Graph {
  const g: Graph = { file, nodes: new Map(), sources: program.sources, tables: program.tables, outputs: program.outputs, imports: program.imports, fns: program.fns };
  let next = 0;
  const add = <N extends Node>(n: Omit<N, "id">): N => {
    const node = { ...n, id: next++ } as N;
    g.nodes.set(node.id, node);
    return node;
  };
  const sourceNodes = new Map<string, NodeId>();
  program.sources.forEach((s, i) => {
    sourceNodes.set(s.name, add<Extract<Node, { kind: "source" }>>({ kind: "source", source: i, decl: s, type: s.type, spans: [s.span], upsert: false, updating: !!s.key }).id);
  });
  const letNodes = new Map<string, NodeId>();
  const lowerLet = (name: string): NodeId => {
    const done = letNodes.get(name);
    if (done !== undefined) return done;
    const id = lowerPipeline(program.lets.get(name)!);
    letNodes.set(name, id);
    return id;
  };

  function lowerPipeline(p: TPipeline): NodeId {
    let cur: NodeId;
    switch (p.head.kind) {
      case "source":
        cur = sourceNodes.get(p.head.name)!;
        break;
      case "let":
        cur = lowerLet(p.head.name);
        break;
      case "pipeline":
        cur = lowerPipeline(p.head.pipeline);
        break;
      case "union": {
        const inputs = p.head.inputs.map(lowerPipeline);
        const updating = !!p.start.upsertKeys;
        cur = add<Extract<Node, { kind: "union" }>>({ kind: "union", inputs, type: p.start.element, spans: [p.span], upsert: updating, updating }).id;
        break;
      }
    }
    let chain: Extract<Node, { kind: "chain" }> | undefined;
    const appendOp = (op: ChainOp, upsert: boolean, updating: boolean) => {
      if (!chain) {
        chain = add<Extract<Node, { kind: "chain" }>>({ kind: "chain", input: cur, ops: [], type: op.outType, spans: [], upsert, updating });
        cur = chain.id;
      }
      chain.ops.push(op);
      chain.spans.push(op.span);
      chain.type = op.outType;
      chain.updating = updating;
    };
    for (const s of p.stages) {
      const op = chainOp(s, program);
      if (op) {
        appendOp(op, !!s.input.upsertKeys, !!s.output.upsertKeys);
        continue;
      }
      if (s.kind === "window" || s.kind === "groupBy") continue; // annotations only
      chain = undefined;
      cur = lowerStateful(s, cur);
    }
    return cur;
  }

  function lowerStateful(s: TStage, input: NodeId): NodeId {
    const base = { type: s.output.element, spans: [s.span], upsert: !!s.output.upsertKeys, updating: !!s.output.upsertKeys };
    switch (s.kind) {
      case "agg":
        return add<Extract<Node, { kind: "agg" }>>({ ...base, kind: "agg", input, window: s.window, keys: s.keys, aggs: s.aggs, items: s.items, inType: s.input.element }).id;
      case "rolling":
        return add<Extract<Node, { kind: "rolling" }>>({ ...base, kind: "rolling", input, keys: s.keys, calls: s.calls, expr: s.expr, inType: s.input.element }).id;
      case "top":
        return add<Extract<Node, { kind: "top" }>>({ ...base, kind: "top", input, window: s.window, keys: s.keys, n: s.n, by: s.by, desc: s.desc, withTies: s.withTies }).id;
      case "distinct":
        return add<Extract<Node, { kind: "distinct" }>>({ ...base, kind: "distinct", input, window: s.window, keys: s.keys, values: s.values, withinMs: s.withinMs }).id;
      case "join": {
        const right = lowerPipeline(s.other);
        return add<Extract<Node, { kind: "join" }>>({
          ...base, kind: "join", joinKind: s.joinKind, left: input, right, leftType: s.input.element, rightType: s.other.out.element,
          leftAlias: s.leftAlias, rightAlias: s.rightAlias, on: s.on, mode: s.mode,
        }).id;
      }
      default:
        throw new Error(`internal: stage ${s.kind} is not stateful`);
    }
  }

  // Every `let` is lowered, used or not: the prune pass removes what reaches no output.
  for (const name of program.lets.keys()) lowerLet(name);
  program.outputs.forEach((o, i) => {
    const input = lowerPipeline(o.pipeline);
    add<Extract<Node, { kind: "output" }>>({ kind: "output", input, output: i, decl: o, type: o.pipeline.out.element, spans: [o.span], upsert: !!o.pipeline.out.upsertKeys, updating: false, keyFields: o.pipeline.out.upsertKeys });
  });
  return g;
}

function chainOp(s: TStage, program: TypedProgram): ChainOp | undefined {
  const base = { span: s.span, inType: s.input.element, outType: s.output.element };
  switch (s.kind) {
    case "where":
      return { ...base, kind: "where", cond: s.cond };
    case "project":
      return { ...base, kind: "project", expr: s.expr, what: s.what };
    case "unnest":
      return { ...base, kind: "unnest", field: s.field, as: s.as, elementType: s.elementType };
    case "lookup":
      return { ...base, kind: "lookup", table: program.tables.findIndex((t) => t.name === s.table), alias: s.alias, key: s.key, rowType: s.rowType };
    default:
      return undefined;
  }
}
