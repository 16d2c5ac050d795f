import { describe, expect, it } from "vitest";
import { parse } from "../syntax/parse";
import { check } from "./check";
import { typeToString } from "./types";
import type { TExpr } from "./typed";

const HEADER = `type Bid = { auction: int, bidder: int, price: int, channel: string, coupon: string?, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
`;

function run(body: string) {
  const p = parse(HEADER + body);
  expect(p.diagnostics).toEqual([]);
  return check(p.program, { poisoned: p.poisoned });
}
const codes = (body: string) => run(body).diagnostics.map((d) => d.code);
const outType = (body: string) => {
  const r = run(body);
  expect(r.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return typeToString(r.program.outputs.at(-1)!.pipeline.out.element);
};

describe("types and inference", () => {
  it("infers select types; / is always float; int widens", () => {
    expect(outType("emit bids | select auction, half = price / 2, eur = price * 0.9, n = price % 7, d = div(price, 2)")).toBe("{ auction: int, half: float, eur: float, n: int, d: int }");
  });
  it("time and duration arithmetic", () => {
    expect(outType("emit bids | select a = dateTime - dateTime, b = dateTime + 5s, c = 5s * 3")).toBe("{ a: duration, b: time, c: duration }");
  });
  it("if with null gives an optional; ?? unwraps", () => {
    expect(outType('emit bids | select a = if price > 5 then price else null, b = coupon ?? "none"')).toBe("{ a: int?, b: string }");
  });
  it("agg rows: window bounds, keys, items in order", () => {
    expect(outType("emit bids | window tumbling(10s) | group by channel | agg n = count(), avg_price = avg(price), hi = max(price)")).toBe(
      "{ window_start: time, window_end: time, channel: string, n: int, avg_price: float, hi: int }",
    );
  });
  it("aggregates over optional inputs are optional, counts are not", () => {
    expect(outType("emit bids | group by channel | agg n = count(coupon), f = first(coupon), c = count_distinct(coupon)")).toBe("{ channel: string, n: int, f: string?, c: int }");
  });
  it("a join element is a record of its sides", () => {
    const t = outType(`type A = { id: int, seller: int, dateTime: time }
source auctions: A = file("a.jsonl") event time dateTime
emit bids as b | join auctions as a on b.auction == a.id within 5s`);
    expect(t).toBe("{ b: Bid, a: A }");
  });
});

describe("outer, semi and anti joins (§13)", () => {
  const SIDES = `type A = { id: int, seller: int, dateTime: time }
source auctions: A = file("a.jsonl") event time dateTime
type P = { id: int, name: string, dateTime: time }
source persons: P = file("p.jsonl") event time dateTime
`;
  it("left / right / full: the side that may be missing becomes optional, and so do its fields", () => {
    const on = "on b.auction == a.id within 0s .. 5m";
    expect(outType(`${SIDES}emit bids as b | left join auctions as a ${on}`)).toBe("{ b: Bid, a: A? }");
    expect(outType(`${SIDES}emit bids as b | right join auctions as a ${on}`)).toBe("{ b: Bid?, a: A }");
    expect(outType(`${SIDES}emit bids as b | full join auctions as a ${on}`)).toBe("{ b: Bid?, a: A? }");
    expect(outType(`${SIDES}emit bids as b | left join auctions as a ${on} | select b.price, seller = a.seller, id`)).toBe("{ price: int, seller: int?, id: int? }");
    expect(outType(`${SIDES}emit bids as b | full join auctions as a ${on} | select price, seller`)).toBe("{ price: int?, seller: int? }");
  });
  it("a join after a join: every earlier side may be missing in a right or full join", () => {
    expect(outType(`${SIDES}emit bids as b | join auctions as a on b.auction == a.id within 5s | full join persons as p on a.seller == p.id within 1m`)).toBe("{ b: Bid?, a: A?, p: P? }");
    expect(outType(`${SIDES}emit bids as b | left join auctions as a on b.auction == a.id within 5s | join persons as p on a.seller == p.id within 1m | select p.name, a.seller`)).toBe("{ name: string, seller: int? }");
  });
  it("semi and anti: the left side's records, fields bare as before the join", () => {
    expect(outType(`${SIDES}emit bids as b | semi join auctions as a on auction == a.id within 0s .. 1m`)).toBe("Bid");
    expect(outType(`${SIDES}emit bids as b | anti join auctions as a on auction == a.id within 0s .. 1m | select price, auction`)).toBe("{ price: int, auction: int }");
    expect(outType(`${SIDES}emit bids as b | join auctions as a on b.auction == a.id within 5s | anti join persons as p on a.seller == p.id within 1m | select a.seller`)).toBe("{ seller: int }");
  });
  it("window joins of every kind; a window semi join keeps the left record", () => {
    const lets = `${SIDES}let x = bids | window tumbling(10s)\nlet y = auctions | window tumbling(10s)\n`;
    expect(outType(`${lets}emit x | left join y on x.auction == y.id`)).toBe("{ x: Bid, y: A?, window_start: time, window_end: time }");
    expect(outType(`${lets}emit x | semi join y on x.auction == y.id | window tumbling(1m) | agg n = count()`)).toBe("{ window_start: time, window_end: time, n: int }");
  });
  it("a padded side's fields are optional: arithmetic on them needs `??` or a null check", () => {
    const r = run(`${SIDES}emit bids as b | left join auctions as a on b.auction == a.id within 5s | select s = a.seller + 1`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["E0205"]);
    expect(r.diagnostics[0]!.hint).toContain("??");
    expect(outType(`${SIDES}emit bids as b | left join auctions as a on b.auction == a.id within 5s | where a != null | select s = a.seller + 1`)).toBe("{ s: int }");
  });
  it("errors: no bound (E0332, the hint names `within`), unequal or session windows, upsert inputs", () => {
    for (const kind of ["left", "right", "full", "semi", "anti"]) {
      const r = run(`${SIDES}emit bids as b | ${kind} join auctions as a on b.auction == a.id`);
      expect(r.diagnostics.map((d) => d.code), kind).toEqual(["E0332"]);
      expect(r.diagnostics[0]!.message).toContain(`${kind} join`);
      expect(r.diagnostics[0]!.hint).toContain("within");
    }
    expect(codes(`${SIDES}let x = bids | window tumbling(10s)\nlet y = auctions | window tumbling(5s)\nemit x | left join y on x.auction == y.id`)).toEqual(["E0305"]);
    expect(codes(`${SIDES}let x = bids | window session(10s)\nlet y = auctions | window session(10s)\nemit x | full join y on x.auction == y.id`)).toEqual(["E0312"]);
    expect(codes(`${SIDES}let n = bids | group by auction | agg n = count()\nemit n | anti join auctions as a on n.auction == a.id within 5s`)).toEqual(["E0313"]);
  });
});

describe("narrowing", () => {
  it("where x != null narrows x in later stages", () => {
    expect(outType("emit bids | where coupon != null | select c = upper(coupon)")).toBe("{ c: string }");
  });
  it("if and `and` narrow", () => {
    expect(outType('emit bids | select a = if coupon != null then len(coupon) else 0, b = coupon != null and starts_with(coupon, "X")')).toBe("{ a: int, b: bool }");
  });
  it("an un-narrowed optional in arithmetic is an error with a hint", () => {
    const r = run("emit bids | select c = len(coupon)");
    expect(r.diagnostics[0]!.code).toBe("E0205");
    expect(r.diagnostics[0]!.hint).toContain('coupon ?? ""');
  });
  it("narrowing is recorded for the emitter", () => {
    const r = run("emit bids | where coupon != null | select c = coupon");
    const stage = r.program.outputs[0]!.pipeline.stages[1]!;
    if (stage.kind !== "project" || stage.expr.kind !== "record") throw new Error();
    expect((stage.expr.fields[0]!.value as TExpr).narrowed).toBe(true);
  });
});

describe("rules of LANGUAGE.md §3–6", () => {
  it("reports every independent error in one run", () => {
    expect(codes('emit bids | where chanel == "x" | select total = price * "2"')).toEqual(["E0201", "E0204"]);
  });
  it("unknown names get suggestions", () => {
    const r = run("emit bidz");
    expect(r.diagnostics[0]).toMatchObject({ code: "E0101", label: "did you mean `bids`?" });
    expect(run("emit bids | where prise > 1").diagnostics[0]).toMatchObject({ code: "E0201", label: "did you mean `price`?" });
    expect(run("emit bids | select x = uper(channel)").diagnostics[0]).toMatchObject({ code: "E0104", label: "did you mean `upper`?" });
  });
  it("aggregates only in agg; nested aggregates; non-key fields", () => {
    expect(codes("emit bids | select t = sum(price)")).toEqual(["E0301"]);
    expect(codes("emit bids | group by channel | agg t = sum(max(price))")).toEqual(["E0302"]);
    expect(codes("emit bids | group by channel | agg t = price")).toEqual(["E0311"]);
    expect(codes("emit bids | group by channel | agg t = sum(channel)")).toEqual(["E0316"]);
  });
  it("agg items are expressions over aggregates and keys", () => {
    expect(outType("emit bids | group by channel | agg vwap = sum(price * bidder) / sum(bidder), tag = channel + \"!\"")).toBe("{ channel: string, vwap: float, tag: string }");
  });
  it("updating streams (§13): re-aggregation, the key through stateless stages, emit final needs one", () => {
    expect(codes("emit bids | group by channel | agg n = count() | group by n | agg m = count(), s = sum(n), a = avg(n)")).toEqual([]);
    expect(codes("emit bids | group by channel | agg n = count() | group by n | agg hi = max(n)")).toEqual(["W0010"]);
    expect(codes("emit bids | group by channel | agg n = count() | group by n | agg d = approx_count_distinct(channel)")).toEqual(["E0335"]);
    expect(codes("emit bids | group by channel | agg n = count() | window tumbling(1m) | agg m = count()")).toEqual(["E0313"]);
    expect(codes("emit bids | group by channel | agg n = count() | distinct n")).toEqual(["E0313"]);
    expect(codes("emit final bids | where price > 1")).toEqual(["E0309"]);
    expect(codes("emit final bids | group by channel | agg n = count() | where n > 1")).toEqual([]);
    // The key passes as the bare field; dropping or changing it makes an append stream.
    expect(codes("emit final bids | group by channel | agg n = count() | select channel, n2 = n * 2")).toEqual([]);
    expect(codes("emit bids | group by channel | agg n = count() | select n")).toEqual(["W0011"]);
    expect(codes("emit final bids | group by channel | agg n = count() | select channel = upper(channel), n")).toEqual(["E0309", "W0011"]);
    expect(codes("emit bids | group by channel | agg n = count() | extend channel = upper(channel)")).toEqual(["E0340"]);
    expect(codes("emit bids | group by channel | agg n = count() | extend up = upper(channel)")).toEqual([]);
    // A union of updating streams with one key is one; mixing kinds or keys is an error.
    expect(codes("let a = bids | group by channel | agg n = count()\nlet b = bids | group by channel | agg n = count()\nemit final union(a, b)")).toEqual([]);
    expect(codes("let a = bids | group by channel | agg n = count()\nemit union(a, bids | select channel, n = 1)")).toEqual(["E0343"]);
    expect(codes("let a = bids | group by channel | agg n = count()\nlet b = bids | group by c = channel | agg n = count() | select channel = c, n\nemit union(a, b)")).toEqual(["W0011", "E0343"]);
  });
  it("stateless stages may stand between group by and agg; keys are recomputed after a reshape", () => {
    expect(outType("emit bids | group by channel | where price > 1 | select channel, p = price * 2 | agg n = count(), s = sum(p)")).toBe("{ channel: string, n: int, s: int }");
    expect(codes("emit bids | group by auction | select channel | agg n = count()")).toEqual(["E0320"]);
  });
  it("top without a window is an updating ranking (§13); with ties needs a window; window joins need equal windows", () => {
    expect(outType("emit bids | group by channel | top 3 by price desc")).toBe("{ auction: int, bidder: int, price: int, channel: string, coupon: string?, dateTime: time, rank: int }");
    expect(codes("emit final bids | group by channel | agg n = count() | top 2 by n desc")).toEqual(["W0010"]);
    expect(codes("emit bids | top 3 by price desc with ties")).toEqual(["E0334"]);
    expect(codes("emit bids | map price | top 3 by it")).toEqual(["E0341"]);
    expect(codes("emit bids | select rank = price | top 3 by rank")).toEqual(["E0342"]);
    expect(codes(`let a = bids | window tumbling(10s)
let b = bids | window tumbling(5s)
emit a as x | join b as y on x.auction == y.auction`)).toEqual(["E0305"]);
  });
  it("unbounded state warnings", () => {
    const r = run("emit bids as a | join bids as b on a.auction == b.auction\nemit bids | distinct channel");
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([["W0001", "warning"], ["W0002", "warning"]]);
    expect(r.diagnostics.every((d) => d.message.includes("unbounded state"))).toBe(true);
  });
  it("duplicates: names, select items; select * after a join", () => {
    const r = run(`let bids = bids`);
    expect(r.diagnostics[0]!.code).toBe("E0103");
    expect(codes("emit bids | select a = price, a = bidder")).toEqual(["E0108"]);
    expect(run("emit bids as b | join bids as c on b.auction == c.auction within 1s | select *").diagnostics[0]).toMatchObject({ code: "E0211", hint: "write `select b.*, c.*`" });
  });
  it("union inputs must have one type; select items need names", () => {
    expect(codes("emit union(bids, bids | select price)")).toEqual(["E0306"]);
    expect(codes("emit bids | select price + 1")).toEqual(["E0210"]);
  });
  it("== on records is an error; comparisons need like types", () => {
    expect(codes("emit bids | where it == it")).toEqual(["E0207"]);
    expect(codes('emit bids | where price < "x"')).toEqual(["E0206"]);
  });
  it("fn: inferred return, arity and recursion", () => {
    expect(outType("fn net(p: float, f: float) = p * (1.0 - f)\nemit bids | select n = net(price, 0.1)")).toBe("{ n: float }");
    expect(codes("fn f(x: int) = f(x)\nemit bids")).toContain("E0110");
    expect(codes("fn g(x: int) = x\nemit bids | select a = g(1, 2)")).toEqual(["E0208"]);
  });
});
