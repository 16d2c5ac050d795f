// Projection pushdown: a liveness analysis over element fields. Walking each chain backwards
// from what its consumers need, it finds which fields of each source the program reads, so the
// decoder materializes only those. A source whose whole record flows somewhere (an output, `it`,
// a join side, a top) keeps every field.
import { ELEMENT_REF, type TExpr } from "../check/typed";
import { walkExpr } from "../ir/expr";
import { consumers, passesElementsThrough, topoOrder, type Graph, type Node, type NodeId } from "../ir/graph";

/** A set of field names, or everything. */
type Need = Set<string> | "all";

const union = (a: Need, b: Need): Need => (a === "all" || b === "all" ? "all" : new Set([...a, ...b]));

/** Fields of the element (ELEMENT_REF) read by `e`; "all" when the element is used whole. */
function fieldsRead(e: TExpr): Need {
  const fields = new Set<string>();
  const objects = new Set<TExpr>();
  walkExpr(e, (x) => {
    if (x.kind === "get" && x.object.kind === "var" && x.object.name === ELEMENT_REF) {
      fields.add(x.field);
      objects.add(x.object);
    }
  });
  let whole = false;
  walkExpr(e, (x) => {
    if (x.kind === "var" && x.name === ELEMENT_REF && !objects.has(x)) whole = true;
  });
  return whole ? "all" : fields;
}

class Liveness {
  private readonly users: Map<NodeId, NodeId[]>;
  private readonly memo = new Map<NodeId, Need>();
  private readonly visiting = new Set<NodeId>();
  constructor(private readonly g: Graph) {
    this.users = consumers(g);
  }

  /** What the consumers of `id` need of the elements it emits. */
  out(id: NodeId): Need {
    let need: Need = new Set();
    for (const c of this.users.get(id) ?? []) need = union(need, this.input(c));
    return need;
  }

  /** What node `id` needs of its input elements. */
  input(id: NodeId): Need {
    const done = this.memo.get(id);
    if (done) return done;
    if (this.visiting.has(id)) return "all";
    this.visiting.add(id);
    const need = this.compute(this.g.nodes.get(id)!);
    this.visiting.delete(id);
    this.memo.set(id, need);
    return need;
  }

  private compute(n: Node): Need {
    switch (n.kind) {
      case "chain": {
        let need = this.out(n.id);
        for (let i = n.ops.length - 1; i >= 0; i--) {
          const op = n.ops[i]!;
          switch (op.kind) {
            case "where":
              need = union(need, fieldsRead(op.cond));
              break;
            case "project":
              if (op.expr.kind === "record" && need !== "all") {
                let before: Need = new Set();
                for (const f of op.expr.fields) if (need.has(f.name)) before = union(before, fieldsRead(f.value));
                need = before;
              } else need = fieldsRead(op.expr);
              break;
            case "lookup":
            case "unnest":
              // Both rebuild the element with every other field of the record (the emitted code
              // and its types name them all), so the source keeps every field.
              need = "all";
              break;
          }
        }
        return need;
      }
      case "agg": {
        let need: Need = new Set();
        for (const k of n.keys) need = union(need, fieldsRead(k.expr));
        for (const a of n.aggs) for (const x of a.args) need = union(need, fieldsRead(x));
        return need;
      }
      case "rolling": {
        // The generated result builds the whole new element, so it reads every field `expr` reads
        // (an extend copies the input's fields), plus the keys and the calls' arguments.
        let need = fieldsRead(n.expr);
        for (const k of n.keys) need = union(need, fieldsRead(k.expr));
        for (const c of n.calls) for (const x of c.args) need = union(need, fieldsRead(x));
        return need;
      }
      case "distinct": {
        if (n.values.length === 0) return "all";
        let need = this.out(n.id);
        for (const k of n.keys) need = union(need, fieldsRead(k.expr));
        for (const v of n.values) need = union(need, fieldsRead(v));
        return need;
      }
      default:
        // top, join, union and outputs pass whole elements on.
        return "all";
    }
  }
}

export function pushDownProjections(g: Graph): Graph {
  const live = new Liveness(g);
  const nodes = new Map<NodeId, Node>(g.nodes);
  for (const n of g.nodes.values()) {
    if (n.kind !== "source" || n.type.kind !== "record") continue;
    const need = live.out(n.id);
    if (need === "all") continue;
    const et = n.decl.eventTime;
    if (et?.field !== undefined) need.add(et.field);
    if (et?.expr !== undefined) {
      const read = fieldsRead(et.expr);
      if (read === "all") continue;
      for (const f of read) need.add(f);
    }
    // Set even when every field is read: it also says the whole record is never used as a
    // value, so decoders may hand over a validated input object without copying it.
    const keep = n.type.fields.map((f) => f.name).filter((f) => need.has(f));
    // The source now emits records of the kept fields only: its type says so.
    nodes.set(n.id, { ...n, keep, type: { ...n.type, fields: n.type.fields.filter((f) => need.has(f.name)) } });
  }
  // Chains of `where` and `distinct` pass those records on as they are: they carry the
  // projected type too.
  for (const n of topoOrder({ ...g, nodes })) {
    if (!passesElementsThrough(n)) continue;
    const type = nodes.get(n.input)!.type;
    if (type === n.type) continue;
    nodes.set(n.id, n.kind === "chain" ? { ...n, type, ops: n.ops.map((op) => ({ ...op, inType: type, outType: type })) } : { ...n, type });
  }
  // Aggregates record the type they read.
  for (const n of nodes.values()) if ((n.kind === "agg" || n.kind === "rolling") && nodes.get(n.input)!.type !== n.inType) nodes.set(n.id, { ...n, inType: nodes.get(n.input)!.type });
  return { ...g, nodes };
}
