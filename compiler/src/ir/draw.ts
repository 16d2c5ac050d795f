// Drawing the optimized graph: Graphviz dot, Mermaid, and a self-contained SVG (layered
// layout computed here, so neither the CLI nor the playground needs Graphviz).
import { consumers, inputsOf, topoOrder, type Graph, type Node } from "./graph";
import { nodeLabel } from "./print";

const kindOf = (n: Node) => (n.kind === "chain" ? "stateless" : n.kind);

/** The node's label without the kind word it starts with (the drawings show the kind apart):
 *  `orders` rather than `source orders`, "" for a union. */
export function labelBody(n: Node, g: Graph): string {
  const l = nodeLabel(n, g);
  const k = n.kind;
  if (l === k) return "";
  if (l.startsWith(k + " ") || l.startsWith(k + ":")) return l.slice(k.length + 1).trimStart();
  return l;
}

const shortLabel = (n: Node, g: Graph): string => {
  const l = labelBody(n, g);
  return l.length > 70 ? l.slice(0, 67) + "…" : l;
};

export function toDot(g: Graph): string {
  const lines = ["digraph flow {", "  rankdir=TB;", '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];'];
  const color: Record<string, string> = { source: "#dbeafe", stateless: "#f1f5f9", agg: "#fde68a", top: "#fde68a", distinct: "#fde68a", rolling: "#fde68a", join: "#fbcfe8", union: "#e9d5ff", output: "#bbf7d0" };
  for (const n of topoOrder(g)) lines.push(`  n${n.id} [label=${JSON.stringify(shortLabel(n, g) === "" ? kindOf(n) : `${kindOf(n)}\n${shortLabel(n, g)}`)}, fillcolor="${color[kindOf(n)] ?? "#fff"}"];`);
  for (const n of topoOrder(g)) for (const i of inputsOf(n)) lines.push(`  n${i} -> n${n.id};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}

export function toMermaid(g: Graph): string {
  const esc = (s: string) => s.replace(/"/g, "#quot;").replace(/[<>]/g, (c) => (c === "<" ? "#lt;" : "#gt;"));
  const lines = ["flowchart TD"];
  for (const n of topoOrder(g)) {
    const body = shortLabel(n, g);
    const label = `"${esc(kindOf(n))}${body === "" ? "" : `: ${esc(body)}`}"`;
    const shape = n.kind === "source" ? `[(${label})]` : n.kind === "output" ? `[/${label}/]` : n.kind === "chain" ? `[${label}]` : `{{${label}}}`;
    lines.push(`  n${n.id}${shape}`);
  }
  for (const n of topoOrder(g)) for (const i of inputsOf(n)) lines.push(`  n${i} --> n${n.id}`);
  return lines.join("\n") + "\n";
}

export interface SvgOptions {
  /** Records that passed through each node, shown on it (the playground's counts). */
  counts?: Map<number, number>;
}

const xmlEscape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

/** A layered drawing: each node's layer is its longest distance from a source. */
export function toSvg(g: Graph, opts: SvgOptions = {}): string {
  const order = topoOrder(g);
  const layer = new Map<number, number>();
  for (const n of order) layer.set(n.id, Math.max(-1, ...inputsOf(n).map((i) => layer.get(i) ?? 0)) + 1);
  const layers: Node[][] = [];
  for (const n of order) (layers[layer.get(n.id)!] ??= []).push(n);
  const W = 300, H = 54, GX = 40, GY = 46, PAD = 20;
  const width = Math.max(...layers.map((l) => l.length)) * (W + GX) - GX + 2 * PAD;
  const height = layers.length * (H + GY) - GY + 2 * PAD;
  const pos = new Map<number, { x: number; y: number }>();
  layers.forEach((l, li) => {
    const rowW = l.length * (W + GX) - GX;
    l.forEach((n, i) => pos.set(n.id, { x: (width - rowW) / 2 + i * (W + GX), y: PAD + li * (H + GY) }));
  });
  const fill: Record<string, string> = { source: "#dbeafe", stateless: "#f8fafc", agg: "#fef3c7", top: "#fef3c7", distinct: "#fef3c7", join: "#fce7f3", union: "#ede9fe", output: "#dcfce7" };
  const stroke: Record<string, string> = { source: "#3b82f6", stateless: "#94a3b8", agg: "#d97706", top: "#d97706", distinct: "#d97706", join: "#db2777", union: "#7c3aed", output: "#16a34a" };
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  parts.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#64748b"/></marker></defs>`);
  for (const n of order) {
    for (const i of inputsOf(n)) {
      const a = pos.get(i)!, b = pos.get(n.id)!;
      const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y;
      parts.push(`<path d="M${x1},${y1} C${x1},${y1 + GY / 2} ${x2},${y2 - GY / 2} ${x2},${y2 - 2}" fill="none" stroke="#64748b" stroke-width="1.5" marker-end="url(#arrow)"/>`);
    }
  }
  const users = consumers(g);
  for (const n of order) {
    const p = pos.get(n.id)!;
    const k = kindOf(n);
    const count = opts.counts?.get(n.id);
    const label = nodeLabel(n, g);
    const body = labelBody(n, g);
    const text = body.length > 46 ? body.slice(0, 45) + "…" : body;
    parts.push(`<g class="node" data-node="${n.id}" data-consumers="${users.get(n.id)?.length ?? 0}"><title>${xmlEscape(label)}</title>`);
    parts.push(`<rect x="${p.x}" y="${p.y}" width="${W}" height="${H}" rx="8" fill="${fill[k]}" stroke="${stroke[k]}" stroke-width="1.5"/>`);
    parts.push(`<text x="${p.x + 10}" y="${p.y + 20}" font-weight="600" fill="#0f172a">${xmlEscape(k)}${count !== undefined ? `<tspan fill="#475569" font-weight="400"> · ${count} rows</tspan>` : ""}</text>`);
    parts.push(`<text x="${p.x + 10}" y="${p.y + 40}" fill="#334155">${xmlEscape(text)}</text></g>`);
  }
  parts.push(`</svg>`);
  return parts.join("\n") + "\n";
}
