import { describe, expect, it } from "vitest";
import { parse } from "../syntax/parse";
import { check } from "../check/check";
import { lower } from "../ir/lower";
import { optimize } from "../optimize/index";
import { plan } from "./plan";

const SOURCE = `type Bid = { auction: int, bidder: int, price: int, channel: string, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
source more: Bid = file("more.jsonl") event time dateTime

emit bids | where price > 10 | window tumbling(10s) | group by channel | agg n = count(), avg_price = avg(price)
emit final bids | group by auction | agg total = sum(price)
emit bids as b | join more as m on b.auction == m.auction and b.price > m.price within 5s
emit bids | distinct bidder within 1m
`;

function planOf(source: string, instrument = false) {
  const parsed = parse(source);
  const checked = check(parsed.program, { poisoned: parsed.poisoned });
  expect(checked.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return plan(optimize(lower(checked.program, "p.flow")), { source, instrument });
}

describe("plan", () => {
  const p = planOf(SOURCE);
  const byKind = (kind: string) => [...p.nodes.values()].filter((n) => n.node.kind === kind);

  it("lists every stateful operator with its line and the shape a checkpoint must match", () => {
    expect(p.state.map((s) => [s.kind, s.line])).toEqual([
      ["windowAgg", 5],
      ["agg", 6],
      ["emitFinal", 6],
      ["intervalJoin", 7],
      ["distinct", 8],
    ]);
    const agg = p.state.find((s) => s.kind === "windowAgg")!;
    expect(agg.shape).toContain("window tumbling(10000)");
    expect(agg.shape).toContain("keys channel:string");
    expect(agg.shape).toContain("count(a0:zero) avg(a1:zero,a1c:zero)");
  });

  it("gives aggregates their state fields and store", () => {
    const [windowed, final] = byKind("agg");
    expect(windowed!.agg!.calls.map((c) => c.fields.map((f) => f.name))).toEqual([["a0"], ["a1", "a1c"]]);
    expect(windowed!.agg!.mergeable).toBe(true);
    expect(final!.agg).toMatchObject({ store: "columns", finalOnly: true, inlineInLoops: false });
  });

  it("splits a join condition into keys and a residual", () => {
    const join = byKind("join")[0]!.join!;
    expect(join.leftKeys).toHaveLength(1);
    expect(join.rightKeys).toHaveLength(1);
    expect(join.residual).toHaveLength(1);
  });

  it("names members by what they do, and lets watermarks flow only where they matter", () => {
    expect([...p.nodes.values()].map((n) => n.member)).toContain("filterBids");
    expect([...p.nodes.values()].map((n) => n.member)).toContain("intervalJoinBidsMore");
    const final = byKind("agg")[1]!;
    expect(final.needsWatermark).toBe(false);
    expect(byKind("source").every((s) => s.needsWatermark)).toBe(true);
  });

  it("prints generated loops only for one-source, uninstrumented programs", () => {
    expect(p.fusedLoops).toBe(false);
    const single = `source xs: int = range(0, 10)\nemit final xs | agg n = count()`;
    expect(planOf(single).fusedLoops).toBe(true);
    expect(planOf(single, true).fusedLoops).toBe(false);
    expect([...planOf(single).nodes.values()].find((n) => n.agg)!.agg!.inlineInLoops).toBe(true);
  });
});
