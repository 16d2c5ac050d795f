// Operator fusion: a chain whose only consumer is another chain is merged into it, so every
// run of stateless stages — across `let` boundaries — becomes one function body.
import { consumers, type Graph, type Node, type NodeId } from "../ir/graph";

export function fuseChains(g: Graph): Graph {
  const nodes = new Map<NodeId, Node>(g.nodes);
  for (;;) {
    const users = consumers({ ...g, nodes });
    let fused = false;
    for (const n of nodes.values()) {
      if (n.kind !== "chain") continue;
      const up = nodes.get(n.input);
      if (!up || up.kind !== "chain" || users.get(up.id)!.length !== 1) continue;
      nodes.set(n.id, { ...n, input: up.input, ops: [...up.ops, ...n.ops], spans: [...up.spans, ...n.spans], upsert: up.upsert });
      nodes.delete(up.id);
      fused = true;
      break;
    }
    if (!fused) return { ...g, nodes };
  }
}
