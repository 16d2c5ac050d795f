// How much state each stateful operator holds, for `flowc_state_entries{operator}` (LANGUAGE.md
// §10: keys × open windows). Counted from the operator's members as the plan lists them
// (`Program.state`), without help from the operators (but a store keeping its keys in typed
// arrays, which says how many with `stateEntries()`): entries are the leaves of its Maps, Sets
// and arrays (a window's map of keys inside the operator's index of windows counts its keys), and
// the operator's count is its largest member (a keyed aggregate keeps its keys both in a Map and
// in an order array: they are the same keys, not twice as many).
//
// Large structures are estimated from a sample of their first elements, as RocksDB's
// `estimate-num-keys` is for Flink: a scrape must not stall the record loop for a walk over
// millions of entries. Exact when every element of a structure has the same shape.

import type { GraphInstance, StatefulNode } from "../contract.js";

/** Elements looked at per structure; beyond this, the rest are assumed like the sampled ones. */
const SAMPLE = 32;
/** Nesting looked into (a window index → a window → its map of keys → a key's state → …). */
const DEPTH = 6;

/** Entries below `v`: 0 for a scalar or a record of scalars (its parent counts it as one), −1
 *  for an object counted already (a window both in a map by end and in a queue). */
function entries(v: unknown, depth: number, seen: Set<object>): number {
  if (v === null || typeof v !== "object" || depth > DEPTH) return 0;
  if (seen.has(v)) return -1;
  seen.add(v);
  if (ArrayBuffer.isView(v)) return 0; // a store's columns: capacity, their keys are counted elsewhere
  // A store that counts itself (SlotColumns: its keys are in typed arrays).
  const own = (v as { stateEntries?: unknown }).stateEntries;
  if (typeof own === "function") return (own as () => number).call(v);
  const each = (size: number, items: Iterable<unknown>): number => {
    let n = 0;
    let looked = 0;
    for (const x of items) {
      if (looked === SAMPLE) break;
      // A non-scalar element with nothing inside (a state record) is one entry; a scalar too
      // (an order array's keys); a container counts what it holds.
      const inside = entries(x, depth + 1, seen);
      n += inside < 0 ? 0 : Math.max(1, inside);
      looked++;
    }
    return looked === 0 ? 0 : looked === size ? n : Math.round((n / looked) * size);
  };
  if (v instanceof Map) return each(v.size, v.values());
  if (v instanceof Set) return each(v.size, v.values());
  if (Array.isArray(v)) {
    let size = 0;
    for (let i = 0; i < v.length; i++) if (v[i] !== undefined) size++; // a queue's consumed slots
    return each(size, (function* () {
      for (const x of v as unknown[]) if (x !== undefined) yield x;
    })());
  }
  // An object (an operator, a window, a state record): what its fields hold.
  let n = 0;
  for (const k of Object.keys(v)) n += Math.max(0, entries((v as Record<string, unknown>)[k], depth + 1, seen));
  return n;
}

/** `[operator label, entries]` per stateful operator of a running graph. */
export function stateEntries(file: string, nodes: readonly StatefulNode[], graph: GraphInstance): [string, number][] {
  const g = graph as unknown as Record<string, unknown>;
  return nodes.map((node) => {
    let most = 0;
    for (const m of node.members) most = Math.max(most, entries(g[m], 0, new Set()));
    return [`${file}:${node.line} ${node.kind}`, most];
  });
}
