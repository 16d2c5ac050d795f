// The runtime's module graph: no import cycles among runtime/src files, and no imports from
// outside runtime/src except node.ts's one of the stdlib's NEXMark generator (node.ts is the Node
// entry that registers it; driver.ts and the browser-safe runtime never import the stdlib).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = dirname(fileURLToPath(import.meta.url));

/** runtime/src file (relative) → the files it imports (static, type-only and literal dynamic). */
function importGraph(): Map<string, string[]> {
  const files: string[] = [];
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts") && !p.endsWith(".test.ts")) files.push(p);
    }
  };
  walk(root);
  const re = /(?:import|export)\s+(?:type\s+)?(?:[^"';]*?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const targets: string[] = [];
    const code = readFileSync(f, "utf8").replace(/^\s*\/\/.*$/gm, "").replace(/\/\*[\s\S]*?\*\//g, "");
    for (const m of code.matchAll(re)) {
      const spec = m[1] ?? m[2]!;
      if (!spec.startsWith(".")) continue;
      let t = resolve(dirname(f), spec).replace(/\.js$/, "");
      if (!t.endsWith(".ts")) t += ".ts";
      targets.push(relative(root, t));
    }
    graph.set(relative(root, f), targets);
  }
  return graph;
}

describe("runtime module graph", () => {
  const graph = importGraph();

  it("has no import cycles", () => {
    const cycles: string[] = [];
    const state = new Map<string, 1 | 2>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 1);
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (!graph.has(t)) continue;
        if (state.get(t) === 1) cycles.push([...stack.slice(stack.indexOf(t)), t].join(" -> "));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 2);
    };
    for (const f of graph.keys()) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it("loads the network connectors (net/) only through node.ts, and their clients only in net/", () => {
    // The browser-safe runtime reaches them only through run/network.ts's registry.
    const intoNet = [...graph].flatMap(([f, ts]) => ts.filter((t) => t.startsWith("net" + sep) && !f.startsWith("net" + sep)).map((t) => `${f} -> ${t}`));
    expect(intoNet).toEqual([`node.ts -> ${join("net", "index.ts")}`]);
    const clients = /(?:from\s+|import\(\s*)["'](nats|redis|pg|mqtt|ws|kafkajs)["']/g;
    const users = new Set<string>();
    for (const f of graph.keys()) {
      const code = readFileSync(join(root, f), "utf8");
      for (const m of code.matchAll(clients)) users.add(`${f.startsWith("net" + sep) ? "net/" : f} ${m[1]}`);
    }
    expect([...users].sort()).toEqual(["net/ kafkajs", "net/ mqtt", "net/ nats", "net/ pg", "net/ redis", "net/ ws"]);
  });

  it("imports nothing outside runtime/src but node.ts's stdlib NEXMark generator", () => {
    const outside = [...graph].flatMap(([f, ts]) => ts.filter((t) => t.startsWith("..")).map((t) => `${f} -> ${t}`));
    expect(outside).toEqual([`node.ts -> ${join("..", "..", "stdlib", "src", "nexmark.ts")}`]);
  });
});
