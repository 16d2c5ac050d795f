import { describe, expect, it } from "vitest";
import { parse } from "../syntax/parse";
import { check } from "../check/check";
import { lower } from "../ir/lower";
import { printGraph } from "../ir/print";
import type { Graph } from "../ir/graph";
import { inlineFunctions } from "./inline";
import { foldConstants } from "./fold";
import { pruneDead } from "./prune";
import { fuseChains } from "./fuse";
import { pushDownProjections } from "./projection";
import { optimize } from "./index";

const HEADER = `type Bid = { auction: int, bidder: int, price: int, channel: string, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
`;
function graph(body: string): Graph {
  const p = parse(HEADER + body);
  const c = check(p.program);
  expect(c.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return lower(c.program, "t.flow");
}
const kinds = (g: Graph) => [...g.nodes.values()].map((n) => n.kind);

describe("optimization passes", () => {
  it("inline replaces fn calls by their bodies", () => {
    const g = inlineFunctions(graph("fn eur(p: int) = p * 0.9\nemit bids | select e = eur(price + 1)"));
    expect(printGraph(g)).toContain("select {e: ((price + 1) * 0.9)}");
    expect(printGraph(g)).not.toContain("eur(");
  });

  it("fold computes constants and drops `where true`", () => {
    const g = foldConstants(graph("emit bids | where 1 < 2 | select x = 2 * 3 + price, y = \"a\" + \"b\", z = if true then 1 else 2"));
    const text = printGraph(g);
    expect(text).not.toContain("where");
    expect(text).toContain('select {x: (6 + price), y: "ab", z: 1}');
  });

  it("prune drops streams that reach no output, and unread sources", () => {
    const g = pruneDead(graph(`type P = { id: int, t: time }
source people: P = file("p.jsonl") event time t
let unused = people | where id > 1
emit bids`));
    expect(kinds(g)).toEqual(["source", "output"]);
  });

  it("fuse merges chains across a let used once, but not one used twice", () => {
    const once = fuseChains(graph("let a = bids | where price > 1\nemit a | select auction"));
    expect(kinds(once).filter((k) => k === "chain")).toHaveLength(1);
    const twice = fuseChains(graph("let a = bids | where price > 1\nemit a | select auction\nemit a | select bidder"));
    expect(kinds(twice).filter((k) => k === "chain")).toHaveLength(3);
  });

  it("projection keeps only the fields the program reads (plus the event time)", () => {
    const g = pushDownProjections(fuseChains(graph("emit bids | where price > 1 | select auction")));
    const src = [...g.nodes.values()].find((n) => n.kind === "source")!;
    expect(src.kind === "source" && src.keep).toEqual(["auction", "price", "dateTime"]);
    const whole = pushDownProjections(graph("emit bids | where price > 1"));
    const s2 = [...whole.nodes.values()].find((n) => n.kind === "source")!;
    expect(s2.kind === "source" && s2.keep).toBeUndefined();
  });

  it("the whole pipeline of passes", () => {
    const g = optimize(graph("fn big(p: int) = p > 1000\nlet a = bids | where big(price)\nlet unused = bids | select bidder\nemit a | select auction, eur = price * 0.908"));
    expect(printGraph(g)).toBe(
      "#0 source bids keep(auction, price, dateTime) : Bid\n" +
      "#3 where (price > 1000) | select {auction: auction, eur: (price * 0.908)} <- #0 : { auction: int, eur: float }\n" +
      "#4 output out1 <- #3 : { auction: int, eur: float }\n",
    );
  });
});
