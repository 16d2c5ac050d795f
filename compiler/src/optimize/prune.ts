// Dead-stream removal: nodes from which no output is reachable are dropped — including
// sources nobody reads and `let`s nobody emits — and empty chains are bypassed.
import { inputsOf, type Graph, type Node, type NodeId } from "../ir/graph";

export function pruneDead(g: Graph): Graph {
  const live = new Set<NodeId>();
  // Iterative, not recursive: a chain of thousands of `let`s must not overflow the stack.
  const stack: NodeId[] = [];
  for (const n of g.nodes.values()) if (n.kind === "output") stack.push(n.id);
  while (stack.length) {
    const id = stack.pop()!;
    if (live.has(id)) continue;
    live.add(id);
    stack.push(...inputsOf(g.nodes.get(id)!));
  }
  // Empty chains (every step folded away) forward their input directly.
  const forward = new Map<NodeId, NodeId>();
  for (const n of g.nodes.values()) if (n.kind === "chain" && n.ops.length === 0) forward.set(n.id, n.input);
  const resolve = (id: NodeId): NodeId => {
    while (forward.has(id)) id = forward.get(id)!;
    return id;
  };
  const nodes = new Map<NodeId, Node>();
  for (const [id, n] of g.nodes) {
    if (!live.has(id) || forward.has(id)) continue;
    switch (n.kind) {
      case "source":
        nodes.set(id, n);
        break;
      case "union":
        nodes.set(id, { ...n, inputs: n.inputs.map(resolve) });
        break;
      case "join":
        nodes.set(id, { ...n, left: resolve(n.left), right: resolve(n.right) });
        break;
      default:
        nodes.set(id, { ...n, input: resolve(n.input) } as Node);
    }
  }
  return { ...g, nodes };
}
