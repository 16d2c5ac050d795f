// Operator fusion: a chain whose only consumer is another chain is merged into it, so every
// run of stateless stages — across `let` boundaries — becomes one function body.
import { consumers, type Graph, type Node, type NodeId } from "../ir/graph";

export function fuseChains(g: Graph): Graph {
  const nodes = new Map<NodeId, Node>(g.nodes);
  // Consumers are computed once and kept up to date (recomputing them after every fusion made
  // a chain of thousands of `let`s quadratic). Each sweep fuses every eligible pair it meets;
  // sweeps repeat until nothing changes, so the result is the same maximal fusion.
  const users = consumers(g);
  for (let fused = true; fused; ) {
    fused = false;
    for (const id of [...nodes.keys()]) {
      const n = nodes.get(id);
      if (!n || n.kind !== "chain") continue;
      const up = nodes.get(n.input);
      if (!up || up.kind !== "chain" || users.get(up.id)!.length !== 1) continue;
      nodes.set(n.id, { ...n, input: up.input, ops: [...up.ops, ...n.ops], spans: [...up.spans, ...n.spans], upsert: up.upsert });
      nodes.delete(up.id);
      const above = users.get(up.input);
      if (above) above[above.indexOf(up.id)] = n.id;
      fused = true;
    }
  }
  return { ...g, nodes };
}
